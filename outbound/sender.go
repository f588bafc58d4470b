package outbound

import (
	"context"

	"github.com/lapor/intake/record"
)

// Sender sends outbound messages on one channel through one provider. Each channel
// package implements it (sender.go). Send returns Sent once the provider took the
// message; otherwise an *Error saying its class and whether the request may have left
// (Ambiguous). It must not retry by itself: the Worker decides.
type Sender interface {
	Channel() string
	Provider() string
	Send(ctx context.Context, m Outgoing) (Sent, error)
}

// Outgoing is one message to send.
type Outgoing struct {
	OutboundID string
	Contact    record.Contact
	Text       string
	Kind       string
	// Template is the entry's own WhatsApp template, nil when it gave none.
	Template  *Template
	Reference string
	// WindowOpen: the citizen wrote on WhatsApp within the last 24 hours, so free text
	// may be sent; otherwise a template.
	WindowOpen bool
}

// Sent is what the provider answered.
type Sent struct {
	ProviderMessageID string
}

// SenderKey names a sender by channel and provider, as contacts name theirs.
func SenderKey(channel, provider string) string { return channel + "/" + provider }
