package twilio

import (
	"errors"

	"github.com/lapor/intake/channels"
)

// Config enables POST /webhooks/twilio (SMS, MMS and WhatsApp through Twilio).
type Config struct {
	AuthToken  channels.Secret `env:"INTAKE_TWILIO_AUTH_TOKEN" yaml:"auth_token"`
	AccountSID string          `env:"INTAKE_TWILIO_ACCOUNT_SID" yaml:"account_sid"`
}

// DevAuthToken is the development-mode token `intake simulate` signs with.
const DevAuthToken = "dev-twilio-auth-token"

// Enabled reports whether the channel is configured.
func (c Config) Enabled() bool { return c.AuthToken != "" }

// Validate reports every problem at once.
func (c Config) Validate(publicURL string) []error {
	var errs []error
	if c.Enabled() && publicURL == "" {
		errs = append(errs, errors.New("INTAKE_PUBLIC_URL is required when INTAKE_TWILIO_AUTH_TOKEN is set: Twilio signs the public URL it calls"))
	}
	return errs
}
