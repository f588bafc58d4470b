// Package twilio receives Twilio Programmable Messaging webhooks (SMS, MMS and WhatsApp
// through Twilio) on POST /webhooks/twilio and answers with TwiML.
package twilio

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/twilio/twilio-go/twiml"

	"github.com/lapor/intake/channels"
	"github.com/lapor/intake/outbound"
	"github.com/lapor/intake/record"
)

// Path is where Twilio posts incoming messages.
const Path = "/webhooks/twilio"

// Options wire the channel.
type Options struct {
	// PublicURL is the external base URL Twilio calls; signatures are checked against it.
	PublicURL string
	Receipts  channels.Receipts
	Logger    *slog.Logger
	// ReceiptGate holds the per-citizen receipt budget (shared in Redis in production);
	// nil: a gate in this process's memory.
	ReceiptGate *channels.ReceiptGate
	// Statuses takes what status callbacks say about answers (CONTRACT §7); nil: they are
	// only counted.
	Statuses outbound.StatusSink
	// OptOuts takes the citizen's STOP and START keywords, as Twilio's Advanced Opt-Out
	// marks them (OptOutType); nil: not remembered here (Twilio's 21610 still is).
	OptOuts outbound.OptOutSink
}

// Channel is the Twilio webhook channel.
type Channel struct {
	cfg    Config
	opts   Options
	sink   channels.Sink
	signer *Signer
	// receipts holds the receipt TwiML per language ("id", "en"), rendered once and split
	// at the reference placeholder: rendering TwiML per request is a fifth of the webhook's
	// allocations.
	receipts map[string][]string
}

