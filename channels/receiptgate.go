package channels

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// ReceiptGate decides whether a receipt may go out. It asks the shared ReceiptLimiter;
// while that is missing or failing it counts in this process's memory instead, so a Redis
// outage neither holds intake up nor lets receipts go out unlimited. A receipt held back
// is counted through Limited (the metric intake_receipts_limited_total). The zero value
// limits in memory; a nil *ReceiptGate lets every receipt through.
type ReceiptGate struct {
	Shared  ReceiptLimiter
	Limited func(channel, reason string)
	Log     *slog.Logger

	warned atomic.Bool
	mu     sync.Mutex
	mem    map[string]memBudget
}

type memBudget struct {
	n     int
	until time.Time
}

// memPrune is how many budgets the memory may hold before spent windows are dropped.
const memPrune = 10000

// Allow reports whether one more receipt on channel fits every limit, and counts it.
func (g *ReceiptGate) Allow(ctx context.Context, channel string, limits ...ReceiptLimit) bool {
	if g == nil || len(limits) == 0 {
		return true
	}
	refused := ""
	shared := false
	if g.Shared != nil {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		r, err := g.Shared.ClaimReceipt(cctx, limits...)
		cancel()
		if err == nil {
			refused, shared = r, true
			g.warned.Store(false)
		} else if g.warned.CompareAndSwap(false, true) && g.Log != nil {
			// Once per outage: a flood of receipts must not become a flood of log lines.
			g.Log.Warn("receipt limits unavailable; limiting in this process's memory until they answer",
				"channel", channel, "err", err)
		}
	}
	if !shared {
		refused = g.claimMem(time.Now(), limits)
	}
	if refused == "" {
		return true
	}
	if g.Limited != nil {
		g.Limited(channel, refused)
	}
	return false
}

// claimMem is ClaimReceipt in memory: all limits or none.
func (g *ReceiptGate) claimMem(now time.Time, limits []ReceiptLimit) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.mem == nil {
		g.mem = map[string]memBudget{}
	}
	if len(g.mem) > memPrune {
		for k, b := range g.mem {
			if !now.Before(b.until) {
				delete(g.mem, k)
			}
		}
	}
	for _, l := range limits {
		if b, ok := g.mem[l.Key]; ok && now.Before(b.until) && b.n >= l.Max {
			return l.Reason
		}
	}
	for _, l := range limits {
		b, ok := g.mem[l.Key]
		if !ok || !now.Before(b.until) {
			b = memBudget{until: now.Add(l.Window)}
		}
		b.n++
		g.mem[l.Key] = b
	}
	return ""
}
