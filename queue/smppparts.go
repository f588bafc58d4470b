package queue

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/lapor/intake/record"
)

// SMSParts keeps the parts of long SMS (SMPP concatenation) in Redis until every part is
// in, shared by every replica (the PartStore of channels/smpp):
//
//	intake:smsparts:<set>    hash: p<seq> → part, n (parts held), total, first (ms),
//	                         handed (the set was given out complete, to one caller only);
//	                         once published only done (",1,2,…,") is left, for DoneTTL;
//	                         parts expire after TTL
//	intake:smsfirst:<key>    when a message's content was first seen (ms), for the dedupe window
//	intake:smsparts:open     sorted set of the sets not yet published, scored by when the
//	                         sweeper may next look at them (first arrival, then the lease)
//
// A set's name is a hash made by the channel: no phone number appears in a key.
type SMSParts struct {
	rdb    *redis.Client
	prefix string
	// TTL is how long a set's parts and its published marker live (DefaultPartsTTL).
	TTL time.Duration
	// Lease hides a set returned by Expired from other sweepers (DefaultPartsLease).
	Lease time.Duration
	// DoneTTL is how long a published set is remembered, so a redelivered part is known
	// (DefaultPartsDoneTTL); after it, the same reference starts a new message, as a
	// phone reuses its 8-bit references.
	DoneTTL time.Duration

	firsts    chan *firstClaim
	stop      chan struct{}
	startOnce sync.Once
	stopOnce  sync.Once
}

// Defaults of SMSParts.
const (
	// DefaultPartsTTL keeps parts long past the 10 minutes a long message waits, so a sweeper
	// stopped for days still finds them.
	DefaultPartsTTL     = 7 * 24 * time.Hour
	DefaultPartsLease   = time.Minute
	DefaultPartsDoneTTL = time.Hour
	// maxExpiredBatch bounds the sets one Expired call returns.
	maxExpiredBatch = 100
)

// OpenSMSParts connects to cfg.URL (no I/O until the first call).
func OpenSMSParts(cfg Config) (*SMSParts, error) {
	rdb, _, err := NewRedisClient(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("queue: sms parts: %w", err)
	}
	return &SMSParts{rdb: rdb, prefix: cfg.KeyPrefix, TTL: DefaultPartsTTL, Lease: DefaultPartsLease,
		DoneTTL: DefaultPartsDoneTTL, firsts: make(chan *firstClaim, maxFirstBatch), stop: make(chan struct{})}, nil
}

// Close stops the batcher and releases the connections.
func (s *SMSParts) Close() error {
	s.stopOnce.Do(func() { close(s.stop) })
	return s.rdb.Close()
}

func (s *SMSParts) setKey(set string) string { return s.prefix + "intake:smsparts:" + set }
func (s *SMSParts) openKey() string          { return s.prefix + "intake:smsparts:open" }

// addPart stores a part unless its set was published, and answers
// {"stored"}, {"repeat"}, {"late"} or {"complete", first, p<seq>, data, …}.
var addPart = redis.NewScript(`
local done = redis.call('HGET', KEYS[1], 'done')
if done then
  if string.find(done, ',' .. ARGV[1] .. ',', 1, true) then return {'repeat'} end
  return {'late'}
end
if redis.call('HSETNX', KEYS[1], 'p' .. ARGV[1], ARGV[3]) == 1 then
  redis.call('HINCRBY', KEYS[1], 'n', 1)
end
if redis.call('HSETNX', KEYS[1], 'first', ARGV[4]) == 1 then
  redis.call('HSET', KEYS[1], 'total', ARGV[2])
  redis.call('ZADD', KEYS[2], ARGV[4], ARGV[6])
end
redis.call('PEXPIRE', KEYS[1], ARGV[5])
local n = tonumber(redis.call('HGET', KEYS[1], 'n'))
if n < tonumber(redis.call('HGET', KEYS[1], 'total')) then return {'stored'} end
-- Handed out complete once; should its publisher die, the sweeper publishes it.
if redis.call('HSETNX', KEYS[1], 'handed', '1') == 0 then return {'stored'} end
local out = {'complete'}
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  local f = all[i]
  if f == 'first' or string.sub(f, 1, 1) == 'p' then
    out[#out + 1] = f
    out[#out + 1] = all[i + 1]
  end
end
return out
`)

