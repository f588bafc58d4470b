package whatsapp

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/lapor/intake/channels"
)

// DefaultGraphURL is Meta's Graph API base with the pinned version segment.
const DefaultGraphURL = "https://graph.facebook.com/v25.0"

// Development-mode secrets shared with `intake simulate whatsapp`.
const (
	DevAppSecret   = "dev-whatsapp-app-secret"
	DevVerifyToken = "dev-whatsapp-verify-token"
)

// Config enables /webhooks/whatsapp (Meta WhatsApp Cloud API).
type Config struct {
	AppSecret   channels.Secret `env:"INTAKE_WHATSAPP_APP_SECRET" yaml:"app_secret"`
	VerifyToken channels.Secret `env:"INTAKE_WHATSAPP_VERIFY_TOKEN" yaml:"verify_token"`
	// AccessToken is the Graph API token for media downloads and receipts. Without it,
	// media stay "pending" (downloads off) and no receipt is sent.
	AccessToken channels.Secret `env:"INTAKE_WHATSAPP_ACCESS_TOKEN" yaml:"access_token"`
	GraphURL    string          `env:"INTAKE_WHATSAPP_GRAPH_URL" yaml:"graph_url"`
	// AnswerTemplate is the template answers use outside the 24-hour window when the
	// outbound entry names none, as "name:language" (e.g. lapor_tanggapan:id); its body
	// parameters are the reference and the text. Through Twilio: the Content SID (HX…).
	AnswerTemplate string `env:"INTAKE_WHATSAPP_ANSWER_TEMPLATE" yaml:"answer_template"`
	// MediaHosts are further hosts media may be downloaded from, beyond the Graph host and
	// DefaultMediaHosts (entries as media.HostPolicy: "host", ".domain", "https://host:port").
	MediaHosts []string `env:"INTAKE_WHATSAPP_MEDIA_HOSTS" yaml:"media_hosts"`
	// MaxBodyBytes caps the webhook POST's body (DefaultMaxBodyBytes when 0), below the
	// server-wide INTAKE_MAX_BODY_BYTES: the body is read whole before its signature can be
	// checked, so an unauthenticated client decides how much is buffered.
	MaxBodyBytes int64 `env:"INTAKE_WHATSAPP_MAX_BODY_BYTES" yaml:"max_body_bytes"`
}

// DefaultMaxBodyBytes is the default body cap of POST /webhooks/whatsapp. Meta documents
// webhook payloads of up to 3 MB (a batch of messages; media are never inline), so a
// smaller cap would refuse genuine batches, which Meta then retries for days.
const DefaultMaxBodyBytes = 3 << 20

// maxBodyBytes is MaxBodyBytes or its default.
func (c Config) maxBodyBytes() int64 {
	if c.MaxBodyBytes <= 0 {
		return DefaultMaxBodyBytes
	}
	return c.MaxBodyBytes
}

// Enabled reports whether the channel is configured.
func (c Config) Enabled() bool { return c.AppSecret != "" }

// DownloadsEnabled reports whether media can be fetched (a Graph token is configured).
func (c Config) DownloadsEnabled() bool { return c.Enabled() && c.AccessToken != "" }

// graphURL is GraphURL or the default, without a trailing slash.
func (c Config) graphURL() string {
	if c.GraphURL == "" {
		return DefaultGraphURL
	}
	return strings.TrimRight(c.GraphURL, "/")
}

// Validate reports every problem at once.
func (c Config) Validate() []error {
	var errs []error
	if c.Enabled() && c.VerifyToken == "" {
		errs = append(errs, errors.New("INTAKE_WHATSAPP_VERIFY_TOKEN is required when INTAKE_WHATSAPP_APP_SECRET is set: Meta's subscription handshake needs it"))
	}
	if !c.Enabled() && (c.VerifyToken != "" || c.AccessToken != "") {
		errs = append(errs, errors.New("INTAKE_WHATSAPP_APP_SECRET is required when other INTAKE_WHATSAPP_* settings are given: every Meta POST is verified with it"))
	}
	if c.GraphURL != "" {
		if u, err := url.Parse(c.GraphURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs = append(errs, fmt.Errorf("INTAKE_WHATSAPP_GRAPH_URL=%q must be an absolute URL such as %s", c.GraphURL, DefaultGraphURL))
		}
	}
	if t := c.AnswerTemplate; t != "" && !strings.HasPrefix(t, "HX") {
		if name, lang, ok := strings.Cut(t, ":"); !ok || name == "" || lang == "" {
			errs = append(errs, fmt.Errorf("INTAKE_WHATSAPP_ANSWER_TEMPLATE=%q must be name:language, e.g. lapor_tanggapan:id (or a Twilio Content SID HX…)", t))
		}
	}
	if c.MaxBodyBytes < 0 {
		errs = append(errs, fmt.Errorf("INTAKE_WHATSAPP_MAX_BODY_BYTES=%d must be positive (default %d)", c.MaxBodyBytes, DefaultMaxBodyBytes))
	}
	return errs
}
