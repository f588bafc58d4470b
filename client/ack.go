package client

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"
)

// ackTimeout bounds one XACK; acks run on a context that shutdown does not cancel, so
// work finished during shutdown is still acknowledged.
const ackTimeout = 5 * time.Second

// ack acknowledges a handled entry. When XACK fails the id is kept (and heartbeaten) and
// retried by the read loop, so the entry is not delivered again merely because Redis
// blinked; if every retry fails it is delivered again later (at least once).
func (c *Consumer) ack(ctx context.Context, id string) {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ackTimeout)
	defer cancel()
	err := c.rdb.XAck(actx, c.cfg.Stream, c.cfg.Group, id).Err()
	if err == nil || redis.HasErrorPrefix(err, "NOGROUP") {
		// NOGROUP: the group is gone with its pending list; nothing is left to acknowledge.
		c.untrack(id)
		return
	}
	c.stats.ackRetries.Add(1)
	c.log.Warn("acknowledging a handled entry failed; retrying", "entry", id, "error", err)
	c.mu.Lock()
	c.unacked[id] = struct{}{}
	c.mu.Unlock()
}

// retryAcks retries the failed acknowledgements in one XACK.
func (c *Consumer) retryAcks(ctx context.Context) {
	c.mu.Lock()
	ids := slices.Collect(maps.Keys(c.unacked))
	c.mu.Unlock()
	if len(ids) == 0 {
		return
	}
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ackTimeout)
	defer cancel()
	err := c.rdb.XAck(actx, c.cfg.Stream, c.cfg.Group, ids...).Err()
	if err != nil && !redis.HasErrorPrefix(err, "NOGROUP") {
		c.stats.ackRetries.Add(int64(len(ids)))
		c.log.Warn("acknowledging handled entries failed again; retrying", "entries", len(ids), "error", err)
		return
	}
	c.mu.Lock()
	for _, id := range ids {
		delete(c.unacked, id)
		delete(c.inflight, id)
	}
	c.mu.Unlock()
	c.log.Info("acknowledged handled entries after retrying", "entries", len(ids))
}

// finalAcks is the last try at shutdown; what is left stays pending and is delivered again.
func (c *Consumer) finalAcks(ctx context.Context) {
	c.retryAcks(ctx)
	c.mu.Lock()
	left := len(c.unacked)
	clear(c.unacked)
	clear(c.inflight)
	c.mu.Unlock()
	if left > 0 {
		c.log.Error("handled entries could not be acknowledged before shutdown; they will be delivered again", "entries", left)
	}
}
