package queue

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// A part is staged in every burst webhook's path: the parts waiting at each moment go
// to Redis in one pipeline (as conversation checks and receipt claims do), which saves a
// round trip and a system call each on both sides.

type burstReq struct {
	keys []string
	args []any
	cmd  *redis.Cmd
	err  error
	done chan struct{}
}

type burstBatcher struct {
	q    *Queue // its WAIT for INTAKE_REDIS_MIN_REPLICAS (replicas.go)
	rdb  *redis.Client
	in   chan *burstReq
	once sync.Once
	stop chan struct{}
}

const maxBurstBatch = 128

func newBurstBatcher(q *Queue) *burstBatcher {
	return &burstBatcher{q: q, rdb: q.rdb, in: make(chan *burstReq, maxBurstBatch), stop: q.stop}
}

// add runs the add script for keys and args in the next pipeline and returns its answer.
// When too few replicas confirmed the pipeline, it returns the script's answer with an
// errNotReplicated: the part is in Redis, but not yet safe there.
func (b *burstBatcher) add(ctx context.Context, keys []string, args []any) (string, error) {
	b.once.Do(func() { go b.loop() })
	r := &burstReq{keys: keys, args: args, done: make(chan struct{})}
	select {
	case b.in <- r:
	case <-b.stop:
		return "", ErrClosed
	case <-ctx.Done():
		return "", ctx.Err()
	}
	select {
	case <-r.done:
	case <-ctx.Done():
		return "", ctx.Err() // the part may be staged; a retry is answered as a duplicate
	}
	if r.err != nil {
		if r.cmd != nil && errors.Is(r.err, errNotReplicated) {
			v, _ := r.cmd.Text()
			return v, r.err
		}
		return "", r.err
	}
	return r.cmd.Text()
}

func (b *burstBatcher) loop() {
	batchLoop(b.in, b.stop, maxBurstBatch, b.run)
}

// run sends one batch; when Redis forgot the script (every command of the batch failed
// alike: none ran), it is loaded and the batch sent once more.
func (b *burstBatcher) run(batch []*burstReq) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for attempt := 0; ; attempt++ {
		var wait *redis.Cmd
		_, err := b.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, r := range batch {
				r.cmd = burstAddScript.EvalSha(ctx, p, r.keys, r.args...)
			}
			wait = b.q.queueWait(ctx, p)
			return nil
		})
		if err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") && attempt == 0 {
			if lerr := burstAddScript.Load(ctx, b.rdb).Err(); lerr == nil {
				continue
			}
		}
		if err == nil || isRedisReply(err) {
			err = b.q.checkWait(wait)
		}
		if err != nil && !isRedisReply(err) {
			for _, r := range batch {
				r.err = fmt.Errorf("queue: burst part: %w", err)
			}
		}
		break
	}
	for _, r := range batch {
		close(r.done)
	}
}

// isRedisReply tells a command's own error reply (read per command) from a connection
// failure (every command failed).
func isRedisReply(err error) bool {
	var rerr redis.Error
	return errors.As(err, &rerr)
}
