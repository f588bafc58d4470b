package queue

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Mailbox leases (CONTRACT §9): any number of gateway processes may share one Redis, and
// each mailbox is polled by one of them at a time. A lease is a key holding
// "<fence>:<instance id>", set with NX and a TTL, renewed by its holder every third of the
// TTL and deleted (compare-and-delete) when the holder shuts down; when the holder dies,
// the key expires and another process takes the mailbox within one TTL plus one retry.
//
// A lease alone is never safe on timing (a paused holder may wake after its lease passed
// to another), so the fence, a counter incremented at each new grant, makes the token
// unique, and the mailbox cursor script refuses a write whose token is not the current
// lease's ("FENCED"): a stale holder can never move the cursor. Records need no fence:
// the publish script's dedupe key makes a mail taken in twice one record.
//
//	intake:lease:imap:<mailbox>         "<fence>:<instance id>", PX LeaseTTL
//	intake:lease:imap:<mailbox>:fence   the fence counter

// errFenced: the mailbox's lease is held by another process (or by nobody).
var errFenced = errors.New("this process no longer holds the mailbox's lease")

var acquireLeaseScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if cur then
  if string.sub(cur, -(#ARGV[1] + 1)) == ':' .. ARGV[1] then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return cur
  end
  return false
end
local v = redis.call('INCR', KEYS[2]) .. ':' .. ARGV[1]
redis.call('SET', KEYS[1], v, 'PX', ARGV[2])
return v
`)

var renewLeaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`)

var releaseLeaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

func (s *MailState) leaseKey(mailbox string) string { return s.prefix + "intake:lease:imap:" + mailbox }

// LeaseTTL is how long a lease lasts without renewal (Config.LeaseTTL).
func (s *MailState) LeaseTTL() time.Duration { return s.ttl }

// AcquireLease takes the mailbox's lease for this process if it is free (or already
// this process's); false when another process holds it.
func (s *MailState) AcquireLease(ctx context.Context, mailbox string) (bool, error) {
	v, err := acquireLeaseScript.Run(ctx, s.rdb, []string{s.leaseKey(mailbox), s.leaseKey(mailbox) + ":fence"},
		s.owner, s.ttl.Milliseconds()).Text()
	if errors.Is(err, redis.Nil) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("queue: take mailbox lease: %w", err)
	}
	s.mu.Lock()
	s.tokens[mailbox] = v
	s.mu.Unlock()
	return true, nil
}

// RenewLease extends the lease this process holds; false when it is no longer this
// process's (expired, taken over): the caller must stop polling the mailbox.
func (s *MailState) RenewLease(ctx context.Context, mailbox string) (bool, error) {
	tok, ok := s.token(mailbox)
	if !ok {
		return false, nil
	}
	n, err := renewLeaseScript.Run(ctx, s.rdb, []string{s.leaseKey(mailbox)}, tok, s.ttl.Milliseconds()).Int()
	if err != nil {
		return false, fmt.Errorf("queue: renew mailbox lease: %w", err)
	}
	return n == 1, nil
}

// ReleaseLease gives the lease up (only if this process still holds it), so another
// process takes the mailbox at once. The token is kept: a late cursor write of this
// process is still refused.
func (s *MailState) ReleaseLease(ctx context.Context, mailbox string) error {
	tok, ok := s.token(mailbox)
	if !ok {
		return nil
	}
	if err := releaseLeaseScript.Run(ctx, s.rdb, []string{s.leaseKey(mailbox)}, tok).Err(); err != nil {
		return fmt.Errorf("queue: release mailbox lease: %w", err)
	}
	return nil
}

func (s *MailState) token(mailbox string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[mailbox]
	return t, ok
}

// isFenced reports whether a script refused a write for a stale lease.
func isFenced(err error) bool { return err != nil && strings.HasPrefix(err.Error(), "FENCED") }
