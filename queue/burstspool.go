package queue

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	segjson "github.com/segmentio/encoding/json"

	"github.com/lapor/intake/conversation"
	"github.com/lapor/intake/record"
)

// While Redis is down, a burst part goes to the spool like a record, acknowledged at once,
// with what it needs to find its burst again when the drainer replays it (CONTRACT §8: a
// burst split across an outage still publishes once, with every part):
//
//   - A part of a burst this process saw open (recentBursts, the same rule as the store's)
//     is spooled to join that burst: its answer carries no receipt. Replayed, it joins the
//     burst if it is still open, else it becomes a follow-up of it.
//   - Any other part opens a burst of its own: it gets a receipt with a reference now, and,
//     replayed, it opens its burst under that id and reference, so what the citizen was
//     told stays true.
//
// A part waits behind the spooled parts of its citizen's burst (spool.holdsBurst), so parts
// reach their burst in arrival order, and the replay decides on the arrival time in
// Redis's clock, not the time of the replay. Burst runners wait while a spool holds parts
// (Bursts.Holding) and for a moment after an outage (conversation.BurstRunner.Settle).

// burstLine is what the spool keeps of a part besides its JSON.
type burstLine struct {
	Key      string `json:"key"`
	WindowMs int64  `json:"window_ms"`
	MaxAgeMs int64  `json:"max_age_ms"`
	Greeting bool   `json:"greeting,omitempty"`
	// Of is the record id of the burst the part joins; "" when it opens its own (under the
	// line's id and reference).
	Of string `json:"of,omitempty"`
	// At is when the part arrived, in this process's clock (unix ms).
	At int64 `json:"at_ms"`
}

// spoolPart keeps p in the spool (Redis is unreachable, or earlier parts of its burst wait
// there) and answers it as the store will decide once it is replayed. decided, when not
// nil, is what Redis already decided for p without enough replicas confirming it: the
// spooled part keeps that decision.
func (b *Bursts) spoolPart(ctx context.Context, p conversation.BurstPart, decided *conversation.BurstAnswer) (conversation.BurstAnswer, error) {
	if decided != nil {
		switch decided.Action {
		case conversation.BurstDuplicate, conversation.BurstFollowUp, conversation.BurstNotPart, conversation.BurstRateLimited:
			return *decided, nil // nothing of p was staged now: its own path makes it durable
		}
	}
	body, err := segjson.Marshal(burstPart{C: p.Part, Dedupe: p.Part.DedupeKey})
	if err != nil {
		return conversation.BurstAnswer{}, fmt.Errorf("queue: burst part: %w", err)
	}
	now := time.Now()
	maxAge := p.MaxAge
	if maxAge <= 0 {
		maxAge = conversation.BurstMax
	}
	bl := &burstLine{Key: p.Key, WindowMs: p.Window.Milliseconds(), MaxAgeMs: maxAge.Milliseconds(),
		Greeting: p.Greeting, At: now.UnixMilli()}
	o := getOp()
	o.kind, o.id, o.channel, o.dedupe, o.body, o.burst = opBurst, newID(), p.Part.Channel, p.Dedupe, body, bl
	a := conversation.BurstAnswer{Action: conversation.BurstJoined, Held: true, Spooled: true}
	switch r, open := b.recent.openAt(p.Key, now, p.Greeting); {
	case decided != nil && decided.Action == conversation.BurstStarted:
		o.id, o.ref = decided.ID, decided.Reference
		a = conversation.BurstAnswer{Action: conversation.BurstStarted, ID: o.id, Reference: o.ref, Held: decided.Held, Spooled: true}
	case decided != nil: // joined
		bl.Of, o.ref = decided.ID, decided.Reference
		a.ID, a.Reference = decided.ID, decided.Reference
	case p.FollowUpOf != "" && p.Part.FollowUpOf != nil: // a reply to the receipt of a burst
		bl.Of, o.ref = p.FollowUpOf, p.Part.FollowUpOf.Reference
		a.ID, a.Reference = bl.Of, o.ref
	case open:
		bl.Of, o.ref = r.id, r.ref
		a.ID, a.Reference = r.id, r.ref
	default:
		o.ref, o.counter = b.q.refs.take(ctx, true)
		a = conversation.BurstAnswer{Action: conversation.BurstStarted, ID: o.id, Reference: o.ref, Spooled: true}
	}
	o.held = a.Held
	// Through the writer, so the parts spooled at each moment share one fsync.
	res, err := b.q.submit(ctx, o)
	if err != nil {
		return conversation.BurstAnswer{}, err
	}
	if res.Duplicate { // a retry of a part spooled before
		return conversation.BurstAnswer{Action: conversation.BurstDuplicate, ID: res.ID, Reference: res.Reference,
			Held: res.ReceiptHeld, Spooled: true}, nil
	}
	b.recent.note(p, a, now)
	return a, nil
}

