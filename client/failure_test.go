package client_test

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lapor/intake/client"
	"github.com/lapor/intake/internal/testenv"
	"github.com/redis/go-redis/v9"
)

// A handler slower than ClaimIdle keeps its entry: the heartbeat resets its idle time, so
// another consumer's claim round passes it by (mastra-ai#23648), while an entry of a
// consumer without heartbeat, idle for less time, is claimed in that same round.
func TestHeartbeatKeepsLongHandlersEntry(t *testing.T) {
	e := newEnv(t)
	ids := e.add(2)
	long, orphan := ids[0], ids[1]
	started, release := make(chan struct{}), make(chan struct{})
	// ClaimIdle is 20 heartbeats, so a loaded machine does not make the test flaky.
	slow := func(name string) client.Config {
		cfg := e.config(name)
		cfg.ClaimIdle = time.Second
		return cfg
	}
	a := e.consumer(slow("core-a"))
	var aHandled atomic.Int32
	e.run(a, func(_ context.Context, en client.Entry) error {
		if en.ID == long {
			close(started)
			<-release
		}
		aHandled.Add(1)
		return nil
	})
	var once sync.Once
	free := func() { once.Do(func() { close(release) }) }
	t.Cleanup(free) // runs before a's stop, also when the test fails
	<-started
	e.deliverTo("core-ghost", 1) // the orphan: held by a consumer that never beats
	var b recorder
	e.run(e.consumer(slow("core-b")), b.handle)

	// b claims in id order and long < orphan: had long gone idle for ClaimIdle, b's claim
	// would have taken it first.
	waitFor(t, "b to claim the orphan", func() bool { return len(b.of(orphan)) == 1 })
	if calls := b.of(long); len(calls) != 0 {
		t.Fatalf("the long handler's entry was claimed by another consumer: %+v", calls)
	}
	for _, p := range e.pending() {
		if p.ID == long && (p.Consumer != "core-a" || p.RetryCount != 1) {
			t.Fatalf("long entry pending %+v, want held by core-a with 1 delivery (heartbeat adds none)", p)
		}
	}
	free()
	waitFor(t, "the long entry acknowledged", func() bool { return aHandled.Load() == 1 && len(e.pending()) == 0 })
	if s := a.Stats(); s.Lost != 0 {
		t.Fatalf("a lost %d entries", s.Lost)
	}
}

// NOGROUP after the group was destroyed: the consumer creates it again from id 0 and goes
// on; earlier entries come again (at least once), new ones are handled.
func TestRecreatesDestroyedGroup(t *testing.T) {
	e := newEnv(t)
	first := e.add(1)[0]
	var rec recorder
	c := e.consumer(e.config("core-1"))
	e.run(c, rec.handle)
	waitFor(t, "first entry handled", func() bool { return rec.count() == 1 })
	if err := e.rdb.XGroupDestroy(context.Background(), e.stream, client.DefaultGroup).Err(); err != nil {
		t.Fatal(err)
	}
	second := e.add(1)[0]
	waitFor(t, "second entry handled", func() bool { return len(rec.of(second)) == 1 })
	if n := len(rec.of(first)); n != 2 {
		t.Fatalf("first entry handled %d times, want twice (group recreated from 0)", n)
	}
	if s := c.Stats(); s.GroupsRecreated < 1 {
		t.Fatalf("GroupsRecreated %d", s.GroupsRecreated)
	}
	if !strings.Contains(e.logs.String(), "group_recreated") {
		t.Fatal("no alert logged for the lost group")
	}
}

// NOGROUP after the stream itself was deleted (Redis restarted without AOF, eviction).
func TestRecreatesGroupOfDeletedStream(t *testing.T) {
	e := newEnv(t)
	e.add(1)
	var rec recorder
	c := e.consumer(e.config("core-1"))
	e.run(c, rec.handle)
	waitFor(t, "first entry handled", func() bool { return rec.count() == 1 })
	e.rdb.Del(context.Background(), e.stream)
	second := e.add(1)[0] // a new stream, without the group
	waitFor(t, "entry of the new stream handled", func() bool { return len(rec.of(second)) == 1 })
	waitFor(t, "nothing pending", func() bool { return len(e.pending()) == 0 })
	if s := c.Stats(); s.GroupsRecreated < 1 {
		t.Fatalf("GroupsRecreated %d", s.GroupsRecreated)
	}
}

