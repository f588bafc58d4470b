package queue

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// MailState keeps the email channel's own small state in Redis: per mailbox the
// UIDVALIDITY and the last processed UID (intake:imap:<mailbox>, a hash); receipt budgets
// are ReceiptLimits'. It is self-contained: its own client on the
// queue's Redis, its keys under the queue's KeyPrefix. The email channel works on when
// Redis is away (the cursor is an optimisation; dedupe is the queue's seen key).
type MailState struct {
	rdb    *redis.Client
	prefix string
	// owner names this process in leases; ttl is a lease's life without renewal (lease.go).
	owner string
	ttl   time.Duration

	mu sync.Mutex
	// tokens holds the lease token this process was last granted per mailbox: the cursor
	// of a mailbox whose lease this process took is written only while the token is current.
	tokens map[string]string
}

// OpenMailState connects to cfg.URL (no I/O until the first call).
func OpenMailState(cfg Config) (*MailState, error) {
	rdb, _, err := NewRedisClient(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("queue: mail state: %w", err)
	}
	owner, ttl := cfg.InstanceID, cfg.LeaseTTL
	if owner == "" {
		owner = DefaultInstanceID()
	}
	if err := validInstanceID(owner); err != nil {
		_ = rdb.Close()
		return nil, fmt.Errorf("queue: mail state: %w", err)
	}
	if ttl <= 0 {
		ttl = DefaultLeaseTTL
	}
	return &MailState{rdb: rdb, prefix: cfg.KeyPrefix, owner: owner, ttl: ttl, tokens: map[string]string{}}, nil
}

func (s *MailState) mailboxKey(mailbox string) string { return s.prefix + "intake:imap:" + mailbox }

// MailboxState returns the mailbox's UIDVALIDITY and last processed UID; zeroes when
// nothing is stored yet.
func (s *MailState) MailboxState(ctx context.Context, mailbox string) (uidValidity, lastUID uint32, err error) {
	vals, err := s.rdb.HMGet(ctx, s.mailboxKey(mailbox), "uidvalidity", "last_uid").Result()
	if err != nil {
		return 0, 0, fmt.Errorf("queue: read mailbox state: %w", err)
	}
	parse := func(v any) (uint32, error) {
		str, ok := v.(string)
		if !ok || str == "" {
			return 0, nil
		}
		n, err := strconv.ParseUint(str, 10, 32)
		return uint32(n), err
	}
	if uidValidity, err = parse(vals[0]); err != nil {
		return 0, 0, fmt.Errorf("queue: mailbox state uidvalidity: %w", err)
	}
	if lastUID, err = parse(vals[1]); err != nil {
		return 0, 0, fmt.Errorf("queue: mailbox state last_uid: %w", err)
	}
	return uidValidity, lastUID, nil
}

// SetMailboxState stores the mailbox's UIDVALIDITY and last processed UID. A UID lower
// than the stored one under the same UIDVALIDITY never moves the cursor back (two
// gateways on one mailbox, an old write arriving late). Once this process took the
// mailbox's lease, the write is made only while that lease is still its own (fencing):
// a holder that lost the lease gets an error and must stop.
func (s *MailState) SetMailboxState(ctx context.Context, mailbox string, uidValidity, lastUID uint32) error {
	tok, _ := s.token(mailbox)
	err := setStateScript.Run(ctx, s.rdb, []string{s.mailboxKey(mailbox), s.leaseKey(mailbox)},
		strconv.FormatUint(uint64(uidValidity), 10), strconv.FormatUint(uint64(lastUID), 10), tok).Err()
	if isFenced(err) {
		return fmt.Errorf("queue: mailbox state not written: %w", errFenced)
	}
	if err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("queue: write mailbox state: %w", err)
	}
	return nil
}

// setStateScript: KEYS mailbox state, lease; ARGV uidvalidity, last uid, lease token ("":
// no lease taken, no fence).
var setStateScript = redis.NewScript(`
if ARGV[3] ~= '' and redis.call('GET', KEYS[2]) ~= ARGV[3] then
  return redis.error_reply('FENCED mailbox lease is not held by this writer')
end
local v = redis.call('HGET', KEYS[1], 'uidvalidity')
local u = tonumber(redis.call('HGET', KEYS[1], 'last_uid') or '0')
if v == ARGV[1] and u ~= nil and u > tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], 'uidvalidity', ARGV[1], 'last_uid', ARGV[2])
return 1
`)

// Close closes the connection pool.
func (s *MailState) Close() error { return s.rdb.Close() }