// Holding reports whether this process's spool holds burst parts (or Redis is down): a
// burst runner waits, so the parts join their bursts before those are published.
func (b *Bursts) Holding() bool {
	return b.q.down.Load() || (b.q.spool.size() > 0 && b.q.spool.holdsBurst(""))
}

// Ping implements conversation.BurstStore.
func (b *Bursts) Ping(ctx context.Context) error { return b.q.rdb.Ping(ctx).Err() }

// SetFetchProviders names the providers whose remote media a worker downloads: a replayed
// part that became a follow-up with such media is staged for them, as the runner does.
func (b *Bursts) SetFetchProviders(m map[string]bool) { b.fetch.Store(&m) }

// replayBursts stages the spooled burst parts among ops, in order, each with its arrival
// time; a part whose burst was published meanwhile comes back as a follow-up record to
// write (its own id, the burst's reference, deduplicated by the part's provider id).
func (q *Queue) replayBursts(ctx context.Context, ops []*op) ([]*op, error) {
	var parts []*op
	for _, o := range ops {
		if o.kind == opBurst && o.state == stateTodo {
			parts = append(parts, o)
		}
	}
	if len(parts) == 0 {
		return nil, nil
	}
	b := q.Bursts()
	clock, err := q.rdb.Time(ctx).Result()
	if err != nil {
		return nil, err
	}
	offset := clock.Sub(time.Now()).Milliseconds() // Redis's clock minus ours
	if err := burstAddScript.Load(ctx, q.rdb).Err(); err != nil {
		return nil, err
	}
	cmds := make([]*redis.Cmd, len(parts))
	pipe := q.rdb.Pipeline()
	for i, o := range parts {
		bid := newID()
		cmds[i] = burstAddScript.EvalSha(ctx, pipe, b.replayKeys(o, bid), b.replayArgs(o, bid, offset)...)
	}
	if _, err := pipe.Exec(ctx); err != nil && !isRedisReply(err) {
		return nil, err
	}
	var followUps []*op
	for i, o := range parts {
		v, err := cmds[i].Text()
		if err != nil {
			return nil, fmt.Errorf("replay spooled burst part %s: %w", o.id, err)
		}
		a, err := parseBurstAnswer(v)
		if err != nil {
			return nil, err
		}
		switch a.Action {
		case conversation.BurstFollowUp: // the burst was published meanwhile
			f, err := b.followUpOp(ctx, o, record.ComplaintRef{ID: a.ID, Reference: a.Reference})
			if err != nil {
				return nil, err
			}
			followUps = append(followUps, f)
		case conversation.BurstNotPart: // the burst it was to join is gone: published
			f, err := b.followUpOp(ctx, o, record.ComplaintRef{ID: o.burst.Of, Reference: o.ref})
			if err != nil {
				return nil, err
			}
			followUps = append(followUps, f)
		}
		o.finish(Result{ID: a.ID, Reference: a.Reference}, nil)
	}
	return followUps, nil
}

func (b *Bursts) replayKeys(o *op, bid string) []string {
	bl := o.burst
	seen := b.q.seenPrefix + o.dedupe
	if o.dedupe == "" {
		seen = b.q.seenPrefix + "burst-nodedupe:" + o.id
	}
	return []string{b.prefix + "open:" + bl.Key, seen, b.prefix + "due", b.prefix + "closed:" + bl.Key,
		b.prefix + bid, b.prefix + bid + ":parts", "", ""}
}

