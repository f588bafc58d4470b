package client

import (
	"context"
	"fmt"
	"runtime/debug"
)

// handle runs h on e and settles the entry: acknowledge, leave pending, or dead-letter.
func (c *Consumer) handle(ctx context.Context, h Handler, e Entry) {
	if e.Deliveries > c.cfg.MaxDeliveries {
		// Delivered this often without an answer: earlier handlers crashed, were killed
		// or hung past ClaimIdle. Running it again would likely do the same.
		c.deadLetter(ctx, e, fmt.Sprintf("delivered %d times (MaxDeliveries %d) without a handler finishing: crash, kill or hang", e.Deliveries, c.cfg.MaxDeliveries))
		return
	}
	err := c.call(ctx, h, e)
	switch {
	case err == nil:
		c.stats.handled.Add(1)
		c.ack(ctx, e.ID)
	case IsPermanent(err):
		c.deadLetter(ctx, e, "permanent: "+err.Error())
	case ctx.Err() != nil:
		// Shutting down: the handler was interrupted, not failed. The entry stays pending
		// and comes back at the next start (own pending first), never dead-lettered now.
		c.untrack(e.ID)
		c.log.Info("handler interrupted by shutdown; entry stays pending", "entry", e.ID)
	case e.Deliveries >= c.cfg.MaxDeliveries:
		c.stats.failed.Add(1)
		c.deadLetter(ctx, e, fmt.Sprintf("failed on delivery %d of %d: %v", e.Deliveries, c.cfg.MaxDeliveries, err))
	default:
		c.stats.failed.Add(1)
		c.untrack(e.ID) // no heartbeat: it becomes idle and is claimed again after ClaimIdle
		c.log.Warn("handler failed; entry will be delivered again", "entry", e.ID,
			"deliveries", e.Deliveries, "max_deliveries", c.cfg.MaxDeliveries, "retry_after", c.cfg.ClaimIdle, "error", err)
	}
}

// call runs h, turning a panic into an error so one bad entry cannot stop the consumer.
func (c *Consumer) call(ctx context.Context, h Handler, e Entry) (err error) {
	defer func() {
		if v := recover(); v != nil {
			c.stats.panics.Add(1)
			c.log.Error("handler panicked; counted as a failed delivery", "entry", e.ID, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			err = panicError{v}
		}
	}()
	return h(ctx, e)
}
