package client_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/lapor/intake/client"
	"github.com/lapor/intake/internal/testenv"
	"github.com/redis/go-redis/v9"
)

// helperEnv makes the test binary act as the consumer process that kill_test.go kills.
const helperEnv = "INTAKE_CLIENT_TEST_HELPER"

// TestMain gives the Example (which has no *testing.T) a redis-server when the run was not
// started by scripts/with-services.sh; tests themselves use testenv.RedisAddr.
func TestMain(m *testing.M) {
	stop := func() {}
	if os.Getenv("INTAKE_TEST_REDIS_ADDR") == "" && os.Getenv(helperEnv) == "" {
		if bin, err := exec.LookPath("redis-server"); err == nil {
			stop = startRedisForExamples(bin)
		}
	}
	code := m.Run()
	stop()
	os.Exit(code)
}

func startRedisForExamples(bin string) func() {
	dir, _ := os.MkdirTemp("", "client-redis")
	port := 20000 + os.Getpid()%20000
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "no")
	if cmd.Start() != nil {
		return func() {}
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	for range 100 {
		if rdb.Ping(context.Background()).Err() == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	rdb.Close()
	os.Setenv("INTAKE_TEST_REDIS_ADDR", addr)
	return func() { cmd.Process.Kill(); cmd.Wait(); os.RemoveAll(dir) }
}

// logBuf collects a consumer's logs so tests can read them.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// env is one test's Redis, stream name (unique to the test) and logs.
type env struct {
	t      testing.TB
	addr   string
	rdb    *redis.Client
	stream string
	logs   *logBuf
}

func newEnv(t testing.TB) *env {
	t.Helper()
	return newEnvAt(t, testenv.RedisAddr(t))
}

func newEnvAt(t testing.TB, addr string) *env {
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { rdb.Close() })
	return &env{t: t, addr: addr, rdb: rdb, stream: testenv.Prefix(t) + "complaints", logs: &logBuf{}}
}

// config is a consumer config with short times so tests run fast.
func (e *env) config(consumer string) client.Config {
	return client.Config{
		Stream: e.stream, Consumer: consumer,
		Block: 100 * time.Millisecond, ClaimIdle: 300 * time.Millisecond, Heartbeat: 50 * time.Millisecond,
		Logger: slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
}

func (e *env) consumer(cfg client.Config) *client.Consumer {
	e.t.Helper()
	c, err := client.NewConsumer(e.rdb, cfg)
	if err != nil {
		e.t.Fatalf("NewConsumer: %v", err)
	}
	return c
}

// add appends n entries with a field n = 0..n-1 and returns their ids.
func (e *env) add(n int) []string {
	e.t.Helper()
	ids := make([]string, n)
	for i := range n {
		id, err := e.rdb.XAdd(context.Background(), &redis.XAddArgs{Stream: e.stream, Values: []any{"n", strconv.Itoa(i)}}).Result()
		if err != nil {
			e.t.Fatalf("XADD: %v", err)
		}
		ids[i] = id
	}
	return ids
}

// group creates the consumer group as Run would, for tests that act before Run.
func (e *env) group() {
	e.t.Helper()
	if err := e.rdb.XGroupCreateMkStream(context.Background(), e.stream, client.DefaultGroup, "0").Err(); err != nil {
		e.t.Fatalf("XGROUP CREATE: %v", err)
	}
}

// deliverTo hands up to n new entries to consumer name without ever acknowledging them,
// as a consumer that crashes right after reading would.
func (e *env) deliverTo(name string, n int) []string {
	e.t.Helper()
	res, err := e.rdb.XReadGroup(context.Background(), &redis.XReadGroupArgs{
		Group: client.DefaultGroup, Consumer: name, Streams: []string{e.stream, ">"}, Count: int64(n), Block: -1,
	}).Result()
	if err != nil {
		e.t.Fatalf("XREADGROUP as %s: %v", name, err)
	}
	var ids []string
	for _, m := range res[0].Messages {
		ids = append(ids, m.ID)
	}
	return ids
}

// pending returns the group's pending entries.
func (e *env) pending() []redis.XPendingExt {
	e.t.Helper()
	p, err := e.rdb.XPendingExt(context.Background(), &redis.XPendingExtArgs{
		Stream: e.stream, Group: client.DefaultGroup, Start: "-", End: "+", Count: 1000,
	}).Result()
	if err != nil {
		e.t.Fatalf("XPENDING: %v", err)
	}
	return p
}

// dead returns the dead-letter stream's entries.
func (e *env) dead() []redis.XMessage {
	e.t.Helper()
	m, err := e.rdb.XRange(context.Background(), e.stream+client.DeadLetterSuffix, "-", "+").Result()
	if err != nil {
		e.t.Fatalf("XRANGE dead: %v", err)
	}
	return m
}

// running is a Run in the background.
type running struct {
	t      testing.TB
	cancel context.CancelFunc
	done   chan error
}

func (e *env) run(c *client.Consumer, h client.Handler) *running {
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{t: e.t, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- c.Run(ctx, h) }()
	e.t.Cleanup(func() { r.stop() })
	return r
}

// stop cancels Run and waits for it to return. The wait guards against a hang; it is not a
// measure of promptness.
func (r *running) stop() error {
	r.t.Helper()
	r.cancel()
	select {
	case err := <-r.done:
		r.done <- err // a second stop sees the same
		return err
	case <-time.After(30 * time.Second):
		r.t.Fatal("Run did not return after its context was cancelled")
		return nil
	}
}

// waitFor polls cond until it holds; never holding within a generous guard fails the test.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("never happened: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// recorder is a handler that records each call.
type recorder struct {
	mu    sync.Mutex
	calls []client.Entry
	fn    func(e client.Entry, call int) error // optional behaviour; call counts from 1 per entry
}

func (r *recorder) handle(_ context.Context, e client.Entry) error {
	r.mu.Lock()
	r.calls = append(r.calls, e)
	n := 0
	for _, c := range r.calls {
		if c.ID == e.ID {
			n++
		}
	}
	fn := r.fn
	r.mu.Unlock()
	if fn != nil {
		return fn(e, n)
	}
	return nil
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.calls)
}

func (r *recorder) of(id string) []client.Entry {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []client.Entry
	for _, c := range r.calls {
		if c.ID == id {
			out = append(out, c)
		}
	}
	return out
}

func (r *recorder) ids() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, len(r.calls))
	for i, c := range r.calls {
		out[i] = c.ID
	}
	return out
}
