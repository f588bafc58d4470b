package queue

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/lapor/intake/record"
	"github.com/redis/go-redis/v9"
)

// Pending is a staged record handed to a media worker by ClaimPending.
type Pending = record.Pending

// claimBlock is how long ClaimPending waits for a new entry when none is due.
const claimBlock = time.Second

// ClaimPending hands consumer up to count staged records: entries that another consumer
// claimed more than minIdle ago without completing them (it crashed between answering the
// provider and downloading the media), then new entries. When nothing is due it waits up
// to a second for a new entry, so a worker may call it in a loop. minIdle <= 0 skips the
// reclaiming of idle entries.
func (q *Queue) ClaimPending(ctx context.Context, consumer string, count int, minIdle time.Duration) ([]Pending, error) {
	if consumer == "" {
		return nil, errors.New("queue: ClaimPending needs a consumer name (e.g. the host name)")
	}
	if count <= 0 {
		count = 16
	}
	var out []Pending
	if minIdle > 0 {
		q.claimMu.Lock()
		start := q.claimCursor
		q.claimMu.Unlock()
		if start == "" {
			start = "0-0"
		}
		msgs, next, err := q.rdb.XAutoClaim(ctx, &redis.XAutoClaimArgs{
			Stream: q.keyPending, Group: q.cfg.PendingGroup, Consumer: consumer,
			MinIdle: minIdle, Start: start, Count: int64(count),
		}).Result()
		if err != nil {
			return nil, q.pendingErr("reclaim idle pending records", err)
		}
		q.claimMu.Lock()
		q.claimCursor = next
		q.claimMu.Unlock()
		out = q.appendPending(out, msgs)
	}
	if len(out) >= count {
		return out, nil
	}
	block := time.Duration(-1) // no BLOCK: return at once
	if len(out) == 0 {
		block = claimBlock
		if dl, ok := ctx.Deadline(); ok {
			block = min(block, time.Until(dl)-50*time.Millisecond)
		}
		if block < time.Millisecond {
			block = -1
		}
	}
	streams, err := q.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{
		Group: q.cfg.PendingGroup, Consumer: consumer,
		Streams: []string{q.keyPending, ">"}, Count: int64(count - len(out)), Block: block,
	}).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		if len(out) > 0 {
			return out, nil // hand over what was reclaimed; the error shows again next call
		}
		return nil, q.pendingErr("read new pending records", err)
	}
	for _, s := range streams {
		out = q.appendPending(out, s.Messages)
	}
	return out, nil
}

func (q *Queue) pendingErr(what string, err error) error {
	if redis.HasErrorPrefix(err, "NOGROUP") {
		// The stream or group vanished (Redis flushed or restarted without persistence).
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = q.rdb.XGroupCreateMkStream(ctx, q.keyPending, q.cfg.PendingGroup, "0").Err()
		cancel()
	}
	if unreachable(err) {
		return fmt.Errorf("queue: %s: %w at %s: %w; staged records stay safe in redis or the spool, try again later", what, ErrRedisUnreachable, q.addr, err)
	}
	return fmt.Errorf("queue: %s: %w", what, err)
}

func (q *Queue) appendPending(out []Pending, msgs []redis.XMessage) []Pending {
	for _, m := range msgs {
		c, err := decodeEntry(m.Values)
		if err != nil {
			// Left in the pending list: it shows again after minIdle, and here in the log.
			q.log.Error("pending entry cannot be decoded; skipped", "stream", q.keyPending, "entry", m.ID, "error", err)
			continue
		}
		out = append(out, Pending{EntryID: m.ID, Complaint: c})
	}
	return out
}

// decodeEntry reads the complaint of a stream entry with the fields id, channel, complaint.
func decodeEntry(v map[string]any) (*record.Complaint, error) {
	s, ok := v["complaint"].(string)
	if !ok {
		return nil, errors.New("entry has no complaint field")
	}
	var c record.Complaint
	d := json.NewDecoder(bytes.NewReader([]byte(s)))
	d.UseNumber() // channel_data numbers stay exact
	if err := d.Decode(&c); err != nil {
		return nil, fmt.Errorf("complaint is not valid JSON: %w", err)
	}
	return &c, nil
}

// Complete publishes c, the final record of the staged entry p with its media settled, to
// the complaint stream, and removes p from the pending stream (XACK and XDEL), all in one
// atomic step. Completing an entry that is already completed writes nothing and returns
// nil. c must keep the staged record's ID; its Reference is not re-checked.
func (q *Queue) Complete(ctx context.Context, p Pending, c *record.Complaint) error {
	if c == nil {
		return errors.New("queue: Complete needs the final complaint")
	}
	if p.EntryID == "" {
		return errors.New("queue: Complete needs the pending entry id from ClaimPending")
	}
	if c.ID == "" && p.Complaint != nil {
		c.ID = p.Complaint.ID
	}
	o := getOp()
	defer putOp(o)
	if err := o.encode(c); err != nil {
		return fmt.Errorf("queue: encode complaint %s: %w", c.ID, err)
	}
	n, err := completeScript.Run(ctx, q.rdb, []string{q.keyPending, q.keyStream},
		q.cfg.PendingGroup, p.EntryID, c.ID, c.Channel, o.body, q.cfg.ConsumerGroup).Int()
	if err != nil {
		if unreachable(err) {
			return fmt.Errorf("queue: complete record %s: %w at %s: %w; the entry stays pending and is re-claimed later", c.ID, ErrRedisUnreachable, q.addr, err)
		}
		return fmt.Errorf("queue: complete record %s (pending entry %s): %w", c.ID, p.EntryID, err)
	}
	if n == 0 {
		q.log.Debug("pending entry was already completed", "id", c.ID, "entry", p.EntryID)
	}
	return nil
}
