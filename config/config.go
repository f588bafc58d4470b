package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/lapor/intake/channels"
	"github.com/lapor/intake/channels/android"
	"github.com/lapor/intake/channels/api"
	"github.com/lapor/intake/channels/email"
	"github.com/lapor/intake/channels/smpp"
	"github.com/lapor/intake/channels/twilio"
	"github.com/lapor/intake/channels/whatsapp"
	"github.com/lapor/intake/conversation"
	"github.com/lapor/intake/media"
	"github.com/lapor/intake/normalizer"
)

// Config is every setting of CONTRACT §2.
type Config struct {
	HTTPAddr string `env:"INTAKE_HTTP_ADDR" yaml:"http_addr"`
	// AdminAddr, when set, is a second listener for /metrics, /healthz and /readyz; the
	// public listener then no longer serves /metrics (CONTRACT §10).
	AdminAddr string `env:"INTAKE_ADMIN_ADDR" yaml:"admin_addr"`
	// MaxInFlight bounds the requests handled at once; more get 503 with Retry-After.
	MaxInFlight int `env:"INTAKE_MAX_IN_FLIGHT" yaml:"max_in_flight"`
	// BodyTimeout bounds how long one request body may take to arrive, so a body trickled
	// a byte at a time cannot hold a handler for long.
	BodyTimeout       time.Duration   `env:"INTAKE_BODY_TIMEOUT" yaml:"body_timeout"`
	PublicURL         string          `env:"INTAKE_PUBLIC_URL" yaml:"public_url"`
	RedisURL          channels.Secret `env:"INTAKE_REDIS_URL" yaml:"redis_url"`
	Stream            string          `env:"INTAKE_STREAM" yaml:"stream"`
	RejectedStream    string          `env:"INTAKE_REJECTED_STREAM" yaml:"rejected_stream"`
	ConsumerGroup     string          `env:"INTAKE_CONSUMER_GROUP" yaml:"consumer_group"`
	SpoolDir          string          `env:"INTAKE_SPOOL_DIR" yaml:"spool_dir"`
	DefaultRegion     string          `env:"INTAKE_DEFAULT_REGION" yaml:"default_region"`
	MaxBodyBytes      int64           `env:"INTAKE_MAX_BODY_BYTES" yaml:"max_body_bytes"`
	MediaDir          string          `env:"INTAKE_MEDIA_DIR" yaml:"media_dir"`
	MaxMediaBytes     int64           `env:"INTAKE_MAX_MEDIA_BYTES" yaml:"max_media_bytes"`
	TrustedForwarders []string        `env:"INTAKE_TRUSTED_FORWARDERS" yaml:"trusted_forwarders"`
	LogLevel          string          `env:"INTAKE_LOG_LEVEL" yaml:"log_level"`
	LogFormat         string          `env:"INTAKE_LOG_FORMAT" yaml:"log_format"`
	// DevRedisAddr is where development mode's embedded Redis listens.
	DevRedisAddr string `env:"INTAKE_DEV_REDIS_ADDR" yaml:"dev_redis_addr"`
	// MediaAllowPrivate are non-public networks (CIDR) media downloads may reach: an
	// on-premises mirror. Empty: downloads reach public addresses only.
	MediaAllowPrivate []string `env:"INTAKE_MEDIA_ALLOW_PRIVATE" yaml:"media_allow_private"`
	// RedisMinReplicas: records are answered from Redis only once this many replicas
	// confirmed them, else from the spool (CONTRACT §9).
	RedisMinReplicas int `env:"INTAKE_REDIS_MIN_REPLICAS" yaml:"redis_min_replicas"`
	// InstanceID names this process in mailbox leases and consumer groups (default host
	// name and process id).
	InstanceID string `env:"INTAKE_INSTANCE_ID" yaml:"instance_id"`

	// The return path (CONTRACT §7): answers from the core, delivery state back, and how
	// long a complaint's contact is kept for answering it.
	OutboundStream string        `env:"INTAKE_OUTBOUND_STREAM" yaml:"outbound_stream"`
	DeliveryStream string        `env:"INTAKE_DELIVERY_STREAM" yaml:"delivery_stream"`
	ContactTTL     time.Duration `env:"INTAKE_CONTACT_TTL" yaml:"contact_ttl"`

	Receipts channels.Receipts  `yaml:"receipts"`
	Routing  normalizer.Routing `yaml:"routing"`
	Twilio   twilio.Config      `yaml:"twilio"`
	WhatsApp whatsapp.Config    `yaml:"whatsapp"`
	Email    email.Config       `yaml:"email"`
	API      api.Config         `yaml:"api"`
	Android  android.Config     `yaml:"android"`
	SMPP     smpp.Config        `yaml:"smpp"`
	// Conversation: citizen_id, rate limit, block list, receipt window (CONTRACT §8).
	Conversation conversation.Config `yaml:"conversation"`
	// Bursts: WhatsApp and SMS messages of one citizen that become one complaint (§8).
	Bursts conversation.BurstConfig `yaml:"bursts"`

	// Dev is true in development mode: nothing configured at all, or `intake serve --dev`
	// (CONTRACT §1, §10).
	Dev bool `yaml:"-"`
}

