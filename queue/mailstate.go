package queue

import (
	"context"
	"errors"
	"fmt"
	"strconv"

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
}

// OpenMailState connects to cfg.URL (no I/O until the first call).
func OpenMailState(cfg Config) (*MailState, error) {
	rdb, _, err := NewRedisClient(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("queue: mail state: %w", err)
	}
	return &MailState{rdb: rdb, prefix: cfg.KeyPrefix}, nil
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
// gateways on one mailbox, an old write arriving late).
func (s *MailState) SetMailboxState(ctx context.Context, mailbox string, uidValidity, lastUID uint32) error {
	err := setStateScript.Run(ctx, s.rdb, []string{s.mailboxKey(mailbox)},
		strconv.FormatUint(uint64(uidValidity), 10), strconv.FormatUint(uint64(lastUID), 10)).Err()
	if err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("queue: write mailbox state: %w", err)
	}
	return nil
}

var setStateScript = redis.NewScript(`
local v = redis.call('HGET', KEYS[1], 'uidvalidity')
local u = tonumber(redis.call('HGET', KEYS[1], 'last_uid') or '0')
if v == ARGV[1] and u ~= nil and u > tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], 'uidvalidity', ARGV[1], 'last_uid', ARGV[2])
return 1
`)

// Close closes the connection pool.
func (s *MailState) Close() error { return s.rdb.Close() }
