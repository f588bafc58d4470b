package queue

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/lapor/intake/record"
	"github.com/redis/go-redis/v9"
)

// Rejected inputs can be listed and, when an operator finds one wrongly rejected, released
// as a complaint exactly once (CONTRACT §10). A release is remembered for good in
//
//	intake:released:<rejected entry id>   "<record id> <reference>[ published]"
//
// The key is set (NX) before the record is published and marked "published" after, so a
// release repeated at any time, or racing another, publishes the same record id once: a
// repeat before the mark is recognised by the publish script's dedupe key
// ("released:<entry id>"), one after it never reaches the script.

// FlagReleased marks a complaint released from the rejected stream by an operator.
const FlagReleased = "released"

// ErrNoSuchEntry: the rejected stream holds no entry with that id.
var ErrNoSuchEntry = errors.New("no such entry in the rejected stream")

// RejectedEntry is one entry of the rejected stream.
type RejectedEntry struct {
	StreamID          string
	Reason            string
	Detail            string
	Channel           string
	Provider          string
	ProviderMessageID string
	ReceivedAt        string
	Raw               []byte
	RawTruncated      bool
	RawRef            string
	// ReleasedAs is the record id of the complaint the entry was released as ("" if none).
	ReleasedAs string
}

// Rejected returns up to limit entries of the rejected stream, oldest first, with the given
// reason ("" for any).
func (q *Queue) Rejected(ctx context.Context, reason string, limit int) ([]RejectedEntry, error) {
	var out []RejectedEntry
	start := "-"
	for len(out) < limit {
		msgs, err := q.rdb.XRangeN(ctx, q.keyRejected, start, "+", 500).Result()
		if err != nil {
			return nil, q.rejectedErr(err)
		}
		for _, m := range msgs {
			e := rejectedEntry(m)
			if reason == "" || e.Reason == reason {
				out = append(out, e)
				if len(out) == limit {
					break
				}
			}
		}
		if len(msgs) < 500 {
			break
		}
		start = "(" + msgs[len(msgs)-1].ID
	}
	if err := q.markReleased(ctx, out); err != nil {
		return nil, err
	}
	return out, nil
}

// RejectedEntry returns the rejected stream's entry id.
func (q *Queue) RejectedEntry(ctx context.Context, id string) (RejectedEntry, error) {
	msgs, err := q.rdb.XRange(ctx, q.keyRejected, id, id).Result()
	if err != nil {
		if redis.HasErrorPrefix(err, "ERR Invalid stream ID") {
			return RejectedEntry{}, fmt.Errorf("queue: %q is not a stream entry id (like 1733390000000-0): %w", id, ErrNoSuchEntry)
		}
		return RejectedEntry{}, q.rejectedErr(err)
	}
	if len(msgs) == 0 {
		return RejectedEntry{}, fmt.Errorf("queue: entry %s: %w %s (see intake rejected list)", id, ErrNoSuchEntry, q.keyRejected)
	}
	out := []RejectedEntry{rejectedEntry(msgs[0])}
	if err := q.markReleased(ctx, out); err != nil {
		return RejectedEntry{}, err
	}
	return out[0], nil
}

// Release publishes c, made from the rejected entry entryID, once however often it is
// called: a repeat answers the first release's id and reference with Duplicate set. c
// gets the released flag. Redis must answer: a release is never left in a spool.
func (q *Queue) Release(ctx context.Context, entryID string, c *record.Complaint) (Result, error) {
	if err := q.rdb.Ping(ctx).Err(); err != nil {
		return Result{}, q.rejectedErr(err)
	}
	key := q.releasedPrefix() + entryID
	if c.ID == "" {
		c.ID = newID()
	}
	if c.Reference == "" {
		c.Reference, _ = q.refs.take(ctx, false)
	}
	ok, err := q.rdb.SetNX(ctx, key, c.ID+" "+c.Reference, 0).Result()
	if err != nil {
		return Result{}, q.rejectedErr(err)
	}
	repeat := !ok
	if repeat {
		v, err := q.rdb.Get(ctx, key).Result()
		if err != nil {
			return Result{}, q.rejectedErr(err)
		}
		id, ref := seenValue(v)
		if strings.HasSuffix(v, " published") {
			c.ID, c.Reference = id, ref
			return Result{ID: id, Reference: ref, Duplicate: true}, nil
		}
		c.ID, c.Reference = id, ref // an earlier release stopped half-way: finish it
	}
	if !c.HasFlag(FlagReleased) {
		c.Flags = append(c.Flags, FlagReleased)
	}
	c.DedupeKey = "released:" + entryID
	res, err := q.Publish(ctx, c)
	if err != nil {
		return Result{}, err
	}
	if res.Spooled {
		return Result{}, fmt.Errorf("queue: release of %s: %w while publishing; run the release again once redis answers (it stays one record)", entryID, ErrRedisUnreachable)
	}
	if err := q.rdb.Set(ctx, key, res.ID+" "+res.Reference+" published", 0).Err(); err != nil {
		return Result{}, q.rejectedErr(err)
	}
	res.Duplicate = res.Duplicate || repeat
	return res, nil
}

func (q *Queue) releasedPrefix() string { return q.cfg.KeyPrefix + "intake:released:" }

// markReleased fills ReleasedAs from the release keys.
func (q *Queue) markReleased(ctx context.Context, es []RejectedEntry) error {
	if len(es) == 0 {
		return nil
	}
	keys := make([]string, len(es))
	for i, e := range es {
		keys[i] = q.releasedPrefix() + e.StreamID
	}
	vals, err := q.rdb.MGet(ctx, keys...).Result()
	if err != nil {
		return q.rejectedErr(err)
	}
	for i, v := range vals {
		if s, ok := v.(string); ok {
			es[i].ReleasedAs, _ = seenValue(s)
		}
	}
	return nil
}

func (q *Queue) rejectedErr(err error) error {
	if unreachable(err) {
		return fmt.Errorf("queue: %w at %s: %w", ErrRedisUnreachable, q.addr, err)
	}
	return fmt.Errorf("queue: rejected stream %s: %w", q.keyRejected, err)
}

func rejectedEntry(m redis.XMessage) RejectedEntry {
	s := func(k string) string { v, _ := m.Values[k].(string); return v }
	e := RejectedEntry{StreamID: m.ID, Reason: s("reason"), Detail: s("detail"), Channel: s("channel"),
		Provider: s("provider"), ProviderMessageID: s("provider_message_id"), ReceivedAt: s("received_at"),
		RawTruncated: s("raw_truncated") == "1", RawRef: s("raw_ref")}
	if raw := s("raw"); raw != "" {
		e.Raw = []byte(raw)
	}
	return e
}
