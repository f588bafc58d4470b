package queue

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/lapor/intake/record"
	"github.com/redis/go-redis/v9"
)

// followBlock bounds each blocking read, so Follow notices a cancelled ctx within it.
const followBlock = time.Second

// Follow calls fn for every complaint record on the stream after fromID, in order, and
// keeps waiting for new ones until ctx ends (it then returns ctx.Err()) or fn returns an
// error (returned as is). fromID "" or "$" starts after the newest record, "0" at the
// oldest; any stream entry id resumes after that entry. fn gets the entry id, so a caller
// can resume. It reads without a consumer group (XREAD), so it takes nothing from the core.
// While Redis is unreachable it keeps retrying and logs.
func (q *Queue) Follow(ctx context.Context, fromID string, fn func(id string, c *record.Complaint) error) error {
	last := fromID
	backoff := drainMinBackoff
	// retry returns err when following cannot go on, else waits out the backoff.
	retry := func(err error) error {
		if err := q.followErr(ctx, err); err != nil {
			return err
		}
		t := time.NewTimer(backoff)
		defer t.Stop()
		backoff = min(backoff*2, drainMaxBackoff)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			return nil
		}
	}
	for ctx.Err() == nil {
		if last == "" || last == "$" {
			// Resolve "$" once: repeating it between reads would skip records.
			msgs, err := q.rdb.XRevRangeN(ctx, q.keyStream, "+", "-", 1).Result()
			if err != nil {
				if err := retry(err); err != nil {
					return err
				}
				continue
			}
			last = "0-0"
			if len(msgs) > 0 {
				last = msgs[0].ID
			}
		}
		streams, err := q.rdb.XRead(ctx, &redis.XReadArgs{
			Streams: []string{q.keyStream, last}, Count: 100, Block: followBlock,
		}).Result()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			if err := retry(err); err != nil {
				return err
			}
			continue
		}
		backoff = drainMinBackoff
		for _, s := range streams {
			for _, m := range s.Messages {
				last = m.ID
				c, err := decodeEntry(m.Values)
				if err != nil {
					q.log.Warn("stream entry cannot be decoded; skipped", "stream", q.keyStream, "entry", m.ID, "error", err)
					continue
				}
				if err := fn(m.ID, c); err != nil {
					return err
				}
			}
		}
	}
	return ctx.Err()
}

// followErr returns nil for an error worth waiting out, else the error to give up with.
func (q *Queue) followErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if unreachable(err) {
		q.log.Warn("follow: redis unreachable; retrying", "addr", q.addr, "error", err)
		return nil
	}
	return fmt.Errorf("queue: follow %s: %w", q.keyStream, err)
}
