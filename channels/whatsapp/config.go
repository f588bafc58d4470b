package whatsapp

import (
	"errors"

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
	AccessToken channels.Secret `env:"INTAKE_WHATSAPP_ACCESS_TOKEN" yaml:"access_token"`
	GraphURL    string          `env:"INTAKE_WHATSAPP_GRAPH_URL" yaml:"graph_url"`
}

// Enabled reports whether the channel is configured.
func (c Config) Enabled() bool { return c.AppSecret != "" }

// Validate reports every problem at once.
func (c Config) Validate() []error {
	var errs []error
	if c.Enabled() && c.VerifyToken == "" {
		errs = append(errs, errors.New("INTAKE_WHATSAPP_VERIFY_TOKEN is required when INTAKE_WHATSAPP_APP_SECRET is set: Meta's subscription handshake needs it"))
	}
	if !c.Enabled() && (c.VerifyToken != "" || c.AccessToken != "") {
		errs = append(errs, errors.New("INTAKE_WHATSAPP_APP_SECRET is required when other INTAKE_WHATSAPP_* settings are given: every Meta POST is verified with it"))
	}
	return errs
}
