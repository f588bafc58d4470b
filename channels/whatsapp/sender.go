package whatsapp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/lapor/intake/normalizer"
	ob "github.com/lapor/intake/outbound"
	"github.com/lapor/intake/record"
)

// The outbound package is imported as ob: receipts.go already names a type outbound.

// Sender sends answers through Meta's Cloud API (POST /{phone-number-id}/messages): free
// text inside the 24-hour window, a template outside it. It implements ob.Sender.
type Sender struct {
	graph, token string
	client       *http.Client
	// template is the default answer template (name, language); empty: none.
	templateName, templateLang string
}

var _ ob.Sender = (*Sender)(nil)

// NewSender returns a Sender for cfg, which needs the Graph access token. client may be
// nil (30 s timeout).
func NewSender(cfg Config, client *http.Client) (*Sender, error) {
	if !cfg.Enabled() || cfg.AccessToken == "" {
		return nil, errors.New("whatsapp: sending answers needs INTAKE_WHATSAPP_ACCESS_TOKEN")
	}
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	s := &Sender{graph: cfg.graphURL(), token: cfg.AccessToken.Reveal(), client: client}
	s.templateName, s.templateLang, _ = strings.Cut(cfg.AnswerTemplate, ":")
	return s, nil
}

// Channel implements ob.Sender.
func (s *Sender) Channel() string { return record.ChannelWhatsApp }

// Provider implements ob.Sender.
func (s *Sender) Provider() string { return record.ProviderMeta }

// sendRequest is the Cloud API's message body (text or template).
type sendRequest struct {
	Product       string        `json:"messaging_product"`
	RecipientType string        `json:"recipient_type"`
	To            string        `json:"to,omitempty"`
	Recipient     string        `json:"recipient,omitempty"` // a business-scoped user id
	Type          string        `json:"type"`
	Text          *textBody     `json:"text,omitempty"`
	Template      *templateBody `json:"template,omitempty"`
}

type textBody struct {
	PreviewURL bool   `json:"preview_url"`
	Body       string `json:"body"`
}

type templateBody struct {
	Name       string      `json:"name"`
	Language   language    `json:"language"`
	Components []component `json:"components,omitempty"`
}

type language struct {
	Policy string `json:"policy"`
	Code   string `json:"code"`
}

type component struct {
	Type       string  `json:"type"`
	Parameters []param `json:"parameters"`
}

