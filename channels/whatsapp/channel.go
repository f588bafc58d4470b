// Package whatsapp is the Meta WhatsApp Cloud API channel: the webhook (GET handshake,
// signed POSTs), the mapping of every message type to a channel-neutral message, the
// Graph media fetcher the media worker uses, and the receipts sent back through Graph.
// It knows neither echo nor Redis: it mounts plain handlers on a channels.Router and hands
// messages to a channels.Sink.
package whatsapp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/lapor/intake/channels"
	"github.com/lapor/intake/conversation"
	ob "github.com/lapor/intake/outbound"
	"github.com/lapor/intake/record"
)

// Path is where Meta calls the gateway.
const Path = "/webhooks/whatsapp"

// Channel is the WhatsApp Cloud API webhook. It implements channels.Webhook; Close sends
// the receipts still held back when the gateway stops.
type Channel struct {
	cfg      Config
	sink     channels.Sink
	log      *slog.Logger
	receipts *receipter    // nil when receipts are off
	statuses ob.StatusSink // nil: statuses are only counted
}

var _ channels.Webhook = (*Channel)(nil)

// Options adjust a Channel; the zero value is a channel without receipts that logs nothing.
type Options struct {
	// Logger is discarded when nil. Log lines carry counts and hashed message ids, never a
	// phone number, a name or a text.
	Logger *slog.Logger
	// Receipts enables receipts with its texts (when Enabled and an access token is
	// configured): one WhatsApp text with the reference(s) per burst of messages.
	Receipts channels.Receipts
	// ReceiptWindow is how long a sender must stay quiet before the burst's receipt goes
	// out (5 s when 0): several photos sent in a row get one receipt.
	ReceiptWindow time.Duration
	// ReceiptGate is where receipt budgets are kept (shared in Redis in production; a gate
	// in this process's memory when nil): a citizen gets at most Receipts.PerCitizen
	// receipts per window, the messages beyond it are stored without one.
	ReceiptGate *channels.ReceiptGate
	// Sent notes each receipt's wamid with its complaint, so a citizen's reply quoting it
	// (context.id) becomes a follow-up (nil: not noted).
	Sent conversation.SentLog
	// GraphClient is the HTTP client for Graph calls made by receipts (tests).
	GraphClient *http.Client
	// Statuses takes what status updates say about answers (CONTRACT §7); nil: they are
	// only counted.
	Statuses ob.StatusSink
}