func defaults() Config {
	return Config{
		HTTPAddr:       ":8080",
		Stream:         "intake:complaints",
		RejectedStream: "intake:rejected",
		OutboundStream: "intake:outbound",
		DeliveryStream: "intake:delivery",
		ContactTTL:     8760 * time.Hour,
		ConsumerGroup:  "core",
		SpoolDir:       "./data/spool",
		DefaultRegion:  "ID",
		MaxBodyBytes:   10 << 20,
		MaxInFlight:    256,
		BodyTimeout:    15 * time.Second,
		MediaDir:       "./data/media",
		MaxMediaBytes:  25 << 20,
		LogLevel:       "info",
		LogFormat:      "json",
		DevRedisAddr:   "127.0.0.1:6379",
		Receipts:       channels.Receipts{Enabled: true, PerCitizen: channels.DefaultReceiptLimit},
		WhatsApp:       whatsapp.Config{GraphURL: whatsapp.DefaultGraphURL},
		Conversation:   conversation.Defaults(),
		Bursts:         conversation.BurstConfig{Window: conversation.DefaultBurstWindow},
	}
}

// Load reads the YAML file at path (none when path is ""), then the environment from
// lookup, and validates. Development mode is chosen only when nothing at all is set: no
// file and no INTAKE_ variable; anything set means production, which refuses to start
// without Redis and a channel. The error lists every problem at once.
func Load(path string, lookup func(string) (string, bool)) (*Config, error) {
	return load(source{path: path, lookup: lookup})
}

// LoadDev is Load for `intake serve --dev`: development mode whatever else is set, still
// on loopback only, with the embedded Redis and the development secrets.
func LoadDev(path string, lookup func(string) (string, bool)) (*Config, error) {
	return load(source{path: path, lookup: lookup, dev: true})
}

// FromEnvironment is Load with the process environment. Any INTAKE_ variable, even one
// the gateway does not know (a typo), counts as configuration.
func FromEnvironment(path string) (*Config, error) {
	return load(source{path: path, lookup: os.LookupEnv, names: environNames()})
}

// DevFromEnvironment is LoadDev with the process environment.
func DevFromEnvironment(path string) (*Config, error) {
	return load(source{path: path, lookup: os.LookupEnv, dev: true})
}

// source is where Load takes its settings from.
type source struct {
	path   string
	lookup func(string) (string, bool)
	names  []string // INTAKE_ variables present beyond the known ones (the process environment)
	dev    bool     // development mode asked for (--dev)
}

