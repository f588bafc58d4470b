package client

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Entry is one stream entry handed to a Handler.
type Entry struct {
	Stream string
	// ID is the stream entry id (e.g. "1718000000000-0"), not the record's own id.
	ID     string
	Values map[string]string
	// Deliveries counts how often Redis has delivered this entry to the group, this time
	// included: 1 on the first delivery, more after a failure, a crash or a claim.
	Deliveries int64
}

// Handler processes one entry. Returning nil acknowledges it (XACK): it is never
// delivered again. Any other error leaves it pending, and it is delivered again after
// ClaimIdle until MaxDeliveries is reached; Permanent(err) sends it to the dead-letter
// stream at once. The context ends when Run's context ends.
//
// Delivery is at least once: a crash after the handler's side effect but before the
// acknowledgement delivers the entry again, so a handler must be idempotent (keyed by the
// complaint's id, the answer's id, the delivery's outbound id and state).
type Handler func(ctx context.Context, e Entry) error

// Consumer reads one stream as one member of a consumer group. Create it with
// NewConsumer and start it with Run.
type Consumer struct {
	rdb redis.UniversalClient
	cfg Config
	log *slog.Logger

	running atomic.Bool
	stats   stats

	mu sync.Mutex
	// inflight holds the ids handed to handlers and not yet acknowledged: the heartbeat
	// keeps their idle time low so that no other consumer claims them.
	inflight map[string]struct{}
	// unacked holds ids whose handler succeeded but whose XACK failed; retried each loop.
	unacked map[string]struct{}

	// Read positions, owned by the fetching goroutine.
	ownCursor   string // next id of our own pending list to re-read; "" once drained
	claimCursor string // XAUTOCLAIM scan position
	nextClaim   time.Time
	groupReady  bool
}

// NewConsumer checks cfg (defaults filled in) and returns a Consumer that reads with rdb
// (a *redis.Client, a Sentinel failover client or a cluster client). Nothing is sent to
// Redis until Run.
func NewConsumer(rdb redis.UniversalClient, cfg Config) (*Consumer, error) {
	if rdb == nil {
		return nil, errors.New("client: NewConsumer needs a Redis client (redis.NewClient or redis.NewUniversalClient)")
	}
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Consumer{
		rdb: rdb, cfg: cfg,
		log:      cfg.Logger.With("stream", cfg.Stream, "group", cfg.Group, "consumer", cfg.Consumer),
		inflight: map[string]struct{}{},
		unacked:  map[string]struct{}{},
	}, nil
}

// Config returns the configuration in use, defaults filled in.
func (c *Consumer) Config() Config { return c.cfg }

// Run reads entries and hands them to h until ctx ends, then waits for the handlers
// still running and returns nil. Order of reading: first this consumer's own pending
// entries (left by an earlier run under the same name), then entries of any consumer idle
// longer than ClaimIdle, then new entries. Redis being unreachable is logged and retried
// with backoff; Run returns an error only when it cannot work at all (no handler, called
// twice at once, the stream key holding another type).
func (c *Consumer) Run(ctx context.Context, h Handler) error {
	if h == nil {
		return errors.New("client: Run needs a handler")
	}
	if !c.running.CompareAndSwap(false, true) {
		return errors.New("client: Run is already running on this Consumer; create one Consumer per Run")
	}
	defer c.running.Store(false)
	c.ownCursor, c.claimCursor, c.nextClaim, c.groupReady = "0-0", "0-0", time.Time{}, false

	// The heartbeat outlives ctx: handlers still finishing after shutdown keep their entries.
	hbCtx, stopHeartbeat := context.WithCancel(context.WithoutCancel(ctx))
	hbDone := make(chan struct{})
	go func() { defer close(hbDone); c.heartbeatLoop(hbCtx) }()

	var handlers sync.WaitGroup
	err := c.readLoop(ctx, h, &handlers)
	handlers.Wait()
	stopHeartbeat()
	<-hbDone
	c.finalAcks(ctx)
	return err
}

// readLoop fetches entries while handler slots are free and starts a handler for each.
func (c *Consumer) readLoop(ctx context.Context, h Handler, handlers *sync.WaitGroup) error {
	slots := make(chan struct{}, c.cfg.Concurrency)
	failures := 0
	for ctx.Err() == nil {
		c.retryAcks(ctx)
		n := c.takeSlots(ctx, slots)
		if n == 0 {
			break
		}
		entries, err := c.fetch(ctx, n)
		for range n - len(entries) {
			<-slots
		}
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			if stop := c.onRedisError(ctx, "read", err, &failures); stop != nil {
				return stop
			}
			continue
		}
		failures = 0
		if ctx.Err() != nil {
			// Read as shutdown began: leave them pending for the next start.
			for _, e := range entries {
				c.untrack(e.ID)
				<-slots
			}
			break
		}
		for _, e := range entries {
			handlers.Add(1)
			go func() {
				defer handlers.Done()
				defer func() { <-slots }()
				c.handle(ctx, h, e)
			}()
		}
	}
	return nil
}

// takeSlots waits for one free handler slot and takes as many more as are free; 0 when
// ctx ended first.
func (c *Consumer) takeSlots(ctx context.Context, slots chan struct{}) int {
	select {
	case slots <- struct{}{}:
	case <-ctx.Done():
		return 0
	}
	n := 1
	for n < cap(slots) {
		select {
		case slots <- struct{}{}:
			n++
		default:
			return n
		}
	}
	return n
}

// onRedisError acts on a failed Redis call of the read loop: recreate a lost group, back
// off before retrying, or (for a key that is not a stream) return the error that stops Run.
func (c *Consumer) onRedisError(ctx context.Context, what string, err error, failures *int) error {
	*failures++
	action, hint := classify(err)
	switch action {
	case giveUp:
		return fmt.Errorf("client: %s %s: %w; %s", what, c.cfg.Stream, err, hint)
	case recreateGroup:
		c.log.Error("consumer group lost; creating it again", "alert", "group_recreated", "error", err, "hint", hint)
		c.stats.groupsRecreated.Add(1)
		c.groupReady = false
		if *failures == 1 {
			return nil // at once; back off only if the group keeps vanishing
		}
	default:
		c.log.Warn("redis call failed; retrying", "op", what, "error", err, "failures", *failures)
	}
	select {
	case <-time.After(backoff(*failures)):
	case <-ctx.Done():
	}
	return nil
}

// track marks ids as in flight (heartbeat covers them); untrack ends that.
func (c *Consumer) track(id string) {
	c.mu.Lock()
	c.inflight[id] = struct{}{}
	c.mu.Unlock()
}

func (c *Consumer) untrack(id string) {
	c.mu.Lock()
	delete(c.inflight, id)
	c.mu.Unlock()
}
