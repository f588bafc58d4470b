// Package secret holds the one type for configuration values that must never be printed.
// It is its own package so that settings outside the channels (the conversation's citizen
// key) use it without depending on the channels' contract.
package secret

// Secret is a configuration value that must never be printed: it redacts itself in
// fmt, logs and JSON.
type Secret string

func (s Secret) String() string { return redact(string(s)) }

// GoString redacts under %#v too.
func (s Secret) GoString() string { return redact(string(s)) }

// MarshalJSON redacts.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redact(string(s)) + `"`), nil }

// Reveal returns the secret itself, for the one place that needs it.
func (s Secret) Reveal() string { return string(s) }

func redact(s string) string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}
