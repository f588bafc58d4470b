package twilio

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	twiliogo "github.com/twilio/twilio-go"
	tclient "github.com/twilio/twilio-go/client"
	api "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/lapor/intake/outbound"
	"github.com/lapor/intake/record"
)

// StatusPath is where Twilio reports what became of an answer (CONTRACT §7). The
// outbound id rides in the callback URL's query, which Twilio signs.
const StatusPath = "/webhooks/twilio/status"

// SenderOptions wire a Sender.
type SenderOptions struct {
	// Channel is record.ChannelSMS or record.ChannelWhatsApp (Twilio carries both).
	Channel string
	// PublicURL is the gateway's external base; status callbacks go to StatusPath there.
	PublicURL string
	// AnswerTemplate is the Content SID (HX…) of the WhatsApp template used outside the
	// 24-hour window when the entry names none; its variables are {"1": reference, "2": text}.
	AnswerTemplate string
	// HTTPClient makes the REST calls (a 30 s timeout when nil).
	HTTPClient *http.Client
}

// Sender sends answers through Twilio's Messages API (twilio-go). It implements
// outbound.Sender for one channel.
type Sender struct {
	channel   string
	api       *api.ApiService
	statusURL string
	template  string
}

var _ outbound.Sender = (*Sender)(nil)

// NewSender returns a Sender for cfg (which must have the account SID and auth token).
func NewSender(cfg Config, o SenderOptions) (*Sender, error) {
	if !cfg.SendsEnabled() {
		return nil, errors.New("twilio: sending answers needs INTAKE_TWILIO_ACCOUNT_SID and INTAKE_TWILIO_AUTH_TOKEN")
	}
	if o.Channel != record.ChannelSMS && o.Channel != record.ChannelWhatsApp {
		return nil, errors.New("twilio: a sender is for sms or whatsapp")
	}
	hc := o.HTTPClient
	if hc == nil {
		// Many answers go to one host at once: keep their connections (the default
		// transport keeps 2 per host and reconnects for the rest).
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = 64
		hc = &http.Client{Timeout: 30 * time.Second, Transport: tr}
	}
	base := strings.TrimRight(cfg.APIURL, "/")
	if base == "" {
		base = DefaultAPIURL
	}
	c := &tclient.Client{Credentials: tclient.NewCredentials(cfg.AccountSID, cfg.AuthToken.Reveal()), HTTPClient: hc}
	c.SetAccountSid(cfg.AccountSID)
	rest := twiliogo.NewRestClientWithParams(twiliogo.ClientParams{Client: &rebased{Client: c, base: base}})
	s := &Sender{channel: o.Channel, api: rest.Api, template: o.AnswerTemplate}
	if o.PublicURL != "" {
		s.statusURL = strings.TrimRight(o.PublicURL, "/") + StatusPath
	}
	return s, nil
}

// rebased sends twilio-go's requests to another base URL (INTAKE_TWILIO_API_URL):
// twilio-go fixes https://api.twilio.com in its services.
type rebased struct {
	*tclient.Client
	base string
}

func (r *rebased) SendRequest(method, rawURL string, data url.Values, headers map[string]interface{}, body ...byte) (*http.Response, error) {
	if rest, ok := strings.CutPrefix(rawURL, DefaultAPIURL); ok {
		rawURL = r.base + rest
	}
	return r.Client.SendRequest(method, rawURL, data, headers, body...)
}

// Channel implements outbound.Sender.
func (s *Sender) Channel() string { return s.channel }

// Provider implements outbound.Sender.
func (s *Sender) Provider() string { return record.ProviderTwilio }

// Send implements outbound.Sender. twilio-go's call takes no context: it runs on its own
// goroutine and, when ctx ends first, is abandoned with an ambiguous outcome (the request
// may have reached Twilio).
func (s *Sender) Send(ctx context.Context, m outbound.Outgoing) (outbound.Sent, error) {
	p, perr := s.params(m)
	if perr != nil {
		return outbound.Sent{}, perr
	}
	type result struct {
		msg *api.ApiV2010Message
		err error
	}
	done := make(chan result, 1)
	go func() {
		msg, err := s.api.CreateMessage(p)
		done <- result{msg, err}
	}()
	select {
	case <-ctx.Done():
		return outbound.Sent{}, outbound.Ambiguousf("timeout", "Twilio did not answer in time; the message may have been sent")
	case r := <-done:
		if r.err != nil {
			return outbound.Sent{}, classify(r.err)
		}
		if r.msg == nil || r.msg.Sid == nil {
			return outbound.Sent{}, outbound.Ambiguousf("no_sid", "Twilio answered without a message SID")
		}
		return outbound.Sent{ProviderMessageID: *r.msg.Sid}, nil
	}
}

