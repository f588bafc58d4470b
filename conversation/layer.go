package conversation

import (
	"context"
	"log/slog"
	"sync/atomic"

	"github.com/lapor/intake/record"
)

// Layer applies the conversation's rules to a normalised complaint before it is stored:
// it names the citizen, judges the message (block list, rate limit) and links a
// follow-up to its complaint. A nil Layer, or one without Identity, changes nothing but
// the kind.
type Layer struct {
	Identity *Identity
	// Store is nil when Redis is not used (intake normalize): no limit, no links.
	Store Store
	Limit RateLimit
	Log   *slog.Logger

	warned atomic.Bool
}

// Apply sets c's citizen_id and kind (and follow_up_of with the complaint's reference for
// a follow-up) and returns the message's verdict. While the store does not answer, the
// message is admitted as a new complaint: a limiter outage must neither lose nor refuse
// messages (the queue spools them).
func (l *Layer) Apply(ctx context.Context, c *record.Complaint) Verdict {
	c.Kind = record.KindComplaint
	if l == nil || l.Identity == nil {
		return Admit
	}
	c.CitizenID = l.Identity.CitizenID(c)
	if c.CitizenID == "" || l.Store == nil {
		return Admit
	}
	q := Query{CitizenID: c.CitizenID, Dedupe: DedupeKey(c), Limit: l.Limit}
	q.Replied, q.Mentioned = Candidates(c)
	a, err := l.Store.Check(ctx, q)
	if err != nil {
		if l.warned.CompareAndSwap(false, true) && l.Log != nil {
			l.Log.Warn("conversation state unavailable; messages are admitted unlimited and unlinked until it answers", "err", err)
		}
		return Admit
	}
	l.warned.Store(false)
	if v := Judge(a.Counted, l.Limit); v != Admit {
		return v
	}
	if f, ok := FollowUpOf(c.CitizenID, Links{Replied: a.Replied, Mentioned: a.Mentioned}); ok {
		c.Kind = record.KindFollowUp
		c.FollowUpOf = &record.ComplaintRef{ID: f.ID, Reference: f.Reference}
		c.Reference = f.Reference
	}
	return Admit
}

// Stored notes a new complaint's owner once it is durable, so later messages naming its
// reference can link. A failure only costs that link.
func (l *Layer) Stored(ctx context.Context, c *record.Complaint) {
	if l == nil || l.Store == nil || c.CitizenID == "" || c.Kind == record.KindFollowUp {
		return
	}
	err := l.Store.RememberComplaint(ctx, Complaint{ID: c.ID, Reference: c.Reference, CitizenID: c.CitizenID})
	if err != nil && l.Log != nil {
		l.Log.Warn("complaint owner not kept; a later mention of its reference will not link", "id", c.ID, "err", err)
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
