package main

import (
	"log/slog"

	"github.com/lapor/intake/config"
	"github.com/lapor/intake/conversation"
	"github.com/lapor/intake/queue"
)

// burstWiring wires CONTRACT §8's bursts: the store in Redis (shared by every replica)
// and the runner that publishes due bursts. Bursts need the citizen_id (a burst is one
// citizen's); without INTAKE_CITIZEN_KEY they are off, with a warning.
func burstWiring(cfg *config.Config, conv *conversation.Layer, q *queue.Queue, fetch map[string]bool, log *slog.Logger) (conversation.BurstStore, *conversation.BurstRunner) {
	if conv == nil || conv.Identity == nil {
		if cfg.Bursts.On() {
			log.Warn("INTAKE_BURST_WINDOW / INTAKE_SMS_BURST_WINDOW have no effect without INTAKE_CITIZEN_KEY: each message is its own complaint")
		}
		return nil, nil
	}
	store := q.Bursts()
	store.SetFetchProviders(fetch) // for spooled parts that come back as follow-ups
	// The runner runs even with bursts off: bursts staged before the windows were turned
	// off (by this or another replica) are still published.
	runner := &conversation.BurstRunner{Store: store, Publisher: q, FetchProviders: fetch, Layer: conv, Log: log,
		Hold: store.Holding}
	if !cfg.Bursts.On() {
		return nil, runner
	}
	return store, runner
}