func load(src source) (*Config, error) {
	c := defaults()
	path := src.path
	if path == "" {
		path, _ = src.lookup("INTAKE_CONFIG")
	}
	if path != "" {
		if err := readYAML(path, &c); err != nil {
			return nil, err
		}
	}
	errs := applyEnv(&c, src.lookup)
	c.Dev = src.dev || (path == "" && len(src.names) == 0 && !anySet(&c, src.lookup))
	if c.Dev {
		errs = append(errs, c.applyDevMode(src.lookup)...)
	}
	errs = append(errs, c.validate()...)
	if len(errs) > 0 {
		return nil, fmt.Errorf("the configuration has %d problem(s):\n  - %w", len(errs), joinLines(errs))
	}
	return &c, nil
}

// applyDevMode sets what development mode means: loopback only, the embedded Redis, and
// the development secrets `intake simulate` uses. Settings that contradict it are errors,
// never silently overridden.
func (c *Config) applyDevMode(lookup func(string) (string, bool)) []error {
	var errs []error
	if c.RedisURL != "" {
		errs = append(errs, errors.New("development mode uses an embedded in-memory Redis: unset INTAKE_REDIS_URL, or run without --dev for production"))
	}
	if c.Twilio.Enabled() || c.WhatsApp.Enabled() || c.API.Enabled() || c.Android.Enabled() {
		errs = append(errs, errors.New("development mode uses the public development secrets: unset the Twilio, WhatsApp, API and Android SMS secrets, or run without --dev for production"))
	}
	if _, set := lookup("INTAKE_HTTP_ADDR"); !set && c.HTTPAddr == ":8080" {
		c.HTTPAddr = "127.0.0.1:8080"
	}
	for _, a := range []struct{ name, addr string }{{"INTAKE_HTTP_ADDR", c.HTTPAddr},
		{"INTAKE_ADMIN_ADDR", c.AdminAddr}, {"INTAKE_DEV_REDIS_ADDR", c.DevRedisAddr}} {
		if a.addr != "" && !loopback(a.addr) {
			errs = append(errs, fmt.Errorf("%s=%q: development mode listens on loopback only, because its secrets are public: use 127.0.0.1:PORT or [::1]:PORT", a.name, a.addr))
		}
	}
	if c.PublicURL == "" {
		c.PublicURL = "http://" + c.HTTPAddr
	}
	if _, set := lookup("INTAKE_LOG_FORMAT"); !set {
		c.LogFormat = "text"
	}
	c.Twilio.AuthToken = twilio.DevAuthToken
	c.WhatsApp.AppSecret = whatsapp.DevAppSecret
	c.WhatsApp.VerifyToken = whatsapp.DevVerifyToken
	c.API.Keys = api.DevKeys // so `intake simulate api` works out of the box
	c.Android.SigningKey = android.DevSigningKey
	if c.Conversation.CitizenKey == "" {
		c.Conversation.CitizenKey = conversation.DevKey
	}
	return errs
}

