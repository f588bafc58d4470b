package queue

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"

	"github.com/lapor/intake/record"
	"github.com/redis/go-redis/v9"
	segjson "github.com/segmentio/encoding/json"
)

type opKind uint8

const (
	opPublish opKind = iota // complaint stream
	opStage                 // pending stream
	opReject                // rejected stream
	opBurst                 // a burst part kept in the spool while Redis is down (burstspool.go)
)

func (k opKind) String() string {
	switch k {
	case opPublish:
		return "publish"
	case opStage:
		return "stage"
	case opBurst:
		return "burst"
	default:
		return "reject"
	}
}

type opState uint8

const (
	stateTodo opState = iota
	stateDone
)

// maxRefTries bounds the search for a free reference (one in 10^6 is taken even with a
// million records, so a second try is already rare).
const maxRefTries = 8

// op is one write on its way to Redis or the spool. Callers' ops come from a pool and
// carry their own encoder and argument buffers, so a publish allocates little.
type op struct {
	kind opKind
	id   string
	ref  string
	// counter: ref was issued by the counter (unique by construction, no claim needed).
	counter bool
	channel string
	// dedupe is "<channel>:<provider id>" (or the channel's DedupeKey); for a record
	// without either, "<channel>:rid:<record id>", so a retried or replayed write of the
	// same record is recognised.
	dedupe string
	// hash is the SHA-256 of the request behind the record (record.Complaint.RequestHash):
	// the same dedupe key with another hash is a reused key, not a repeat.
	hash string
	// replay: the op comes from the spool; its caller was answered long ago.
	replay bool
	// token makes a rejection without a provider id idempotent across retries and replays.
	token string
	body  []byte // complaint JSON
	rej   *rejectEntry
	burst *burstLine // op burst: what the part needs to find its burst again

	state    opState
	res      Result
	err      error
	refTries int
	// oldRef is set when the drainer had to give a spooled record a new reference.
	oldRef string
	// held: Redis had taken the record with its receipt budget spent, but replicas did not
	// confirm it; spooled, its answer still holds the receipt back.
	held bool

	// budgetKey is the citizen's receipt budget counted when the record is written
	// (intake:receipt:<hash>, "" for none); budgetSpec is "<max> <window ms>".
	budgetKey, budgetSpec string
	// rateKey is the citizen's rate window counted before the record is written
	// (intake:rate:<citizen_id>, "" for none); rateSpec is "<max> <window ms>". citizen
	// is the record's citizen_id, noted as its reference's owner (ownerKey) for a new
	// complaint. Neither is spooled: a replayed record was acknowledged long ago.
	rateKey, rateSpec, citizen, ownerKey string

	// seenKey and refKey are the publish script's keys for this record ("" when unused).
	seenKey, refKey string

	// The contact kept with the record for answering it (contact.go): its JSON, the
	// WhatsApp window's key tail and timestamp, and this round's keys.
	contact, contactBuf   []byte
	contactSet            bool
	windowTail, windowMs  string
	contactKey, windowKey string

	cmd  *redis.Cmd
	args []any
	// jsonBuf is the buffer the complaint is encoded into, kept with the pooled op.
	jsonBuf []byte
	done    chan struct{}
}

// rejectEntry is a rejection as the rejected stream and the spool keep it.
type rejectEntry struct {
	Reason            string `json:"reason"`
	Detail            string `json:"detail,omitempty"`
	Channel           string `json:"channel,omitempty"`
	Provider          string `json:"provider,omitempty"`
	ProviderMessageID string `json:"provider_message_id,omitempty"`
	Raw               []byte `json:"raw,omitempty"`
	RawTruncated      bool   `json:"raw_truncated,omitempty"`
	RawRef            string `json:"raw_ref,omitempty"`
	ReceivedAt        string `json:"received_at"`
}

var opPool = sync.Pool{New: func() any {
	return &op{done: make(chan struct{}, 1), args: make([]any, 0, 16)}
}}

