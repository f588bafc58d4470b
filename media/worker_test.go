package media

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/lapor/intake/queue"
	"github.com/lapor/intake/record"
)

// fakeQueue hands out its entries once each and records completions.
type fakeQueue struct {
	mu        sync.Mutex
	entries   []queue.Pending
	claimed   map[string]bool
	completed map[string]*record.Complaint
	completes int
	failClaim int // fail this many ClaimPending calls first
}

func newFakeQueue(cs ...*record.Complaint) *fakeQueue {
	q := &fakeQueue{claimed: map[string]bool{}, completed: map[string]*record.Complaint{}}
	for i, c := range cs {
		q.entries = append(q.entries, queue.Pending{EntryID: string(rune('a' + i)), Complaint: c})
	}
	return q
}

func (q *fakeQueue) ClaimPending(ctx context.Context, consumer string, count int, minIdle time.Duration) ([]queue.Pending, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.failClaim > 0 {
		q.failClaim--
		return nil, errors.New("redis down")
	}
	var out []queue.Pending
	for _, p := range q.entries {
		if len(out) < count && !q.claimed[p.EntryID] {
			q.claimed[p.EntryID] = true
			out = append(out, p)
		}
	}
	return out, nil
}

func (q *fakeQueue) Complete(ctx context.Context, p queue.Pending, c *record.Complaint) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.completes++
	q.completed[p.EntryID] = c
	return nil
}

func (q *fakeQueue) waitCompleted(t *testing.T, n int) map[string]*record.Complaint {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		q.mu.Lock()
		got := len(q.completed)
		q.mu.Unlock()
		if got >= n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d records completed, want %d", got, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.completed
}

// scriptFetcher answers from a list of steps per attachment id, then repeats the last.
type scriptFetcher struct {
	mu    sync.Mutex
	steps map[string][]func() (io.ReadCloser, error)
	calls map[string]int
}

func (f *scriptFetcher) Provider() string { return record.ProviderMeta }

func (f *scriptFetcher) Fetch(ctx context.Context, a record.Attachment) (io.ReadCloser, string, error) {
	f.mu.Lock()
	steps := f.steps[a.MediaID]
	n := f.calls[a.MediaID]
	f.calls[a.MediaID]++
	f.mu.Unlock()
	if n >= len(steps) {
		n = len(steps) - 1
	}
	rc, err := steps[n]()
	return rc, "image/jpeg", err
}

func (f *scriptFetcher) callsFor(id string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[id]
}

var photo = bytes.Repeat([]byte("JPEG"), 1000)

func serve(b []byte) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
}

func failWith(err error) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) { return nil, err }
}

func pendingRecord(id string, mediaIDs ...string) *record.Complaint {
	c := &record.Complaint{ID: id, Channel: record.ChannelWhatsApp, Provider: record.ProviderMeta}
	for _, m := range mediaIDs {
		c.Attachments = append(c.Attachments, record.Attachment{MediaID: m, ContentType: "image/jpeg", Status: record.MediaPending})
	}
	return c
}

func newTestWorker(t *testing.T, q PendingQueue, f Fetcher, maxBytes int64) (*Worker, *Store) {
	t.Helper()
	store, err := NewStore(t.TempDir(), maxBytes)
	if err != nil {
		t.Fatal(err)
	}
	return &Worker{Queue: q, Store: store, Fetchers: map[string]Fetcher{f.Provider(): f},
		PublicURL: "https://intake.example.go.id/", Consumer: "test", Attempts: 4,
		BaseBackoff: time.Millisecond, MaxBackoff: 4 * time.Millisecond, PollInterval: 5 * time.Millisecond}, store
}

func run(t *testing.T, w *Worker) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	return func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}
}

