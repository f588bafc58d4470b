// Package queue is the only package that knows Redis: it publishes complaint records to
// the stream exactly once (an atomic claim-and-XADD), keeps rejected inputs, stages records
// whose media are still being fetched, and spools records locally while Redis is down.
//
// Writes from many goroutines are collected by two writer goroutines and sent to Redis
// as pipelines (automatic pipelining): the records waiting at that moment, up to 128, go
// in one EVALSHA of the publish script, so a burst of webhooks costs a few round trips
// instead of one each. When Redis cannot be reached, the writers append the records to a
// local spool (fsync before the caller gets its answer) and a drainer replays them, in
// order and through the same deduplicating script, once Redis answers again.
//
// Redis keys (each preceded by Config.KeyPrefix, stream names included):
//
//	intake:complaints                        stream of complaint records (Config.Stream)
//	intake:rejected                          stream of rejected inputs (Config.RejectedStream)
//	intake:pending                           records waiting for their media (Config.PendingStream)
//	intake:seen:<channel>:<provider id>      "<record id> <reference>[ <request sha256>]", expires after SeenTTL (10 days)
//	intake:seen:<channel>:rid:<record id>    the same, for a record without provider id (retries and replays)
//	intake:seen-rejected:<channel>:<id>      "rejected:<entry id>", expires after SeenTTL
//	intake:ref:<reference>                   the record id holding the reference, kept for good
//	intake:released:<rejected entry id>      "<record id> <reference>[ published]", kept for good (rejected.go)
//
// Consumer groups: Config.ConsumerGroup ("core") on the complaint stream and
// Config.PendingGroup ("media") on the pending stream, both created from id 0 at Open.
package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lapor/intake/record"
	"github.com/redis/go-redis/v9"
)

// Defaults (CONTRACT §2 and §5).
const (
	DefaultStream         = "intake:complaints"
	DefaultRejectedStream = "intake:rejected"
	DefaultPendingStream  = "intake:pending"
	DefaultConsumerGroup  = "core"
	DefaultPendingGroup   = "media"
	DefaultSpoolDir       = "./data/spool"
	// DefaultSeenTTL: Meta retries a webhook for up to 7 days, and a mailbox rescan or a
	// spool replay after a long outage can come later still; 10 days leaves a margin over
	// the longest retry window (CONTRACT §5 asks for at least 7).
	DefaultSeenTTL = 10 * 24 * time.Hour
	// MinSeenTTL is the shortest SeenTTL accepted: Meta's retry window.
	MinSeenTTL = 7 * 24 * time.Hour
	// DefaultReplicaWait bounds a WAIT: long enough for a replica on a LAN (the lab
	// measured under 1 ms), short enough that a missing replica costs a webhook little
	// before its record goes to the spool.
	DefaultReplicaWait = 250 * time.Millisecond
	// DefaultLeaseTTL: a mailbox whose holder died is free again after this (CONTRACT §9:
	// taken over within 30 s).
	DefaultLeaseTTL = 20 * time.Second
)

// MaxRawBytes is the most of a rejected input's raw payload kept on the rejected stream;
// longer payloads are cut and marked raw_truncated=1.
const MaxRawBytes = 1 << 20

// maxBatch is the most writes sent to Redis in one pipeline.
const maxBatch = 128

// writers is the number of writer goroutines: with two, one pipeline's replies are
// handled while Redis executes the next. Measured on perf-sms: ~15% more throughput than
// one before writers yielded to fill their batches, the same as one since; two still
// overlap the round trips when Redis is far away.
const writers = 2

// batchYields bounds how often a writer yields to let more records join its batch.
const batchYields = 4

