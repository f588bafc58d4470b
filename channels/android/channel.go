// Package android receives SMS through an Android phone running SMS Gateway for Android
// (capcom6): signed webhooks on POST /webhooks/android-sms, and receipts sent back through
// the phone's send API. It knows neither echo nor Redis: it mounts a plain handler on a
// channels.Router and hands messages to a channels.Sink.
package android

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/lapor/intake/channels"
	"github.com/lapor/intake/outbound"
	"github.com/lapor/intake/record"
)

// Path is where the phone posts its events.
const Path = "/webhooks/android-sms"

// Options wire the channel; the zero value is a channel without receipts that logs nothing.
type Options struct {
	// Region is INTAKE_DEFAULT_REGION: sender numbers without a country code are read in it.
	Region string
	// Receipts enables receipts with its texts, when the send API is configured too.
	Receipts channels.Receipts
	// ReceiptGate holds the per-citizen receipt budget (shared in Redis in production);
	// nil: a gate in this process's memory.
	ReceiptGate *channels.ReceiptGate
	// Logger is discarded when nil. Log lines never carry a phone number or a text.
	Logger *slog.Logger
	// Client is the HTTP client of the send API (nil: one with a 20 s timeout).
	Client *http.Client
	// Now is the clock X-Timestamp is checked against (time.Now when nil).
	Now func() time.Time
	// Statuses takes what sms:sent, sms:delivered and sms:failed say of answers
	// (CONTRACT §7); nil: they are only counted.
	Statuses outbound.StatusSink
}

// Channel is the SMS Gateway for Android webhook. It implements channels.Webhook; Close
// sends the receipts still queued when the gateway stops.
type Channel struct {
	cfg      Config
	opts     Options
	sink     channels.Sink
	verifier *verifier
	receipts *receipter // nil when receipts are off
}

var _ channels.Webhook = (*Channel)(nil)