func getOp() *op { return opPool.Get().(*op) }

func putOp(o *op) {
	if cap(o.jsonBuf) > 64<<10 {
		return // an unusually large record: let its buffer go
	}
	if cap(o.contactBuf) > 4<<10 {
		o.contactBuf = nil
	}
	done, args, jsonBuf, contactBuf := o.done, o.args[:0], o.jsonBuf[:0], o.contactBuf[:0]
	select { // a pooled op never carries a stale signal
	case <-done:
	default:
	}
	clear(args[:cap(args)])
	*o = op{done: done, args: args, jsonBuf: jsonBuf, contactBuf: contactBuf}
	opPool.Put(o)
}

// encode writes c's JSON into o.body. segmentio's encoder writes what encoding/json
// writes, byte for byte (TestComplaintJSONMatchesEncodingJSON holds it to that), in half
// the time and without allocating: this runs on every record.
func (o *op) encode(c *record.Complaint) error {
	b, err := segjson.Append(o.jsonBuf[:0], c, segjson.SortMapKeys)
	if err != nil {
		return err
	}
	o.jsonBuf, o.body = b, b
	return nil
}

// indexKey names o in the spool's dedupe index; "" when o is never deduplicated.
func (o *op) indexKey() string {
	if o.dedupe == "" {
		return ""
	}
	switch o.kind {
	case opReject:
		return "r|" + o.dedupe
	case opBurst: // a part, not a record: a record of the same message is not its repeat
		return "b|" + o.dedupe
	}
	return "c|" + o.dedupe
}

func (o *op) finish(res Result, err error) {
	o.res, o.err, o.state = res, err, stateDone
}

// rejectArgs builds the EVALSHA of a rejection in o.args.
func (q *Queue) rejectArgs(o *op) []any {
	key := o.dedupe
	if key == "" {
		key = "-:" + o.token
	}
	e := o.rej
	a := append(o.args[:0], "evalsha", shaReject, 2, q.seenRejPrefix+key, q.argRejected, q.argTTL,
		"reason", e.Reason)
	if e.Detail != "" {
		a = append(a, "detail", e.Detail)
	}
	a = append(a, "channel", e.Channel)
	if e.Provider != "" {
		a = append(a, "provider", e.Provider)
	}
	if e.ProviderMessageID != "" {
		a = append(a, "provider_message_id", e.ProviderMessageID)
	}
	if e.Raw != nil || e.RawRef == "" {
		a = append(a, "raw", e.Raw)
	}
	if e.RawTruncated {
		a = append(a, "raw_truncated", "1")
	}
	if e.RawRef != "" {
		a = append(a, "raw_ref", e.RawRef)
	}
	a = append(a, "received_at", e.ReceivedAt)
	o.args = a
	return a
}

// group is the records of one batch bound for one stream: one EVALSHA of publishScript.
type group struct {
	stream any
	cgroup any // the stream's consumer group, created with the stream when it is missing
	ops    []*op
	args   []any
	cmd    *redis.Cmd
	// day is the contact hash last named (contact.go).
	day dayBucket
}

// pipeline is one goroutine's reusable scratch for talking to Redis.
type pipeline struct {
	pipe   redis.Pipeliner
	groups [2]group // complaints, pending
	// round holds the ops sent in the current round (put back when replicas do not confirm).
	round []*op
}

func (q *Queue) newPipeline() *pipeline {
	p := &pipeline{pipe: q.rdb.Pipeline()}
	p.groups[0].stream, p.groups[1].stream = q.argStream, q.argPending
	p.groups[0].cgroup, p.groups[1].cgroup = q.cfg.ConsumerGroup, q.cfg.PendingGroup
	for i := range p.groups {
		p.groups[i].ops = make([]*op, 0, maxBatch)
		p.groups[i].args = make([]any, 0, 6+14*maxBatch)
	}
	return p
}

