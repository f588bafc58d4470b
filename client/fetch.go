package client

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// claimScanCalls bounds the XAUTOCLAIM calls of one fetch: each scans at most 10×COUNT
// pending ids, so a long pending list is walked over several fetches, not in one.
const claimScanCalls = 4

// fetch returns up to n entries to handle: own pending ones first (once per Run), then
// claimed idle ones when a claim round is due, then new ones (the only blocking read).
// Every returned entry is tracked as in flight.
func (c *Consumer) fetch(ctx context.Context, n int) ([]Entry, error) {
	if !c.groupReady {
		if err := c.createGroup(ctx); err != nil {
			return nil, err
		}
	}
	if c.ownCursor != "" {
		entries, err := c.readOwn(ctx, n)
		if err != nil || len(entries) > 0 {
			return entries, err
		}
	}
	if !time.Now().Before(c.nextClaim) {
		entries, err := c.claim(ctx, n)
		if err != nil || len(entries) > 0 {
			return entries, err
		}
	}
	return c.readNew(ctx, n)
}

// createGroup creates the group from id 0 (the stream too, if missing); an existing
// group is fine.
func (c *Consumer) createGroup(ctx context.Context) error {
	err := c.rdb.XGroupCreateMkStream(ctx, c.cfg.Stream, c.cfg.Group, "0").Err()
	if err != nil && !redis.HasErrorPrefix(err, "BUSYGROUP") {
		return err
	}
	c.groupReady = true
	c.ownCursor, c.claimCursor = "0-0", "0-0"
	return nil
}

// readOwn re-reads this consumer's own pending entries (XREADGROUP … 0): what an earlier
// run under this name held when it stopped or crashed. Redis counts this as a delivery.
func (c *Consumer) readOwn(ctx context.Context, n int) ([]Entry, error) {
	res, err := c.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{
		Group: c.cfg.Group, Consumer: c.cfg.Consumer,
		Streams: []string{c.cfg.Stream, c.ownCursor}, Count: int64(n), Block: -1,
	}).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, err
	}
	msgs := messagesOf(res)
	if len(msgs) == 0 {
		c.ownCursor = "" // drained: from now on failed entries come back through claims
		return nil, nil
	}
	c.ownCursor = msgs[len(msgs)-1].ID
	entries, err := c.withDeliveries(ctx, c.present(ctx, msgs))
	c.stats.recovered.Add(int64(len(entries)))
	return entries, err
}

// claim takes over entries idle longer than ClaimIdle from any consumer of the group
// (XAUTOCLAIM, which counts a delivery), following the scan cursor. Ids whose entry was
// trimmed or deleted meanwhile are acknowledged away.
func (c *Consumer) claim(ctx context.Context, n int) ([]Entry, error) {
	var msgs []redis.XMessage
	for range claimScanCalls {
		got, next, deleted, err := c.rdb.XAutoClaimWithDeleted(ctx, &redis.XAutoClaimArgs{
			Stream: c.cfg.Stream, Group: c.cfg.Group, Consumer: c.cfg.Consumer,
			MinIdle: c.cfg.ClaimIdle, Start: c.claimCursor, Count: int64(n),
		}).Result()
		if err != nil {
			return nil, err
		}
		c.ackAway(ctx, deleted)
		msgs = append(msgs, got...)
		c.claimCursor = next
		if next == "0-0" || next == "" {
			c.claimCursor = "0-0"
			c.nextClaim = time.Now().Add(c.claimInterval())
			break
		}
		if len(msgs) > 0 {
			break
		}
	}
	entries, err := c.withDeliveries(ctx, c.present(ctx, msgs))
	c.stats.claimed.Add(int64(len(entries)))
	return entries, err
}

// claimInterval is the pause between claim rounds: often enough that an idle entry waits
// little beyond ClaimIdle, rarely enough to cost nothing.
func (c *Consumer) claimInterval() time.Duration {
	return min(c.cfg.ClaimIdle/2, 5*time.Second)
}

