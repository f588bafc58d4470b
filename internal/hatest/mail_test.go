package hatest

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/lapor/intake/channels"
	"github.com/lapor/intake/channels/email"
	"github.com/lapor/intake/internal/testenv"
	"github.com/lapor/intake/queue"
)

// killable is a process's lease store whose death can be simulated: once killed it
// neither renews nor releases (a kill -9 leaves the lease to expire), and its cursor
// writes are refused like those of a process that is gone.
type killable struct {
	*queue.MailState
	dead atomic.Bool
}

func (k *killable) RenewLease(ctx context.Context, mb string) (bool, error) {
	if k.dead.Load() {
		return false, fmt.Errorf("process killed")
	}
	return k.MailState.RenewLease(ctx, mb)
}

func (k *killable) ReleaseLease(ctx context.Context, mb string) error {
	if k.dead.Load() {
		return nil
	}
	return k.MailState.ReleaseLease(ctx, mb)
}

// mailGateway is one gateway process's email side: its own queue (and spool), the
// pipeline, and the email channel with leases, on the shared Redis.
type mailGateway struct {
	id     string
	leases *killable
	cancel context.CancelFunc
	done   chan struct{}
}

func startMailGateway(t *testing.T, id, redisURL, prefix string, cfg email.Config, ttl time.Duration) *mailGateway {
	t.Helper()
	log := testLogger(t, id)
	qc := queue.Config{URL: redisURL, KeyPrefix: prefix, SpoolDir: t.TempDir(), InstanceID: id, LeaseTTL: ttl, Logger: log}
	parts := openParts(t, qc)
	ms, err := queue.OpenMailState(qc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ms.Close() })
	sink, m := parts.sink("https://intake.example.go.id"), parts.m
	g := &mailGateway{id: id, leases: &killable{MailState: ms}, done: make(chan struct{})}
	ch, err := email.New(cfg, sink, email.Options{Logger: log, Metrics: m, State: g.leases, Leases: g.leases,
		Receipts: channels.Receipts{}, TempDir: t.TempDir(), BackoffMin: 200 * time.Millisecond, BackoffMax: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	g.cancel = cancel
	go func() { defer close(g.done); _ = ch.Run(ctx) }()
	t.Cleanup(g.stop)
	return g
}

// stop shuts the process down cleanly (leases released).
func (g *mailGateway) stop() { g.cancel(); <-g.done }

// kill stops it as kill -9 would, as far as the other processes can tell: the lease is
// neither renewed nor released.
func (g *mailGateway) kill() { g.leases.dead.Store(true); g.cancel(); <-g.done }

func testLogger(t testing.TB, id string) *slog.Logger {
	if os.Getenv("INTAKE_TEST_LOG") == "" {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})).With("gw", id)
}

func mail(id, text string) []byte {
	return []byte("From: Warga <warga@example.com>\r\nTo: pengaduan@example.go.id\r\nSubject: Aduan\r\n" +
		"Date: Mon, 02 Mar 2026 09:00:00 +0700\r\nMessage-ID: <" + id + ">\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n\r\n" + text + "\r\n")
}

// Two gateway processes, two mailboxes: each mailbox is polled by one process; when the
// holder dies without releasing, the other takes both mailboxes over within 30 s (here
// one lease TTL, 2 s, plus a retry), and every mail becomes exactly one record.
func TestMailboxLeasesPassToTheSurvivorAndEveryMailIsTakenInOnce(t *testing.T) {
	dc := testenv.StartDovecot(t)
	dc.AddUser("kedua", "sandi-kedua")
	rdb := redis.NewClient(&redis.Options{Addr: testenv.RedisAddr(t)})
	defer rdb.Close()
	url := "redis://" + rdb.Options().Addr + "/0"
	prefix := testenv.Prefix(t)
	mbs := []email.Mailbox{
		{Name: "satu", Addr: dc.Addr, Username: dc.User, Password: channels.Secret(dc.Password), Security: email.SecurityNone, PollInterval: time.Second},
		{Name: "dua", Addr: dc.Addr, Username: "kedua", Password: "sandi-kedua", Security: email.SecurityNone, PollInterval: time.Second},
	}
	cfg := email.Config{Mailboxes: mbs}
	const ttl = 2 * time.Second
	ctx := context.Background()
	holders := func() map[string]string {
		out := map[string]string{}
		for _, mb := range cfg.All() {
			v, _ := rdb.Get(ctx, prefix+"intake:lease:imap:"+mb.StateKey()).Result()
			_, out[mb.Name], _ = strings.Cut(v, ":")
		}
		return out
	}
	eventually := func(within time.Duration, what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(within)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within %s (lease holders %v)", what, within, holders())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	stream := prefix + queue.DefaultStream
	count := func(n int64) func() bool {
		return func() bool { l, _ := rdb.XLen(ctx, stream).Result(); return l >= n }
	}

	gw1 := startMailGateway(t, "gw1", url, prefix, cfg, ttl)
	eventually(10*time.Second, "gw1 holds both mailboxes", func() bool {
		h := holders()
		return h["satu"] == "gw1" && h["dua"] == "gw1"
	})
	startMailGateway(t, "gw2", url, prefix, cfg, ttl)
	send := func(round int) {
		for i := range 3 {
			for _, mb := range mbs {
				id := fmt.Sprintf("r%d-%d-%s@warga.example.com", round, i, mb.Name)
				if err := email.AppendSample(ctx, mb, mail(id, "Lampu jalan mati di gang "+id)); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	send(1)
	eventually(20*time.Second, "first six mails taken in", count(6))
	if h := holders(); h["satu"] != "gw1" || h["dua"] != "gw1" {
		t.Fatalf("leases moved while their holder lived: %v", h)
	}

	killed := time.Now()
	gw1.kill()
	send(2)
	eventually(30*time.Second, "gw2 takes both mailboxes over", func() bool {
		h := holders()
		return h["satu"] == "gw2" && h["dua"] == "gw2"
	})
	t.Logf("takeover %.1f s after the holder's death (lease TTL %s)", time.Since(killed).Seconds(), ttl)
	eventually(20*time.Second, "all twelve mails taken in", count(12))
	time.Sleep(2 * time.Second) // a doubled record, if any, would arrive meanwhile
	entries, err := rdb.XRange(ctx, stream, "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, e := range entries {
		c := e.Values["complaint"].(string)
		i := strings.Index(c, `"provider_message_id":"`)
		if i < 0 {
			t.Fatalf("record without provider_message_id: %.200s", c)
		}
		pmid, _, _ := strings.Cut(c[i+len(`"provider_message_id":"`):], `"`)
		seen[pmid]++
	}
	if len(entries) != 12 || len(seen) != 12 {
		t.Fatalf("%d records for %d distinct mails; want 12 and 12: %v", len(entries), len(seen), seen)
	}
}
