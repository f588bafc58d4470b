package client

import (
	"context"
	"maps"
	"slices"
	"strconv"

	"github.com/redis/go-redis/v9"
)

// Fields added to a dead-letter entry beside the original fields.
const (
	FieldReason     = "reason"      // why it was given up on
	FieldOriginalID = "original_id" // its id in the stream read
	FieldDeliveries = "deliveries"  // how often it was delivered
)

// deadLetter copies e to the dead-letter stream with the reason and acknowledges it, in
// one MULTI where the client allows (a cluster client sends the two in order instead: a
// crash in between leaves a second dead copy, never a loss). If Redis fails, the entry
// stays pending, comes back after ClaimIdle, and is dead-lettered then.
func (c *Consumer) deadLetter(ctx context.Context, e Entry, reason string) {
	values := make([]any, 0, 2*len(e.Values)+6)
	for _, k := range slices.Sorted(maps.Keys(e.Values)) {
		if k == FieldReason || k == FieldOriginalID || k == FieldDeliveries {
			continue // ours win; the original id and stream locate the full entry anyway
		}
		values = append(values, k, e.Values[k])
	}
	values = append(values, FieldReason, reason, FieldOriginalID, e.ID, FieldDeliveries, strconv.FormatInt(e.Deliveries, 10))

	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ackTimeout)
	defer cancel()
	send := func(p redis.Pipeliner) error {
		p.XAdd(dctx, &redis.XAddArgs{Stream: c.cfg.DeadLetterStream, Values: values})
		p.XAck(dctx, c.cfg.Stream, c.cfg.Group, e.ID)
		return nil
	}
	var err error
	if _, cluster := c.rdb.(*redis.ClusterClient); cluster {
		_, err = c.rdb.Pipelined(dctx, send)
	} else {
		_, err = c.rdb.TxPipelined(dctx, send)
	}
	c.untrack(e.ID)
	if err != nil {
		c.log.Error("moving an entry to the dead-letter stream failed; it stays pending and is tried again after ClaimIdle",
			"entry", e.ID, "dead_letter_stream", c.cfg.DeadLetterStream, "error", err)
		return
	}
	c.stats.deadLettered.Add(1)
	c.log.Error("entry moved to the dead-letter stream", "entry", e.ID, "deliveries", e.Deliveries,
		"dead_letter_stream", c.cfg.DeadLetterStream, "reason", reason)
}
