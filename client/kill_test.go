//go:build linux

package client_test

import (
	"context"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/lapor/intake/client"
	"github.com/redis/go-redis/v9"
)

// idempotent is the handler the core should write: its side effect (here INCR of an
// effects counter) happens once per entry, keyed with SET NX, whatever the redeliveries.
func idempotent(rdb *redis.Client, prefix string, after func()) client.Handler {
	return func(ctx context.Context, e client.Entry) error {
		first, err := rdb.SetNX(ctx, prefix+"done:"+e.Values["n"], e.ID, 0).Result()
		if err != nil {
			return err
		}
		if first {
			rdb.Incr(ctx, prefix+"effects")
		}
		if after != nil {
			after()
		}
		return nil
	}
}

// TestHelperConsumer is not a test: it is the consumer process that the kill test kills.
func TestHelperConsumer(t *testing.T) {
	if os.Getenv(helperEnv) == "" {
		t.Skip("helper process for TestKilledMidHandlerHandledOnce")
	}
	rdb := redis.NewClient(&redis.Options{Addr: os.Getenv("INTAKE_TEST_REDIS_ADDR")})
	stream, prefix := os.Getenv(helperEnv+"_STREAM"), os.Getenv(helperEnv+"_PREFIX")
	c, err := client.NewConsumer(rdb, client.Config{Stream: stream, Consumer: "core-1", ClaimIdle: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	// The side effect is done, then the process "hangs" until kill -9: it never acknowledges.
	c.Run(context.Background(), idempotent(rdb, prefix, func() { select {} }))
}

// kill -9 after the handler's side effect but before the acknowledgement: the restarted
// consumer (same name) gets the entry again, and the idempotent handler does nothing twice.
func TestKilledMidHandlerHandledOnceByIdempotentHandler(t *testing.T) {
	e := newEnv(t)
	e.add(1)
	prefix := e.stream + ":"
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperConsumer$", "-test.v")
	cmd.Env = append(os.Environ(), helperEnv+"=1", helperEnv+"_STREAM="+e.stream, helperEnv+"_PREFIX="+prefix,
		"INTAKE_TEST_REDIS_ADDR="+e.addr)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlives the test
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	waitFor(t, "the helper's side effect", func() bool { return e.rdb.Get(context.Background(), prefix+"effects").Val() == "1" })
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	if p := e.pending(); len(p) != 1 || p[0].Consumer != "core-1" {
		t.Fatalf("pending after kill -9: %+v, want the entry held by core-1", p)
	}

	var handled = make(chan client.Entry, 1)
	cfg := e.config("core-1")
	cfg.ClaimIdle = time.Hour
	cfg.Heartbeat = 0
	e.run(e.consumer(cfg), func(ctx context.Context, en client.Entry) error {
		err := idempotent(e.rdb, prefix, nil)(ctx, en)
		handled <- en
		return err
	})
	var en client.Entry
	select {
	case en = <-handled:
	case <-time.After(20 * time.Second):
		t.Fatal("the restarted consumer never got its own pending entry")
	}
	waitFor(t, "nothing pending", func() bool { return len(e.pending()) == 0 })
	if en.Deliveries != 2 {
		t.Fatalf("redelivered as delivery %d, want 2", en.Deliveries)
	}
	if got := e.rdb.Get(context.Background(), prefix+"effects").Val(); got != "1" {
		t.Fatalf("side effect happened %s times, want once", got)
	}
}
