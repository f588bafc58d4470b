package android

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	// segmentio's decoder reads what encoding/json reads, in a fraction of the time (the
	// queue encodes records with it too).
	json "github.com/segmentio/encoding/json"

	"github.com/lapor/intake/normalizer"
	"github.com/lapor/intake/record"
)

// Events of SMS Gateway for Android's webhook envelope.
const (
	EventReceived  = "sms:received"
	EventSent      = "sms:sent"
	EventDelivered = "sms:delivered"
	EventFailed    = "sms:failed"
	EventPing      = "system:ping"
)

// deliveryStates are the events that report on an SMS the phone sent, with the delivery
// state each one stands for (CONTRACT §7).
var deliveryStates = map[string]string{
	EventSent:      "sent",
	EventDelivered: "delivered",
	EventFailed:    "failed",
}

// envelope is the body of every webhook call.
type envelope struct {
	DeviceID  string          `json:"deviceId"`
	Event     string          `json:"event"`
	ID        string          `json:"id"`
	WebhookID string          `json:"webhookId"`
	Payload   json.RawMessage `json:"payload"`
}

// received is the payload of sms:received. Its messageId is derived from the content and
// is not unique, so it is not read: the envelope's deviceId and id identify the event.
type received struct {
	Message     string  `json:"message"`
	PhoneNumber string  `json:"phoneNumber"`
	Sender      string  `json:"sender"`
	Recipient   *string `json:"recipient"`
	SimNumber   *int    `json:"simNumber"`
	ReceivedAt  string  `json:"receivedAt"`
}

// DecodeOptions adjust Decode.
type DecodeOptions struct {
	// Region (INTAKE_DEFAULT_REGION, "ID" when empty) reads sender numbers written without
	// a country code.
	Region string
}

// Decoded is one webhook call. Message is set for sms:received only; State is the delivery
// state ("sent", "delivered", "failed") of a report on an SMS the phone sent.
type Decoded struct {
	Event   string
	State   string
	Message *record.Message
	// MessageID names the SMS a delivery report is about: the id the send API returned.
	// Reason is a failed report's reason, as the phone gives it.
	MessageID, Reason string
}

// report is the payload of sms:sent, sms:delivered and sms:failed.
type report struct {
	MessageID string `json:"messageId"`
	Reason    string `json:"reason"`
}

// maxIDLen bounds the ids kept from the envelope: they become Redis keys.
const maxIDLen = 128

// Decode maps a verified webhook body to what it means: a message for sms:received, a
// delivery state for sms:sent/delivered/failed, only the event for anything else. It does
// no I/O. A body that is not an envelope, or an sms:received without what a record needs,
// is an error (the channel keeps it in the rejected stream).
func Decode(raw []byte, o DecodeOptions) (Decoded, error) {
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		return Decoded{}, fmt.Errorf("not a webhook envelope: %w", err)
	}
	if env.Event == "" {
		return Decoded{}, errors.New("no event: not a webhook of SMS Gateway for Android")
	}
	d := Decoded{Event: env.Event, State: deliveryStates[env.Event]}
	if d.State != "" {
		var p report
		if len(env.Payload) > 0 && json.Unmarshal(env.Payload, &p) == nil && len(p.MessageID) <= maxIDLen {
			d.MessageID, d.Reason = p.MessageID, p.Reason
		}
		return d, nil
	}
	if env.Event != EventReceived {
		return d, nil
	}
	m, err := message(env, raw, o)
	if err != nil {
		return Decoded{}, err
	}
	d.Message = m
	return d, nil
}

// message maps an sms:received envelope to the channel-neutral message.
func message(env envelope, raw []byte, o DecodeOptions) (*record.Message, error) {
	if env.ID == "" || env.DeviceID == "" {
		return nil, errors.New("sms:received without deviceId and id: the event cannot be told from a repeat")
	}
	if len(env.ID) > maxIDLen || len(env.DeviceID) > maxIDLen {
		return nil, fmt.Errorf("deviceId or id longer than %d bytes", maxIDLen)
	}
	var p received
	if len(env.Payload) == 0 || json.Unmarshal(env.Payload, &p) != nil {
		return nil, errors.New("sms:received without a payload object")
	}
	from := strings.TrimSpace(p.PhoneNumber)
	if from == "" {
		from = strings.TrimSpace(p.Sender)
	}
	if from == "" {
		return nil, errors.New("sms:received without phoneNumber: the sender is unknown")
	}
	m := &record.Message{
		Channel:           record.ChannelSMS,
		Provider:          record.ProviderAndroid,
		ProviderMessageID: env.ID,
		DedupeKey:         "android:" + env.DeviceID + ":" + env.ID,
		Sender:            sender(from, o.Region),
		Text:              p.Message,
		Raw:               raw,
		ChannelData:       map[string]any{"message_type": "sms", "device_id": env.DeviceID},
	}
	if p.Recipient != nil {
		m.Recipient = strings.TrimSpace(*p.Recipient)
	}
	if p.SimNumber != nil {
		m.ChannelData["sim_number"] = *p.SimNumber
	}
	// The phone's own time with its offset; it may be hours old when the phone caught up
	// after being offline, so it stays the sender's time, apart from the gateway's.
	if t, err := time.Parse(time.RFC3339Nano, p.ReceivedAt); err == nil {
		m.SentAt = t
	}
	return m, nil
}

// sender is the party an SMS came from: a phone number (E.164 through region), or, for
// an operator's or a service's sender id ("TELKOMSEL", a short code such as "3" or
// "1708"), that id kept as it is, as the name the phone shows.
func sender(from, region string) record.Party {
	if region == "" {
		region = "ID"
	}
	if e, ok := normalizer.E164(from, strings.ToUpper(region)); ok {
		return record.Party{Phone: e}
	}
	from = strings.ToValidUTF8(from, "\uFFFD")
	if len(from) > 64 {
		n := 64
		for n > 0 && !utf8.RuneStart(from[n]) {
			n--
		}
		from = from[:n]
	}
	return record.Party{Name: from}
}
