package client_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lapor/intake/client"
	"github.com/redis/go-redis/v9"
)

func TestHandlesEachEntryOnceAndAcknowledges(t *testing.T) {
	e := newEnv(t)
	ids := e.add(20)
	var rec recorder
	c := e.consumer(quiet(e.config("core-1")))
	r := e.run(c, rec.handle)
	waitFor(t, "20 entries handled", func() bool { return rec.count() >= 20 })
	if err := r.stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got := rec.ids(); !slices.Equal(got, ids) {
		t.Fatalf("handled %v, want each of %v once, in order (concurrency 1)", got, ids)
	}
	for _, en := range rec.calls {
		if en.Deliveries != 1 || en.Stream != e.stream || en.Values["n"] == "" {
			t.Fatalf("entry %+v: want first delivery of %s with its fields", en, e.stream)
		}
	}
	if p := e.pending(); len(p) != 0 {
		t.Fatalf("%d entries left pending after success", len(p))
	}
	if s := c.Stats(); s.Handled != 20 || s.Failed != 0 {
		t.Fatalf("stats %+v", s)
	}
}

// A consumer that restarts under its name takes up what it held before anything else.
func TestOwnPendingEntriesFirstAfterRestart(t *testing.T) {
	e := newEnv(t)
	e.group()
	old := e.add(3)
	e.deliverTo("core-1", 3) // the earlier run read them and crashed
	fresh := e.add(2)
	var rec recorder
	cfg := e.config("core-1")
	cfg.ClaimIdle = 1 << 40 // claims play no part here
	cfg.Heartbeat = 0
	c := e.consumer(cfg)
	e.run(c, rec.handle)
	waitFor(t, "5 entries handled", func() bool { return rec.count() >= 5 })
	if got, want := rec.ids(), append(slices.Clone(old), fresh...); !slices.Equal(got, want) {
		t.Fatalf("handled %v, want own pending %v first, then new %v", got, old, fresh)
	}
	for _, id := range old {
		if d := rec.of(id)[0].Deliveries; d != 2 {
			t.Fatalf("own pending entry %s: deliveries %d, want 2 (the crashed run's and this one)", id, d)
		}
	}
	if s := c.Stats(); s.Recovered != 3 {
		t.Fatalf("Recovered %d, want 3", s.Recovered)
	}
}

// Entries held by a consumer that died are claimed after ClaimIdle by a live one.
func TestClaimsStaleEntriesOfDeadConsumer(t *testing.T) {
	e := newEnv(t)
	e.group()
	ids := e.add(3)
	e.deliverTo("core-dead", 3)
	var rec recorder
	c := e.consumer(e.config("core-2"))
	e.run(c, rec.handle)
	waitFor(t, "the dead consumer's entries handled", func() bool { return rec.count() >= 3 })
	for _, id := range ids {
		calls := rec.of(id)
		if len(calls) != 1 || calls[0].Deliveries != 2 {
			t.Fatalf("entry %s: calls %+v, want one, as delivery 2", id, calls)
		}
	}
	waitFor(t, "nothing pending", func() bool { return len(e.pending()) == 0 })
	if s := c.Stats(); s.Claimed != 3 {
		t.Fatalf("Claimed %d, want 3", s.Claimed)
	}
}

// go-redis does not interrupt a blocking read on cancel; the bounded Block makes Run return.
func TestRunReturnsAfterCancel(t *testing.T) {
	e := newEnv(t)
	cfg := e.config("core-1")
	cfg.Block = 0           // the default, 2s
	cfg.ClaimIdle = 1 << 40 // no claim round shortens the blocking read
	cfg.Heartbeat = time.Second
	c := e.consumer(cfg)
	r := e.run(c, func(context.Context, client.Entry) error { return nil })
	waitFor(t, "the consumer to join the group", func() bool {
		cs, err := e.rdb.XInfoConsumers(context.Background(), e.stream, client.DefaultGroup).Result()
		return err == nil && len(cs) == 1
	})
	if err := r.stop(); err != nil {
		t.Fatalf("Run returned %v after cancel, want nil", err)
	}
}

