package queue

// REPLACED BY client.Run: this minimal consumer drives the outbound worker until the
// core's consumer package (client/) is merged; the lead then wires
// client.NewConsumer(...).Run(ctx, …) with the same handler and deletes this file.

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// OutboundHandler handles one outbound entry; nil acknowledges it.
type OutboundHandler func(ctx context.Context, entryID string, values map[string]string, deliveries int64) error

// ConsumeOptions tune Consume.
type ConsumeOptions struct {
	Consumer    string        // this process's consumer name in the group (stable across restarts)
	Concurrency int           // entries handled at once (16)
	MinIdle     time.Duration // an entry pending this long at another consumer is taken over (2 min)
	Logger      *slog.Logger
}

// Consume reads the outbound stream in the gateway's group until ctx ends: first this
// consumer's own pending entries (a restart), then, in turn, entries other consumers left
// idle (XAUTOCLAIM) and new ones (XREADGROUP >, bounded block). An entry is acknowledged
// when its handler returns nil and stays pending otherwise.
func (s *OutboundStore) Consume(ctx context.Context, o ConsumeOptions, handle OutboundHandler) error {
	if o.Concurrency <= 0 {
		o.Concurrency = 16
	}
	if o.MinIdle <= 0 {
		o.MinIdle = 2 * time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	sem := make(chan struct{}, o.Concurrency)
	var wg sync.WaitGroup
	defer wg.Wait()
	run := func(msgs []redis.XMessage, deliveries int64) {
		for _, m := range msgs {
			if m.Values == nil {
				_ = s.rdb.XAck(ctx, s.keyStream, s.cfg.Group, m.ID).Err() // trimmed while pending
				continue
			}
			values := make(map[string]string, len(m.Values))
			for k, v := range m.Values {
				values[k], _ = v.(string)
			}
			sem <- struct{}{}
			wg.Add(1)
			go func(id string) {
				defer func() { <-sem; wg.Done() }()
				if err := handle(ctx, id, values, deliveries); err != nil {
					o.Logger.Warn("outbound entry left pending", "entry", id, "err", err)
					return
				}
				if err := s.rdb.XAck(context.WithoutCancel(ctx), s.keyStream, s.cfg.Group, id).Err(); err != nil {
					o.Logger.Error("outbound entry not acknowledged; it will be handled again (harmless)", "entry", id, "err", err)
				}
			}(m.ID)
		}
	}
	wait := func() {
		t := time.NewTimer(time.Second)
		defer t.Stop()
		select {
		case <-ctx.Done():
		case <-t.C:
		}
	}
	// Own pending entries first.
	for start := "0"; ctx.Err() == nil; {
		res, err := s.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: s.cfg.Group, Consumer: o.Consumer,
			Streams: []string{s.keyStream, start}, Count: 100}).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			o.Logger.Warn("outbound: read own pending entries", "err", err)
			wait()
			continue
		}
		if len(res) == 0 || len(res[0].Messages) == 0 {
			break
		}
		msgs := res[0].Messages
		start = msgs[len(msgs)-1].ID
		run(msgs, 2)
	}
	lastClaim := time.Time{}
	for ctx.Err() == nil {
		if time.Since(lastClaim) > 5*time.Second {
			lastClaim = time.Now()
			msgs, _, err := s.rdb.XAutoClaim(ctx, &redis.XAutoClaimArgs{Stream: s.keyStream, Group: s.cfg.Group,
				Consumer: o.Consumer, MinIdle: o.MinIdle, Start: "0-0", Count: 100}).Result()
			if err == nil {
				run(msgs, 2)
			}
		}
		res, err := s.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: s.cfg.Group, Consumer: o.Consumer,
			Streams: []string{s.keyStream, ">"}, Count: int64(o.Concurrency), Block: time.Second}).Result()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			if redis.HasErrorPrefix(err, "NOGROUP") {
				_ = s.rdb.XGroupCreateMkStream(ctx, s.keyStream, s.cfg.Group, "0").Err()
			}
			o.Logger.Warn("outbound: read the stream", "err", err)
			wait()
			continue
		}
		for _, st := range res {
			run(st.Messages, 1)
		}
	}
	return ctx.Err()
}