// params builds the Messages create call: free text, or outside WhatsApp's window a
// Content template.
func (s *Sender) params(m outbound.Outgoing) (*api.CreateMessageParams, error) {
	c := m.Contact
	p := &api.CreateMessageParams{}
	to, from := c.Address, c.Recipient
	if s.channel == record.ChannelWhatsApp {
		to, from = whatsappPrefix+strings.TrimPrefix(to, whatsappPrefix), whatsappPrefix+strings.TrimPrefix(from, whatsappPrefix)
	}
	p.SetTo(to).SetFrom(from)
	if s.statusURL != "" {
		p.SetStatusCallback(s.statusURL + "?o=" + url.QueryEscape(m.OutboundID))
	}
	if s.channel != record.ChannelWhatsApp || m.WindowOpen {
		p.SetBody(m.Text)
		return p, nil
	}
	sid, vars := s.template, []string{m.Reference, m.Text}
	if t := m.Template; t != nil {
		sid, vars = t.Name, t.Parameters
	}
	if !strings.HasPrefix(sid, "HX") {
		return nil, outbound.Errorf(outbound.ClassWindowClosed, "window_closed",
			"the citizen's last WhatsApp message is over 24 hours old and no Twilio Content template (HX…) is given; set INTAKE_WHATSAPP_ANSWER_TEMPLATE or the entry's template")
	}
	named := map[string]string{}
	for i, v := range vars {
		named[strconv.Itoa(i+1)] = v
	}
	b, _ := json.Marshal(named)
	p.SetContentSid(sid).SetContentVariables(string(b))
	return p, nil
}

// errorClasses maps Twilio's error codes to outbound classes (research: outbound.md
// §2.3). Codes not listed are permanent: Twilio refused the request itself.
var errorClasses = map[int]outbound.Class{
	20429: outbound.ClassRetry,     // too many requests: never processed, safe to retry
	20003: outbound.ClassConfig,    // authentication failed
	20404: outbound.ClassConfig,    // the account or resource is not there
	21222: outbound.ClassConfig,    // twilio-go: the account SID has characters Twilio never issues
	21224: outbound.ClassConfig,    // twilio-go: the auth token has characters Twilio never issues
	21211: outbound.ClassPermanent, // invalid To
	21408: outbound.ClassConfig,    // region not enabled (geo permissions)
	21606: outbound.ClassConfig,    // From is not a message-capable sender
	21212: outbound.ClassConfig,    // invalid From
	21610: outbound.ClassOptedOut,  // the recipient texted STOP
	21611: outbound.ClassThrottle,  // From has over 10 h of queued messages
	21612: outbound.ClassPermanent, // To not reachable by SMS
	21614: outbound.ClassPermanent, // To is not a mobile number
	21617: outbound.ClassPermanent, // body over 1,600 characters
	30001: outbound.ClassThrottle,  // queue overflow
	30003: outbound.ClassRetry,     // unreachable handset
	30004: outbound.ClassPermanent, // blocked
	30005: outbound.ClassPermanent, // unknown number
	30006: outbound.ClassPermanent, // landline or unreachable carrier
	30007: outbound.ClassPermanent, // filtered by the carrier: repeats make it worse
	30008: outbound.ClassRetry,     // unknown error
	30018: outbound.ClassConfig,    // sender ID needs registration
	63016: outbound.ClassWindowClosed,
	63018: outbound.ClassThrottle, // WhatsApp rate limit
	63024: outbound.ClassPermanent,
	63032: outbound.ClassPermanent,
}

// classify turns a twilio-go error into an *outbound.Error. Only what Twilio provably
// did not process is retried: 429, and a connection refused before anything was sent. A
// 5xx, a timeout or a broken connection may have sent the message: ambiguous.
func classify(err error) *outbound.Error {
	var te *tclient.TwilioRestError
	if errors.As(err, &te) {
		code := strconv.Itoa(te.Code)
		if te.Status == http.StatusTooManyRequests || te.Code == 20429 {
			return outbound.Errorf(outbound.ClassRetry, code, "Twilio is busy (429); retried later")
		}
		if te.Status >= 500 {
			return outbound.Ambiguousf(code, "Twilio answered %d: %s; the message may have been sent", te.Status, te.Message)
		}
		class, ok := errorClasses[te.Code]
		if !ok {
			class = outbound.ClassPermanent
		}
		return outbound.Errorf(class, code, "Twilio refused the message: %s", te.Message)
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return outbound.Errorf(outbound.ClassRetry, "connection_refused", "Twilio's API could not be reached (connection refused); nothing was sent")
	}
	return outbound.Ambiguousf("transport", "the request to Twilio failed (%v); the message may have been sent", err)
}
