package outbound

import (
	"encoding/json"
	"time"
)

// DeliveryField is the stream field holding a delivery entry's JSON.
const DeliveryField = "delivery"

// Delivery is one entry on intake:delivery (CONTRACT §7).
type Delivery struct {
	OutboundID        string         `json:"outbound_id"`
	ComplaintID       string         `json:"complaint_id,omitempty"`
	Channel           string         `json:"channel,omitempty"`
	Provider          string         `json:"provider,omitempty"`
	ProviderMessageID string         `json:"provider_message_id,omitempty"`
	State             State          `json:"state"`
	Error             *DeliveryError `json:"error,omitempty"`
	At                string         `json:"at"`
}

// DeliveryError is why a message failed (or may not have been sent).
type DeliveryError struct {
	Code   string `json:"code,omitempty"`
	Class  Class  `json:"class"`
	Detail string `json:"detail,omitempty"`
}

// JSON is the entry's field value.
func (d *Delivery) JSON() []byte {
	b, _ := json.Marshal(d) // only strings: cannot fail
	return b
}

func formatAt(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func errorOf(e *Error) *DeliveryError {
	if e == nil {
		return nil
	}
	return &DeliveryError{Code: e.Code, Class: e.Class, Detail: e.Detail}
}