// A handler interrupted by shutdown leaves its entry pending; it is not a failure and is
// never dead-lettered, even on its last allowed delivery.
func TestShutdownLeavesInterruptedEntryPending(t *testing.T) {
	e := newEnv(t)
	ids := e.add(1)
	cfg := e.config("core-1")
	cfg.MaxDeliveries = 1
	c := e.consumer(cfg)
	started := make(chan struct{})
	r := e.run(c, func(ctx context.Context, _ client.Entry) error {
		close(started)
		<-ctx.Done()
		return ctx.Err()
	})
	<-started
	if err := r.stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	p := e.pending()
	if len(p) != 1 || p[0].ID != ids[0] || p[0].Consumer != "core-1" {
		t.Fatalf("pending %+v, want %s still held by core-1", p, ids[0])
	}
	if d := e.dead(); len(d) != 0 {
		t.Fatalf("interrupted entry was dead-lettered: %+v", d)
	}
	// The consumer was not deleted: its pending entry is there for the next start.
	var rec recorder
	cfg.MaxDeliveries = 5
	e.run(e.consumer(cfg), rec.handle)
	waitFor(t, "the interrupted entry handled after restart", func() bool { return rec.count() == 1 })
	if got := rec.calls[0]; got.ID != ids[0] || got.Deliveries != 2 {
		t.Fatalf("after restart got %+v, want %s as delivery 2", got, ids[0])
	}
}

// Deliveries is Redis's own count: it rises with each failed attempt.
func TestDeliveryCountsRiseWithEachAttempt(t *testing.T) {
	e := newEnv(t)
	ids := e.add(1)
	rec := recorder{fn: func(_ client.Entry, call int) error {
		if call < 3 {
			return errors.New("core database busy")
		}
		return nil
	}}
	c := e.consumer(e.config("core-1"))
	e.run(c, rec.handle)
	waitFor(t, "third attempt", func() bool { return rec.count() >= 3 })
	waitFor(t, "nothing pending", func() bool { return len(e.pending()) == 0 })
	var got []int64
	for _, en := range rec.of(ids[0]) {
		got = append(got, en.Deliveries)
	}
	if !slices.Equal(got, []int64{1, 2, 3}) {
		t.Fatalf("deliveries seen %v, want [1 2 3]", got)
	}
	if s := c.Stats(); s.Failed != 2 || s.Handled != 1 {
		t.Fatalf("stats %+v, want 2 failed then 1 handled", s)
	}
}

// A poison entry is dead-lettered after exactly MaxDeliveries, with the reason, while
// other work goes on (pipeshub-ai#2992).
func TestDeadLetterAfterMaxDeliveries(t *testing.T) {
	e := newEnv(t)
	ids := e.add(3)
	poison := ids[1]
	rec := recorder{fn: func(en client.Entry, _ int) error {
		if en.ID == poison {
			return errors.New("core rejects: field missing")
		}
		return nil
	}}
	cfg := e.config("core-1")
	cfg.MaxDeliveries = 3
	c := e.consumer(cfg)
	r := e.run(c, rec.handle)
	waitFor(t, "the poison entry dead-lettered", func() bool { return len(e.dead()) == 1 })
	r.stop()
	if n := len(rec.of(poison)); n != 3 {
		t.Fatalf("poison handled %d times, want exactly MaxDeliveries = 3", n)
	}
	for _, id := range []string{ids[0], ids[2]} {
		if n := len(rec.of(id)); n != 1 {
			t.Fatalf("good entry %s handled %d times, want 1", id, n)
		}
	}
	d := e.dead()[0].Values
	if d["n"] != "1" || d[client.FieldOriginalID] != poison || d[client.FieldDeliveries] != "3" ||
		!strings.Contains(d[client.FieldReason].(string), "core rejects: field missing") {
		t.Fatalf("dead entry %v: want the original fields, original_id %s, deliveries 3 and the handler's error", d, poison)
	}
	if p := e.pending(); len(p) != 0 {
		t.Fatalf("pending after dead-letter: %+v", p)
	}
	if s := c.Stats(); s.DeadLettered != 1 || s.Handled != 2 {
		t.Fatalf("stats %+v", s)
	}
}

func TestPermanentErrorDeadLettersAtOnce(t *testing.T) {
	e := newEnv(t)
	// A complaint entry whose record is broken: DecodeComplaint's error is Permanent.
	id, _ := e.rdb.XAdd(context.Background(), &redis.XAddArgs{Stream: e.stream, Values: []any{"id", "X", "channel", "sms", "complaint", "{not json"}}).Result()
	var calls atomic.Int32
	c := e.consumer(e.config("core-1"))
	e.run(c, func(_ context.Context, en client.Entry) error {
		calls.Add(1)
		_, err := client.DecodeComplaint(en)
		return err
	})
	waitFor(t, "dead-lettered", func() bool { return len(e.dead()) == 1 })
	d := e.dead()[0].Values
	if calls.Load() != 1 || d[client.FieldDeliveries] != "1" || d[client.FieldOriginalID] != id ||
		!strings.Contains(d[client.FieldReason].(string), "decode") || d["complaint"] != "{not json" {
		t.Fatalf("calls %d, dead entry %v: want one call, delivery 1, reason decode, raw fields kept", calls.Load(), d)
	}
}

