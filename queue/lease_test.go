package queue

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lapor/intake/internal/testenv"
)

func mailStateAs(t *testing.T, e *env, owner string, ttl time.Duration) *MailState {
	t.Helper()
	cfg := e.cfg
	cfg.InstanceID, cfg.LeaseTTL = owner, ttl
	s, err := OpenMailState(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// One holder per mailbox; a dead holder's lease passes to another process once it
// expires; the stale holder can then neither renew nor move the cursor (fencing), and a
// released lease is free at once.
func TestMailboxLeaseIsExclusiveExpiresAndFencesTheStaleHolder(t *testing.T) {
	e := newEnv(t, testenv.RedisAddr(t))
	ctx := context.Background()
	const mb = "imap.example:993/pengaduan/INBOX"
	a := mailStateAs(t, e, "gw-a", 400*time.Millisecond)
	b := mailStateAs(t, e, "gw-b", 400*time.Millisecond)

	if ok, err := a.AcquireLease(ctx, mb); !ok || err != nil {
		t.Fatalf("A takes a free lease: %v, %v", ok, err)
	}
	if ok, err := b.AcquireLease(ctx, mb); ok || err != nil {
		t.Fatalf("B takes A's lease: %v, %v; want refused", ok, err)
	}
	if ok, err := a.AcquireLease(ctx, mb); !ok || err != nil {
		t.Fatalf("A takes its own lease again: %v, %v", ok, err)
	}
	if err := a.SetMailboxState(ctx, mb, 7, 10); err != nil {
		t.Fatalf("holder writes the cursor: %v", err)
	}
	// A "dies": no renewal, no release. B gets the mailbox once the lease expires.
	eventually(t, 5*time.Second, "B takes the expired lease", func() bool {
		ok, err := b.AcquireLease(ctx, mb)
		return ok && err == nil
	})
	if ok, err := a.RenewLease(ctx, mb); ok || err != nil {
		t.Fatalf("stale holder renews: %v, %v; want refused", ok, err)
	}
	if err := a.SetMailboxState(ctx, mb, 7, 20); !errors.Is(err, errFenced) {
		t.Fatalf("stale holder writes the cursor: %v; want refused as fenced", err)
	}
	if err := b.SetMailboxState(ctx, mb, 7, 15); err != nil {
		t.Fatalf("new holder writes the cursor: %v", err)
	}
	if _, last, _ := b.MailboxState(ctx, mb); last != 15 {
		t.Fatalf("cursor %d; want 15 (the stale write must not have landed)", last)
	}
	if ok, err := b.RenewLease(ctx, mb); !ok || err != nil {
		t.Fatalf("holder renews: %v, %v", ok, err)
	}
	if err := b.ReleaseLease(ctx, mb); err != nil {
		t.Fatal(err)
	}
	if ok, err := a.AcquireLease(ctx, mb); !ok || err != nil {
		t.Fatalf("a released lease is free at once: %v, %v", ok, err)
	}
	if err := b.SetMailboxState(ctx, mb, 7, 30); !errors.Is(err, errFenced) {
		t.Fatalf("a holder that released writes the cursor: %v; want refused", err)
	}
	// Fence tokens differ at each grant, so two grants never look alike.
	ta, _ := a.token(mb)
	tb, _ := b.token(mb)
	if ta == tb || ta[:1] == "" {
		t.Fatalf("tokens %q and %q", ta, tb)
	}
}

// Each process has its own spool: a second queue on a spool directory another one holds
// is refused with an error that says what to do; once the holder is gone it opens.
func TestSpoolDirectoryIsHeldByOneProcess(t *testing.T) {
	e := newEnv(t, testenv.RedisAddr(t))
	first, err := Open(context.Background(), e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Open(context.Background(), e.cfg)
	if err == nil || !strings.Contains(err.Error(), "INTAKE_SPOOL_DIR") {
		t.Fatalf("second Open on a held spool: %v; want refused, naming INTAKE_SPOOL_DIR", err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	second, err := Open(context.Background(), e.cfg)
	if err != nil {
		t.Fatalf("Open after the holder closed: %v", err)
	}
	_ = second.Close()
}
