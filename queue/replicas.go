package queue

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Replica-confirmed writes (Config.MinReplicas, CONTRACT §9). Redis replicates
// asynchronously: a record the primary took can vanish when a replica that never saw it
// is promoted. So each pipeline of writes ends with WAIT <MinReplicas> <ReplicaWait> on the
// same connection (WAIT cannot run inside a script on Redis 7.0, and inside MULTI it does
// not block), and a record is answered from Redis only when WAIT counted enough replicas.
// Otherwise its writes may or may not survive a failover, so it goes to the spool like a
// record Redis never saw, and is answered from there; the spool's replay is deduplicated
// by the record's own dedupe key (the seen key answers "D" with the record's own id).
//
// A primary refusing writes for want of replicas (NOREPLICAS, min-replicas-to-write), a
// demoted one (READONLY), a timeout or a short WAIT all mean the same: spool, and let the
// drainer try again once Redis has its replicas back.

// errNotReplicated: Redis took the writes but too few replicas confirmed them in time.
// unreachable() counts it, so the records are spooled and the drainer waits for replicas.
var errNotReplicated = errors.New("too few replicas confirmed the write in time")

// replicaState is what the queue last learned of the primary's replicas.
type replicaState struct {
	// confirming is the number of replicas that last answered: the replicas online in the
	// primary's INFO, or a WAIT's count when that is newer. -1 until known.
	confirming atomic.Int64
	// confirmed: the last pipeline of writes was confirmed by MinReplicas replicas.
	confirmed atomic.Bool
	// shortfalls counts pipelines whose WAIT came back short (records spooled for it).
	shortfalls atomic.Int64
	// asked is when Replication last asked Redis (unix nanos).
	asked atomic.Int64
}

// queueWait adds WAIT to pipe when replicas must confirm; nil otherwise.
func (q *Queue) queueWait(ctx context.Context, pipe redis.Pipeliner) *redis.Cmd {
	if q.cfg.MinReplicas <= 0 {
		return nil
	}
	return pipe.Do(ctx, "WAIT", q.cfg.MinReplicas, q.cfg.ReplicaWait.Milliseconds())
}

// checkWait reads the WAIT of a pipeline (nil: none asked) and reports errNotReplicated,
// wrapped with the count, when too few replicas confirmed it.
func (q *Queue) checkWait(w *redis.Cmd) error {
	if w == nil {
		return nil
	}
	n, err := w.Int64()
	if err != nil {
		q.replicas.confirmed.Store(false)
		if unreachable(err) {
			return err
		}
		return fmt.Errorf("%w: WAIT failed: %v", errNotReplicated, err)
	}
	q.replicas.confirming.Store(n)
	if n < int64(q.cfg.MinReplicas) {
		q.replicas.confirmed.Store(false)
		q.replicas.shortfalls.Add(1)
		return fmt.Errorf("%w: %d of %d replicas within %s", errNotReplicated, n, q.cfg.MinReplicas, q.cfg.ReplicaWait)
	}
	q.replicas.confirmed.Store(true)
	return nil
}

// unconfirm puts back the ops of this round that Redis took but replicas did not confirm,
// so they are spooled. A true duplicate (another record's id) keeps its answer: that
// record was confirmed, or spooled, by whoever wrote it.
func unconfirm(written []*op) {
	for _, o := range written {
		if o.err != nil || o.state != stateDone || (o.res.Duplicate && !o.replay) {
			continue
		}
		o.held = o.res.ReceiptHeld
		o.res, o.state = Result{}, stateTodo
	}
}

// checkReplicas is part of connect: with MinReplicas set, Redis counts as reachable only
// when it is a primary with that many replicas online, so the drainer does not replay the
// spool into a primary that cannot confirm it.
func (q *Queue) checkReplicas(ctx context.Context) error {
	n, role, err := q.onlineReplicas(ctx)
	if err != nil {
		return err
	}
	if role != "master" {
		return fmt.Errorf("%w: the Redis server is a %s, not the primary", errNotReplicated, role)
	}
	if q.cfg.MinReplicas > 0 && n < q.cfg.MinReplicas {
		return fmt.Errorf("%w: %d replicas online, %d needed (INTAKE_REDIS_MIN_REPLICAS)", errNotReplicated, n, q.cfg.MinReplicas)
	}
	// Online is not keeping up: a small write and WAIT on one connection prove the
	// replicas confirm now (WAIT counts only what follows this connection's own writes).
	p := q.rdb.Pipeline()
	p.Set(ctx, q.cfg.KeyPrefix+"intake:replica-probe", q.cfg.InstanceID, time.Minute)
	w := q.queueWait(ctx, p)
	if _, err := p.Exec(ctx); err != nil {
		return err
	}
	return q.checkWait(w)
}

// onlineReplicas reads INFO replication: the replicas online and the server's role.
func (q *Queue) onlineReplicas(ctx context.Context) (int, string, error) {
	info, err := q.rdb.Info(ctx, "replication").Result()
	if err != nil {
		return 0, "", err
	}
	n, role := 0, ""
	for _, line := range strings.Split(info, "\n") {
		line = strings.TrimSpace(line)
		if r, ok := strings.CutPrefix(line, "role:"); ok {
			role = r
		}
		if strings.HasPrefix(line, "slave") && strings.Contains(line, "state=online") {
			n++
		}
	}
	q.replicas.confirming.Store(int64(n))
	return n, role, nil
}

// Replication reports how many replicas of the primary answer (-1: unknown) and whether
// the last writes were confirmed by INTAKE_REDIS_MIN_REPLICAS of them (always false when
// that is 0). It asks Redis (INFO replication, bounded by ctx) when it can.
func (q *Queue) Replication(ctx context.Context) (replicas int, confirmed bool) {
	// At most one INFO a second, however many gauges and probes ask.
	now := time.Now().UnixNano()
	if last := q.replicas.asked.Load(); !q.down.Load() && now-last > int64(time.Second) && q.replicas.asked.CompareAndSwap(last, now) {
		ctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		defer cancel()
		if _, _, err := q.onlineReplicas(ctx); err != nil {
			q.replicas.confirming.Store(-1)
		}
	}
	return int(q.replicas.confirming.Load()), q.cfg.MinReplicas > 0 && !q.down.Load() && q.replicas.confirmed.Load()
}

// ReplicaShortfalls counts the pipelines whose records went to the spool because too few
// replicas confirmed them.
func (q *Queue) ReplicaShortfalls() int64 { return q.replicas.shortfalls.Load() }

// ReadyDetail is what /readyz adds to "ready" when replicas must confirm writes
// (INTAKE_REDIS_MIN_REPLICAS > 0): the replicas that answer and whether writes are
// replica-confirmed now, as "redis_replicas N" and "writes_replica_confirmed 0|1" lines
// (no host names). Without replica confirmation it adds nothing (the metrics still count
// the replicas).
func (q *Queue) ReadyDetail(ctx context.Context) string {
	if q.cfg.MinReplicas <= 0 {
		return ""
	}
	n, ok := q.Replication(ctx)
	c := "0"
	if ok {
		c = "1"
	}
	return "redis_replicas " + strconv.Itoa(n) + "\nwrites_replica_confirmed " + c + "\n"
}
