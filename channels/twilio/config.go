package twilio

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/lapor/intake/channels"
)

// Config enables POST /webhooks/twilio (SMS, MMS and WhatsApp through Twilio).
type Config struct {
	AuthToken  channels.Secret `env:"INTAKE_TWILIO_AUTH_TOKEN" yaml:"auth_token"`
	AccountSID string          `env:"INTAKE_TWILIO_ACCOUNT_SID" yaml:"account_sid"`
	// MaxBodyBytes caps the webhook's body (DefaultMaxBodyBytes when 0), below the
	// server-wide INTAKE_MAX_BODY_BYTES: the body is read whole before its signature can be
	// checked, so an unauthenticated client decides how much is buffered.
	MaxBodyBytes int64 `env:"INTAKE_TWILIO_MAX_BODY_BYTES" yaml:"max_body_bytes"`
	// APIURL is Twilio's REST base without the version path (DefaultAPIURL when empty):
	// answers to citizens are sent there (tests point it at a stand-in).
	APIURL string `env:"INTAKE_TWILIO_API_URL" yaml:"api_url"`
}

// DefaultAPIURL is Twilio's REST API base.
const DefaultAPIURL = "https://api.twilio.com"

// SendsEnabled reports whether answers can be sent (the REST API needs the account SID).
func (c Config) SendsEnabled() bool { return c.Enabled() && c.AccountSID != "" }

// DefaultMaxBodyBytes is the default body cap of /webhooks/twilio. A Twilio SMS, MMS or
// WhatsApp form is a few KB; the largest genuine one, 4096 emoji of WhatsApp text
// percent-encoded, is under 50 KB.
const DefaultMaxBodyBytes = 64 << 10

// DevAuthToken is the development-mode token `intake simulate` signs with.
const DevAuthToken = "dev-twilio-auth-token"

// Enabled reports whether the channel is configured.
func (c Config) Enabled() bool { return c.AuthToken != "" }

// maxBodyBytes is MaxBodyBytes or its default.
func (c Config) maxBodyBytes() int64 {
	if c.MaxBodyBytes <= 0 {
		return DefaultMaxBodyBytes
	}
	return c.MaxBodyBytes
}

// Validate reports every problem at once.
func (c Config) Validate(publicURL string) []error {
	var errs []error
	if c.Enabled() && publicURL == "" {
		errs = append(errs, errors.New("INTAKE_PUBLIC_URL is required when INTAKE_TWILIO_AUTH_TOKEN is set: Twilio signs the public URL it calls"))
	}
	if c.APIURL != "" {
		if u, err := url.Parse(c.APIURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || strings.Trim(u.Path, "/") != "" {
			errs = append(errs, fmt.Errorf("INTAKE_TWILIO_API_URL=%q must be a base URL without a path, such as %s", c.APIURL, DefaultAPIURL))
		}
	}
	if c.MaxBodyBytes < 0 {
		errs = append(errs, fmt.Errorf("INTAKE_TWILIO_MAX_BODY_BYTES=%d must be positive (default %d)", c.MaxBodyBytes, DefaultMaxBodyBytes))
	}
	return errs
}
