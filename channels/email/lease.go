package email

import (
	"context"
	"math/rand/v2"
	"time"
)

// Leaser lets one gateway process at a time poll a mailbox when several share one Redis
// (queue.MailState in production). A lease lasts LeaseTTL without renewal; its holder
// renews it every third of that, stops polling when it cannot prove it still holds it,
// and releases it at shutdown, so a surviving process takes the mailbox within one TTL of
// a holder's death. The state store refuses a cursor write from a holder whose lease
// passed to another (fencing); records need no lease, the queue's dedupe makes a mail
// read twice one record.
type Leaser interface {
	AcquireLease(ctx context.Context, mailbox string) (bool, error)
	RenewLease(ctx context.Context, mailbox string) (bool, error)
	ReleaseLease(ctx context.Context, mailbox string) error
	LeaseTTL() time.Duration
}

// runLeased waits for the mailbox's lease and polls while it holds it, until ctx ends.
func (p *poller) runLeased(ctx context.Context) {
	ttl := p.opts.Leases.LeaseTTL()
	key := p.mb.StateKey()
	waiting := false
	for {
		ok, err := p.opts.Leases.AcquireLease(ctx, key)
		switch {
		case ok:
			p.log.Info("mailbox lease taken; polling")
			waiting = false
			p.holdLease(ctx, ttl)
			if ctx.Err() != nil {
				return
			}
		case err != nil && ctx.Err() == nil:
			p.log.Warn("mailbox lease unavailable; retrying", "err", err)
		case !waiting:
			p.log.Info("mailbox polled by another gateway process; standing by")
			waiting = true
		}
		// A free lease is tried every quarter TTL, with jitter, so a dead holder's mailbox
		// is taken over within 1.25 TTL (25 s with the default 20 s).
		t := time.NewTimer(ttl/8 + rand.N(ttl/8+1))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// holdLease polls the mailbox while the lease is renewed. It returns when ctx ends (the
// lease is released) or when the lease is lost or cannot be renewed before it would
// expire (the session is stopped first, and the lease left to expire).
func (p *poller) holdLease(ctx context.Context, ttl time.Duration) {
	key := p.mb.StateKey()
	hctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); p.runSessions(hctx) }()
	// Valid until, by this process's clock: measured from before the call that granted or
	// renewed it, with a margin for clock drift and the stop itself.
	validUntil := time.Now().Add(ttl * 8 / 10)
	tick := time.NewTicker(ttl / 3)
	defer tick.Stop()
	lost := false
	for !lost && ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-tick.C:
			start := time.Now()
			rctx, cancel := context.WithTimeout(ctx, ttl/3)
			ok, err := p.opts.Leases.RenewLease(rctx, key)
			cancel()
			switch {
			case ok:
				validUntil = start.Add(ttl * 8 / 10)
			case err == nil:
				p.log.Warn("mailbox lease lost to another gateway process; stopping this poller")
				lost = true
			case time.Now().After(validUntil):
				p.log.Warn("mailbox lease could not be renewed in time; stopping this poller", "err", err)
				lost = true
			default:
				p.log.Warn("mailbox lease renewal failed; retrying", "err", err)
			}
		}
	}
	stop()
	<-done
	if ctx.Err() != nil {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := p.opts.Leases.ReleaseLease(rctx, key); err != nil {
			p.log.Warn("mailbox lease not released; another process takes the mailbox when it expires", "err", err)
		}
	}
}
