package queue

import (
	"context"
	"log/slog"
	"time"

	"github.com/lapor/intake/client"
)

// OutboundHandler handles one outbound entry; nil acknowledges it.
type OutboundHandler func(ctx context.Context, entryID string, values map[string]string, deliveries int64) error

// ConsumeOptions tune Consume.
type ConsumeOptions struct {
	Consumer    string        // this process's consumer name in the group (stable across restarts)
	Concurrency int           // entries handled at once (16)
	MinIdle     time.Duration // an entry pending this long at another consumer is taken over (2 min)
	// MaxDeliveries: an entry delivered this often goes to the outbound stream's dead
	// letters (<stream>:dead) with the reason (20). The worker retries provider failures
	// itself, so a delivery fails only when Redis or the state store does.
	MaxDeliveries int64
	Logger        *slog.Logger
}

// Consume reads the outbound stream in the gateway's group until ctx ends, through the
// same consumer package the core uses (client): own pending entries first after a
// restart, then entries other consumers left idle, then new ones; a long send keeps its
// entry by heartbeat. An entry is acknowledged when its handler returns nil and comes back
// after MinIdle otherwise.
func (s *OutboundStore) Consume(ctx context.Context, o ConsumeOptions, handle OutboundHandler) error {
	if o.Concurrency <= 0 {
		o.Concurrency = 16
	}
	if o.MinIdle <= 0 {
		o.MinIdle = 2 * time.Minute
	}
	if o.MaxDeliveries <= 0 {
		o.MaxDeliveries = 20
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	c, err := client.NewConsumer(s.rdb, client.Config{Stream: s.keyStream, Group: s.cfg.Group, Consumer: o.Consumer,
		ClaimIdle: o.MinIdle, MaxDeliveries: o.MaxDeliveries, Concurrency: o.Concurrency, Logger: o.Logger})
	if err != nil {
		return err
	}
	return c.Run(ctx, func(ctx context.Context, e client.Entry) error {
		return handle(ctx, e.ID, e.Values, e.Deliveries)
	})
}