// New returns the channel; cfg must be Enabled.
func New(cfg Config, sink channels.Sink, opts Options) (*Channel, error) {
	if !cfg.Enabled() {
		return nil, errors.New("twilio: INTAKE_TWILIO_AUTH_TOKEN is not set")
	}
	if opts.PublicURL == "" {
		return nil, errors.New("twilio: INTAKE_PUBLIC_URL is required to check signatures")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.ReceiptGate == nil {
		opts.ReceiptGate = &channels.ReceiptGate{Log: opts.Logger}
	}
	c := &Channel{cfg: cfg, opts: opts, sink: sink, signer: NewSigner(cfg.AuthToken.Reveal()), receipts: map[string][]string{}}
	for _, lang := range []string{"id", "en"} {
		for _, followUp := range []bool{false, true} {
			doc, err := twiml.Messages([]twiml.Element{&twiml.MessagingMessage{Body: opts.Receipts.TextFor(referencePlaceholder, lang, followUp)}})
			if err != nil {
				return nil, fmt.Errorf("twilio: render the receipt TwiML: %w", err)
			}
			c.receipts[receiptKind(lang, followUp)] = strings.Split(doc, referencePlaceholder)
		}
	}
	return c, nil
}

// receiptKind names a pre-rendered receipt: its language, and whether it answers a follow-up.
func receiptKind(lang string, followUp bool) string {
	if followUp {
		return lang + "+follow_up"
	}
	return lang
}

// referencePlaceholder stands for the reference in the pre-rendered receipts. References
// are [0-9A-Z-] only, so they need no XML escaping when put in its place.
const referencePlaceholder = "{reference}"

// Name implements channels.Webhook.
func (c *Channel) Name() string { return record.ProviderTwilio }

// Routes implements channels.Webhook.
func (c *Channel) Routes(r channels.Router) {
	r.Handle(http.MethodPost, Path, channels.LimitBody(c.cfg.maxBodyBytes(), http.HandlerFunc(c.serve)))
	r.Handle(http.MethodPost, StatusPath, channels.LimitBody(c.cfg.maxBodyBytes(), http.HandlerFunc(c.serveStatus)))
}

// readSigned reads a Twilio POST, parses its form and checks its signature. When ok is
// false the request has been answered (413, 400 or 403). formErr is a form that did not
// parse yet carried a valid signature: the caller decides what that means.
func (c *Channel) readSigned(w http.ResponseWriter, r *http.Request) (raw []byte, form url.Values, formErr error, ok bool) {
	raw, err := channels.ReadBody(r)
	if err != nil {
		channels.WriteBodyError(w, err)
		return nil, nil, nil, false
	}
	form, formErr = parseForm(raw)
	if refused := (*formRefusal)(nil); errors.As(formErr, &refused) {
		c.refuse(w, http.StatusBadRequest, "refused_form", refused.detail)
		return nil, nil, nil, false
	}
	if formErr != nil {
		form = url.Values{} // still verified below: a bad body never passes a signature check
	}
	if err := c.signer.Verify(SignedURL(c.opts.PublicURL, r.RequestURI), form, r.Header.Get("X-Twilio-Signature")); err != nil {
		c.refuse(w, http.StatusForbidden, "refused_signature",
			"the X-Twilio-Signature does not verify: check that INTAKE_PUBLIC_URL matches the URL configured at Twilio")
		return nil, nil, nil, false
	}
	return raw, form, formErr, true
}

// emptyTwiML answers without sending the citizen anything. It is never modified.
var emptyTwiML = []byte(`<?xml version="1.0" encoding="UTF-8"?><Response/>`)

func (c *Channel) serve(w http.ResponseWriter, r *http.Request) {
	raw, form, formErr, ok := c.readSigned(w, r)
	if !ok {
		return
	}
	m, in, err := Decode(form, raw)
	if err == nil && formErr != nil {
		err = formErr
	}
	switch {
	case errors.Is(err, ErrStatusCallback):
		// A Messaging Service may send answers' callbacks here (status.go).
		if err := c.applyStatus(r, form, ""); err != nil {
			channels.WriteProblem(w, http.StatusServiceUnavailable, "", "the status could not be recorded; retry later")
			return
		}
		writeTwiML(w, emptyTwiML)
		return
	case err != nil:
		c.rejectAndAnswer(w, r, raw, err)
		return
	}
	if err := c.applyOptOut(r, form); err != nil {
		c.opts.Logger.Error("twilio opt-out not recorded; Twilio may retry", "message_sid", in.MessageSid, "err", err)
		channels.WriteProblem(w, http.StatusServiceUnavailable, "", "the opt-out could not be recorded; retry later")
		return
	}
	c.budgetReceipt(m)
	out, err := c.sink.Accept(r.Context(), m)
	if err != nil {
		c.opts.Logger.Error("twilio message not stored; Twilio may retry", "message_sid", in.MessageSid, "err", err)
		channels.WriteProblem(w, http.StatusServiceUnavailable, "", "the complaint could not be stored; retry later")
		return
	}
	if !c.receiptAllowed(m, out) {
		writeTwiML(w, emptyTwiML)
		return
	}
	writeTwiML(w, c.answer(out))
}

// refuse answers a request refused before its signature verified and counts it in
// intake_events_total{channel="twilio",kind}. Anyone can send such requests, so each one is
// logged at debug level only: a warning per request would let any client flood the log
// (audit L6).
func (c *Channel) refuse(w http.ResponseWriter, status int, kind, detail string) {
	c.sink.Event(c.Name(), kind)
	c.opts.Logger.Debug("twilio webhook refused", "reason", kind)
	channels.WriteProblem(w, status, "", detail)
}

// answer is the TwiML for an outcome: a receipt with the reference, or nothing.
func (c *Channel) answer(out channels.Outcome) []byte {
	if !c.opts.Receipts.Enabled || out.Rejection != nil || out.Reference == "" {
		return emptyTwiML
	}
	lang := "id"
	if out.Complaint != nil && out.Complaint.Language == "en" {
		lang = "en"
	}
	parts := c.receipts[receiptKind(lang, out.IsFollowUp())]
	n := len(out.Reference) * (len(parts) - 1)
	for _, p := range parts {
		n += len(p)
	}
	doc := make([]byte, 0, n)
	for i, p := range parts {
		if i > 0 {
			doc = append(doc, out.Reference...)
		}
		doc = append(doc, p...)
	}
	return doc
}

// rejectAndAnswer keeps a verified request that is not a usable message in the rejected
// stream and answers 200, so Twilio stops retrying something that will never parse.
func (c *Channel) rejectAndAnswer(w http.ResponseWriter, r *http.Request, raw []byte, cause error) {
	rej := &record.Rejection{Reason: record.ReasonUnparseable, Detail: cause.Error(), Channel: record.ChannelSMS,
		Provider: record.ProviderTwilio, Raw: raw}
	if err := c.sink.Reject(r.Context(), rej); err != nil {
		channels.WriteProblem(w, http.StatusServiceUnavailable, "", "the request could not be stored; retry later")
		return
	}
	writeTwiML(w, emptyTwiML)
}

func channelOf(in Inbound) string {
	if in.IsWhatsApp() {
		return record.ChannelWhatsApp
	}
	return record.ChannelSMS
}

// textXML is shared by every answer; net/http only reads header values.
var textXML = []string{"text/xml; charset=utf-8"}

func writeTwiML(w http.ResponseWriter, doc []byte) {
	w.Header()["Content-Type"] = textXML
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(doc)
}