// loopback reports whether the host of addr is a loopback IP literal; a name such as
// localhost is refused, since it may resolve elsewhere.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (c *Config) validate() []error {
	var errs []error
	if !c.Dev && c.RedisURL == "" {
		errs = append(errs, errors.New("INTAKE_REDIS_URL is required: settings are given, so this is production; set redis://host:6379/0 (for development with an embedded server, run `intake serve --dev` or set no INTAKE_ variable at all)"))
	}
	if c.RedisURL != "" {
		if u, err := url.Parse(c.RedisURL.Reveal()); err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" {
			errs = append(errs, errors.New("INTAKE_REDIS_URL must look like redis://[user:pass@]host:port/db or rediss://…"))
		}
	}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("INTAKE_PUBLIC_URL=%q must be an absolute http(s) URL such as https://intake.example.go.id", c.PublicURL))
		}
	}
	if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
		errs = append(errs, fmt.Errorf("INTAKE_HTTP_ADDR=%q must be host:port, e.g. :8080", c.HTTPAddr))
	}
	if c.AdminAddr != "" {
		if _, _, err := net.SplitHostPort(c.AdminAddr); err != nil {
			errs = append(errs, fmt.Errorf("INTAKE_ADMIN_ADDR=%q must be host:port, e.g. 127.0.0.1:9090", c.AdminAddr))
		} else if c.AdminAddr == c.HTTPAddr {
			errs = append(errs, errors.New("INTAKE_ADMIN_ADDR must differ from INTAKE_HTTP_ADDR: it is a second listener"))
		}
	}
	if c.MaxBodyBytes <= 0 {
		errs = append(errs, errors.New("INTAKE_MAX_BODY_BYTES must be above 0"))
	}
	if c.ContactTTL < 24*time.Hour {
		errs = append(errs, fmt.Errorf("INTAKE_CONTACT_TTL=%s is too short: complaints are answered days later; use hours, e.g. 8760h", c.ContactTTL))
	}
	if c.OutboundStream == "" || c.OutboundStream == c.DeliveryStream || c.OutboundStream == c.Stream || c.DeliveryStream == c.Stream {
		errs = append(errs, fmt.Errorf("INTAKE_OUTBOUND_STREAM (%q), INTAKE_DELIVERY_STREAM (%q) and INTAKE_STREAM must be three different keys", c.OutboundStream, c.DeliveryStream))
	}
	if c.MaxInFlight <= 0 {
		errs = append(errs, errors.New("INTAKE_MAX_IN_FLIGHT must be above 0"))
	}
	if c.BodyTimeout <= 0 {
		errs = append(errs, errors.New("INTAKE_BODY_TIMEOUT must be above 0, e.g. 15s"))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("INTAKE_LOG_LEVEL=%q: use debug, info, warn or error", c.LogLevel))
	}
	switch c.LogFormat {
	case "json", "text":
	default:
		errs = append(errs, fmt.Errorf("INTAKE_LOG_FORMAT=%q: use json or text", c.LogFormat))
	}
	if _, err := normalizer.New(normalizer.Options{Routing: c.Routing}); err != nil {
		errs = append(errs, fmt.Errorf("routing: %v", err))
	}
	if _, err := media.ParseNetworks(c.MediaAllowPrivate); err != nil {
		errs = append(errs, fmt.Errorf("INTAKE_MEDIA_ALLOW_PRIVATE: %w", err))
	}
	errs = append(errs, c.Twilio.Validate(c.PublicURL)...)
	errs = append(errs, c.WhatsApp.Validate()...)
	errs = append(errs, c.Email.Validate()...)
	errs = append(errs, c.API.Validate()...)
	errs = append(errs, c.Conversation.Validate()...)
	errs = append(errs, c.Bursts.Validate()...)
	errs = append(errs, c.Android.Validate()...)
	errs = append(errs, c.SMPP.Validate()...)
	if !c.Dev && !c.Twilio.Enabled() && !c.WhatsApp.Enabled() && !c.Email.Enabled() && !c.API.Enabled() && !c.Android.Enabled() && !c.SMPP.Enabled() {
		errs = append(errs, errors.New("no channel is enabled: set INTAKE_TWILIO_AUTH_TOKEN, INTAKE_WHATSAPP_APP_SECRET, INTAKE_IMAP_ADDR, INTAKE_API_KEYS, INTAKE_ANDROID_SMS_SIGNING_KEY or INTAKE_SMPP_ADDR (or run `intake serve --dev` for development)"))
	}
	return errs
}

// MediaPrivateNetworks are the networks of INTAKE_MEDIA_ALLOW_PRIVATE (validated by Load).
func (c *Config) MediaPrivateNetworks() []netip.Prefix {
	nets, _ := media.ParseNetworks(c.MediaAllowPrivate)
	return nets
}

// NormalizerOptions are the normalizer's settings drawn from c.
func (c *Config) NormalizerOptions() normalizer.Options {
	return normalizer.Options{DefaultRegion: c.DefaultRegion, TrustedForwarders: c.TrustedForwarders, Routing: c.Routing}
}

type lines []error

func (l lines) Error() string {
	s := make([]string, len(l))
	for i, e := range l {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n  - ")
}

func joinLines(errs []error) error { return lines(errs) }
