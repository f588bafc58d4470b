package android

import (
	"encoding/json"
	"time"
)

// Sample is what varies between sample events (`intake simulate sms --android`).
type Sample struct {
	DeviceID string // the phone; with EventID it identifies the event
	EventID  string // repeat one to see deduplication
	From     string // the sender's number as the phone shows it
	// ReceivedAt is the phone's time of the SMS, with its offset (now in WIB when zero).
	ReceivedAt time.Time
}

// wib is Western Indonesian Time, the offset a phone in Jakarta reports.
var wib = time.FixedZone("WIB", 7*3600)

// SampleEvent returns the body the phone posts for an SMS carrying text (sms:received).
func SampleEvent(text string, s Sample) ([]byte, error) {
	at := s.ReceivedAt
	if at.IsZero() {
		at = time.Now()
	}
	sim := 1
	return json.Marshal(map[string]any{
		"deviceId":  s.DeviceID,
		"event":     EventReceived,
		"id":        s.EventID,
		"webhookId": "intake-sms-received",
		"payload": map[string]any{
			"messageId":   "sample-" + s.EventID,
			"message":     text,
			"phoneNumber": s.From,
			"simNumber":   sim,
			"receivedAt":  at.In(wib).Format("2006-01-02T15:04:05.000-07:00"),
		},
	})
}