// queue adds g's EVALSHA to the pipeline when g has records.
func (q *Queue) queueGroup(ctx context.Context, pipe redis.Pipeliner, g *group) {
	if len(g.ops) == 0 {
		return
	}
	// Arguments point into the ops (a pointer in an interface costs no allocation; a string
	// or slice would cost one each, eight a record).
	a := append(g.args[:0], "evalsha", shaPublish, 1+7*len(g.ops), g.stream)
	for _, o := range g.ops {
		o.seenKey, o.refKey, o.ownerKey = "", "", ""
		if o.dedupe != "" {
			o.seenKey = q.seenPrefix + o.dedupe
		}
		if !o.counter { // only a reference the counter did not issue is claimed
			o.refKey = q.refPrefix + o.ref
		}
		if o.citizen != "" { // the reference may have changed since write (a taken one)
			o.ownerKey = q.ownerPrefix + o.ref
		}
		q.contactKeys(o, &g.day) // return path (contact.go)
		a = append(a, &o.seenKey, &o.refKey, &o.budgetKey, &o.rateKey, &o.ownerKey, &o.contactKey, &o.windowKey)
	}
	a = append(a, q.argTTL, g.cgroup, q.argContactTTL)
	for _, o := range g.ops {
		a = append(a, &o.id, &o.ref, &o.channel, (*bodyArg)(o), publishFlags[boolIndex(o.dedupe != "")+2*boolIndex(!o.counter)], &o.hash, &o.budgetSpec,
			&o.rateSpec, &o.citizen, (*contactArg)(o), &o.windowMs)
	}
	g.args = a
	g.cmd = pipe.Do(ctx, a...)
}

// bodyArg hands an op's complaint JSON to go-redis as an encoding.BinaryMarshaler, so the
// slice is not boxed.
type bodyArg op

func (b *bodyArg) MarshalBinary() ([]byte, error) { return b.body, nil }

var (
	shaPublish any = publishScript.Hash()
	shaReject  any = rejectScript.Hash()
)

// settle applies a script's answer to o; it leaves o to do again when the reference was taken.
func (q *Queue) settle(o *op, reply string) {
	switch {
	case reply == "N":
		o.finish(Result{ID: o.id, Reference: o.ref}, nil)
	case reply == "n":
		o.finish(Result{ID: o.id, Reference: o.ref, ReceiptHeld: true}, nil)
	case reply == "L":
		o.finish(Result{RateLimited: true}, nil)
	case strings.HasPrefix(reply, "D"):
		if o.kind == opReject {
			o.finish(Result{}, nil)
			return
		}
		id, ref := seenValue(reply[1:])
		// Our own id means a retried or replayed write that had landed: not a duplicate.
		o.finish(Result{ID: id, Reference: ref, Duplicate: id != o.id, ReceiptHeld: strings.HasSuffix(reply, " held")}, nil)
	case strings.HasPrefix(reply, "K"):
		id, ref := seenValue(reply[1:])
		if o.replay {
			// The caller was answered (from the spool) long ago: the record is a complaint of
			// its own, kept under its record id rather than lost.
			q.log.Warn("spooled record reused an Idempotency-Key with another body while redis was down; it is kept as a record of its own",
				"id", o.id, "channel", o.channel, "kept_id", id)
			o.dedupe, o.hash = o.channel+":rid:"+o.id, ""
			return
		}
		o.finish(Result{ID: id, Reference: ref}, fmt.Errorf("queue: record %s: %w (the key was first used by record %s)", o.id, record.ErrKeyReused, id))
	case strings.HasPrefix(reply, "E") && refusedForNow(reply[1:]):
		// The primary cannot take writes now (no replicas, demoted, out of memory): like an
		// unreachable Redis, the record goes to the spool (execRedis stops the round).
	case strings.HasPrefix(reply, "E"):
		o.finish(Result{}, fmt.Errorf("queue: redis refused to add record %s to the stream: %s", o.id, reply[1:]))
	case reply == "R" && o.kind != opReject:
		o.refTries++
		if o.refTries >= maxRefTries {
			o.finish(Result{}, fmt.Errorf("queue: no free reference for record %s after %d tries; the intake:ref:* keys may be filling the reference space", o.id, o.refTries))
			return
		}
		old := o.ref
		o.ref, o.counter = newReference(), false
		if o.oldRef == "" {
			o.oldRef = old
		}
		o.body = replaceReference(o.body, old, o.ref)
	default:
		o.finish(Result{}, fmt.Errorf("queue: unexpected script reply %q for record %s", reply, o.id))
	}
}

