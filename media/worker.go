package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/lapor/intake/metrics"
	"github.com/lapor/intake/record"
)

// PendingQueue is the durable stage of records whose media are still to be fetched
// (queue.Queue in production). ClaimPending hands out staged records not yet claimed and
// those claimed more than minIdle ago by a consumer that never completed them (a crash);
// Complete publishes the settled record and removes the staged entry, once.
type PendingQueue interface {
	ClaimPending(ctx context.Context, consumer string, count int, minIdle time.Duration) ([]record.Pending, error)
	Complete(ctx context.Context, p record.Pending, c *record.Complaint) error
}

// Putter keeps bytes content-addressed (*Store in production).
type Putter interface {
	Put(r io.Reader, declaredType string) (Blob, error)
}

// Worker downloads the pending attachments of staged records, keeps them in the store and
// publishes each record once all its attachments are settled (stored, failed, too_large
// or blocked). Webhooks never wait for it. It implements channels.Runner.
//
// Every attachment is tried up to Attempts times with exponential backoff (with jitter)
// between BaseBackoff and MaxBackoff; a PermanentError settles it at once. A
// record whose worker dies half-way stays staged and is claimed again after MinIdle, by
// this or another instance; Complete is idempotent, so it is published once.
type Worker struct {
	Queue PendingQueue
	Store Putter
	// Fetchers by provider (record.ProviderMeta, record.ProviderTwilio). The pipeline's
	// FetchProviders must be exactly these providers (see Providers).
	Fetchers map[string]Fetcher
	// PublicURL is the gateway's external base; storage_url is PublicURL/media/<sha256>.
	PublicURL string
	Metrics   *metrics.Metrics
	Logger    *slog.Logger

	// Consumer names this worker in the pending group (hostname-pid when empty).
	Consumer string
	// Concurrency is how many records are worked on at once (4 when 0).
	Concurrency int
	// MinIdle is how long a claimed record may go uncompleted before another worker takes
	// it over. It must exceed Attempts × (FetchTimeout + MaxBackoff), the longest one
	// attachment can take, or a slow record is taken over and downloaded twice: Run
	// refuses a shorter one. When 0: that budget plus 2 min, at least 15 min (15 min with
	// the defaults, whose budget is 12.5 min).
	MinIdle time.Duration
	// PollInterval is the least time between two empty claims (1 s when 0).
	PollInterval time.Duration
	// Attempts per attachment (5 when 0); BaseBackoff (1 s) doubles up to MaxBackoff (30 s).
	Attempts    int
	BaseBackoff time.Duration
	MaxBackoff  time.Duration
	// FetchTimeout bounds one download attempt (2 min when 0).
	FetchTimeout time.Duration

	mu       sync.Mutex
	inflight map[string]bool
}

// Name implements channels.Runner.
func (w *Worker) Name() string { return "media-worker" }

// Providers returns the providers this worker fetches for: the pipeline's FetchProviders.
func (w *Worker) Providers() map[string]bool {
	out := make(map[string]bool, len(w.Fetchers))
	for p := range w.Fetchers {
		out[p] = true
	}
	return out
}

func (w *Worker) defaults() {
	if w.Logger == nil {
		w.Logger = slog.New(slog.DiscardHandler)
	}
	if w.Consumer == "" {
		host, _ := os.Hostname()
		w.Consumer = host + "-" + strconv.Itoa(os.Getpid())
	}
	if w.Concurrency <= 0 {
		w.Concurrency = 4
	}
	if w.PollInterval <= 0 {
		w.PollInterval = time.Second
	}
	if w.Attempts <= 0 {
		w.Attempts = 5
	}
	if w.BaseBackoff <= 0 {
		w.BaseBackoff = time.Second
	}
	if w.MaxBackoff <= 0 {
		w.MaxBackoff = 30 * time.Second
	}
	if w.MaxBackoff < w.BaseBackoff {
		w.MaxBackoff = w.BaseBackoff
	}
	if w.FetchTimeout <= 0 {
		w.FetchTimeout = 2 * time.Minute
	}
	if w.MinIdle <= 0 {
		w.MinIdle = max(15*time.Minute, w.attachmentBudget()+2*time.Minute)
	}
	w.mu.Lock()
	w.inflight = map[string]bool{}
	w.mu.Unlock()
}

// Run claims and settles staged records until ctx ends. Work in progress when ctx ends is
// abandoned, not completed: it stays staged for the next start.
func (w *Worker) Run(ctx context.Context) error {
	if w.Queue == nil || w.Store == nil {
		return errors.New("media worker: Queue and Store are required")
	}
	w.defaults()
	if b := w.attachmentBudget(); w.MinIdle <= b {
		return fmt.Errorf("media worker: MinIdle %s must exceed Attempts × (FetchTimeout + MaxBackoff) = %d × (%s + %s) = %s, or a slow download is taken over by another instance and fetched twice; raise MinIdle or lower the others",
			w.MinIdle, w.Attempts, w.FetchTimeout, w.MaxBackoff, b)
	}
	w.Logger.Info("media worker started", "consumer", w.Consumer, "providers", len(w.Fetchers))
	slots := make(chan struct{}, w.Concurrency)
	var wg sync.WaitGroup
	defer wg.Wait()
	failures := 0
	for ctx.Err() == nil {
		free := w.Concurrency - len(slots)
		if free == 0 {
			// Wait for a slot.
			select {
			case slots <- struct{}{}:
				<-slots
			case <-ctx.Done():
			}
			continue
		}
		asked := time.Now()
		batch, err := w.Queue.ClaimPending(ctx, w.Consumer, free, w.MinIdle)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			failures++
			w.Logger.Warn("cannot claim staged records; retrying", "err", err, "attempt", failures)
			sleep(ctx, backoff(w.BaseBackoff, w.MaxBackoff, failures))
			continue
		}
		failures = 0
		started := 0
		for _, p := range batch {
			if p.Complaint == nil || !w.begin(p.EntryID) {
				continue // already being worked on here
			}
			started++
			slots <- struct{}{}
			wg.Add(1)
			go func(p record.Pending) {
				defer wg.Done()
				defer func() { <-slots }()
				defer w.end(p.EntryID)
				w.settle(ctx, p)
			}(p)
		}
		if started == 0 {
			// ClaimPending may itself wait for new entries; pause only for what is left.
			sleep(ctx, w.PollInterval-time.Since(asked))
		}
	}
	w.Logger.Info("media worker stopped", "consumer", w.Consumer)
	return nil
}

