// Package queue is the only package that knows Redis: it publishes complaint records to
// the stream exactly once (an atomic claim-and-XADD), keeps rejected inputs, stages records
// whose media are still being fetched, and spools records locally while Redis is down.
package queue

import (
	"context"
	"errors"
	"time"

	"github.com/lapor/intake/record"
)

// Config says where the streams live. Defaults follow CONTRACT §2 and §5.
type Config struct {
	// URL is redis://[user:pass@]host:port/db or rediss://…
	URL            string
	Stream         string        // intake:complaints
	RejectedStream string        // intake:rejected
	PendingStream  string        // intake:pending: records waiting for their media
	ConsumerGroup  string        // core
	SpoolDir       string        // ./data/spool
	SeenTTL        time.Duration // 7 days at least
	// KeyPrefix is prepended to every key this package writes (tests use it to share a server).
	KeyPrefix string
}

// Result is what became of a published or staged record.
type Result struct {
	ID        string
	Reference string
	// Duplicate: the provider message was accepted before; ID and Reference are the first's.
	Duplicate bool
	// Spooled: Redis was unreachable and the record waits, fsynced, in the local spool.
	Spooled bool
}

// ErrUnavailable: neither Redis nor the spool could take the record.
var ErrUnavailable = errors.New("queue: neither redis nor the local spool can store the record")

// Queue publishes records. Its methods are safe for concurrent use.
type Queue struct {
	cfg Config
}

// Open connects to Redis, creates the consumer group from id 0 and starts draining the spool.
func Open(ctx context.Context, cfg Config) (*Queue, error) {
	return nil, errors.New("queue: not yet built")
}

// Publish assigns c an ID (ULID) and a unique Reference when it has none, then claims
// intake:seen:<channel>:<provider id> and XADDs the record in one atomic step. A duplicate
// gets the first record's ID and Reference and writes nothing.
func (q *Queue) Publish(ctx context.Context, c *record.Complaint) (Result, error) {
	return Result{}, ErrUnavailable
}

// Stage is Publish for a record whose media are still to be fetched: the dedupe claim is
// made and the record is kept durably in the pending stream until Complete.
func (q *Queue) Stage(ctx context.Context, c *record.Complaint) (Result, error) {
	return Result{}, ErrUnavailable
}

// Reject appends r to the rejected stream (deduplicated per provider message).
func (q *Queue) Reject(ctx context.Context, r *record.Rejection) error {
	return ErrUnavailable
}

// Ready reports whether a record can be made durable now (Redis answers or the spool is writable).
func (q *Queue) Ready(ctx context.Context) error { return ErrUnavailable }

// Close drains nothing further and closes Redis.
func (q *Queue) Close() error { return nil }