type param struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// Send implements ob.Sender.
func (s *Sender) Send(ctx context.Context, m ob.Outgoing) (ob.Sent, error) {
	req, oerr := s.request(m)
	if oerr != nil {
		return ob.Sent{}, oerr
	}
	body, _ := json.Marshal(req)
	endpoint := s.graph + "/" + url.PathEscape(m.Contact.Recipient) + "/messages"
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return ob.Sent{}, ob.Errorf(ob.ClassConfig, "bad_url", "the Graph URL is not usable: %v", err)
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("Authorization", "Bearer "+s.token)
	resp, err := s.client.Do(hr)
	if err != nil {
		if errors.Is(err, syscall.ECONNREFUSED) {
			return ob.Sent{}, ob.Errorf(ob.ClassRetry, "connection_refused", "the Graph API could not be reached (connection refused); nothing was sent")
		}
		return ob.Sent{}, ob.Ambiguousf("transport", "the request to Meta failed (%v); the message may have been sent", err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode >= 500 {
		return ob.Sent{}, ob.Ambiguousf(strconv.Itoa(resp.StatusCode), "Meta answered %d; the message may have been sent", resp.StatusCode)
	}
	if resp.StatusCode != http.StatusOK {
		return ob.Sent{}, graphSendError(resp.StatusCode, raw)
	}
	var ok struct {
		Messages []struct {
			ID string `json:"id"`
		} `json:"messages"`
	}
	if json.Unmarshal(raw, &ok) != nil || len(ok.Messages) == 0 || ok.Messages[0].ID == "" {
		return ob.Sent{}, ob.Ambiguousf("no_wamid", "Meta answered 200 without a message id")
	}
	return ob.Sent{ProviderMessageID: ok.Messages[0].ID}, nil
}

// request builds the body: text inside the window, else the entry's or the configured template.
func (s *Sender) request(m ob.Outgoing) (*sendRequest, *ob.Error) {
	r := &sendRequest{Product: "whatsapp", RecipientType: "individual"}
	if normalizer.DigitsOnly(m.Contact.Address) {
		r.To = m.Contact.Address
	} else {
		r.Recipient = m.Contact.Address
	}
	if m.WindowOpen {
		r.Type, r.Text = "text", &textBody{Body: m.Text}
		return r, nil
	}
	name, lang, params := s.templateName, s.templateLang, []string{m.Reference, m.Text}
	if t := m.Template; t != nil {
		name, lang, params = t.Name, t.Language, t.Parameters
	}
	if name == "" {
		return nil, ob.Errorf(ob.ClassWindowClosed, "window_closed",
			"the citizen's last WhatsApp message is over 24 hours old and no template is given; set INTAKE_WHATSAPP_ANSWER_TEMPLATE or the entry's template")
	}
	tb := &templateBody{Name: name, Language: language{Policy: "deterministic", Code: lang}}
	if len(params) > 0 {
		c := component{Type: "body"}
		for _, p := range params {
			c.Parameters = append(c.Parameters, param{Type: "text", Text: p})
		}
		tb.Components = []component{c}
	}
	r.Type, r.Template = "template", tb
	return r, nil
}

// errorClasses maps Meta's error codes to outbound classes (research: ob.md §1.6).
// Codes not listed are permanent.
var errorClasses = map[int]ob.Class{
	130429: ob.ClassThrottle, // the number's throughput
	131056: ob.ClassThrottle, // pair rate: too many to this citizen
	4:      ob.ClassThrottle, // app rate limit
	80007:  ob.ClassThrottle, // WABA rate limit
	133016: ob.ClassThrottle,
	131048: ob.ClassThrottle, // spam rate limit (quality); retried slowly
	131053: ob.ClassRetry,    // media upload error
	131000: ob.ClassRetry,    // something went wrong
	131047: ob.ClassWindowClosed,
	131050: ob.ClassOptedOut,  // the citizen stopped messages from the business
	131026: ob.ClassPermanent, // undeliverable: not on WhatsApp, old client
	131049: ob.ClassPermanent,
	131008: ob.ClassPermanent, // missing parameter
	131009: ob.ClassPermanent, // invalid parameter
	100:    ob.ClassPermanent,
	131030: ob.ClassConfig, // recipient not in the test number's allowed list
	131031: ob.ClassConfig, // account locked
	368:    ob.ClassConfig, // blocked for policy
	130497: ob.ClassConfig, // country not allowed
	190:    ob.ClassConfig, // access token expired
	132000: ob.ClassConfig, // template parameter count
	132001: ob.ClassConfig, // template missing
	132005: ob.ClassConfig, // translated text too long
	132007: ob.ClassConfig, // format policy
	132012: ob.ClassConfig, // parameter format
	132015: ob.ClassConfig, // template paused
	132016: ob.ClassConfig, // template disabled
}

// ErrorClass is the outbound class of a Meta error code (also for failed statuses).
func ErrorClass(code int) ob.Class {
	if c, ok := errorClasses[code]; ok {
		return c
	}
	return ob.ClassPermanent
}

// graphSendError reads Graph's {"error":{…}} answer to a refused send.
func graphSendError(status int, raw []byte) *ob.Error {
	var e struct {
		Error struct {
			Message   string `json:"message"`
			Code      int    `json:"code"`
			ErrorData struct {
				Details string `json:"details"`
			} `json:"error_data"`
		} `json:"error"`
	}
	if json.Unmarshal(raw, &e) != nil || e.Error.Code == 0 {
		if status == http.StatusTooManyRequests {
			return ob.Errorf(ob.ClassThrottle, "429", "Meta answered 429")
		}
		return ob.Errorf(ob.ClassPermanent, strconv.Itoa(status), "Meta refused the message (HTTP %d)", status)
	}
	detail := e.Error.Message
	if d := e.Error.ErrorData.Details; d != "" {
		detail += ": " + d
	}
	return ob.Errorf(ErrorClass(e.Error.Code), strconv.Itoa(e.Error.Code), "Meta refused the message: %s", truncate(detail, 300))
}
