package android

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"syscall"

	"github.com/lapor/intake/outbound"
	"github.com/lapor/intake/record"
)

// Answerer sends the core's answers (CONTRACT §7) through the phone's send API. It
// implements outbound.Sender for sms/android; the provider message id is the id the send
// API returns, which the phone's sms:sent, sms:delivered and sms:failed events name.
type Answerer struct{ s *Sender }

var _ outbound.Sender = (*Answerer)(nil)

// NewAnswerer returns the Answerer for cfg's send API (client nil: a 20 s timeout).
func NewAnswerer(cfg Config, client *http.Client) (*Answerer, error) {
	s, err := NewSender(cfg, client)
	if err != nil {
		return nil, err
	}
	return &Answerer{s: s}, nil
}

// Channel implements outbound.Sender.
func (a *Answerer) Channel() string { return record.ChannelSMS }

// Provider implements outbound.Sender.
func (a *Answerer) Provider() string { return record.ProviderAndroid }

// Send implements outbound.Sender. The phone sends from its own SIM: the contact's
// recipient plays no part.
func (a *Answerer) Send(ctx context.Context, m outbound.Outgoing) (outbound.Sent, error) {
	id, err := a.s.Send(ctx, m.Contact.Address, m.Text)
	if err != nil {
		return outbound.Sent{}, classifyAnswer(err)
	}
	return outbound.Sent{ProviderMessageID: id}, nil
}

// answerClasses maps the send API's HTTP status to outbound classes; any other 4xx is
// permanent, any 5xx ambiguous (the request reached the phone or its cloud, which may
// have queued the SMS before failing).
var answerClasses = map[int]outbound.Class{
	http.StatusTooManyRequests: outbound.ClassThrottle,
	http.StatusUnauthorized:    outbound.ClassConfig,
	http.StatusForbidden:       outbound.ClassConfig,
	http.StatusNotFound:        outbound.ClassConfig,
	http.StatusBadRequest:      outbound.ClassPermanent,
}

// classifyAnswer turns a failed send into an *outbound.Error. Without an HTTP answer,
// only a request that provably never left (connection refused, no such host) is retried;
// a timeout or a connection broken mid-request may have sent the SMS.
func classifyAnswer(err error) *outbound.Error {
	var se *SendError
	if !errors.As(err, &se) {
		return outbound.Ambiguousf("transport", "the send API call failed (%v); the SMS may have been sent", err)
	}
	if se.Status == 0 {
		var dnsErr *net.DNSError
		if se.Cause == nil { // refused before any request was made (body, URL)
			return outbound.Errorf(outbound.Class(se.Class), "request", "%s", se.Detail)
		}
		if errors.Is(se.Cause, syscall.ECONNREFUSED) || errors.As(se.Cause, &dnsErr) {
			return outbound.Errorf(outbound.ClassRetry, "unreachable", "the phone's send API could not be reached: %s; nothing was sent", se.Detail)
		}
		return outbound.Ambiguousf("transport", "%s; the SMS may have been sent", se.Detail)
	}
	code := strconv.Itoa(se.Status)
	if se.Status >= 500 {
		return outbound.Ambiguousf(code, "the send API answered %d; the SMS may have been sent", se.Status)
	}
	class, ok := answerClasses[se.Status]
	if !ok {
		class = outbound.ClassPermanent
	}
	return outbound.Errorf(class, code, "the send API refused the SMS: %s", se.Detail)
}