// New returns the channel for cfg, handing messages to sink.
func New(cfg Config, sink channels.Sink, o Options) (*Channel, error) {
	if !cfg.Enabled() {
		return nil, errors.New("whatsapp: INTAKE_WHATSAPP_APP_SECRET is not set")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Channel{cfg: cfg, sink: sink, log: o.Logger.With("channel", record.ChannelWhatsApp), statuses: o.Statuses}
	if o.Receipts.Enabled && cfg.AccessToken != "" {
		client := o.GraphClient
		if client == nil {
			client = &http.Client{Timeout: 15 * time.Second}
		}
		c.receipts = newReceipter(cfg.graphURL(), cfg.AccessToken.Reveal(), client, o.Receipts, o.ReceiptWindow, c.log)
		c.receipts.sent = o.Sent
		if o.ReceiptGate != nil {
			c.receipts.gate = o.ReceiptGate
		}
	}
	return c, nil
}

// Name implements channels.Webhook.
func (c *Channel) Name() string { return record.ChannelWhatsApp }

// Routes mounts GET and POST /webhooks/whatsapp.
func (c *Channel) Routes(r channels.Router) {
	r.Handle(http.MethodGet, Path, http.HandlerFunc(c.handshake))
	r.Handle(http.MethodPost, Path, channels.LimitBody(c.cfg.maxBodyBytes(), http.HandlerFunc(c.receive)))
}

// Close sends the receipts still waiting for their burst to end, within ctx. The gateway
// calls it at shutdown, once HTTP has drained.
func (c *Channel) Close(ctx context.Context) error {
	c.FlushReceipts(ctx)
	return nil
}

// FlushReceipts sends every held-back receipt now and waits for the sends in flight.
func (c *Channel) FlushReceipts(ctx context.Context) {
	if c.receipts != nil {
		c.receipts.flush(ctx)
	}
}

// handshake answers Meta's subscription check: the raw hub.challenge for the right token.
func (c *Channel) handshake(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	challenge := q.Get("hub.challenge")
	if q.Get("hub.mode") != "subscribe" || challenge == "" || len(challenge) > 1024 ||
		!equalSecret(q.Get("hub.verify_token"), c.cfg.VerifyToken.Reveal()) {
		c.refuse(w, "refused_handshake", "refused_handshake",
			"the subscription handshake failed: compare INTAKE_WHATSAPP_VERIFY_TOKEN with the verify token in Meta's App Dashboard")
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(challenge))
	c.log.Info("whatsapp subscription handshake answered")
}

// refuse answers 403 to a request that did not authenticate and counts it in
// intake_events_total{channel="whatsapp",kind}. Anyone can send such requests, so each one
// is logged at debug level only: a warning per request would let any client flood the log
// (audit L6); the counter shows a misconfigured secret or token as well.
func (c *Channel) refuse(w http.ResponseWriter, kind, reason, detail string) {
	c.sink.Event(record.ChannelWhatsApp, kind)
	c.log.Debug("whatsapp webhook request refused", "reason", reason)
	channels.WriteProblem(w, http.StatusForbidden, "", detail)
}

// receive takes one signed POST: every message in it is made durable (or rejected
// durably) before the 200; if any is not, the answer is 500 and Meta retries the whole
// POST, which the wamid dedupe makes harmless.
func (c *Channel) receive(w http.ResponseWriter, r *http.Request) {
	raw, err := channels.ReadBody(r)
	if err != nil {
		channels.WriteBodyError(w, err)
		return
	}
	if err := VerifySignature([]byte(c.cfg.AppSecret.Reveal()), raw, r.Header.Get(SignatureHeader)); err != nil {
		c.refuse(w, "refused_signature", signatureReason(err),
			"the X-Hub-Signature-256 signature does not verify: check INTAKE_WHATSAPP_APP_SECRET is the App Secret of the Meta app")
		return
	}
	ctx := r.Context()
	d, err := decode(raw)
	if err != nil {
		rej := &record.Rejection{Reason: record.ReasonUnparseable, Detail: err.Error(), Channel: record.ChannelWhatsApp,
			Provider: record.ProviderMeta, ProviderMessageID: "sha256:" + channels.ContentID(raw), Raw: raw}
		if err := c.sink.Reject(ctx, rej); err != nil {
			c.log.Error("unparseable whatsapp payload not stored; Meta will retry", "err", err)
			channels.WriteProblem(w, http.StatusInternalServerError, "", "the payload could not be stored; retry later")
			return
		}
		c.log.Warn("whatsapp payload is not a webhook body; kept in the rejected stream", "bytes", len(raw))
		writeOK(w)
		return
	}

	var fresh []freshRecord
	failed, accepted, rejected := 0, 0, 0
	for _, it := range d.items {
		if it.rej != nil {
			if err := c.sink.Reject(ctx, it.rej); err != nil {
				failed++
				c.log.Error("whatsapp rejection not stored", "message", channels.LogID(it.rej.ProviderMessageID), "err", err)
				continue
			}
			rejected++
			continue
		}
		out, err := c.sink.Accept(ctx, it.msg)
		if err != nil {
			failed++
			c.log.Error("whatsapp message not stored", "message", channels.LogID(it.msg.ProviderMessageID), "err", err)
			continue
		}
		if out.Rejection != nil {
			rejected++
			continue
		}
		accepted++
		if !out.Duplicate && !out.ReceiptHeld && out.Reference != "" {
			f := freshRecord{phoneNumberID: it.msg.Recipient, waID: it.msg.Sender.WhatsAppID,
				userID: it.msg.Sender.WhatsAppUserID, reference: out.Reference, id: out.ID, followUp: out.IsFollowUp()}
			if out.Complaint != nil {
				f.language, f.citizenID = out.Complaint.Language, out.Complaint.CitizenID
				if f.followUp {
					f.id = out.Complaint.FollowUpOf.ID
				}
			}
			fresh = append(fresh, f)
		}
	}
	c.events(d)
	statusFailed := c.applyStatuses(ctx, d.statuses)
	c.log.Info("whatsapp webhook", "messages", len(d.items), "accepted", accepted, "rejected", rejected,
		"failed", failed, "statuses", len(d.statuses), "errors", len(d.errors))
	if failed > 0 || statusFailed > 0 {
		channels.WriteProblem(w, http.StatusInternalServerError, "",
			fmt.Sprintf("%d of %d messages and %d of %d statuses could not be stored; retry later", failed, len(d.items), statusFailed, len(d.statuses)))
	} else {
		writeOK(w)
	}
	// Receipts go out after the answer is decided, asynchronously, and never change it.
	if c.receipts != nil {
		for _, f := range fresh {
			c.receipts.add(f)
		}
	}
}

// events counts statuses, errors and other subscribed fields: neither complaints nor
// rejections.
func (c *Channel) events(d *decoded) {
	for _, s := range d.statuses {
		c.sink.Event(record.ChannelWhatsApp, "status_"+statusKind(s.Status))
		for _, e := range s.Errors {
			c.sink.Event(record.ChannelWhatsApp, "error")
			c.log.Warn("whatsapp reports an outbound message failed", "message", channels.LogID(s.ID),
				"status", statusKind(s.Status), "code", e.Code, "title", truncate(e.Title, 80))
		}
		c.log.Debug("whatsapp status update", "message", channels.LogID(s.ID), "status", statusKind(s.Status))
	}
	for _, e := range d.errors {
		c.sink.Event(record.ChannelWhatsApp, "error")
		c.log.Warn("whatsapp reports an error", "code", e.Code, "title", truncate(e.Title, 80))
	}
	for _, f := range d.fields {
		c.sink.Event(record.ChannelWhatsApp, "field_other")
		c.log.Info("whatsapp webhook field ignored: only \"messages\" carries complaints; unsubscribe the others in the App Dashboard",
			"field", truncate(f, 60))
	}
}

// statusKind bounds the metric label to the statuses Meta documents.
func statusKind(s string) string {
	switch s {
	case "sent", "delivered", "read", "failed", "played", "deleted", "warning":
		return s
	}
	return "other"
}

func signatureReason(err error) string {
	switch {
	case errors.Is(err, ErrSignatureMissing):
		return "missing signature"
	case errors.Is(err, ErrSignatureMalformed):
		return "malformed signature"
	case errors.Is(err, ErrNoAppSecret):
		return "no app secret configured"
	default:
		return "signature mismatch"
	}
}

func writeOK(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte("ok\n"))
}