// seenValue splits a seen key's value, "<id> <ref>[ <request hash>]".
func seenValue(v string) (id, ref string) {
	id, rest, _ := strings.Cut(v, " ")
	ref, _, _ = strings.Cut(rest, " ")
	return id, ref
}

// replaceReference swaps the top-level "reference" of a complaint's JSON. The record's
// first fields are schema_version (a number), id (a ULID) and reference, so the first
// occurrence of the pattern is the top-level field.
func replaceReference(body []byte, old, ref string) []byte {
	pat := []byte(`"reference":"` + old + `"`)
	i := bytes.Index(body, pat)
	if i < 0 {
		return body // cannot happen for a body we encoded
	}
	out := make([]byte, 0, len(body)+len(ref)-len(old))
	out = append(out, body[:i]...)
	out = append(out, `"reference":"`...)
	out = append(out, ref...)
	out = append(out, '"')
	return append(out, body[i+len(pat):]...)
}

// execRedis runs every op still to do through the scripts, one pipeline per round:
// one publishScript call per stream, one rejectScript call per rejection. It retries ops
// whose reference was taken and reloads scripts Redis has forgotten. It returns the
// connection error that stopped it, if any; ops then left to do were not settled and
// belong in the spool.
func (q *Queue) execRedis(ctx context.Context, p *pipeline, ops []*op) error {
	for round := 0; ; round++ {
		n := 0
		for i := range p.groups {
			p.groups[i].ops = p.groups[i].ops[:0]
		}
		p.round = p.round[:0]
		for _, o := range ops {
			if o.state != stateTodo || o.kind == opBurst { // a burst part's way is the spool (burstspool.go)
				continue
			}
			n++
			p.round = append(p.round, o)
			switch o.kind {
			case opPublish:
				p.groups[0].ops = append(p.groups[0].ops, o)
			case opStage:
				p.groups[1].ops = append(p.groups[1].ops, o)
			default:
				o.cmd = p.pipe.Do(ctx, q.rejectArgs(o)...)
			}
		}
		if n == 0 {
			return nil
		}
		for i := range p.groups {
			q.queueGroup(ctx, p.pipe, &p.groups[i])
		}
		wait := q.queueWait(ctx, p.pipe)
		_, _ = p.pipe.Exec(ctx)

		var connErr error
		noScript := false
		fail := func(err error, o *op) {
			switch {
			case redis.HasErrorPrefix(err, "NOSCRIPT"):
				noScript = true
			case unreachable(err):
				connErr = err
			default:
				o.finish(Result{}, fmt.Errorf("queue: redis refused the %s of record %s: %w", o.kind, o.recordID(), err))
			}
		}
		for i := range p.groups {
			g := &p.groups[i]
			if len(g.ops) == 0 {
				continue
			}
			replies, err := g.cmd.Slice()
			g.cmd = nil
			clear(g.args)
			if err == nil && len(replies) != len(g.ops) {
				err = fmt.Errorf("publish script answered %d replies for %d records", len(replies), len(g.ops))
			}
			for j, o := range g.ops {
				if err != nil {
					fail(err, o)
					continue
				}
				reply, _ := replies[j].(string)
				q.settle(o, reply)
				if o.state == stateTodo && strings.HasPrefix(reply, "E") {
					connErr = errors.New(reply[1:])
				}
			}
		}
		for _, o := range ops {
			if o.kind != opReject || o.state != stateTodo || o.cmd == nil {
				continue
			}
			reply, err := o.cmd.Text()
			o.cmd = nil
			if err != nil {
				fail(err, o)
				continue
			}
			q.settle(o, reply)
		}
		if werr := q.checkWait(wait); werr != nil {
			// Nothing of this round is answered from Redis: whatever it took may be lost in
			// a failover. The records go to the spool, whose replay they recognise.
			unconfirm(p.round)
			if connErr == nil {
				connErr = werr
			}
		}
		if connErr != nil {
			return connErr
		}
		if noScript {
			// Redis restarted or its script cache was flushed.
			if err := q.loadScripts(ctx); err != nil {
				if unreachable(err) {
					return err
				}
				for _, o := range ops {
					if o.state == stateTodo {
						o.finish(Result{}, fmt.Errorf("queue: cannot load the publish scripts into redis: %w", err))
					}
				}
				return nil
			}
		}
		if round > maxRefTries+2 {
			for _, o := range ops {
				if o.state == stateTodo {
					o.finish(Result{}, fmt.Errorf("queue: redis kept refusing record %s", o.recordID()))
				}
			}
			return nil
		}
	}
}