// An entry delivered more than MaxDeliveries times without any handler finishing (the
// handler kills the process each time) is dead-lettered without running the handler.
func TestCrashLoopEntryDeadLetteredWithoutHandler(t *testing.T) {
	e := newEnv(t)
	e.group()
	ids := e.add(1)
	e.deliverTo("core-1", 1)
	for range 2 { // two more crashed starts re-read their own pending entry
		e.rdb.XReadGroup(context.Background(), &redis.XReadGroupArgs{Group: client.DefaultGroup, Consumer: "core-1", Streams: []string{e.stream, "0"}, Block: -1})
	}
	cfg := e.config("core-1")
	cfg.MaxDeliveries = 3
	var calls atomic.Int32
	e.run(e.consumer(cfg), func(context.Context, client.Entry) error { calls.Add(1); return nil })
	waitFor(t, "dead-lettered", func() bool { return len(e.dead()) == 1 })
	d := e.dead()[0].Values
	if calls.Load() != 0 || d[client.FieldOriginalID] != ids[0] || d[client.FieldDeliveries] != "4" ||
		!strings.Contains(d[client.FieldReason].(string), "without a handler finishing") {
		t.Fatalf("calls %d, dead %v: want the handler never called and deliveries 4", calls.Load(), d)
	}
}

func TestHandlerPanicIsAFailedDelivery(t *testing.T) {
	e := newEnv(t)
	ids := e.add(2)
	rec := recorder{fn: func(en client.Entry, call int) error {
		if en.ID == ids[0] && call == 1 {
			panic("nil map in core")
		}
		if en.ID == ids[1] {
			panic("always")
		}
		return nil
	}}
	cfg := e.config("core-1")
	cfg.MaxDeliveries = 2
	c := e.consumer(cfg)
	e.run(c, rec.handle)
	waitFor(t, "retried after panic and the other dead", func() bool {
		return len(rec.of(ids[0])) == 2 && len(e.dead()) == 1
	})
	waitFor(t, "nothing pending", func() bool { return len(e.pending()) == 0 })
	if d := rec.of(ids[0])[1].Deliveries; d != 2 {
		t.Fatalf("retry after panic was delivery %d, want 2", d)
	}
	dead := e.dead()[0].Values
	if dead[client.FieldOriginalID] != ids[1] || !strings.Contains(dead[client.FieldReason].(string), "handler panicked: always") {
		t.Fatalf("dead %v", dead)
	}
	if s := c.Stats(); s.Panics != 3 || s.Handled != 1 || s.DeadLettered != 1 {
		t.Fatalf("stats %+v, want 3 panics, 1 handled, 1 dead", s)
	}
	if !strings.Contains(e.logs.String(), "handler panicked") {
		t.Fatal("panic not logged")
	}
}

func TestTwoConsumersHandleEachEntryOnce(t *testing.T) {
	e := newEnv(t)
	e.group()
	var rec1, rec2 recorder
	e.run(e.consumer(quiet(e.config("core-1"))), rec1.handle)
	e.run(e.consumer(quiet(e.config("core-2"))), rec2.handle)
	ids := e.add(100)
	waitFor(t, "100 handled", func() bool { return rec1.count()+rec2.count() >= 100 })
	seen := map[string]int{}
	for _, id := range append(rec1.ids(), rec2.ids()...) {
		seen[id]++
	}
	for _, id := range ids {
		if seen[id] != 1 {
			t.Fatalf("entry %s handled %d times, want once", id, seen[id])
		}
	}
	if len(seen) != 100 {
		t.Fatalf("%d distinct entries handled, want 100", len(seen))
	}
}

func TestConcurrencyRunsHandlersInParallel(t *testing.T) {
	e := newEnv(t)
	e.add(10)
	cfg := quiet(e.config("core-1"))
	cfg.Concurrency = 4
	var now, peak atomic.Int32
	release := make(chan struct{})
	c := e.consumer(cfg)
	var done atomic.Int32
	e.run(c, func(context.Context, client.Entry) error {
		n := now.Add(1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		<-release
		now.Add(-1)
		done.Add(1)
		return nil
	})
	waitFor(t, "4 handlers at once", func() bool { return now.Load() == 4 })
	close(release)
	waitFor(t, "all 10 handled", func() bool { return done.Load() == 10 })
	if p := peak.Load(); p != 4 {
		t.Fatalf("peak %d handlers at once, want Concurrency = 4", p)
	}
}

// quiet turns claims off for tests where they play no part, so a slow machine cannot make
// an entry look stale.
func quiet(cfg client.Config) client.Config {
	cfg.ClaimIdle, cfg.Heartbeat = time.Hour, time.Minute
	return cfg
}
