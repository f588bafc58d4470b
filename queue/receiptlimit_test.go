package queue

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lapor/intake/channels"
	"github.com/lapor/intake/internal/testenv"
)

func openLimits(t *testing.T) (*ReceiptLimits, *env) {
	t.Helper()
	e := newEnv(t, testenv.RedisAddr(t))
	l, err := OpenReceiptLimits(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l, e
}

// Budgets are shared by every client (replicas), all or none, and no key names the citizen.
func TestReceiptLimitsInRedis(t *testing.T) {
	l, e := openLimits(t)
	other, err := OpenReceiptLimits(e.cfg) // a second replica
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	ctx := context.Background()
	citizen := channels.ReceiptLimit{Reason: "citizen", Key: "sms:+6281234567890", Max: 3, Window: time.Hour}
	for i := 0; i < 3; i++ {
		via := l
		if i%2 == 1 {
			via = other
		}
		if r, err := via.ClaimReceipt(ctx, citizen); err != nil || r != "" {
			t.Fatalf("claim %d: refused %q, err %v", i+1, r, err)
		}
	}
	if r, err := other.ClaimReceipt(ctx, citizen); err != nil || r != "citizen" {
		t.Fatalf("4th claim: refused %q, err %v; want citizen", r, err)
	}
	// All or none: a full domain budget refuses, and the recipient's budget is not spent.
	domain := channels.ReceiptLimit{Reason: "domain", Key: "email-domain:example.com", Max: 1, Window: time.Hour}
	a := channels.ReceiptLimit{Reason: "recipient", Key: "a@example.com", Max: 1, Window: time.Hour}
	b := channels.ReceiptLimit{Reason: "recipient", Key: "b@example.com", Max: 1, Window: time.Hour}
	if r, _ := l.ClaimReceipt(ctx, a, domain); r != "" {
		t.Fatalf("first mail to the domain refused: %q", r)
	}
	if r, _ := l.ClaimReceipt(ctx, b, domain); r != "domain" {
		t.Fatalf("second mail to a full domain: refused %q, want domain", r)
	}
	if r, _ := l.ClaimReceipt(ctx, b); r != "" {
		t.Fatalf("b's budget was spent by a refused claim: %q", r)
	}
	keys, err := e.rdb.Keys(ctx, e.prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if strings.Contains(k, "628123") || strings.Contains(k, "example.com") {
			t.Errorf("key %q names the citizen", k)
		}
		if ttl := e.rdb.PTTL(ctx, k).Val(); ttl <= 0 || ttl > time.Hour {
			t.Errorf("key %q has TTL %v, want within the window", k, ttl)
		}
	}
	if len(keys) != 4 {
		t.Errorf("%d keys, want 4 (citizen, domain, a, b)", len(keys))
	}
}

// The window ends: a spent budget is whole again after it.
func TestReceiptLimitWindowEnds(t *testing.T) {
	l, _ := openLimits(t)
	ctx := context.Background()
	lim := channels.ReceiptLimit{Reason: "citizen", Key: "whatsapp:6281", Max: 1, Window: 50 * time.Millisecond}
	if r, _ := l.ClaimReceipt(ctx, lim); r != "" {
		t.Fatalf("first claim refused %q", r)
	}
	if r, _ := l.ClaimReceipt(ctx, lim); r != "citizen" {
		t.Fatalf("second claim in the window: %q", r)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		r, err := l.ClaimReceipt(ctx, lim)
		if err != nil {
			t.Fatal(err)
		}
		if r == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the budget never came back after its window")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Concurrent claims from many goroutines never exceed the budget (the script is atomic).
func TestReceiptLimitsAtomic(t *testing.T) {
	l, _ := openLimits(t)
	lim := channels.ReceiptLimit{Reason: "global", Key: "email-global", Max: 10, Window: time.Hour}
	var mu sync.Mutex
	granted := 0
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r, err := l.ClaimReceipt(context.Background(), lim); err == nil && r == "" {
				mu.Lock()
				granted++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if granted != 10 {
		t.Fatalf("%d receipts granted, want exactly 10", granted)
	}
}

// Redis forgetting the script (a restart, SCRIPT FLUSH) costs no claim; after Close a
// claim fails at once instead of hanging.
func TestReceiptLimitsScriptFlushAndClose(t *testing.T) {
	l, e := openLimits(t)
	ctx := context.Background()
	lim := channels.ReceiptLimit{Reason: "citizen", Key: "sms:+6281", Max: 1, Window: time.Hour}
	if err := e.rdb.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if r, err := l.ClaimReceipt(ctx, lim); err != nil || r != "" {
		t.Fatalf("claim after SCRIPT FLUSH: %q %v", r, err)
	}
	if r, err := l.ClaimReceipt(ctx, lim); err != nil || r != "citizen" {
		t.Fatalf("second claim: %q %v", r, err)
	}
	_ = l.Close()
	if _, err := l.ClaimReceipt(ctx, lim); err == nil {
		t.Fatal("a claim after Close succeeded")
	}
}
