package conversation

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/lapor/intake/record"
)

// BlockRefresh is the oldest copy of the block list a gateway answers from: a change
// takes effect on every gateway within it (CONTRACT §8 asks for 2 s).
const BlockRefresh = time.Second

// Layer applies the conversation's rules to a normalised complaint before it is stored:
// it names the citizen, refuses a blocked sender, gives the record its rate window (the
// queue counts it after dedupe) and links a follow-up to its complaint. A nil Layer, or
// one without Identity, changes nothing but the kind.
type Layer struct {
	Identity *Identity
	// Store is nil when Redis is not used: no block list, no links.
	Store Store
	Limit RateLimit
	Log   *slog.Logger

	warned atomic.Bool
}

// Apply sets c's citizen_id, kind and rate window (and follow_up_of with the complaint's
// reference for a follow-up) and returns Blocked for a blocked sender, else Admit. While
// the store does not answer, the message is admitted unlinked: an outage of the
// conversation's state must neither lose nor refuse messages (the queue spools them).
func (l *Layer) Apply(ctx context.Context, c *record.Complaint) Verdict {
	c.Kind = record.KindComplaint
	if l == nil || l.Identity == nil {
		return Admit
	}
	c.CitizenID = l.Identity.CitizenID(c)
	if c.CitizenID == "" || l.Store == nil {
		return Admit
	}
	blocked, err := l.Store.IsBlocked(ctx, c.CitizenID)
	if err != nil {
		l.warn(err)
	}
	if blocked && !l.retryOfStored(ctx, c) {
		return Blocked
	}
	if l.Limit.On() {
		c.RateBudget = record.ReceiptBudget{Key: c.CitizenID, Max: l.Limit.Max, Window: l.Limit.Window}
	}
	replied, mentioned := Candidates(c)
	if len(replied) == 0 && len(mentioned) == 0 {
		return Admit // most messages: no lookup at all
	}
	links, err := l.Store.Links(ctx, replied, mentioned)
	if err != nil {
		l.warn(err)
		return Admit
	}
	if f, ok := FollowUpOf(c.CitizenID, links); ok {
		c.Kind = record.KindFollowUp
		c.FollowUpOf = &record.ComplaintRef{ID: f.ID, Reference: f.Reference}
		c.Reference = f.Reference
	}
	return Admit
}

// retryOfStored reports whether c repeats a message stored before (its sender blocked
// since): the store answers it as the duplicate it is. Asked for blocked senders only.
func (l *Layer) retryOfStored(ctx context.Context, c *record.Complaint) bool {
	k := DedupeKey(c)
	if k == "" {
		return false
	}
	ok, err := l.Store.Stored(ctx, k)
	return ok && err == nil
}

// warn logs once per outage: a flood must not become a flood of log lines.
func (l *Layer) warn(err error) {
	if l.warned.CompareAndSwap(false, true) && l.Log != nil {
		l.Log.Warn("conversation state unavailable; messages are admitted unlinked until it answers", "err", err)
	}
}

// DedupeKey is the key the queue deduplicates c by ("<channel>:<id>"), "" when c has none.
func DedupeKey(c *record.Complaint) string {
	switch {
	case c.DedupeKey != "":
		return c.Channel + ":" + c.DedupeKey
	case c.ProviderMessageID != "":
		return c.Channel + ":" + c.ProviderMessageID
	}
	return ""
}