// Config says where the streams live. Defaults follow CONTRACT §2 and §5.
type Config struct {
	// URL is redis://[user:pass@]host:port/db or rediss://…
	URL            string
	Stream         string        // intake:complaints
	RejectedStream string        // intake:rejected
	PendingStream  string        // intake:pending: records waiting for their media
	ConsumerGroup  string        // core
	SpoolDir       string        // ./data/spool
	SeenTTL        time.Duration // 10 days by default, 7 at least
	// KeyPrefix is prepended to every key this package writes (tests use it to share a server).
	KeyPrefix string
	// PendingGroup is the consumer group on PendingStream that ClaimPending reads with
	// (default "media").
	PendingGroup string
	// ContactTTL is how long the contact of a record (to answer it, CONTRACT §7) is kept;
	// DefaultContactTTL when 0.
	ContactTTL time.Duration
	// Logger receives the queue's logs (ids and counts only, never message content).
	// Default slog.Default().
	Logger *slog.Logger
	// MinReplicas (INTAKE_REDIS_MIN_REPLICAS, default 0): a record is answered from Redis
	// only once this many replicas confirmed it (WAIT); otherwise it goes to the spool and
	// is answered from there (CONTRACT §9).
	MinReplicas int
	// ReplicaWait bounds each WAIT for MinReplicas (default 250 ms; below ReadTimeout,
	// which a pipeline is read with).
	ReplicaWait time.Duration
	// InstanceID names this process in leases (INTAKE_INSTANCE_ID; default host name and
	// process id, DefaultInstanceID).
	InstanceID string
	// LeaseTTL is how long a mailbox lease lasts without renewal (default 20 s, so a dead
	// holder's mailbox is taken over within 30 s); renewed every third of it.
	LeaseTTL time.Duration
}

func (c Config) withDefaults() (Config, error) {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&c.Stream, DefaultStream)
	def(&c.RejectedStream, DefaultRejectedStream)
	def(&c.PendingStream, DefaultPendingStream)
	def(&c.ConsumerGroup, DefaultConsumerGroup)
	def(&c.PendingGroup, DefaultPendingGroup)
	def(&c.SpoolDir, DefaultSpoolDir)
	if c.SeenTTL == 0 {
		c.SeenTTL = DefaultSeenTTL
	}
	if c.ReplicaWait <= 0 {
		c.ReplicaWait = DefaultReplicaWait
	}
	if c.InstanceID == "" {
		c.InstanceID = DefaultInstanceID()
	}
	if c.LeaseTTL <= 0 {
		c.LeaseTTL = DefaultLeaseTTL
	}
	if c.ContactTTL <= 0 {
		c.ContactTTL = DefaultContactTTL
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	var errs []error
	if c.URL == "" {
		errs = append(errs, errors.New("no Redis URL: set INTAKE_REDIS_URL (redis://host:port/db), or start the embedded server with StartEmbedded in development"))
	}
	if c.MinReplicas < 0 {
		errs = append(errs, fmt.Errorf("INTAKE_REDIS_MIN_REPLICAS is %d; use 0 (no replica confirmation) or the number of replicas that must confirm each record", c.MinReplicas))
	}
	if err := validInstanceID(c.InstanceID); err != nil {
		errs = append(errs, err)
	}
	if c.SeenTTL < MinSeenTTL {
		errs = append(errs, fmt.Errorf("SeenTTL %s is shorter than 7 days: Meta retries a webhook for up to 7 days, so duplicates would slip through", c.SeenTTL))
	}
	if c.Stream == c.RejectedStream || c.Stream == c.PendingStream || c.RejectedStream == c.PendingStream {
		errs = append(errs, fmt.Errorf("the complaint, rejected and pending streams must be three different keys (got %q, %q, %q)", c.Stream, c.RejectedStream, c.PendingStream))
	}
	return c, errors.Join(errs...)
}

// Result is what became of a published or staged record.
type Result = record.Stored

// ErrUnavailable: neither Redis nor the spool could take the record.
var ErrUnavailable = errors.New("queue: neither redis nor the local spool can store the record")

// ErrRedisUnreachable wraps the errors of operations that need Redis itself (ClaimPending,
// Complete, Follow) when it cannot be reached; try again later.
var ErrRedisUnreachable = errors.New("redis unreachable")

// ErrClosed is returned by writes after Close.
var ErrClosed = errors.New("queue: closed")

// Queue publishes records. Its methods are safe for concurrent use.
type Queue struct {
	cfg   Config
	log   *slog.Logger
	rdb   *redis.Client
	addr  string
	spool *spool

	keyStream, keyRejected, keyPending   string
	seenPrefix, seenRejPrefix, refPrefix string
	// ratePrefix and ownerPrefix are the conversation's keys (conversation.go).
	ratePrefix, ownerPrefix string
	// pre-boxed script arguments: boxing them once saves allocations on every write
	argStream, argPending, argRejected, argTTL any
	argContactTTL                              any // contact.go

	reqs   chan *op
	mu     sync.RWMutex // guards closed against sends on reqs
	closed bool
	down   atomic.Bool // redis last seen unreachable: writes go straight to the spool
	kick   chan struct{}
	stop   chan struct{}
	wg     sync.WaitGroup

	refs     *refAllocator
	replicas replicaState

	claimMu     sync.Mutex
	claimCursor string

	burstsOnce sync.Once
	bursts     *Bursts // burst.go; made on first use
}

