package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// SchemaVersion is the complaint record version this package reads.
const SchemaVersion = 1

// Kinds of complaint record (contract §8).
const (
	KindComplaint = "complaint"
	KindFollowUp  = "follow_up"
)

// Complaint is the part of a complaint record (contract §4) the core routes on; Record is
// the whole record as JSON, for the core's own types.
type Complaint struct {
	ID            string          `json:"id"`
	SchemaVersion int             `json:"schema_version"`
	Reference     string          `json:"reference"`
	Channel       string          `json:"channel"`
	Kind          string          `json:"kind"` // KindComplaint (also when the record has none) or KindFollowUp
	FollowUpOf    *ComplaintRef   `json:"follow_up_of,omitempty"`
	CitizenID     string          `json:"citizen_id,omitempty"`
	Agency        string          `json:"agency,omitempty"`
	ReceivedAt    time.Time       `json:"received_at"`
	Record        json.RawMessage `json:"-"`
}

// ComplaintRef names an earlier complaint.
type ComplaintRef struct {
	ID        string `json:"id"`
	Reference string `json:"reference"`
}

// DecodeComplaint reads an entry of the complaint stream (fields id, channel, complaint).
// Its errors are Permanent: returned from a Handler, the entry goes straight to the
// dead-letter stream instead of being retried.
func DecodeComplaint(e Entry) (Complaint, error) {
	raw, ok := e.Values["complaint"]
	if !ok {
		return Complaint{}, decodeErr(e, "has no complaint field: is this the complaint stream?")
	}
	var c Complaint
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		return Complaint{}, decodeErr(e, "complaint is not a JSON record: "+err.Error())
	}
	id, hasID := e.Values["id"]
	switch {
	case c.ID == "":
		return Complaint{}, decodeErr(e, "complaint has no id")
	case hasID && id != c.ID:
		return Complaint{}, decodeErr(e, "the entry's id field and the record's id differ")
	case c.SchemaVersion > SchemaVersion:
		return Complaint{}, decodeErr(e, fmt.Sprintf("schema_version %d is newer than this client reads (%d): update github.com/lapor/intake/client", c.SchemaVersion, SchemaVersion))
	}
	if c.Kind == "" {
		c.Kind = KindComplaint
	}
	c.Record = json.RawMessage(raw)
	return c, nil
}

// Delivery states (contract §7). A state never moves backwards.
const (
	StateAccepted  = "accepted"
	StateSent      = "sent"
	StateDelivered = "delivered"
	StateRead      = "read"
	StateFailed    = "failed"
	StateExpired   = "expired"
	StateUnknown   = "unknown"
)

// Delivery is what became of an answer (an entry of the delivery stream).
type Delivery struct {
	OutboundID        string         `json:"outbound_id"`
	ComplaintID       string         `json:"complaint_id"`
	Channel           string         `json:"channel"`
	Provider          string         `json:"provider"`
	ProviderMessageID string         `json:"provider_message_id,omitempty"`
	State             string         `json:"state"`
	Error             *DeliveryError `json:"error,omitempty"`
	At                time.Time      `json:"at"`
}

// DeliveryError says why a send failed. Class is one of retry, throttle, permanent,
// opted_out, window_closed, config.
type DeliveryError struct {
	Code   string `json:"code"`
	Class  string `json:"class"`
	Detail string `json:"detail"`
}

// DecodeDelivery reads an entry of the delivery stream (one field, delivery). Its errors
// are Permanent, like DecodeComplaint's.
func DecodeDelivery(e Entry) (Delivery, error) {
	raw, ok := e.Values["delivery"]
	if !ok {
		return Delivery{}, decodeErr(e, "has no delivery field: is this the delivery stream?")
	}
	var d Delivery
	if err := json.Unmarshal([]byte(raw), &d); err != nil {
		return Delivery{}, decodeErr(e, "delivery is not valid JSON: "+err.Error())
	}
	if d.OutboundID == "" || d.State == "" {
		return Delivery{}, decodeErr(e, "delivery lacks outbound_id or state")
	}
	return d, nil
}

// ErrDecode is wrapped by every decoding error.
var ErrDecode = errors.New("decode")

func decodeErr(e Entry, what string) error {
	return Permanent(fmt.Errorf("%w: entry %s of %s %s", ErrDecode, e.ID, e.Stream, what))
}
