package channels

import (
	"context"
	"hash/maphash"
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
	// first holds, per budget key's hash, the end of the window (Unix nanoseconds) in which
	// this process gave the first receipt without counting it in Redis (see
	// FirstInProcess). Neither key nor value holds a pointer, so the garbage collector
	// never scans its up to 100,000 entries; two keys sharing a hash only means one of
	// them is counted in Redis from its first receipt.
	first map[uint64]int64
	seed  maphash.Seed
	// pruned is when the maps were last cleared of spent windows: a scan of a full map
	// runs at most once per pruneEvery, never once per message of a flood.
	pruned time.Time
}

// pruneEvery is the least time between two scans for spent windows.
const pruneEvery = time.Minute

// prune drops spent windows from both maps when one is over its bound and the last scan
// is pruneEvery old. The caller holds g.mu.
func (g *ReceiptGate) prune(now time.Time) {
	if (len(g.first) < maxFirstInProcess && len(g.mem) <= memPrune) || now.Sub(g.pruned) < pruneEvery {
		return
	}
	g.pruned = now
	for k, until := range g.first {
		if now.UnixNano() >= until {
			delete(g.first, k)
		}
	}
	for k, b := range g.mem {
		if !now.Before(b.until) {
			delete(g.mem, k)
		}
	}
}

// maxFirstInProcess bounds FirstInProcess's memory: a flood of distinct senders beyond it
// is counted in Redis from the first receipt.
const maxFirstInProcess = 100000

// FirstInProcess reports whether this is key's first receipt in this process within
// window, and remembers it. A webhook lets such a receipt through without asking Redis
// and counts only the later ones there, against one less than the budget: most citizens
// write once, so most messages cost the budget nothing, and a citizen gets at most
// budget + (processes − 1) receipts per window. A nil gate answers false.
func (g *ReceiptGate) FirstInProcess(key string, window time.Duration, now time.Time) bool {
	if g == nil {
		return false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.first == nil {
		g.first, g.seed = map[uint64]int64{}, maphash.MakeSeed()
	}
	h := maphash.String(g.seed, key)
	if until, ok := g.first[h]; ok && now.UnixNano() < until {
		return false
	}
	g.prune(now)
	if len(g.first) >= maxFirstInProcess {
		return false
	}
	g.first[h] = now.Add(window).UnixNano()
	return true
}

type memBudget struct {
	n     int
	until time.Time
}

// memPrune is how many budgets the memory may hold before spent windows are dropped;
// memMax is as many as it ever holds: beyond it (a flood while Redis is away) receipts are
// held back rather than sent uncounted.
const (
	memPrune = 10000
	memMax   = 200000
)

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
	g.Held(channel, refused)
	return false
}

// AllowLocal is Allow counted in this process's memory only: for a message whose budget
// the store could not count because Redis was away (the record went to the spool).
func (g *ReceiptGate) AllowLocal(channel string, limits ...ReceiptLimit) bool {
	if g == nil || len(limits) == 0 {
		return true
	}
	if refused := g.claimMem(time.Now(), limits); refused != "" {
		g.Held(channel, refused)
		return false
	}
	return true
}

// Held counts a receipt held back for the budget named reason, whoever counted it (the
// store counts a message's citizen budget as it writes the record).
func (g *ReceiptGate) Held(channel, reason string) {
	if g != nil && g.Limited != nil {
		g.Limited(channel, reason)
	}
}

// claimMem is ClaimReceipt in memory: all limits or none.
func (g *ReceiptGate) claimMem(now time.Time, limits []ReceiptLimit) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.mem == nil {
		g.mem = map[string]memBudget{}
	}
	g.prune(now)
	for _, l := range limits {
		if _, ok := g.mem[l.Key]; !ok && len(g.mem) >= memMax {
			return l.Reason
		}
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
