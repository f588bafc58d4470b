package queue

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/lapor/intake/internal/testenv"
	"github.com/lapor/intake/record"
	"github.com/redis/go-redis/v9"
)

// logBuf collects a queue's logs so tests can read them (and prove no content leaks).
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

type env struct {
	t      testing.TB
	addr   string
	cfg    Config
	rdb    *redis.Client
	logs   *logBuf
	prefix string
}

// newEnv prepares a configuration against the redis-server at addr with a private key
// prefix and spool directory.
func newEnv(t testing.TB, addr string) *env {
	t.Helper()
	logs := &logBuf{}
	prefix := testenv.Prefix(t)
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { rdb.Close() })
	return &env{
		t: t, addr: addr, rdb: rdb, logs: logs, prefix: prefix,
		cfg: Config{
			URL:       "redis://" + addr + "/0",
			KeyPrefix: prefix,
			SpoolDir:  t.TempDir(),
			Logger:    slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		},
	}
}

func (e *env) open() *Queue {
	e.t.Helper()
	q, err := Open(context.Background(), e.cfg)
	if err != nil {
		e.t.Fatalf("Open: %v", err)
	}
	e.t.Cleanup(func() { q.Close() })
	return q
}

func (e *env) key(k string) string { return e.prefix + k }

type entry struct {
	StreamID string
	ID       string
	Channel  string
	C        record.Complaint
	Raw      map[string]any
}

// entries reads a whole stream.
func (e *env) entries(stream string) []entry {
	e.t.Helper()
	msgs, err := e.rdb.XRange(context.Background(), e.key(stream), "-", "+").Result()
	if err != nil {
		e.t.Fatalf("XRANGE %s: %v", stream, err)
	}
	out := make([]entry, 0, len(msgs))
	for _, m := range msgs {
		en := entry{StreamID: m.ID, Raw: m.Values}
		en.ID, _ = m.Values["id"].(string)
		en.Channel, _ = m.Values["channel"].(string)
		if s, ok := m.Values["complaint"].(string); ok {
			if err := json.Unmarshal([]byte(s), &en.C); err != nil {
				e.t.Fatalf("entry %s: complaint is not JSON: %v", m.ID, err)
			}
		}
		out = append(out, en)
	}
	return out
}

func complaint(pmid string) *record.Complaint {
	return &record.Complaint{
		Channel:           record.ChannelSMS,
		Provider:          record.ProviderTwilio,
		ProviderMessageID: pmid,
		ReceivedAt:        "2025-01-02T03:04:05Z",
		Sender:            &record.Party{Phone: "+6281234567890"},
		Body:              "Jalan di depan SDN 3 Sukamaju rusak parah, mohon diperbaiki.",
		Language:          "id",
	}
}

// checkRecord asserts that res and the stream entry agree and are well formed.
func checkRecord(t testing.TB, res Result, en entry) {
	t.Helper()
	if en.ID != res.ID || en.C.ID != res.ID {
		t.Errorf("entry id field %q, complaint id %q, result id %q: want all equal", en.ID, en.C.ID, res.ID)
	}
	if en.C.Reference != res.Reference {
		t.Errorf("complaint reference %q, result %q", en.C.Reference, res.Reference)
	}
	if !record.ValidReference(res.Reference) {
		t.Errorf("reference %q is not valid", res.Reference)
	}
	if en.C.SchemaVersion != record.SchemaVersion {
		t.Errorf("schema_version %d", en.C.SchemaVersion)
	}
	if en.Channel != en.C.Channel {
		t.Errorf("entry channel %q, complaint channel %q", en.Channel, en.C.Channel)
	}
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached within %s", what, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func sid(i int) string { return fmt.Sprintf("SM%032d", i) }
