// Package pipeline is the Sink every channel hands its messages to: normalise, keep inline
// media, then make the record durable (published, or staged while its media are fetched),
// counting each outcome. It holds no channel, HTTP or Redis knowledge of its own.
package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/lapor/intake/channels"
	"github.com/lapor/intake/conversation"
	"github.com/lapor/intake/media"
	"github.com/lapor/intake/metrics"
	"github.com/lapor/intake/normalizer"
	"github.com/lapor/intake/record"
)

// Queue is the durable store the pipeline writes to (queue.Queue in production).
type Queue interface {
	Publish(ctx context.Context, c *record.Complaint) (record.Stored, error)
	Stage(ctx context.Context, c *record.Complaint) (record.Stored, error)
	Reject(ctx context.Context, r *record.Rejection) error
}

// MediaStore keeps attachment bytes (media.Store in production).
type MediaStore interface {
	Put(r io.Reader, declaredType string) (media.Blob, error)
}

// Options wire a Pipeline.
type Options struct {
	Normalizer *normalizer.Normalizer
	Queue      Queue
	Media      MediaStore
	// PublicURL is the gateway's external base; storage_url is PublicURL/media/<sha256>.
	PublicURL string
	// FetchProviders are the providers whose remote media a worker downloads; a record with
	// such media is staged until they are settled. Others keep status pending.
	FetchProviders map[string]bool
	Metrics        *metrics.Metrics
	Logger         *slog.Logger
	// Conversation names the citizen, applies the block list and rate limit, and links
	// follow-ups (CONTRACT §8); nil: every record is a complaint without citizen_id.
	Conversation *conversation.Layer
	// ReceiptWindow, with a citizen_id, replaces a record's receipt budget by one receipt
	// per citizen per window, on any channel (INTAKE_RECEIPT_WINDOW; 0: the channel's own
	// budget, counted per citizen).
	ReceiptWindow time.Duration
	// Bursts stages WhatsApp and SMS bursts (CONTRACT §8) for the channels BurstConfig
	// turns them on for; nil: every message is its own record. BurstMaxAge overrides the
	// 10-minute cap (tests).
	Bursts      conversation.BurstStore
	BurstConfig conversation.BurstConfig
	BurstMaxAge time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Pipeline implements channels.Sink.
type Pipeline struct {
	o Options
}

var _ channels.Sink = (*Pipeline)(nil)

// New returns a Pipeline.
func New(o Options) *Pipeline {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	o.PublicURL = strings.TrimRight(o.PublicURL, "/")
	return &Pipeline{o: o}
}

// Accept normalises m and makes its record or rejection durable.
func (p *Pipeline) Accept(ctx context.Context, m *record.Message) (channels.Outcome, error) {
	start := p.o.Now()
	c, rej := p.o.Normalizer.Normalize(m)
	if rej != nil {
		if err := p.Reject(ctx, rej); err != nil {
			return channels.Outcome{}, err
		}
		return channels.Outcome{Rejection: rej}, nil
	}
	c.ReceivedAt = record.FormatTime(start)
	if v := p.o.Conversation.Apply(ctx, c); v != conversation.Admit {
		return p.refuse(ctx, m, c, v)
	}
	p.budget(c)
	if out, done, err := p.burst(ctx, m, c); done {
		return out, err
	}
	stage := false
	for i := range c.Attachments {
		a := &c.Attachments[i]
		switch {
		case a.Data != nil:
			p.keep(a)
		case a.Status == record.MediaPending && (a.SourceURL != "" || a.MediaID != "") && p.o.FetchProviders[c.Provider]:
			stage = true
		}
	}
	var res record.Stored
	var err error
	if stage {
		res, err = p.o.Queue.Stage(ctx, c)
	} else {
		res, err = p.o.Queue.Publish(ctx, c)
	}
	took := p.o.Now().Sub(start)
	if errors.Is(err, record.ErrKeyReused) {
		return channels.Outcome{}, err // the caller's mistake, not an outage: no error log
	}
	if err != nil {
		p.o.Metrics.Message(c.Channel, metrics.Failed, took)
		p.o.Logger.Error("record not stored", "channel", c.Channel, "provider_message_id", c.ProviderMessageID, "err", err)
		return channels.Outcome{}, fmt.Errorf("%w: %v", channels.ErrUnavailable, err)
	}
	if res.RateLimited { // nothing written: kept as a rejected input instead
		return p.refuse(ctx, m, c, conversation.RateLimited)
	}
	outcome := metrics.Accepted
	switch {
	case res.Duplicate:
		outcome = metrics.Duplicate
	case res.Spooled:
		outcome = metrics.Spooled
	}
	p.o.Metrics.Message(c.Channel, outcome, took)
	c.ID, c.Reference = res.ID, res.Reference
	if p.o.Logger.Enabled(ctx, slog.LevelDebug) { // the arguments cost allocations on every message
		p.o.Logger.Debug("record stored", "channel", c.Channel, "id", res.ID, "reference", res.Reference,
			"outcome", outcome, "staged", stage)
	}
	return channels.Outcome{ID: res.ID, Reference: res.Reference, Duplicate: res.Duplicate, Spooled: res.Spooled,
		ReceiptHeld: res.ReceiptHeld, Complaint: c}, nil
}

// refuse keeps a message the conversation's rules turned away (blocked sender, over the
// rate limit) in the rejected stream with its raw bytes: the provider gets its 2xx, the
// citizen no receipt.
func (p *Pipeline) refuse(ctx context.Context, m *record.Message, c *record.Complaint, v conversation.Verdict) (channels.Outcome, error) {
	rej := &record.Rejection{Reason: v.Reason(), Detail: "citizen " + c.CitizenID, Channel: c.Channel, Provider: c.Provider,
		ProviderMessageID: c.ProviderMessageID, Raw: m.Raw, DedupeKey: c.DedupeKey}
	if err := p.Reject(ctx, rej); err != nil {
		return channels.Outcome{}, err
	}
	return channels.Outcome{Rejection: rej}, nil
}

// budget folds the receipt window into the record's receipt budget, keyed by the citizen
// rather than by one channel's address, so SMS, WhatsApp and email share it.
func (p *Pipeline) budget(c *record.Complaint) {
	if c.CitizenID == "" || c.Channel == record.ChannelAPI { // the API sends no receipts
		return
	}
	switch {
	case p.o.ReceiptWindow > 0:
		c.ReceiptBudget = record.ReceiptBudget{Key: "citizen:" + c.CitizenID, Max: 1, Window: p.o.ReceiptWindow}
	case c.ReceiptBudget.Key != "":
		c.ReceiptBudget.Key = "citizen:" + c.CitizenID
	}
}

// keep stores an inline attachment's bytes; a failure settles the attachment, never the message.
func (p *Pipeline) keep(a *record.Attachment) {
	data := a.Data
	a.Data = nil
	if p.o.Media == nil {
		a.Status = record.MediaFailed
		return
	}
	blob, err := p.o.Media.Put(bytes.NewReader(data), a.ContentType)
	switch {
	case errors.Is(err, media.ErrTooLarge):
		a.Status = record.MediaTooLarge
	case err != nil:
		p.o.Logger.Error("attachment not stored", "err", err)
		a.Status = record.MediaFailed
	default:
		SetStored(a, blob, p.o.PublicURL)
	}
}

// SetStored marks a as kept in the media store. It lives in package media (the media
// worker needs it too); this name stays for existing callers.
func SetStored(a *record.Attachment, b media.Blob, publicURL string) {
	media.SetStored(a, b, publicURL)
}

// Reject stores a rejection.
func (p *Pipeline) Reject(ctx context.Context, r *record.Rejection) error {
	start := p.o.Now()
	if err := p.o.Queue.Reject(ctx, r); err != nil {
		p.o.Metrics.Message(r.Channel, metrics.Failed, p.o.Now().Sub(start))
		return fmt.Errorf("%w: %v", channels.ErrUnavailable, err)
	}
	p.o.Metrics.Message(r.Channel, metrics.Rejected, p.o.Now().Sub(start))
	p.o.Logger.Info("input rejected", "channel", r.Channel, "reason", r.Reason)
	return nil
}

// Event counts a provider event that is neither complaint nor rejection.
func (p *Pipeline) Event(channel, kind string) { p.o.Metrics.Event(channel, kind) }
