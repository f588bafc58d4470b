package android

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/lapor/intake/channels"
)

// Config enables POST /webhooks/android-sms (SMS Gateway for Android, capcom6) and, with
// APIURL, receipts through the phone's send API.
type Config struct {
	// SigningKey is the phone's webhook signing key (Settings → Webhooks → Signing Key).
	SigningKey channels.Secret `env:"INTAKE_ANDROID_SMS_SIGNING_KEY" yaml:"signing_key"`
	// APIURL is the base of the phone's send API: http(s)://<phone>:8080 in Local mode,
	// https://api.sms-gate.app/3rdparty/v1 in Cloud mode, or a private server's
	// /3rdparty/v1. Without it no receipt is sent.
	APIURL   string          `env:"INTAKE_ANDROID_SMS_API_URL" yaml:"api_url"`
	Username string          `env:"INTAKE_ANDROID_SMS_USERNAME" yaml:"username"`
	Password channels.Secret `env:"INTAKE_ANDROID_SMS_PASSWORD" yaml:"password"`
	// MaxBodyBytes caps the webhook's body (DefaultMaxBodyBytes when 0), below the
	// server-wide INTAKE_MAX_BODY_BYTES: the body is read whole before its signature can be
	// checked, so an unauthenticated client decides how much is buffered.
	MaxBodyBytes int64 `env:"INTAKE_ANDROID_SMS_MAX_BODY_BYTES" yaml:"max_body_bytes"`
}

// DefaultMaxBodyBytes is the default body cap of /webhooks/android-sms. One event carries
// one SMS: even a long message of many parts, JSON-escaped, stays far below it.
const DefaultMaxBodyBytes = 64 << 10

// DevSigningKey is the development-mode key `intake simulate sms --android` signs with.
const DevSigningKey = "dev-android-sms-signing-key"

// Enabled reports whether the channel is configured.
func (c Config) Enabled() bool { return c.SigningKey != "" }

// ReceiptsEnabled reports whether receipts can be sent (the send API is configured).
func (c Config) ReceiptsEnabled() bool { return c.Enabled() && c.APIURL != "" }

// maxBodyBytes is MaxBodyBytes or its default.
func (c Config) maxBodyBytes() int64 {
	if c.MaxBodyBytes <= 0 {
		return DefaultMaxBodyBytes
	}
	return c.MaxBodyBytes
}

// Validate reports every problem at once.
func (c Config) Validate() []error {
	var errs []error
	if !c.Enabled() && (c.APIURL != "" || c.Username != "" || c.Password != "") {
		errs = append(errs, errors.New("INTAKE_ANDROID_SMS_SIGNING_KEY is required when other INTAKE_ANDROID_SMS_* settings are given: every webhook from the phone is verified with it"))
	}
	if c.APIURL != "" {
		if u, err := url.Parse(c.APIURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs = append(errs, fmt.Errorf("INTAKE_ANDROID_SMS_API_URL=%q must be an absolute URL such as http://192.168.1.10:8080 or https://api.sms-gate.app/3rdparty/v1", c.APIURL))
		}
		if c.Username == "" || c.Password == "" {
			errs = append(errs, errors.New("INTAKE_ANDROID_SMS_USERNAME and INTAKE_ANDROID_SMS_PASSWORD are required with INTAKE_ANDROID_SMS_API_URL: the send API takes basic auth (the credentials on the app's Home tab)"))
		}
	}
	if c.MaxBodyBytes < 0 {
		errs = append(errs, fmt.Errorf("INTAKE_ANDROID_SMS_MAX_BODY_BYTES=%d must be positive (default %d)", c.MaxBodyBytes, DefaultMaxBodyBytes))
	}
	return errs
}

// apiURL is APIURL without a trailing slash.
func (c Config) apiURL() string { return strings.TrimRight(c.APIURL, "/") }
