package conversation

import (
	"time"

	"github.com/lapor/intake/internal/secret"
)

// DefaultReceiptWindow is INTAKE_RECEIPT_WINDOW's default.
const DefaultReceiptWindow = 10 * time.Minute

// Config holds the conversation's settings (CONTRACT §8).
type Config struct {
	// CitizenKey keys the citizen_id pseudonym. Without it (production) records carry no
	// citizen_id, and the rate limit, block list and follow-ups are off.
	CitizenKey secret.Secret `env:"INTAKE_CITIZEN_KEY" yaml:"citizen_key"`
	// RateLimit is "N/WINDOW" per citizen across channels, or "off".
	RateLimit string `env:"INTAKE_RATE_LIMIT" yaml:"rate_limit"`
	// ReceiptWindow: at most one receipt per citizen per window, on any channel; 0 turns
	// the window off (the channels' own budgets apply, counted per citizen).
	ReceiptWindow time.Duration `env:"INTAKE_RECEIPT_WINDOW" yaml:"receipt_window"`
}

// Defaults are the settings with nothing configured.
func Defaults() Config {
	return Config{RateLimit: DefaultRateLimit, ReceiptWindow: DefaultReceiptWindow}
}

// Validate lists every problem.
func (c Config) Validate() []error {
	var errs []error
	if _, err := ParseRateLimit(c.RateLimit); err != nil {
		errs = append(errs, err)
	}
	if k := c.CitizenKey.Reveal(); k != "" {
		if _, err := NewIdentity(k); err != nil {
			errs = append(errs, err)
		}
	}
	if c.ReceiptWindow < 0 {
		errs = append(errs, errNegativeWindow)
	}
	return errs
}

type configError string

func (e configError) Error() string { return string(e) }

const errNegativeWindow = configError("INTAKE_RECEIPT_WINDOW must be 0 (a receipt for every new message) or a positive duration such as 10m")

// Limit is the parsed rate limit (Validate has checked it).
func (c Config) Limit() RateLimit {
	l, _ := ParseRateLimit(c.RateLimit)
	return l
}
