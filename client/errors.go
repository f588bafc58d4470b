package client

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/redis/go-redis/v9"
)

// permanentError marks a handler error that retrying cannot fix.
type permanentError struct{ err error }

func (p permanentError) Error() string { return p.err.Error() }
func (p permanentError) Unwrap() error { return p.err }

// Permanent marks err as one that no retry can fix (an entry that cannot be decoded, a
// complaint the core refuses): the entry goes to the dead-letter stream at once instead
// of being delivered again. Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil || IsPermanent(err) {
		return err
	}
	return permanentError{err}
}

// IsPermanent reports whether err, or an error it wraps, was marked by Permanent.
func IsPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}

// redisAction is what the consumer does about an error from Redis.
type redisAction int

const (
	retryLater    redisAction = iota // connection lost, timeout, loading, failover: back off, try again
	recreateGroup                    // the group or the stream vanished: create it again, go on
	giveUp                           // the key is not a stream: an operator must fix it
)

// redisErrorActions maps reply prefixes to actions; anything else is retried.
var redisErrorActions = []struct {
	prefix string
	action redisAction
	hint   string
}{
	{"NOGROUP", recreateGroup, "the consumer group or the stream was lost (Redis restarted without AOF, or the key was deleted or evicted); it is created again from id 0, so earlier entries are delivered again"},
	{"WRONGTYPE", giveUp, "the key holds something other than a stream: check the stream name"},
}

func classify(err error) (redisAction, string) {
	for _, c := range redisErrorActions {
		if redis.HasErrorPrefix(err, c.prefix) {
			return c.action, c.hint
		}
	}
	return retryLater, "Redis did not answer as expected; retrying with backoff"
}

// backoffSteps are the pauses after consecutive failed Redis calls; the last repeats.
var backoffSteps = []time.Duration{
	50 * time.Millisecond, 100 * time.Millisecond, 250 * time.Millisecond,
	500 * time.Millisecond, time.Second, 2 * time.Second, 5 * time.Second,
}

// backoff returns the pause after the n-th consecutive failure (n from 1), with up to
// 50% jitter so that many consumers do not retry in step.
func backoff(n int) time.Duration {
	d := backoffSteps[min(max(n, 1), len(backoffSteps))-1]
	return d/2 + rand.N(d/2+1)
}

// panicError is a handler panic turned into a failed delivery.
type panicError struct{ value any }

func (p panicError) Error() string { return fmt.Sprintf("handler panicked: %v", p.value) }
