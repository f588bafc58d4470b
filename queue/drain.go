package queue

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

const (
	drainMinBackoff = 200 * time.Millisecond
	drainMaxBackoff = 2 * time.Second
)

// drainer watches Redis while it is unreachable and, once it answers, replays the spool.
// Writers kick it after each spooled batch; while Redis is down it still tries Redis only
// on its own backoff schedule, so a busy outage does not turn into a dial storm.
func (q *Queue) drainer() {
	defer q.wg.Done()
	backoff := drainMinBackoff
	next := time.Now() // earliest next attempt at Redis while it is down
	lastErr := ""
	for {
		var t *time.Timer
		var tick <-chan time.Time
		if q.down.Load() || q.spool.size() > 0 {
			t = time.NewTimer(max(time.Until(next), time.Millisecond))
			tick = t.C
		}
		select {
		case <-q.stop:
			if t != nil {
				t.Stop()
			}
			return
		case <-q.kick:
		case <-tick:
		}
		if t != nil {
			t.Stop()
		}
		if time.Now().Before(next) {
			continue
		}
		if q.down.Load() {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			err := q.connect(ctx)
			cancel()
			if err != nil {
				if msg := err.Error(); msg != lastErr && !unreachable(err) {
					q.log.Error("redis answers but refuses the queue; records stay in the spool", "addr", q.addr, "error", err)
					lastErr = msg
				}
				backoff = min(backoff*2, drainMaxBackoff)
				next = time.Now().Add(backoff)
				continue
			}
			lastErr = ""
			q.down.Store(false)
			q.log.Info("redis reachable again", "addr", q.addr, "spooled", q.spool.size())
		}
		if q.spool.size() == 0 {
			backoff = drainMinBackoff
			continue
		}
		if err := q.drain(); err != nil {
			if unreachable(err) {
				q.setDown(err)
			} else if !errors.Is(err, errStopping) {
				q.log.Error("spool drain stopped; retrying", "error", err, "spooled", q.spool.size())
			}
			backoff = min(backoff*2, drainMaxBackoff)
			next = time.Now().Add(backoff)
			continue
		}
		backoff = drainMinBackoff
	}
}

var errStopping = errors.New("queue: closing")

// drain replays spool files, oldest first, until the spool is empty or an error stops it.
func (q *Queue) drain() error {
	p := q.newPipeline()
	for {
		select {
		case <-q.stop:
			return errStopping
		default:
		}
		f := q.spool.next()
		if f == nil {
			return nil
		}
		if err := q.drainFile(p, f); err != nil {
			return err
		}
	}
}

// drainFile delivers one spool file's records, then forgets the file. A crash half-way
// replays the file from its start at the next Open; the scripts make that harmless.
func (q *Queue) drainFile(p *pipeline, f *spoolFile) error {
	data, err := os.ReadFile(filepath.Join(q.spool.dir, f.name))
	if err != nil {
		q.spool.quarantine(f.name, err)
		q.spool.drop(f)
		return nil
	}
	lines, _, _ := parseSpool(data)
	start := time.Now()
	var dups, rerefs int
	ctx := context.Background()
	for i := 0; i < len(lines); i += maxBatch {
		select {
		case <-q.stop:
			return errStopping
		default:
		}
		end := min(i+maxBatch, len(lines))
		ops := make([]*op, 0, end-i)
		for j := i; j < end; j++ {
			ops = append(ops, lines[j].op())
		}
		followUps, err := q.replayBursts(ctx, ops) // burstspool.go
		if err != nil {
			return err
		}
		ops = append(ops, followUps...)
		if err := q.execRedis(ctx, p, ops); err != nil {
			return err
		}
		for _, o := range ops {
			if o.err != nil {
				return fmt.Errorf("replay spooled %s: %w", o.kind, o.err)
			}
			if o.res.Duplicate {
				dups++
				q.log.Warn("spooled record was already in redis under another id; the first is kept",
					"id", o.id, "kept_id", o.res.ID, "kept_reference", o.res.Reference)
			}
			if o.oldRef != "" {
				rerefs++
				q.log.Warn("spooled record's reference was taken meanwhile; it was given another",
					"id", o.id, "reference", o.oldRef, "new_reference", o.ref)
			}
		}
	}
	q.spool.finish(f)
	q.log.Info("spool file drained", "file", f.name, "records", len(lines), "duplicates", dups,
		"rereferenced", rerefs, "took", time.Since(start).Round(time.Millisecond), "spooled", q.spool.size())
	return nil
}