// Add implements smpp.PartStore.
func (s *SMSParts) Add(ctx context.Context, p record.MessagePart) (record.PartStatus, *record.PartSet, error) {
	if p.Seq < 1 || p.Seq > p.Total || p.Set == "" || strings.ContainsAny(p.Set, ",:") {
		return 0, nil, fmt.Errorf("queue: sms part %d of %d of set %q is malformed", p.Seq, p.Total, p.Set)
	}
	now := time.Now().UnixMilli()
	res, err := addPart.Run(ctx, s.rdb, []string{s.setKey(p.Set), s.openKey()},
		p.Seq, p.Total, p.Data, now, s.TTL.Milliseconds(), p.Set).StringSlice()
	if err != nil {
		return 0, nil, fmt.Errorf("queue: store sms part: %w", err)
	}
	switch res[0] {
	case "stored":
		return record.PartStored, nil, nil
	case "repeat":
		return record.PartRepeat, nil, nil
	case "late":
		return record.PartLate, &record.PartSet{Set: p.Set, Total: p.Total, Parts: map[int][]byte{p.Seq: p.Data}}, nil
	}
	set, err := partSet(p.Set, p.Total, res[1:])
	return record.PartComplete, set, err
}

// partSet reads the field/value pairs of a set's hash.
func partSet(name string, total int, kv []string) (*record.PartSet, error) {
	set := &record.PartSet{Set: name, Total: total, Parts: map[int][]byte{}}
	for i := 0; i+1 < len(kv); i += 2 {
		f, v := kv[i], kv[i+1]
		switch {
		case f == "first":
			ms, _ := strconv.ParseInt(v, 10, 64)
			set.First = time.UnixMilli(ms)
		case f == "total":
			set.Total, _ = strconv.Atoi(v)
		case strings.HasPrefix(f, "p"):
			seq, err := strconv.Atoi(f[1:])
			if err != nil {
				return nil, fmt.Errorf("queue: sms part set %s holds a field %q", name, f)
			}
			set.Parts[seq] = []byte(v)
		}
	}
	return set, nil
}

// claimExpired returns, for up to ARGV[3] sets due before ARGV[1], the set's name and its
// hash, and puts each off until ARGV[2] (the lease); a set whose hash expired is dropped.
var claimExpired = redis.NewScript(`
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for _, set in ipairs(due) do
  local all = redis.call('HGETALL', ARGV[4] .. set)
  if #all == 0 or redis.call('HEXISTS', ARGV[4] .. set, 'done') == 1 then
    redis.call('ZREM', KEYS[1], set)
  else
    redis.call('ZADD', KEYS[1], ARGV[2], set)
    out[#out + 1] = {set, all}
  end
end
return out
`)

// Expired implements smpp.PartStore.
func (s *SMSParts) Expired(ctx context.Context, before time.Time) ([]record.PartSet, error) {
	res, err := claimExpired.Run(ctx, s.rdb, []string{s.openKey()}, before.UnixMilli(),
		time.Now().Add(s.Lease).UnixMilli(), maxExpiredBatch, s.prefix+"intake:smsparts:").Slice()
	if err != nil {
		return nil, fmt.Errorf("queue: claim expired sms parts: %w", err)
	}
	var out []record.PartSet
	for _, item := range res {
		pair, ok := item.([]any)
		if !ok || len(pair) != 2 {
			return nil, errors.New("queue: claim expired sms parts: unexpected answer")
		}
		name, _ := pair[0].(string)
		raw, _ := pair[1].([]any)
		kv := make([]string, len(raw))
		for i, v := range raw {
			kv[i], _ = v.(string)
		}
		set, err := partSet(name, 0, kv)
		if err != nil {
			return nil, err
		}
		out = append(out, *set)
	}
	return out, nil
}

