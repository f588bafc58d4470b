package channels

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"
)

type failingLimiter struct{ calls int }

func (f *failingLimiter) ClaimReceipt(context.Context, ...ReceiptLimit) (string, error) {
	f.calls++
	return "", errors.New("redis: connection refused")
}

type countingLimiter struct{ left int }

func (c *countingLimiter) ClaimReceipt(_ context.Context, limits ...ReceiptLimit) (string, error) {
	if c.left == 0 {
		return limits[0].Reason, nil
	}
	c.left--
	return "", nil
}

// The memory budget: all limits or none, windows end, and each refusal is counted.
func TestReceiptGateInMemory(t *testing.T) {
	var limited []string
	g := &ReceiptGate{Limited: func(ch, reason string) { limited = append(limited, ch+"/"+reason) }}
	citizen := Receipts{PerCitizen: 2, PerCitizenWindow: time.Hour}.CitizenLimits("sms", "+6281")[0]
	ctx := context.Background()
	if !g.Allow(ctx, "sms", citizen) || !g.Allow(ctx, "sms", citizen) || g.Allow(ctx, "sms", citizen) {
		t.Fatal("want 2 receipts per citizen, then none")
	}
	if !g.Allow(ctx, "sms", Receipts{PerCitizen: 2}.CitizenLimits("sms", "+6282")...) {
		t.Fatal("another citizen's receipt refused")
	}
	if strings.Join(limited, ",") != "sms/citizen" {
		t.Fatalf("limited counted %v", limited)
	}
	// All or none: a full domain budget does not spend the recipient's.
	dom := ReceiptLimit{Reason: "domain", Key: "d", Max: 1, Window: time.Hour}
	a := ReceiptLimit{Reason: "recipient", Key: "a", Max: 1, Window: time.Hour}
	b := ReceiptLimit{Reason: "recipient", Key: "b", Max: 1, Window: time.Hour}
	if !g.Allow(ctx, "email", a, dom) || g.Allow(ctx, "email", b, dom) || !g.Allow(ctx, "email", b) {
		t.Fatal("a refused claim spent a budget")
	}
	// A window ends.
	now := time.Now()
	short := ReceiptLimit{Reason: "citizen", Key: "w", Max: 1, Window: time.Minute}
	if g.claimMem(now, []ReceiptLimit{short}) != "" || g.claimMem(now.Add(59*time.Second), []ReceiptLimit{short}) == "" ||
		g.claimMem(now.Add(61*time.Second), []ReceiptLimit{short}) != "" {
		t.Fatal("the window does not end after its length")
	}
	if off := (Receipts{}).CitizenLimits("sms", "+6281"); off != nil {
		t.Fatalf("PerCitizen 0 (off) still limits: %v", off)
	}
	var nilGate *ReceiptGate
	if !nilGate.Allow(ctx, "sms", citizen) {
		t.Fatal("a nil gate refused")
	}
}

// The shared limiter decides while it answers; while it fails, memory limits, and the
// failure is logged once, not once per receipt.
func TestReceiptGateSharedAndFallback(t *testing.T) {
	ctx := context.Background()
	lim := ReceiptLimit{Reason: "citizen", Key: "x", Max: 1, Window: time.Hour}
	shared := &countingLimiter{left: 3}
	g := &ReceiptGate{Shared: shared}
	for i := 0; i < 3; i++ {
		if !g.Allow(ctx, "sms", lim) {
			t.Fatalf("receipt %d refused: the shared limiter has room, memory must not decide", i+1)
		}
	}
	if g.Allow(ctx, "sms", lim) {
		t.Fatal("the shared limiter's refusal was ignored")
	}
	var buf bytes.Buffer
	f := &failingLimiter{}
	g = &ReceiptGate{Shared: f, Log: slog.New(slog.NewTextHandler(&buf, nil))}
	if !g.Allow(ctx, "sms", lim) || g.Allow(ctx, "sms", lim) || g.Allow(ctx, "sms", lim) {
		t.Fatal("with the shared limiter down, memory does not limit")
	}
	if f.calls != 3 || strings.Count(buf.String(), "receipt limits unavailable") != 1 {
		t.Fatalf("%d calls, log:\n%s", f.calls, buf.String())
	}
}

// A flood of distinct senders fills FirstInProcess's memory: past its bound every receipt
// is counted in Redis (false), and the spent windows are dropped by one scan a minute at
// most, not one per message, after which first receipts are counted in memory again.
func TestFirstInProcessBoundedAndPrunedOncePerMinute(t *testing.T) {
	g := &ReceiptGate{}
	now := time.Unix(1_800_000_000, 0)
	for i := range maxFirstInProcess {
		if !g.FirstInProcess("sms:+62812"+strconv.Itoa(i), time.Second, now) {
			t.Fatalf("sender %d: a first receipt was not counted in memory", i)
		}
	}
	if g.FirstInProcess("sms:+6289999", time.Second, now) {
		t.Fatal("a full memory took one more sender")
	}
	later := now.Add(2 * time.Second) // every window spent, but the last scan is recent
	g.pruned = later.Add(-pruneEvery / 2)
	if g.FirstInProcess("sms:+6289999", time.Second, later) || len(g.first) != maxFirstInProcess {
		t.Fatalf("memory scanned again within %s of the last scan (%d kept)", pruneEvery, len(g.first))
	}
	if !g.FirstInProcess("sms:+6289999", time.Second, later.Add(pruneEvery)) || len(g.first) != 1 {
		t.Fatalf("spent windows not dropped after %s: %d kept", pruneEvery, len(g.first))
	}
}