// attachmentBudget is the longest one attachment can take: every attempt timing out, with
// the longest backoff between attempts.
func (w *Worker) attachmentBudget() time.Duration {
	return time.Duration(w.Attempts) * (w.FetchTimeout + w.MaxBackoff)
}

func (w *Worker) begin(id string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.inflight[id] {
		return false
	}
	w.inflight[id] = true
	return true
}

func (w *Worker) end(id string) {
	w.mu.Lock()
	delete(w.inflight, id)
	w.mu.Unlock()
}

// settle fetches every pending attachment of p's record, then completes it.
func (w *Worker) settle(ctx context.Context, p record.Pending) {
	c := p.Complaint
	for i := range c.Attachments {
		a := &c.Attachments[i]
		if a.Status != record.MediaPending || (a.SourceURL == "" && a.MediaID == "") {
			continue
		}
		status := w.fetch(ctx, c, a)
		if ctx.Err() != nil {
			return // shutting down: leave the record staged, untouched
		}
		w.Metrics.Media(c.Channel, status)
	}
	// The media are settled: finish the publication even when shutdown has begun, rather
	// than fetch everything again after the restart.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	for attempt := 1; ; attempt++ {
		err := w.Queue.Complete(cctx, p, c)
		if err == nil {
			w.Logger.Debug("record completed", "id", c.ID, "attachments", len(c.Attachments))
			return
		}
		if cctx.Err() != nil || attempt >= w.Attempts {
			w.Logger.Error("settled record not published; it stays staged and is retried after the idle time",
				"id", c.ID, "err", err, "min_idle", w.MinIdle)
			return
		}
		sleep(cctx, backoff(w.BaseBackoff, w.MaxBackoff, attempt))
	}
}

// fetch settles one attachment and returns its final status.
func (w *Worker) fetch(ctx context.Context, c *record.Complaint, a *record.Attachment) string {
	f := w.Fetchers[c.Provider]
	if f == nil {
		w.Logger.Error("no media fetcher for the record's provider; the attachment is marked failed",
			"id", c.ID, "provider", c.Provider)
		a.Status = record.MediaFailed
		return a.Status
	}
	var last error
	for attempt := 1; attempt <= w.Attempts; attempt++ {
		if attempt > 1 {
			if !sleep(ctx, backoff(w.BaseBackoff, w.MaxBackoff, attempt-1)) {
				return a.Status
			}
		}
		blob, err := w.once(ctx, f, a)
		if err == nil {
			SetStored(a, blob, w.PublicURL)
			w.Logger.Debug("attachment stored", "id", c.ID, "sha256", blob.SHA256, "size", blob.Size, "attempt", attempt)
			return a.Status
		}
		if ctx.Err() != nil {
			return a.Status
		}
		last = err
		var perm *PermanentError
		if errors.As(err, &perm) {
			a.Status = perm.Status
			if a.Status == "" || a.Status == record.MediaPending || a.Status == record.MediaStored {
				a.Status = record.MediaFailed
			}
			w.Logger.Warn("attachment not fetched", "id", c.ID, "provider", c.Provider, "status", a.Status, "err", err)
			return a.Status
		}
		w.Logger.Info("attachment download failed; will retry", "id", c.ID, "provider", c.Provider,
			"attempt", attempt, "of", w.Attempts, "err", err)
	}
	a.Status = record.MediaFailed
	w.Logger.Warn("attachment not fetched after every attempt", "id", c.ID, "provider", c.Provider,
		"attempts", w.Attempts, "err", last)
	return a.Status
}

// once makes one download attempt into the store.
func (w *Worker) once(ctx context.Context, f Fetcher, a *record.Attachment) (Blob, error) {
	ctx, cancel := context.WithTimeout(ctx, w.FetchTimeout)
	defer cancel()
	body, ct, err := f.Fetch(ctx, *a)
	if err != nil {
		return Blob{}, err
	}
	defer body.Close()
	declared := a.ContentType
	if declared == "" {
		declared = ct
	}
	blob, err := w.Store.Put(body, declared)
	if errors.Is(err, ErrTooLarge) {
		return Blob{}, &PermanentError{Status: record.MediaTooLarge, Err: err}
	}
	if err != nil {
		return Blob{}, fmt.Errorf("download into the media store: %w", err)
	}
	return blob, nil
}

// backoff is base·2^(n-1), capped, with ±10 % jitter.
func backoff(base, max time.Duration, n int) time.Duration {
	d := base
	for i := 1; i < n && d < max; i++ {
		d *= 2
	}
	if d > max {
		d = max
	}
	jitter := time.Duration(rand.Int64N(int64(d)/5+1)) - d/10
	return d + jitter
}

// sleep waits d or until ctx ends; it reports whether the full time passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