// Open connects to Redis, creates the consumer group from id 0 and starts draining the spool.
// It succeeds while Redis is down (records then go to the spool); it fails on a bad
// configuration, on credentials Redis refuses, or when the spool directory is not writable.
func Open(ctx context.Context, cfg Config) (*Queue, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	rdb, addr, err := NewRedisClient(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	log := cfg.Logger.With("component", "queue")
	routeRedisLogs(log)
	sp, err := openSpool(cfg.SpoolDir, log)
	if err != nil {
		_ = rdb.Close()
		return nil, err
	}
	p := cfg.KeyPrefix
	q := &Queue{
		cfg:           cfg,
		log:           log,
		rdb:           rdb,
		addr:          addr,
		spool:         sp,
		keyStream:     p + cfg.Stream,
		keyRejected:   p + cfg.RejectedStream,
		keyPending:    p + cfg.PendingStream,
		seenPrefix:    p + "intake:seen:",
		seenRejPrefix: p + "intake:seen-rejected:",
		refPrefix:     p + "intake:ref:",
		ratePrefix:    p + "intake:rate:",
		ownerPrefix:   p + "intake:conv:ref:",
		reqs:          make(chan *op, 4*maxBatch),
		kick:          make(chan struct{}, 1),
		stop:          make(chan struct{}),
	}
	q.refs = newRefAllocator(q.rdb, p, cfg.MinReplicas, cfg.ReplicaWait)
	q.replicas.confirming.Store(-1)
	q.argStream, q.argPending, q.argRejected = q.keyStream, q.keyPending, q.keyRejected
	q.argTTL = strconv.FormatInt(int64(cfg.SeenTTL/time.Second), 10)
	q.argContactTTL = strconv.FormatInt(int64(cfg.ContactTTL/time.Second), 10)

	cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	err = q.connect(cctx)
	cancel()
	switch {
	case err == nil:
		log.Info("redis connected", "addr", q.addr, "stream", q.keyStream, "group", cfg.ConsumerGroup)
	case unreachable(err):
		q.down.Store(true)
		log.Warn("redis unreachable at start; records are spooled until it answers",
			"addr", q.addr, "spool_dir", cfg.SpoolDir, "error", err)
	default:
		_ = q.rdb.Close()
		_ = sp.close()
		return nil, fmt.Errorf("queue: redis at %s refused the connection: %w (check the user, password and db in INTAKE_REDIS_URL)", q.addr, err)
	}
	q.wg.Add(1 + writers)
	for range writers {
		go q.writer()
	}
	go q.drainer()
	if sp.size() > 0 {
		q.kickDrainer()
	}
	return q, nil
}

// connect pings Redis, creates the consumer groups and loads the scripts.
func (q *Queue) connect(ctx context.Context) error {
	if err := q.rdb.Ping(ctx).Err(); err != nil {
		return err
	}
	if q.cfg.MinReplicas > 0 {
		if err := q.checkReplicas(ctx); err != nil {
			return err
		}
	}
	for _, g := range []struct{ stream, group string }{
		{q.keyStream, q.cfg.ConsumerGroup},
		{q.keyPending, q.cfg.PendingGroup},
	} {
		err := q.rdb.XGroupCreateMkStream(ctx, g.stream, g.group, "0").Err()
		if err != nil && !redis.HasErrorPrefix(err, "BUSYGROUP") {
			if unreachable(err) {
				return err
			}
			q.log.Error("cannot create consumer group; is the key a stream?", "stream", g.stream, "group", g.group, "error", err)
		}
	}
	return q.loadScripts(ctx)
}

func (q *Queue) loadScripts(ctx context.Context) error {
	for _, s := range allScripts {
		if err := s.Load(ctx, q.rdb).Err(); err != nil {
			return err
		}
	}
	return nil
}

// Publish assigns c an ID (ULID) and a unique Reference when it has none, then claims
// intake:seen:<channel>:<provider id> and XADDs the record in one atomic step. A duplicate
// gets the first record's ID and Reference and writes nothing. On return c.ID and
// c.Reference hold the values in Result. A record without ProviderMessageID is never
// treated as a duplicate of another record; it is deduplicated by its own ID, so a retried
// or replayed write of it is recognised. A dedupe key already used with another
// RequestHash is refused with record.ErrKeyReused.
func (q *Queue) Publish(ctx context.Context, c *record.Complaint) (Result, error) {
	return q.write(ctx, opPublish, c)
}

// Stage is Publish for a record whose media are still to be fetched: the dedupe claim is
// made and the record is kept durably in the pending stream until Complete.
func (q *Queue) Stage(ctx context.Context, c *record.Complaint) (Result, error) {
	return q.write(ctx, opStage, c)
}

func (q *Queue) write(ctx context.Context, kind opKind, c *record.Complaint) (Result, error) {
	o, err := q.newOp(ctx, kind, c)
	if err != nil {
		return Result{}, err
	}
	res, err := q.submit(ctx, o)
	if err == nil {
		c.ID, c.Reference = res.ID, res.Reference
	}
	return res, err
}

// newOp makes c's write: its id and reference (when it has none), dedupe key, budgets,
// JSON and contact.
func (q *Queue) newOp(ctx context.Context, kind opKind, c *record.Complaint) (*op, error) {
	if c == nil {
		return nil, errors.New("queue: nil complaint")
	}
	if c.Channel == "" {
		return nil, errors.New("queue: complaint has no channel; the channel sets the dedupe key")
	}
	if c.ID == "" {
		c.ID = newID()
	}
	counter := false
	if c.Reference == "" {
		c.Reference, counter = q.refs.take(ctx, q.down.Load())
	} else if c.FollowUpOf != nil && c.FollowUpOf.Reference == c.Reference {
		counter = true // a follow-up carries its complaint's reference: not claimed again
	}
	if c.SchemaVersion == 0 {
		c.SchemaVersion = record.SchemaVersion
	}
	if c.ReceivedAt == "" {
		c.ReceivedAt = record.FormatTime(time.Now())
	}
	o := getOp()
	o.kind = kind
	o.id, o.ref, o.counter, o.channel = c.ID, c.Reference, counter, c.Channel
	switch {
	case c.DedupeKey != "":
		o.dedupe = c.Channel + ":" + c.DedupeKey
	case c.ProviderMessageID != "":
		o.dedupe = c.Channel + ":" + c.ProviderMessageID
	default:
		// No provider id: the record's own id still makes a retried pipeline or a replayed
		// spool answer "D" with this id instead of writing the record twice.
		o.dedupe = c.Channel + ":rid:" + c.ID
	}
	o.hash = c.RequestHash
	if b := c.ReceiptBudget; b.Key != "" && b.Max >= 0 && b.Window > 0 {
		o.budgetKey = receiptKey(q.cfg.KeyPrefix, b.Key)
		o.budgetSpec = strconv.Itoa(b.Max) + " " + strconv.FormatInt(b.Window.Milliseconds(), 10)
	}
	q.converse(o, c)
	if err := o.encode(c); err != nil {
		putOp(o)
		return nil, fmt.Errorf("queue: encode complaint %s: %w", c.ID, err)
	}
	o.setContact(c)
	o.contactSet = true
	return o, nil
}

// Reject appends r to the rejected stream (deduplicated per provider message). Raw is
// kept as-is up to MaxRawBytes; a longer payload is cut and marked raw_truncated=1.
func (q *Queue) Reject(ctx context.Context, r *record.Rejection) error {
	if r == nil {
		return errors.New("queue: nil rejection")
	}
	if r.Reason == "" {
		return errors.New("queue: rejection has no reason")
	}
	o := getOp()
	o.kind = opReject
	e := &rejectEntry{
		Reason:            r.Reason,
		Detail:            r.Detail,
		Channel:           r.Channel,
		Provider:          r.Provider,
		ProviderMessageID: r.ProviderMessageID,
		Raw:               r.Raw,
		RawRef:            r.RawRef,
		ReceivedAt:        record.FormatTime(time.Now()),
	}
	if len(e.Raw) > MaxRawBytes {
		e.Raw, e.RawTruncated = e.Raw[:MaxRawBytes], true
	}
	o.rej = e
	o.channel = r.Channel
	switch {
	case r.DedupeKey != "":
		o.dedupe = r.Channel + ":" + r.DedupeKey
	case r.ProviderMessageID != "":
		o.dedupe = r.Channel + ":" + r.ProviderMessageID
	default:
		// No provider id: nothing to dedupe across deliveries, but a retried pipeline or a
		// replayed spool must still not write the entry twice.
		o.token = newID()
	}
	_, err := q.submit(ctx, o)
	return err
}

// submit hands o to the writer goroutine and waits for its outcome. If ctx ends first the
// write may still complete; a retry is then answered as a duplicate.
func (q *Queue) submit(ctx context.Context, o *op) (Result, error) {
	q.mu.RLock()
	if q.closed {
		q.mu.RUnlock()
		putOp(o)
		return Result{}, ErrClosed
	}
	select {
	case q.reqs <- o:
		q.mu.RUnlock()
	case <-ctx.Done():
		q.mu.RUnlock()
		putOp(o)
		return Result{}, ctx.Err()
	}
	select {
	case <-o.done:
		res, err := o.res, o.err
		putOp(o)
		return res, err
	case <-ctx.Done():
		// The writer still owns o; it is left to the garbage collector.
		return Result{}, ctx.Err()
	}
}

// Ready reports whether a record can be made durable now (Redis answers or the spool is writable).
func (q *Queue) Ready(ctx context.Context) error {
	var redisErr error
	if q.down.Load() {
		redisErr = errors.New("last attempt found it unreachable")
	} else if redisErr = q.rdb.Ping(ctx).Err(); redisErr == nil {
		return nil
	} else if unreachable(redisErr) {
		q.setDown(redisErr)
	}
	spoolErr := q.spool.probe()
	if spoolErr == nil {
		return nil
	}
	return fmt.Errorf("queue: not ready: redis at %s: %v; spool: %w", q.addr, redisErr, spoolErr)
}

// InstanceID names this process in leases and consumer groups (Config.InstanceID).
func (q *Queue) InstanceID() string { return q.cfg.InstanceID }

// SpoolSize is the number of records waiting in the local spool for Redis.
func (q *Queue) SpoolSize() int { return int(q.spool.size()) }

// SpoolQuarantined is the number of quarantined spool files (*.corrupt) in the spool
// directory: records in them were acknowledged but are not delivered until an operator
// replays them.
func (q *Queue) SpoolQuarantined() int { return int(q.spool.corrupt.Load()) }

// Close drains nothing further and closes Redis. Writes already handed to the queue are
// finished first (to Redis, or to the spool); records left in the spool stay on disk for
// the next Open.
func (q *Queue) Close() error {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return nil
	}
	q.closed = true
	close(q.reqs)
	q.mu.Unlock()
	close(q.stop)
	q.wg.Wait()
	return errors.Join(q.spool.close(), q.rdb.Close())
}