func (o *op) recordID() string {
	if o.kind == opReject {
		if o.rej != nil && o.rej.ProviderMessageID != "" {
			return "rejection of " + o.rej.Channel + " message"
		}
		return "rejection"
	}
	return o.id
}

// writer collects concurrent writes into batches: it takes whatever is waiting (up to
// maxBatch) and sends it as one pipeline, so callers arriving while a pipeline is in
// flight share the next round trip.
func (q *Queue) writer() {
	defer q.wg.Done()
	p := q.newPipeline()
	batch := make([]*op, 0, maxBatch)
	for o := range q.reqs {
		batch = append(batch[:0], o)
		// Give handlers that are already running the chance to queue their records before
		// this batch leaves: each pipeline costs both sides syscalls and Redis a script call
		// (about 20 µs) on top of the per-record work, so fewer, larger batches save CPU.
		// Under perf-sms's load the mean batch grows from 5.1 to 6.5 records (8.3 to 10.9
		// with one writer). On an idle gateway there is nobody to yield to, and the record
		// leaves at once.
		for range batchYields {
			if len(q.reqs) >= maxBatch/4 {
				break
			}
			runtime.Gosched()
		}
	fill:
		for len(batch) < maxBatch {
			select {
			case o, ok := <-q.reqs:
				if !ok {
					break fill
				}
				batch = append(batch, o)
			default:
				break fill
			}
		}
		q.process(p, batch)
		for i := range batch {
			batch[i] = nil
		}
	}
}

// process makes every op of batch durable (Redis, else spool) and answers its caller.
func (q *Queue) process(p *pipeline, batch []*op) {
	ctx := context.Background()
	if q.spool.size() > 0 {
		q.spool.lookup(batch) // duplicates of records still in the spool
	}
	if !q.down.Load() {
		if err := q.execRedis(ctx, p, batch); err != nil {
			q.setDown(err)
		}
	}
	left := 0
	for _, o := range batch {
		if o.state == stateTodo {
			left++
		}
	}
	if left > 0 {
		if err := q.spool.append(batch); err != nil {
			q.log.Error("spool write failed; records refused", "count", left, "spool_dir", q.cfg.SpoolDir, "error", err)
			for _, o := range batch {
				if o.state == stateTodo {
					o.finish(Result{}, fmt.Errorf("%w: redis is unreachable and the spool write failed (%v); free disk space or fix permissions on INTAKE_SPOOL_DIR", ErrUnavailable, err))
				}
			}
		}
		q.kickDrainer()
	}
	for _, o := range batch {
		o.done <- struct{}{}
	}
}

// publishFlags tell the publish script, per record, to deduplicate ("d") and to claim the
// reference ("c"), indexed by dedupe + 2*claim.
var publishFlags = [4]any{"", "d", "c", "dc"}

func boolIndex(b bool) int {
	if b {
		return 1
	}
	return 0
}