// An own pending entry trimmed before the restart comes back without fields: it is
// acknowledged away, never handed to the handler, never left stranded.
func TestTrimmedOwnPendingEntryAckedAway(t *testing.T) {
	e := newEnv(t)
	e.group()
	ids := e.add(3)
	e.deliverTo("core-1", 3)
	e.rdb.XDel(context.Background(), e.stream, ids[1])
	var rec recorder
	cfg := e.config("core-1")
	cfg.ClaimIdle = 1 << 40
	cfg.Heartbeat = time.Second
	c := e.consumer(cfg)
	e.run(c, rec.handle)
	waitFor(t, "the two remaining handled", func() bool { return rec.count() == 2 })
	waitFor(t, "nothing pending", func() bool { return len(e.pending()) == 0 })
	if len(rec.of(ids[1])) != 0 {
		t.Fatal("the deleted entry was handed to the handler")
	}
	if s := c.Stats(); s.AckedAway != 1 {
		t.Fatalf("AckedAway %d, want 1", s.AckedAway)
	}
}

// A dead consumer's entry trimmed while pending: XAUTOCLAIM reports it deleted (Redis 7+),
// and the claimer acknowledges it away.
func TestTrimmedClaimedEntryAckedAway(t *testing.T) {
	e := newEnv(t)
	e.group()
	ids := e.add(2)
	e.deliverTo("core-dead", 2)
	e.rdb.XTrimMinID(context.Background(), e.stream, ids[1]) // trims ids[0]
	var rec recorder
	c := e.consumer(e.config("core-2"))
	e.run(c, rec.handle)
	waitFor(t, "the remaining entry claimed and handled", func() bool { return len(rec.of(ids[1])) == 1 })
	waitFor(t, "nothing pending", func() bool { return len(e.pending()) == 0 })
	if rec.count() != 1 {
		t.Fatalf("handler saw %v, want only %s", rec.ids(), ids[1])
	}
	if s := c.Stats(); s.AckedAway < 1 {
		t.Fatalf("AckedAway %d, want 1 (Redis 6.2 drops trimmed ids from XAUTOCLAIM only on 7+)", s.AckedAway)
	}
}

// failAcks makes the first n XACKs fail as a dropped connection would.
type failAcks struct{ left atomic.Int32 }

func (*failAcks) DialHook(next redis.DialHook) redis.DialHook { return next }
func (f *failAcks) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if cmd.Name() == "xack" && f.left.Add(-1) >= 0 {
			err := errors.New("injected: connection reset by peer")
			cmd.SetErr(err)
			return err
		}
		return next(ctx, cmd)
	}
}
func (*failAcks) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// An XACK that fails is logged and retried; the entry is not handled again.
func TestFailedAckIsRetried(t *testing.T) {
	e := newEnv(t)
	ids := e.add(1)
	rdb := redis.NewClient(&redis.Options{Addr: e.addr})
	defer rdb.Close()
	hook := &failAcks{}
	hook.left.Store(2)
	rdb.AddHook(hook)
	var rec recorder
	c, err := client.NewConsumer(rdb, e.config("core-1"))
	if err != nil {
		t.Fatal(err)
	}
	e.run(c, rec.handle)
	waitFor(t, "acknowledged in the end", func() bool { return rec.count() == 1 && len(e.pending()) == 0 })
	if n := len(rec.of(ids[0])); n != 1 {
		t.Fatalf("handled %d times, want once", n)
	}
	if s := c.Stats(); s.AckRetries != 2 || s.Handled != 1 {
		t.Fatalf("stats %+v, want 2 ack retries", s)
	}
	if !strings.Contains(e.logs.String(), "acknowledging a handled entry failed") {
		t.Fatal("the failed ack was not logged")
	}
}

// While Redis is down the consumer logs and backs off; when it is back, work goes on.
func TestSurvivesRedisOutage(t *testing.T) {
	srv := testenv.NewRestartableRedis(t)
	e := newEnvAt(t, srv.Addr)
	e.add(1)
	var rec recorder
	c := e.consumer(e.config("core-1"))
	r := e.run(c, rec.handle)
	waitFor(t, "first entry handled", func() bool { return rec.count() == 1 })
	srv.Stop()
	waitFor(t, "the outage logged", func() bool { return strings.Contains(e.logs.String(), "redis call failed; retrying") })
	srv.Start()
	second := e.add(1)[0]
	waitFor(t, "entry after the outage handled", func() bool { return len(rec.of(second)) == 1 })
	if err := r.stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
}

func TestRunStopsOnKeyThatIsNotAStream(t *testing.T) {
	e := newEnv(t)
	e.rdb.Set(context.Background(), e.stream, "oops", 0)
	err := e.consumer(e.config("core-1")).Run(context.Background(), func(context.Context, client.Entry) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "WRONGTYPE") || !strings.Contains(err.Error(), "check the stream name") {
		t.Fatalf("Run = %v, want a WRONGTYPE error with what to do", err)
	}
}

