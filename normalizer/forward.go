package normalizer

import "github.com/lapor/intake/record"

// Forward is a forwarded message found inside a mail's text.
type Forward struct {
	// Note is what the forwarder wrote above the forwarded block.
	Note string
	// From is the forwarded message's author, Date its date as written (RFC 3339 when it
	// could be parsed), Subject its subject, Text its body.
	From    *record.Party
	Date    string
	Subject string
	Text    string
}

// ParseForward finds a forwarded block in text, or returns nil.
func ParseForward(text string) *Forward {
	return nil // TODO(normalizer): forwards
}
