package twilio

import (
	"net/url"
	"strings"
)

// Sample is what varies between sample SMS: the ids and numbers (`intake simulate sms`).
type Sample struct {
	MessageID string // MessageSid; repeat one to see deduplication
	From, To  string
}

// SampleForm returns the form Twilio posts for an inbound SMS carrying text.
func SampleForm(text string, s Sample) url.Values {
	return url.Values{
		"MessageSid": {s.MessageID}, "SmsSid": {s.MessageID}, "SmsMessageSid": {s.MessageID},
		"AccountSid": {"AC" + strings.Repeat("0", 32)}, "From": {s.From}, "To": {s.To}, "Body": {text},
		"NumMedia": {"0"}, "NumSegments": {"1"}, "SmsStatus": {"received"}, "ApiVersion": {"2010-04-01"},
	}
}
