package client

import "sync/atomic"

// Stats counts what a Consumer did since it was created; a core exports them as metrics.
type Stats struct {
	Handled         int64 // handler returned nil and the entry was acknowledged
	Failed          int64 // handler returned an error or panicked; the entry stays pending
	Panics          int64 // handler panics (also counted in Failed or DeadLettered)
	DeadLettered    int64 // entries moved to the dead-letter stream
	Claimed         int64 // entries taken over from idle consumers (or own failed ones)
	Recovered       int64 // own pending entries re-read after a restart
	AckedAway       int64 // pending ids whose entry was trimmed or deleted, acknowledged without a handler
	AckRetries      int64 // XACKs that failed and were retried
	GroupsRecreated int64 // NOGROUP answers that made the group be created again
	Lost            int64 // in-flight entries another consumer claimed (heartbeat too late)
}

type stats struct {
	handled, failed, panics, deadLettered, claimed, recovered, ackedAway, ackRetries,
	groupsRecreated, lost atomic.Int64
}

// Stats returns the counters so far.
func (c *Consumer) Stats() Stats {
	s := &c.stats
	return Stats{
		Handled: s.handled.Load(), Failed: s.failed.Load(), Panics: s.panics.Load(),
		DeadLettered: s.deadLettered.Load(), Claimed: s.claimed.Load(), Recovered: s.recovered.Load(),
		AckedAway: s.ackedAway.Load(), AckRetries: s.ackRetries.Load(),
		GroupsRecreated: s.groupsRecreated.Load(), Lost: s.lost.Load(),
	}
}