// New returns the channel for cfg, handing messages to sink.
func New(cfg Config, sink channels.Sink, opts Options) (*Channel, error) {
	if !cfg.Enabled() {
		return nil, errors.New("android: INTAKE_ANDROID_SMS_SIGNING_KEY is not set")
	}
	if errs := cfg.Validate(); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	opts.Logger = opts.Logger.With("channel", record.ChannelSMS, "provider", record.ProviderAndroid)
	if opts.ReceiptGate == nil {
		opts.ReceiptGate = &channels.ReceiptGate{Log: opts.Logger}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	c := &Channel{cfg: cfg, opts: opts, sink: sink, verifier: newVerifier([]byte(cfg.SigningKey.Reveal()))}
	switch {
	case !opts.Receipts.Enabled:
	case cfg.APIURL == "":
		opts.Logger.Info("android SMS receipts are off: INTAKE_ANDROID_SMS_API_URL is not set, so there is no send API to send them through")
	default:
		sender, err := NewSender(cfg, opts.Client)
		if err != nil {
			return nil, err
		}
		c.receipts = newReceipter(sender, opts.Receipts, opts.Logger, func(kind string) { sink.Event(record.ChannelSMS, kind) })
	}
	return c, nil
}

// Name implements channels.Webhook.
func (c *Channel) Name() string { return record.ProviderAndroid }

// Routes mounts POST /webhooks/android-sms.
func (c *Channel) Routes(r channels.Router) {
	r.Handle(http.MethodPost, Path, channels.LimitBody(c.cfg.maxBodyBytes(), http.HandlerFunc(c.receive)))
}

// Close sends the receipts still queued, within ctx. The gateway calls it at shutdown,
// once HTTP has drained.
func (c *Channel) Close(ctx context.Context) error {
	if c.receipts == nil {
		return nil
	}
	return c.receipts.close(ctx)
}

// receive takes one signed event. A complaint is answered 200 only once it is durable;
// when it cannot be stored the answer is 503 and the phone tries again later.
func (c *Channel) receive(w http.ResponseWriter, r *http.Request) {
	raw, err := channels.ReadBody(r)
	if err != nil {
		channels.WriteBodyError(w, err)
		return
	}
	if err := c.verifier.verify(raw, r.Header.Get(TimestampHeader), r.Header.Get(SignatureHeader), c.opts.Now()); err != nil {
		c.refuse(w, err)
		return
	}
	d, err := Decode(raw, DecodeOptions{Region: c.opts.Region})
	if err != nil {
		c.reject(w, r, raw, err)
		return
	}
	if d.Message == nil {
		c.sink.Event(record.ChannelSMS, eventKind(d))
		if err := c.applyStatus(r.Context(), d); err != nil {
			c.opts.Logger.Error("android delivery report not recorded; the phone will retry", "err", err)
			channels.WriteProblem(w, http.StatusServiceUnavailable, "", "the delivery report could not be recorded; retry later")
			return
		}
		writeJSON(w, answer{})
		return
	}
	c.accept(w, r, d.Message)
}

// accept stores m and answers; a new record then earns its receipt.
func (c *Channel) accept(w http.ResponseWriter, r *http.Request, m *record.Message) {
	if c.receipts != nil {
		budget(c.opts.ReceiptGate, c.opts.Receipts, m)
	}
	out, err := c.sink.Accept(r.Context(), m)
	if err != nil {
		c.opts.Logger.Error("android SMS not stored; the phone will retry", "event", channels.LogID(m.ProviderMessageID), "err", err)
		channels.WriteProblem(w, http.StatusServiceUnavailable, "", "the complaint could not be stored; the phone should retry later")
		return
	}
	writeJSON(w, answer{ID: out.ID, Reference: out.Reference})
	// After the answer is decided, and never changing it: once per record, a repeat of the
	// event gets none.
	if c.receipts == nil || out.Duplicate || out.Rejection != nil || out.Reference == "" || m.Sender.Phone == "" {
		return
	}
	if !allowed(c.opts.ReceiptGate, m, out) {
		return
	}
	to, lang := m.Sender.Phone, ""
	if out.Complaint != nil {
		lang = out.Complaint.Language
		if out.Complaint.Sender != nil && out.Complaint.Sender.Phone != "" {
			to = out.Complaint.Sender.Phone
		}
	}
	c.receipts.add(receipt{to: to, reference: out.Reference, language: lang})
}

// reject keeps a verified body that is not a usable event in the rejected stream and
// answers 200, so the phone stops retrying something that will never parse.
func (c *Channel) reject(w http.ResponseWriter, r *http.Request, raw []byte, cause error) {
	rej := &record.Rejection{Reason: record.ReasonUnparseable, Detail: cause.Error(), Channel: record.ChannelSMS,
		Provider: record.ProviderAndroid, ProviderMessageID: "sha256:" + channels.ContentID(raw), Raw: raw}
	if err := c.sink.Reject(r.Context(), rej); err != nil {
		c.opts.Logger.Error("unusable android webhook body not stored; the phone will retry", "err", err)
		channels.WriteProblem(w, http.StatusServiceUnavailable, "", "the request could not be stored; retry later")
		return
	}
	c.opts.Logger.Warn("android webhook body is not a usable event; kept in the rejected stream", "bytes", len(raw))
	writeJSON(w, answer{})
}

// refuse answers a request that did not verify (401 or 403, refusals) and counts it.
// Anyone can send such requests, so each is logged at debug level only: a warning per
// request would let any client flood the log.
func (c *Channel) refuse(w http.ResponseWriter, err error) {
	for _, f := range refusals {
		if errors.Is(err, f.err) {
			c.sink.Event(record.ChannelSMS, f.kind)
			c.opts.Logger.Debug("android webhook refused", "reason", f.reason)
			channels.WriteProblem(w, f.status, "", err.Error())
			return
		}
	}
	channels.WriteProblem(w, http.StatusForbidden, "", "the request does not verify")
}

// eventKind is the metric kind of an event that is not a complaint: its delivery state,
// a ping, or "other" (bounded, whatever the phone sends).
func eventKind(d Decoded) string {
	switch {
	case d.State != "":
		return "android_" + d.State
	case d.Event == EventPing:
		return "android_ping"
	}
	return "android_other"
}

// answer is the body of a 200: the record's id and reference for a complaint (the phone
// ignores it; `intake simulate` shows it), empty otherwise.
type answer struct {
	ID        string `json:"id,omitempty"`
	Reference string `json:"reference,omitempty"`
}

// applicationJSON is shared by every answer; net/http only reads header values.
var applicationJSON = []string{"application/json"}

// writeJSON answers 200 with a. Ids and references are made by the gateway of [0-9A-Z-],
// which JSON does not escape, so the common answer is assembled without an encoder.
func writeJSON(w http.ResponseWriter, a answer) {
	var b []byte
	switch {
	case a == answer{}:
		b = []byte("{}\n")
	case plain(a.ID) && plain(a.Reference):
		b = make([]byte, 0, 32+len(a.ID)+len(a.Reference))
		b = append(append(append(b, `{"id":"`...), a.ID...), `","reference":"`...)
		b = append(append(b, a.Reference...), "\"}\n"...)
	default:
		b, _ = json.Marshal(a)
		b = append(b, '\n')
	}
	w.Header()["Content-Type"] = applicationJSON
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// plain reports whether s is non-empty and of letters, digits and '-' only.
func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || c == '-') {
			return false
		}
	}
	return s != ""
}
