package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/lapor/intake/config"
	"github.com/lapor/intake/conversation"
	"github.com/lapor/intake/metrics"
	"github.com/lapor/intake/queue"
)

// burstWiring wires CONTRACT §8's bursts: the store in Redis (shared by every replica)
// and the runner that publishes due bursts. Bursts need the citizen_id (a burst is one
// citizen's); without INTAKE_CITIZEN_KEY no part is staged, with a warning. The runner
// runs whatever the settings: bursts staged before the windows were turned off, or the
// key removed (by this or another replica, or replayed from this spool), are still
// published.
func burstWiring(cfg *config.Config, conv *conversation.Layer, q *queue.Queue, fetch map[string]bool, m *metrics.Metrics, log *slog.Logger) (conversation.BurstStore, *conversation.BurstRunner) {
	store := q.Bursts()
	store.SetFetchProviders(fetch) // for spooled parts that come back as follow-ups
	m.EnableBursts(func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		n, err := store.Open(ctx)
		if err != nil {
			return -1
		}
		return float64(n)
	})
	runner := &conversation.BurstRunner{Store: store, Publisher: q, FetchProviders: fetch, Log: log,
		Hold: store.Holding, Published: m.BurstPublished}
	if cfg.Bursts.On() && (conv == nil || conv.Identity == nil) {
		log.Warn("INTAKE_BURST_WINDOW / INTAKE_SMS_BURST_WINDOW have no effect without INTAKE_CITIZEN_KEY: each message is its own complaint")
	}
	if !cfg.Bursts.On() || conv == nil || conv.Identity == nil {
		runner.Poll = time.Second // only leftovers to publish: no need to look ten times a second
		return nil, runner
	}
	return store, runner
}