// replayArgs are the add script's arguments for a spooled part: its arrival in Redis's
// clock, and "own" for a part that opens its burst under the id and reference it was
// answered with. No receipt budget: the part was answered long ago.
func (b *Bursts) replayArgs(o *op, bid string, offset int64) []any {
	bl := o.burst
	greet, own := "0", "0"
	if bl.Greeting {
		greet = "1"
	}
	if bl.Of == "" {
		own = "1"
	}
	return []any{o.body, bl.WindowMs, bl.MaxAgeMs, bid, o.id, o.ref, b.q.argTTL, greet, b.prefix, "", bl.Of,
		bl.At + offset, own, "", conversation.BurstMaxParts}
}

// followUpOp makes the record of a spooled part whose burst was published before it came
// back: a follow-up of that burst's complaint.
func (b *Bursts) followUpOp(ctx context.Context, o *op, of record.ComplaintRef) (*op, error) {
	var p burstPart
	if err := segjson.Unmarshal(o.body, &p); err != nil || p.C == nil {
		return nil, fmt.Errorf("queue: spooled burst part %s is not a record: %v", o.id, err)
	}
	c := p.C
	c.ID, c.Kind, c.FollowUpOf, c.Reference, c.DedupeKey = o.id, record.KindFollowUp, &of, of.Reference, p.Dedupe
	kind := opPublish
	if fetch := b.fetch.Load(); fetch != nil && (*fetch)[c.Provider] {
		for _, a := range c.Attachments {
			if a.Status == record.MediaPending && (a.SourceURL != "" || a.MediaID != "") {
				kind = opStage
			}
		}
	}
	f, err := b.q.newOp(ctx, kind, c)
	if err != nil {
		return nil, err
	}
	f.replay = true
	return f, nil
}

// recentBursts remembers, per burst key, the open burst this process last staged a part
// of, in its own clock: only ever asked while Redis is down.
type recentBursts struct {
	mu     sync.Mutex
	m      map[string]recentBurst
	pruned time.Time
}

type recentBurst struct {
	id, ref        string
	first, last    int64 // unix ms, this process's clock
	greetingsOnly  bool
	window, maxAge int64
}

// due is when the store publishes the burst, by the same rule.
func (e recentBurst) due() int64 {
	return conversation.BurstDue(e.first, e.last, e.window, e.maxAge, e.greetingsOnly)
}

// note records what the store (or the spool) answered for p at now.
func (r *recentBursts) note(p conversation.BurstPart, a conversation.BurstAnswer, now time.Time) {
	if a.Action != conversation.BurstStarted && a.Action != conversation.BurstJoined {
		return
	}
	ms := now.UnixMilli()
	maxAge := p.MaxAge
	if maxAge <= 0 {
		maxAge = conversation.BurstMax
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.m[p.Key]
	if a.Action == conversation.BurstStarted || !ok || e.id != a.ID {
		e = recentBurst{id: a.ID, ref: a.Reference, first: ms, greetingsOnly: true,
			window: p.Window.Milliseconds(), maxAge: maxAge.Milliseconds()}
	}
	e.last, e.greetingsOnly = ms, e.greetingsOnly && p.Greeting
	r.m[p.Key] = e
	if now.Sub(r.pruned) > time.Minute {
		r.prune(ms)
		r.pruned = now
	}
}

func (e recentBurst) facts(now int64, open bool) conversation.BurstFacts {
	return conversation.BurstFacts{Open: open, First: e.first, Last: e.last, Due: e.due(), GreetingsOnly: e.greetingsOnly,
		Now: now, Window: e.window, MaxAge: e.maxAge}
}

// openAt returns the burst key's open burst at now, if a part (a greeting or not) would
// join it.
func (r *recentBursts) openAt(key string, now time.Time, greeting bool) (recentBurst, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.m[key]
	if !ok {
		return e, false
	}
	a, _ := conversation.DecideBurst(e.facts(now.UnixMilli(), true), greeting)
	return e, a == conversation.BurstJoined
}

// prune forgets bursts past their due time: closed (called under mu).
func (r *recentBursts) prune(now int64) {
	for k, e := range r.m {
		if now > e.due() {
			delete(r.m, k)
		}
	}
}