func (q *Queue) kickDrainer() {
	select {
	case q.kick <- struct{}{}:
	default:
	}
}

// setDown records that Redis is unreachable: writes go straight to the spool until the
// drainer reaches Redis again.
func (q *Queue) setDown(err error) {
	if q.down.CompareAndSwap(false, true) {
		q.log.Warn("redis unreachable; records are spooled until it answers",
			"addr", q.addr, "spool_dir", q.cfg.SpoolDir, "error", err)
	}
	q.kickDrainer()
}

// go-redis logs through one process-wide logger; its messages (dial failures, pool
// notices) go to the most recently opened queue's logger at debug level: the queue's own
// warnings already say when Redis is unreachable.
var (
	redisLogger     atomic.Pointer[slog.Logger]
	redisLoggerOnce sync.Once
)

type redisLogAdapter struct{}

func (redisLogAdapter) Printf(ctx context.Context, format string, v ...any) {
	if l := redisLogger.Load(); l != nil && l.Enabled(ctx, slog.LevelDebug) {
		l.DebugContext(ctx, fmt.Sprintf(format, v...), "source", "go-redis")
	}
}

func routeRedisLogs(l *slog.Logger) {
	redisLogger.Store(l)
	redisLoggerOnce.Do(func() { redis.SetLogger(redisLogAdapter{}) })
}

// unreachable reports whether err means Redis could not be reached or cannot take writes
// right now (connection refused or lost, timeouts, loading, read-only replica, out of
// memory, persistence failing): the cases where the spool should take the record. A
// script or command error is not one of them.
func unreachable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.Canceled) {
		return false // the caller gave up; says nothing about Redis
	}
	if errors.Is(err, redis.ErrClosed) || errors.Is(err, errNotReplicated) {
		return true
	}
	var rerr redis.Error
	if !errors.As(err, &rerr) {
		return true // network, timeout, EOF, pool exhaustion
	}
	return refusedForNow(err.Error())
}

// refusedForNow reports whether a Redis error message means the server cannot take writes
// right now: loading, a replica or demoted primary (READONLY), too few replicas
// (NOREPLICAS, min-replicas-to-write), out of memory, persistence failing, a busy script.
func refusedForNow(msg string) bool {
	for _, p := range []string{"LOADING", "READONLY", "NOREPLICAS", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN", "OOM", "MISCONF", "BUSY "} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}
