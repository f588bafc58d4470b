package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"

	"github.com/lapor/intake/channels"
	"github.com/lapor/intake/channels/api"
	"github.com/lapor/intake/channels/email"
	"github.com/lapor/intake/channels/twilio"
	"github.com/lapor/intake/channels/whatsapp"
	"github.com/lapor/intake/normalizer"
)

// Config is every setting of CONTRACT §2.
type Config struct {
	HTTPAddr          string          `env:"INTAKE_HTTP_ADDR" yaml:"http_addr"`
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

	Receipts channels.Receipts  `yaml:"receipts"`
	Routing  normalizer.Routing `yaml:"routing"`
	Twilio   twilio.Config      `yaml:"twilio"`
	WhatsApp whatsapp.Config    `yaml:"whatsapp"`
	Email    email.Config       `yaml:"email"`
	API      api.Config         `yaml:"api"`

	// Dev is true in development mode: nothing configured for production (CONTRACT §1).
	Dev bool `yaml:"-"`
}

func defaults() Config {
	return Config{
		HTTPAddr:       ":8080",
		Stream:         "intake:complaints",
		RejectedStream: "intake:rejected",
		ConsumerGroup:  "core",
		SpoolDir:       "./data/spool",
		DefaultRegion:  "ID",
		MaxBodyBytes:   10 << 20,
		MediaDir:       "./data/media",
		MaxMediaBytes:  25 << 20,
		LogLevel:       "info",
		LogFormat:      "json",
		DevRedisAddr:   "127.0.0.1:6379",
		Receipts:       channels.Receipts{Enabled: true, PerCitizen: channels.DefaultReceiptLimit},
		WhatsApp:       whatsapp.Config{GraphURL: whatsapp.DefaultGraphURL},
	}
}

// Load reads the YAML file at path (none when path is ""), then the environment from
// lookup (os.LookupEnv in production), applies development mode, and validates. The
// error lists every problem at once.
func Load(path string, lookup func(string) (string, bool)) (*Config, error) {
	c := defaults()
	if path == "" {
		path, _ = lookup("INTAKE_CONFIG")
	}
	if path != "" {
		if err := readYAML(path, &c); err != nil {
			return nil, err
		}
	}
	set := map[string]bool{}
	errs := applyEnv(&c, func(k string) (string, bool) {
		v, ok := lookup(k)
		if ok && v != "" {
			set[k] = true
		}
		return v, ok
	})
	c.Dev = c.RedisURL == "" && !c.Twilio.Enabled() && !c.WhatsApp.Enabled() && !c.Email.Enabled() && !c.API.Enabled()
	if c.Dev {
		c.applyDevMode(set)
	}
	errs = append(errs, c.validate()...)
	if len(errs) > 0 {
		return nil, fmt.Errorf("the configuration has %d problem(s):\n  - %w", len(errs), joinLines(errs))
	}
	return &c, nil
}

// FromEnvironment is Load with the process environment.
func FromEnvironment(path string) (*Config, error) { return Load(path, os.LookupEnv) }

// applyDevMode sets what development mode means: loopback only, the embedded Redis, and
// the development secrets `intake simulate` uses.
func (c *Config) applyDevMode(set map[string]bool) {
	if !set["INTAKE_HTTP_ADDR"] && c.HTTPAddr == ":8080" {
		c.HTTPAddr = "127.0.0.1:8080"
	}
	if c.PublicURL == "" {
		c.PublicURL = "http://" + c.HTTPAddr
	}
	if !set["INTAKE_LOG_FORMAT"] {
		c.LogFormat = "text"
	}
	c.Twilio.AuthToken = twilio.DevAuthToken
	c.WhatsApp.AppSecret = whatsapp.DevAppSecret
	c.WhatsApp.VerifyToken = whatsapp.DevVerifyToken
	c.API.Keys = api.DevKeys // so `intake simulate api` works out of the box
}

func (c *Config) validate() []error {
	var errs []error
	if !c.Dev && c.RedisURL == "" {
		errs = append(errs, errors.New("INTAKE_REDIS_URL is required once any channel is configured for production: set redis://host:6379/0 (development mode, with no settings at all, uses an embedded server)"))
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
	if c.MaxBodyBytes <= 0 {
		errs = append(errs, errors.New("INTAKE_MAX_BODY_BYTES must be above 0"))
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
	errs = append(errs, c.Twilio.Validate(c.PublicURL)...)
	errs = append(errs, c.WhatsApp.Validate()...)
	errs = append(errs, c.Email.Validate()...)
	errs = append(errs, c.API.Validate()...)
	if !c.Dev && !c.Twilio.Enabled() && !c.WhatsApp.Enabled() && !c.Email.Enabled() && !c.API.Enabled() {
		errs = append(errs, errors.New("no channel is enabled: set INTAKE_TWILIO_AUTH_TOKEN, INTAKE_WHATSAPP_APP_SECRET, INTAKE_IMAP_ADDR or INTAKE_API_KEYS"))
	}
	return errs
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
