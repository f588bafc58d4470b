package conversation

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/lapor/intake/record"
)

// BurstPublisher is where an assembled burst goes: the queue's ordinary publish path
// (Stage for a record whose remote media a worker downloads).
type BurstPublisher interface {
	Publish(ctx context.Context, c *record.Complaint) (record.Stored, error)
	Stage(ctx context.Context, c *record.Complaint) (record.Stored, error)
}

// BurstRunner publishes due bursts. Any number of gateways run one on the same store:
// a burst is claimed with a lease, and a burst whose holder died before it was done is
// claimed again once the lease runs out; its record's dedupe key (the burst id) makes
// the second publish a no-op.
type BurstRunner struct {
	Store     BurstStore
	Publisher BurstPublisher
	// FetchProviders: a record with pending remote media of these providers is staged.
	FetchProviders map[string]bool
	Log            *slog.Logger
	// Poll is how often due bursts are looked for (default 100ms); Lease how long a
	// claimed burst is its holder's (default 30s).
	Poll, Lease time.Duration
	// Hold, when it answers true, makes the runner wait: this process's spool holds burst
	// parts that must join their bursts before those are published (queue.Bursts.Holding).
	Hold func() bool
	// Settle is how long the runner waits once the store answers again after an outage,
	// so every replica's spool can give back its parts first (default 5s).
	Settle time.Duration
	// Published, when set, is called for each burst published (a metric).
	Published func()
}

// DefaultBurstSettle is BurstRunner.Settle's default.
const DefaultBurstSettle = 5 * time.Second

// claimBatch is the most bursts claimed (and published together) at once.
const claimBatch = 128

// Name implements channels.Runner.
func (r *BurstRunner) Name() string { return "bursts" }

// Run publishes due bursts until ctx ends.
func (r *BurstRunner) Run(ctx context.Context) error {
	poll, lease := r.Poll, r.Lease
	if poll <= 0 {
		poll = 100 * time.Millisecond
	}
	if lease <= 0 {
		lease = 30 * time.Second
	}
	log := r.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	settle := r.Settle
	if settle <= 0 {
		settle = DefaultBurstSettle
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	var failing bool      // the last claim failed: wait for the store, then settle
	var settled time.Time // no claim before this
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if r.Hold != nil && r.Hold() {
			continue
		}
		if failing {
			if r.Store.Ping(ctx) != nil {
				continue
			}
			failing, settled = false, time.Now().Add(settle)
			log.Info("bursts: the store answers again; publishing resumes once spooled parts had time to join", "after", settle)
		}
		if time.Now().Before(settled) {
			continue
		}
		for ctx.Err() == nil {
			due, err := r.Store.ClaimDue(ctx, lease, claimBatch)
			if err != nil {
				if ctx.Err() == nil {
					log.Warn("bursts: due bursts not claimed; trying again", "err", err)
					failing = true
				}
				break
			}
			// Published side by side, so the queue's writer sends them in one pipeline;
			// then forgotten in one transaction.
			var wg sync.WaitGroup
			published := make([]bool, len(due))
			for i, d := range due {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if err := r.publish(ctx, d); err != nil {
						if ctx.Err() == nil {
							log.Error("burst not published; it is claimed again when its lease runs out", "burst", d.BurstID, "err", err)
						}
						return
					}
					published[i] = true
					if r.Published != nil {
						r.Published()
					}
				}()
			}
			wg.Wait()
			var done []string
			for i, d := range due {
				if published[i] {
					done = append(done, d.BurstID)
				}
			}
			if err := r.Store.Done(ctx, done...); err != nil && ctx.Err() == nil {
				log.Warn("published bursts not forgotten; they are published again (as duplicates) when their lease runs out", "err", err)
			}
			if len(due) < claimBatch {
				break
			}
		}
	}
}

// publish writes one burst's record; Run forgets the burst after. A crash in between
// leaves the burst to be claimed again; its second publish writes nothing.
func (r *BurstRunner) publish(ctx context.Context, d DueBurst) error {
	c := AssembleBurst(d)
	if c == nil {
		return nil
	}
	stage := false
	for _, a := range c.Attachments {
		if a.Status == record.MediaPending && (a.SourceURL != "" || a.MediaID != "") && r.FetchProviders[c.Provider] {
			stage = true
		}
	}
	// The publish script notes the complaint's owner (its citizen_id) with the record, so a
	// later message naming its reference can link.
	var err error
	if stage {
		_, err = r.Publisher.Stage(ctx, c)
	} else {
		_, err = r.Publisher.Publish(ctx, c)
	}
	return err
}