// markPublished drops a set's parts and keeps which parts were published
// (ARGV: TTL in ms, the set's name, then the part numbers).
var markPublished = redis.NewScript(`
local done = redis.call('HGET', KEYS[1], 'done') or ','
for i = 3, #ARGV do
  if not string.find(done, ',' .. ARGV[i] .. ',', 1, true) then done = done .. ARGV[i] .. ',' end
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'done', done)
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[2])
return 1
`)

// Published implements smpp.PartStore.
func (s *SMSParts) Published(ctx context.Context, set string, seqs []int) error {
	args := make([]any, 0, len(seqs)+2)
	args = append(args, s.DoneTTL.Milliseconds(), set)
	for _, q := range seqs {
		args = append(args, q)
	}
	if err := markPublished.Run(ctx, s.rdb, []string{s.setKey(set), s.openKey()}, args...).Err(); err != nil {
		return fmt.Errorf("queue: mark sms parts published: %w", err)
	}
	return nil
}

// firstSeen answers the first sighting of KEYS[1], setting it to ARGV[1] for ARGV[2] ms
// when there is none.
const firstSeenScript = `
local v = redis.call('GET', KEYS[1])
if v then return v end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return ARGV[1]
`

// firstClaim is one FirstSeen on its way through the batcher.
type firstClaim struct {
	key          string
	cand, window int64
	first        time.Time
	err          error
	done         chan struct{}
}

// maxFirstBatch bounds how many sightings share one pipeline.
const maxFirstBatch = 128

// errPartsClosed answers a call made after Close.
var errPartsClosed = errors.New("queue: sms parts closed")

// FirstSeen implements smpp.PartStore: the dedupe window of single SMS, shared by
// replicas. It sits in the path of every deliver_sm's answer, so concurrent calls share
// one pipelined round trip to Redis, as the queue's writes do.
func (s *SMSParts) FirstSeen(ctx context.Context, key string, candidate time.Time, window time.Duration) (time.Time, error) {
	c := &firstClaim{key: s.prefix + "intake:smsfirst:" + key, cand: candidate.UnixMilli(), window: window.Milliseconds(),
		done: make(chan struct{})}
	s.startOnce.Do(func() { go s.firstLoop() })
	select {
	case s.firsts <- c:
	case <-s.stop:
		return time.Time{}, errPartsClosed
	case <-ctx.Done():
		return time.Time{}, fmt.Errorf("queue: sms first sighting: %w", ctx.Err())
	}
	select {
	case <-c.done:
	case <-s.stop:
		return time.Time{}, errPartsClosed
	case <-ctx.Done():
		return time.Time{}, fmt.Errorf("queue: sms first sighting: %w", ctx.Err())
	}
	return c.first, c.err
}

// firstLoop sends the sightings waiting at each moment in one pipeline.
func (s *SMSParts) firstLoop() {
	batchLoop(s.firsts, s.stop, maxFirstBatch, s.runFirsts)
}

func (s *SMSParts) runFirsts(batch []*firstClaim) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.Cmd, len(batch))
	for i, c := range batch {
		// EVAL, not EVALSHA: a pipeline cannot fall back after NOSCRIPT, and the script is short.
		cmds[i] = pipe.Eval(ctx, firstSeenScript, []string{c.key}, c.cand, c.window)
	}
	_, _ = pipe.Exec(ctx)
	for i, c := range batch {
		v, err := cmds[i].Text()
		if err == nil {
			var ms int64
			if ms, err = strconv.ParseInt(v, 10, 64); err == nil {
				c.first = time.UnixMilli(ms)
			}
		}
		if err != nil {
			c.err = fmt.Errorf("queue: sms first sighting: %w", err)
		}
		close(c.done)
	}
}
