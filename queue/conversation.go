package queue

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/lapor/intake/conversation"
)

// Conversations keeps the conversation's state in Redis (conversation.Store, SentLog and
// BlockList), shared by every replica:
//
//	intake:blocked                 set of blocked citizen_ids
//	intake:rate:<citizen_id>       sorted set: the dedupe keys of the citizen's messages in
//	                               the current rate window, scored by arrival position
//	intake:conv:ref:<reference>    "<record id> <citizen_id>": whose complaint a reference is
//	intake:conv:sent:<channel>:<id> "<record id> <reference> <citizen_id>": a receipt the
//	                               gateway sent (email Message-ID, WhatsApp wamid)
//
// A check sits in every webhook's path, so concurrent checks share one pipelined round
// trip, as receipt claims do (receiptlimit.go).
type Conversations struct {
	rdb    *redis.Client
	prefix string
	// seenPrefix is the queue's intake:seen: prefix: a message already stored is a retry.
	seenPrefix string

	in        chan *convReq
	stop      chan struct{}
	startOnce sync.Once
	stopOnce  sync.Once
}

// ConversationTTL is how long a complaint's owner and a sent message's link are kept:
// citizens answer a receipt or quote a reference months later.
const ConversationTTL = 400 * 24 * time.Hour

// convReq is one request on its way through the batcher.
type convReq struct {
	queue func(ctx context.Context, p redis.Pipeliner)
	// script is the check's EVALSHA, rerun once after NOSCRIPT.
	script *redis.Cmd
	err    error
	done   chan struct{}
}

var (
	_ conversation.Store     = (*Conversations)(nil)
	_ conversation.SentLog   = (*Conversations)(nil)
	_ conversation.BlockList = (*Conversations)(nil)
)

// OpenConversations connects to cfg.URL (no I/O until the first call).
func OpenConversations(cfg Config) (*Conversations, error) {
	opt, err := redis.ParseURL(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("queue: conversations: redis URL: %w", err)
	}
	return &Conversations{rdb: redis.NewClient(opt), prefix: cfg.KeyPrefix, seenPrefix: cfg.KeyPrefix + "intake:seen:",
		in: make(chan *convReq, maxClaimBatch), stop: make(chan struct{})}, nil
}

func (s *Conversations) blockedKey() string        { return s.prefix + "intake:blocked" }
func (s *Conversations) rateKey(cid string) string { return s.prefix + "intake:rate:" + cid }
func (s *Conversations) refKey(ref string) string  { return s.prefix + "intake:conv:ref:" + ref }
func (s *Conversations) sentKey(k string) string   { return s.prefix + "intake:conv:sent:" + k }

// Check implements conversation.Store: one script counts and looks up everything.
func (s *Conversations) Check(ctx context.Context, q conversation.Query) (conversation.Answer, error) {
	seen, member := "", q.Dedupe
	if q.Dedupe != "" {
		seen = s.seenPrefix + q.Dedupe
	} else {
		member = "u:" + newID() // no dedupe key: every delivery counts
	}
	keys := make([]string, 0, 3+len(q.Replied)+len(q.Mentioned))
	keys = append(keys, s.blockedKey(), s.rateKey(q.CitizenID), seen)
	for _, k := range q.Replied {
		keys = append(keys, s.sentKey(k))
	}
	for _, r := range q.Mentioned {
		keys = append(keys, s.refKey(r))
	}
	max := 0
	if q.Limit.On() {
		max = q.Limit.Max
	}
	args := []any{q.CitizenID, member, max, q.Limit.Window.Milliseconds()}
	r := &convReq{done: make(chan struct{})}
	r.queue = func(ctx context.Context, p redis.Pipeliner) { r.script = checkScript.EvalSha(ctx, p, keys, args...) }
	if err := s.do(ctx, r); err != nil {
		return conversation.Answer{}, err
	}
	vals, err := r.script.Slice()
	if err != nil {
		return conversation.Answer{}, fmt.Errorf("queue: conversation check: %w", err)
	}
	if len(vals) != 2+len(q.Replied)+len(q.Mentioned) {
		return conversation.Answer{}, fmt.Errorf("queue: conversation check answered %d values", len(vals))
	}
	var a conversation.Answer
	blocked, _ := vals[0].(int64)
	pos, _ := vals[1].(int64)
	a.Counted = conversation.Counted{Blocked: blocked == 1, Position: int(pos)}
	for i := range q.Replied {
		if v, ok := vals[2+i].(string); ok {
			if c, ok := parseSent(v); ok {
				a.Replied = append(a.Replied, c)
			}
		}
	}
	for i, ref := range q.Mentioned {
		var c conversation.Complaint
		if v, ok := vals[2+len(q.Replied)+i].(string); ok {
			id, cid, _ := strings.Cut(v, " ")
			c = conversation.Complaint{ID: id, Reference: ref, CitizenID: cid}
		}
		a.Mentioned = append(a.Mentioned, c)
	}
	return a, nil
}

func parseSent(v string) (conversation.Complaint, bool) {
	f := strings.Fields(v)
	if len(f) != 3 {
		return conversation.Complaint{}, false
	}
	return conversation.Complaint{ID: f[0], Reference: f[1], CitizenID: f[2]}, true
}

