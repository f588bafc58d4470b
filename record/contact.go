package record

import "time"

// Contact is how to answer the citizen behind a complaint (CONTRACT §7): kept by the
// queue when the record is made, read by the outbound worker. It is not part of the
// complaint record.
type Contact struct {
	ComplaintID string `json:"complaint_id"`
	Reference   string `json:"reference"`
	Channel     string `json:"channel"`
	Provider    string `json:"provider"`
	// Address is the citizen's: E.164 phone (SMS, Twilio WhatsApp), WhatsApp id (Meta),
	// lower-cased email address.
	Address string `json:"address"`
	// Recipient is the address the citizen wrote to, which the answer is sent from: the
	// Twilio number, the Meta phone-number id, the mailbox address.
	Recipient string `json:"recipient,omitempty"`
	// MessageID is the citizen's email Message-ID (without angle brackets) and References
	// the ids it named, for threading the answer.
	MessageID  string   `json:"message_id,omitempty"`
	References []string `json:"references,omitempty"`
	// Subject is the email's subject without Re:/Fwd: prefixes.
	Subject string `json:"subject,omitempty"`
	// LastMessageAt is the provider's timestamp of the citizen's last message on this
	// channel to this recipient (the WhatsApp 24-hour window runs from it); zero if unknown.
	LastMessageAt time.Time `json:"last_message_at,omitzero"`
}