// readNew waits up to Block for entries never delivered to the group (XREADGROUP … >),
// less when a claim round comes due sooner.
func (c *Consumer) readNew(ctx context.Context, n int) ([]Entry, error) {
	block := min(c.cfg.Block, time.Until(c.nextClaim))
	block = max(block, time.Millisecond) // 0 would block forever in go-redis
	res, err := c.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{
		Group: c.cfg.Group, Consumer: c.cfg.Consumer,
		Streams: []string{c.cfg.Stream, ">"}, Count: int64(n), Block: block,
	}).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, err
	}
	msgs := messagesOf(res)
	entries := make([]Entry, 0, len(msgs))
	for _, m := range msgs {
		entries = append(entries, c.entry(m, 1))
	}
	return entries, nil
}

// present drops (and acknowledges away) pending ids whose entry no longer exists: an
// entry trimmed or deleted while pending comes back without fields.
func (c *Consumer) present(ctx context.Context, msgs []redis.XMessage) []redis.XMessage {
	out := msgs[:0]
	var gone []string
	for _, m := range msgs {
		if m.Values == nil {
			gone = append(gone, m.ID)
			continue
		}
		out = append(out, m)
	}
	c.ackAway(ctx, gone)
	return out
}

// ackAway acknowledges pending ids whose entries were trimmed or deleted: there is
// nothing left to handle, and leaving them would strand them in the pending list forever.
func (c *Consumer) ackAway(ctx context.Context, ids []string) {
	if len(ids) == 0 {
		return
	}
	c.log.Warn("pending entries were trimmed or deleted before being handled; acknowledged away",
		"entries", ids, "hint", "never trim the stream below entries not yet acknowledged (XTRIM … ACKED on Redis 8.2+)")
	c.stats.ackedAway.Add(int64(len(ids)))
	if err := c.rdb.XAck(ctx, c.cfg.Stream, c.cfg.Group, ids...).Err(); err != nil {
		c.log.Warn("acknowledging trimmed entries failed; they come back on a later claim", "error", err)
	}
}

// withDeliveries fills in each entry's delivery count from the pending list (one
// pipelined XPENDING per id). An id no longer pending for this consumer was acknowledged
// or claimed by another in between, and is dropped.
func (c *Consumer) withDeliveries(ctx context.Context, msgs []redis.XMessage) ([]Entry, error) {
	if len(msgs) == 0 {
		return nil, nil
	}
	pipe := c.rdb.Pipeline()
	cmds := make([]*redis.XPendingExtCmd, len(msgs))
	for i, m := range msgs {
		cmds[i] = pipe.XPendingExt(ctx, &redis.XPendingExtArgs{
			Stream: c.cfg.Stream, Group: c.cfg.Group, Start: m.ID, End: m.ID, Count: 1, Consumer: c.cfg.Consumer,
		})
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("read delivery counts: %w", err)
	}
	entries := make([]Entry, 0, len(msgs))
	for i, m := range msgs {
		p := cmds[i].Val()
		if len(p) == 0 {
			continue
		}
		entries = append(entries, c.entry(m, p[0].RetryCount))
	}
	return entries, nil
}

// entry converts a Redis message and starts tracking it as in flight.
func (c *Consumer) entry(m redis.XMessage, deliveries int64) Entry {
	values := make(map[string]string, len(m.Values))
	for k, v := range m.Values {
		if s, ok := v.(string); ok {
			values[k] = s
		} else {
			values[k] = fmt.Sprint(v)
		}
	}
	c.track(m.ID)
	return Entry{Stream: c.cfg.Stream, ID: m.ID, Values: values, Deliveries: deliveries}
}

func messagesOf(res []redis.XStream) []redis.XMessage {
	if len(res) == 0 {
		return nil
	}
	return res[0].Messages
}