// RememberComplaint implements conversation.Store.
func (s *Conversations) RememberComplaint(ctx context.Context, c conversation.Complaint) error {
	var cmd *redis.StatusCmd
	r := &convReq{done: make(chan struct{})}
	r.queue = func(ctx context.Context, p redis.Pipeliner) {
		cmd = p.Set(ctx, s.refKey(c.Reference), c.ID+" "+c.CitizenID, ConversationTTL)
	}
	if err := s.do(ctx, r); err != nil {
		return err
	}
	return cmd.Err()
}

// RememberSent implements conversation.SentLog.
func (s *Conversations) RememberSent(ctx context.Context, key string, c conversation.Complaint) error {
	if c.ID == "" || c.Reference == "" || c.CitizenID == "" {
		return nil // nothing a reply could be linked to
	}
	return s.rdb.Set(ctx, s.sentKey(key), c.ID+" "+c.Reference+" "+c.CitizenID, ConversationTTL).Err()
}

// Block implements conversation.BlockList.
func (s *Conversations) Block(ctx context.Context, citizenID string) error {
	return s.rdb.SAdd(ctx, s.blockedKey(), citizenID).Err()
}

// Unblock implements conversation.BlockList; false when citizenID was not blocked.
func (s *Conversations) Unblock(ctx context.Context, citizenID string) (bool, error) {
	n, err := s.rdb.SRem(ctx, s.blockedKey(), citizenID).Result()
	return n > 0, err
}

// Blocked implements conversation.BlockList.
func (s *Conversations) Blocked(ctx context.Context) ([]string, error) {
	return s.rdb.SMembers(ctx, s.blockedKey()).Result()
}

// do hands r to the batcher and waits for its round trip.
func (s *Conversations) do(ctx context.Context, r *convReq) error {
	s.startOnce.Do(func() { go s.loop() })
	select {
	case s.in <- r:
	case <-s.stop:
		return errConversationsClosed
	case <-ctx.Done():
		return fmt.Errorf("queue: conversation: %w", ctx.Err())
	}
	select {
	case <-r.done:
		return r.err
	case <-s.stop:
		return errConversationsClosed
	case <-ctx.Done():
		return fmt.Errorf("queue: conversation: %w", ctx.Err())
	}
}

var errConversationsClosed = errors.New("queue: conversations closed")

// loop sends the requests waiting at each moment in one pipeline, until Close.
func (s *Conversations) loop() {
	batch := make([]*convReq, 0, maxClaimBatch)
	for {
		select {
		case r := <-s.in:
			batch = append(batch[:0], r)
		case <-s.stop:
			return
		}
	more:
		for len(batch) < maxClaimBatch {
			select {
			case r := <-s.in:
				batch = append(batch, r)
			default:
				break more
			}
		}
		s.run(batch)
	}
}

// run executes one batch; when Redis forgot the script, it is loaded and the batch runs
// once more (the check is idempotent per dedupe key).
func (s *Conversations) run(batch []*convReq) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for attempt := 0; ; attempt++ {
		_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, r := range batch {
				r.queue(ctx, p)
			}
			return nil
		})
		if err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") && attempt == 0 {
			if lerr := checkScript.Load(ctx, s.rdb).Err(); lerr == nil {
				continue
			}
		}
		if err != nil && !isRedisReply(err) {
			for _, r := range batch {
				r.err = fmt.Errorf("queue: conversation: %w", err)
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

// checkScript counts one message against its citizen's rate window and looks up the
// block list and the candidate links. A message stored before (its seen key exists) is a
// provider's retry: admitted, not counted. A message already counted keeps its position
// (a retry of one that was refused stays refused). Only admitted messages are kept in the
// window's set, so it holds at most max members.
//
//	KEYS[1] intake:blocked, KEYS[2] intake:rate:<citizen_id>, KEYS[3] the seen key ("" none)
//	KEYS[4..] candidate keys (sent, then ref)
//	ARGV    citizen_id, member, max (0: no limit), window ms
//	returns {blocked 0/1, position (0: not counted), value of each candidate key}
var checkScript = redis.NewScript(`
local out = {0, 0}
local retry = KEYS[3] ~= '' and redis.call('EXISTS', KEYS[3]) == 1
if not retry then
  out[1] = redis.call('SISMEMBER', KEYS[1], ARGV[1])
  local max = tonumber(ARGV[3])
  if out[1] == 0 and max > 0 then
    local s = redis.call('ZSCORE', KEYS[2], ARGV[2])
    if s then
      out[2] = tonumber(s)
    else
      local n = redis.call('ZCARD', KEYS[2]) + 1
      if n <= max then
        redis.call('ZADD', KEYS[2], n, ARGV[2])
        if n == 1 then redis.call('PEXPIRE', KEYS[2], ARGV[4]) end
      end
      out[2] = n
    end
  end
end
for i = 4, #KEYS do
  out[#out + 1] = redis.call('GET', KEYS[i])
end
return out
`)

// Close stops the batcher and closes the connection pool.
func (s *Conversations) Close() error {
	s.stopOnce.Do(func() { close(s.stop) })
	return s.rdb.Close()
}
