package twilio

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/lapor/intake/record"
)

// maxMedia bounds the media items read from one request (MMS carries at most 10).
const maxMedia = 10

// Inbound is Twilio's incoming-message request, the fields we use.
type Inbound struct {
	MessageSid          string
	AccountSid          string
	MessagingServiceSid string
	From                string
	To                  string
	Body                string
	NumSegments         int
	Media               []Media
	// MessageStatus is set on status callbacks, which are not messages.
	MessageStatus string
}

// Media is one MediaUrlN / MediaContentTypeN pair.
type Media struct {
	URL         string
	ContentType string
}

// parseInbound reads the form of an incoming-message request or a status callback.
func parseInbound(form url.Values) (Inbound, error) {
	in := Inbound{
		MessageSid:          form.Get("MessageSid"),
		AccountSid:          form.Get("AccountSid"),
		MessagingServiceSid: form.Get("MessagingServiceSid"),
		From:                form.Get("From"),
		To:                  form.Get("To"),
		Body:                form.Get("Body"),
		MessageStatus:       form.Get("MessageStatus"),
	}
	if in.MessageSid == "" {
		in.MessageSid = form.Get("SmsMessageSid")
	}
	if in.MessageSid == "" {
		return in, errors.New("no MessageSid: not a Twilio message request")
	}
	if in.From == "" {
		return in, errors.New("no From: the sender is unknown")
	}
	in.NumSegments, _ = strconv.Atoi(form.Get("NumSegments"))
	n, err := strconv.Atoi(form.Get("NumMedia"))
	if form.Get("NumMedia") != "" && (err != nil || n < 0) {
		return in, fmt.Errorf("NumMedia=%q is not a count", form.Get("NumMedia"))
	}
	for i := 0; i < n && i < maxMedia; i++ {
		u := form.Get("MediaUrl" + strconv.Itoa(i))
		if u == "" {
			continue
		}
		in.Media = append(in.Media, Media{URL: u, ContentType: form.Get("MediaContentType" + strconv.Itoa(i))})
	}
	return in, nil
}

// IsWhatsApp reports whether the message came through Twilio's WhatsApp sender.
func (in Inbound) IsWhatsApp() bool { return strings.HasPrefix(in.From, "whatsapp:") }

// Message maps an SMS or MMS to the channel-neutral message.
func (in Inbound) Message(raw []byte) *record.Message {
	m := &record.Message{
		Channel:           record.ChannelSMS,
		Provider:          record.ProviderTwilio,
		ProviderMessageID: in.MessageSid,
		Sender:            record.Party{Phone: in.From},
		Recipient:         in.To,
		Text:              in.Body,
		Raw:               raw,
		ChannelData:       make(map[string]any, 3),
	}
	m.ChannelData["message_type"] = "sms"
	if in.NumSegments > 0 {
		m.ChannelData["segments"] = in.NumSegments
	}
	if in.MessagingServiceSid != "" {
		m.ChannelData["messaging_service_sid"] = in.MessagingServiceSid
	}
	if len(in.Media) > 0 {
		m.ChannelData["message_type"] = "mms"
	}
	for _, md := range in.Media {
		m.Attachments = append(m.Attachments, record.Attachment{
			ContentType: md.ContentType, SourceURL: md.URL, Status: record.MediaPending,
		})
	}
	return m
}

// ErrStatusCallback is returned by Decode for a delivery or read status: not a message.
var ErrStatusCallback = errors.New("a status callback, not a message")

// Decode maps a verified request's form to the channel-neutral message: SMS, MMS, or
// WhatsApp through Twilio. A status callback gives ErrStatusCallback.
func Decode(form url.Values, raw []byte) (*record.Message, Inbound, error) {
	in, err := parseInbound(form)
	if err != nil {
		return nil, in, err
	}
	if in.MessageStatus != "" {
		return nil, in, ErrStatusCallback
	}
	m := in.Message(raw)
	if in.IsWhatsApp() {
		decorateWhatsApp(m, form)
	}
	return m, in, nil
}