func TestRunMisuse(t *testing.T) {
	e := newEnv(t)
	c := e.consumer(e.config("core-1"))
	if err := c.Run(context.Background(), nil); err == nil {
		t.Fatal("Run(nil handler) = nil")
	}
	e.run(c, func(context.Context, client.Entry) error { return nil })
	waitFor(t, "joined", func() bool {
		cs, err := e.rdb.XInfoConsumers(context.Background(), e.stream, client.DefaultGroup).Result()
		return err == nil && len(cs) == 1
	})
	if err := c.Run(context.Background(), func(context.Context, client.Entry) error { return nil }); err == nil || !strings.Contains(err.Error(), "already running") {
		t.Fatalf("second Run = %v", err)
	}
}

func TestNewConsumerConfig(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer rdb.Close()
	c, err := client.NewConsumer(rdb, client.Config{Stream: "intake:complaints"})
	if err != nil {
		t.Fatal(err)
	}
	cfg := c.Config()
	if cfg.Group != "core" || cfg.Block != 2*time.Second || cfg.ClaimIdle != time.Minute || cfg.MaxDeliveries != 5 ||
		cfg.DeadLetterStream != "intake:complaints:dead" || cfg.Concurrency != 1 || cfg.Heartbeat != 20*time.Second ||
		!strings.HasSuffix(cfg.Consumer, "-"+strconv.Itoa(os.Getpid())) {
		t.Fatalf("defaults %+v", cfg)
	}
	for _, tc := range []struct {
		cfg  client.Config
		want string
	}{
		{client.Config{}, "Stream is empty"},
		{client.Config{Stream: "s", ClaimIdle: time.Second, Heartbeat: time.Second}, "shorter than ClaimIdle"},
		{client.Config{Stream: "s", DeadLetterStream: "s"}, "DeadLetterStream is the stream read"},
		{client.Config{Stream: "s", Concurrency: -1}, "Concurrency -1"},
		{client.Config{Stream: "s", MaxDeliveries: -1}, "MaxDeliveries -1"},
		{client.Config{Stream: "s", Block: -time.Second}, "Block"},
	} {
		if _, err := client.NewConsumer(rdb, tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewConsumer(%+v) = %v, want %q", tc.cfg, err, tc.want)
		}
	}
	if _, err := client.NewConsumer(nil, client.Config{Stream: "s"}); err == nil {
		t.Error("NewConsumer(nil) = nil error")
	}
}

// A heartbeat never takes back an entry that another consumer claimed meanwhile: it
// reports the entry lost instead (the Lua check of the owner).
func TestHeartbeatDoesNotTakeBackClaimedEntry(t *testing.T) {
	e := newEnv(t)
	ids := e.add(1)
	started, release := make(chan struct{}), make(chan struct{})
	a := e.consumer(e.config("core-a"))
	e.run(a, func(context.Context, client.Entry) error {
		close(started)
		<-release
		return nil
	})
	t.Cleanup(func() { close(release) })
	<-started
	e.rdb.XClaimJustID(context.Background(), &redis.XClaimArgs{Stream: e.stream, Group: client.DefaultGroup, Consumer: "intruder", Messages: ids})
	waitFor(t, "the heartbeat to notice", func() bool { return a.Stats().Lost == 1 })
	if p := e.pending(); len(p) != 1 || p[0].Consumer != "intruder" {
		t.Fatalf("pending %+v, want the entry left with the consumer that claimed it", p)
	}
	if !strings.Contains(e.logs.String(), "claimed by another consumer") {
		t.Fatal("the lost entry was not logged")
	}
}

// Logs name entries by id; their contents (a NIK here) never appear, whatever happens.
func TestLogsCarryNoEntryContents(t *testing.T) {
	e := newEnv(t)
	const nik = "3171234567890123"
	e.rdb.XAdd(context.Background(), &redis.XAddArgs{Stream: e.stream, Values: []any{"id", "A", "complaint", `{"body":"NIK ` + nik + `"}`}})
	rec := recorder{fn: func(_ client.Entry, call int) error {
		switch call {
		case 1:
			return errors.New("store failed")
		case 2:
			panic("bad state")
		}
		return client.Permanent(errors.New("refused"))
	}}
	e.run(e.consumer(e.config("core-1")), rec.handle)
	waitFor(t, "dead-lettered", func() bool { return len(e.dead()) == 1 })
	if logs := e.logs.String(); strings.Contains(logs, nik) || !strings.Contains(logs, "dead-letter") {
		t.Fatalf("logs leak the entry's contents or miss the dead letter:\n%s", logs)
	}
}