func TestWorkerSettlesEveryOutcome(t *testing.T) {
	sum := sha256.Sum256(photo)
	wantSum := hex.EncodeToString(sum[:])
	transient := errors.New("graph answered 503")
	f := &scriptFetcher{calls: map[string]int{}, steps: map[string][]func() (io.ReadCloser, error){
		"ok":          {serve(photo)},
		"twice-then":  {failWith(transient), failWith(transient), serve(photo)},
		"always-down": {failWith(transient)},
		"blocked":     {failWith(&PermanentError{Status: record.MediaBlocked, Err: errors.New("host")})},
		"huge":        {serve(bytes.Repeat([]byte("x"), 20000))},
		"corrupt": {func() (io.ReadCloser, error) {
			return VerifyingReader(io.NopCloser(bytes.NewReader(photo)), hex.EncodeToString(make([]byte, 32))), nil
		}},
	}}
	q := newFakeQueue(
		pendingRecord("r-ok", "ok"),
		pendingRecord("r-retry", "twice-then"),
		pendingRecord("r-down", "always-down"),
		pendingRecord("r-mixed", "blocked", "huge", "ok"),
		pendingRecord("r-corrupt", "corrupt"),
	)
	// A settled attachment and an inline one are left alone.
	q.entries[0].Complaint.Attachments = append(q.entries[0].Complaint.Attachments,
		record.Attachment{Status: record.MediaStored, SHA256: "keep"}, record.Attachment{Status: record.MediaPending})
	w, store := newTestWorker(t, q, f, 10000)
	stop := run(t, w)
	done := q.waitCompleted(t, 5)
	stop()

	statuses := func(id string) []string {
		var out []string
		for _, e := range q.entries {
			if e.Complaint.ID == id {
				for _, a := range done[e.EntryID].Attachments {
					out = append(out, a.Status)
				}
			}
		}
		return out
	}
	check := func(id string, want ...string) {
		t.Helper()
		got := statuses(id)
		if len(got) != len(want) {
			t.Fatalf("%s: statuses %v, want %v", id, got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("%s: statuses %v, want %v", id, got, want)
			}
		}
	}
	check("r-ok", record.MediaStored, record.MediaStored, record.MediaPending)
	check("r-retry", record.MediaStored)
	check("r-down", record.MediaFailed)
	check("r-mixed", record.MediaBlocked, record.MediaTooLarge, record.MediaStored)
	check("r-corrupt", record.MediaFailed)

	a := done["a"].Attachments[0]
	if a.SHA256 != wantSum || a.Size != int64(len(photo)) || a.StorageURL != "https://intake.example.go.id/media/"+wantSum {
		t.Errorf("stored attachment %+v", a)
	}
	if done["a"].Attachments[1].SHA256 != "keep" {
		t.Error("an already settled attachment was touched")
	}
	f2, err := store.Open(wantSum)
	if err != nil {
		t.Fatalf("stored file: %v", err)
	}
	b, _ := io.ReadAll(f2)
	f2.Close()
	if !bytes.Equal(b, photo) {
		t.Error("stored bytes differ")
	}
	if n := f.callsFor("twice-then"); n != 3 {
		t.Errorf("fails twice then succeeds: %d calls, want 3", n)
	}
	if n := f.callsFor("always-down"); n != w.Attempts {
		t.Errorf("always failing: %d calls, want %d (bounded)", n, w.Attempts)
	}
	if n := f.callsFor("blocked"); n != 1 {
		t.Errorf("a permanent error must not be retried: %d calls", n)
	}
	if q.completes != 5 {
		t.Errorf("%d completions, want one per record", q.completes)
	}
	ents, _ := os.ReadDir(store.dir)
	for _, e := range ents {
		if e.Name() != wantSum {
			t.Errorf("store holds %s: a corrupt, oversize or partial download was kept", e.Name())
		}
	}
}

func TestWorkerWithoutFetcherMarksFailed(t *testing.T) {
	c := pendingRecord("r", "x")
	c.Provider = record.ProviderTwilio
	q := newFakeQueue(c)
	w, _ := newTestWorker(t, q, &scriptFetcher{}, 100)
	stop := run(t, w)
	done := q.waitCompleted(t, 1)
	stop()
	if s := done["a"].Attachments[0].Status; s != record.MediaFailed {
		t.Fatalf("status %s", s)
	}
}

// blockingFetcher blocks until its context ends.
type blockingFetcher struct{ started chan struct{} }

func (blockingFetcher) Provider() string { return record.ProviderMeta }
func (f blockingFetcher) Fetch(ctx context.Context, a record.Attachment) (io.ReadCloser, string, error) {
	close(f.started)
	<-ctx.Done()
	return nil, "", ctx.Err()
}

func TestWorkerStoppedMidDownloadLeavesTheRecordStaged(t *testing.T) {
	q := newFakeQueue(pendingRecord("r", "x"))
	f := blockingFetcher{started: make(chan struct{})}
	w, _ := newTestWorker(t, q, f, 100)
	stop := run(t, w)
	select {
	case <-f.started:
	case <-time.After(10 * time.Second):
		t.Fatal("the download never started")
	}
	stop()
	if q.completes != 0 {
		t.Fatal("a record whose download was cut off by shutdown was completed")
	}
	if s := q.entries[0].Complaint.Attachments[0].Status; s != record.MediaPending {
		t.Fatalf("status %s, want still pending", s)
	}
}

func TestWorkerRetriesClaimErrors(t *testing.T) {
	q := newFakeQueue(pendingRecord("r", "ok"))
	q.failClaim = 2
	f := &scriptFetcher{calls: map[string]int{}, steps: map[string][]func() (io.ReadCloser, error){"ok": {serve(photo)}}}
	w, _ := newTestWorker(t, q, f, 1<<20)
	stop := run(t, w)
	q.waitCompleted(t, 1)
	stop()
}

func TestBackoffGrowsAndIsBounded(t *testing.T) {
	base, max := 100*time.Millisecond, time.Second
	prev := time.Duration(0)
	for n := 1; n <= 10; n++ {
		d := backoff(base, max, n)
		if d < 90*time.Millisecond || d > 1100*time.Millisecond {
			t.Fatalf("backoff(%d) = %s out of bounds", n, d)
		}
		if n <= 4 && d < prev/2 {
			t.Fatalf("backoff(%d) = %s does not grow", n, d)
		}
		prev = d
	}
}

func TestWorkerProviders(t *testing.T) {
	w := &Worker{Fetchers: map[string]Fetcher{record.ProviderMeta: &scriptFetcher{}}}
	if p := w.Providers(); len(p) != 1 || !p[record.ProviderMeta] {
		t.Fatal(p)
	}
}
