package queue

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/lapor/intake/conversation"
	"github.com/lapor/intake/record"
)

// Conversations keeps the conversation's state in Redis (conversation.Store, SentLog and
// BlockList), shared by every replica:
//
//	intake:blocked                  set of blocked citizen_ids
//	intake:blocked:version          counter bumped by every change of the set
//	intake:rate:<citizen_id>        the citizen's message count in the current rate window
//	                                (counted by the publish script, after dedupe)
//	intake:conv:ref:<reference>     "<record id> <citizen_id>": whose complaint a reference
//	                                is (written by the publish script)
//	intake:conv:sent:<channel>:<id> "<record id> <reference> <citizen_id>": a receipt the
//	                                gateway sent (email Message-ID, WhatsApp wamid)
//
// The block list is answered from a copy in memory, refreshed when it is older than
// BlockRefresh (one GET of the version, the members only when it moved): a message costs
// no Redis work for it. Lookups of links happen only for messages that quote something.
type Conversations struct {
	rdb    *redis.Client
	prefix string
	// seenPrefix is the queue's intake:seen: prefix.
	seenPrefix string
	// BlockRefresh is how old the block list's copy may grow (conversation.BlockRefresh).
	BlockRefresh time.Duration
	now          func() time.Time

	blocked   atomic.Pointer[blockCopy]
	refreshMu sync.Mutex
}

// blockCopy is one snapshot of the block list.
type blockCopy struct {
	ids     map[string]struct{}
	version string
	at      time.Time
}

// ConversationTTL is how long a sent message's link is kept: citizens answer a receipt
// months later. The publish script keeps a reference's owner as long (34560000 s).
const ConversationTTL = 400 * 24 * time.Hour

var (
	_ conversation.Store     = (*Conversations)(nil)
	_ conversation.SentLog   = (*Conversations)(nil)
	_ conversation.BlockList = (*Conversations)(nil)
)

// OpenConversations connects to cfg.URL (no I/O until the first call).
func OpenConversations(cfg Config) (*Conversations, error) {
	rdb, _, err := NewRedisClient(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("queue: conversations: %w", err)
	}
	return &Conversations{rdb: rdb, prefix: cfg.KeyPrefix, seenPrefix: cfg.KeyPrefix + "intake:seen:", BlockRefresh: conversation.BlockRefresh, now: time.Now}, nil
}

func (s *Conversations) blockedKey() string       { return s.prefix + "intake:blocked" }
func (s *Conversations) versionKey() string       { return s.prefix + "intake:blocked:version" }
func (s *Conversations) refKey(ref string) string { return s.prefix + "intake:conv:ref:" + ref }
func (s *Conversations) sentKey(k string) string  { return s.prefix + "intake:conv:sent:" + k }

// IsBlocked implements conversation.Store from the block list's copy, refreshing it when
// it is older than BlockRefresh. While Redis does not answer, the last copy stands.
func (s *Conversations) IsBlocked(ctx context.Context, citizenID string) (bool, error) {
	c := s.blocked.Load()
	var err error
	if c == nil || s.now().Sub(c.at) >= s.BlockRefresh {
		c, err = s.refresh(ctx, c)
	}
	if c == nil {
		return false, err
	}
	_, ok := c.ids[citizenID]
	return ok, err
}

// refresh renews the copy; one caller at a time, the others answer from the old copy.
func (s *Conversations) refresh(ctx context.Context, old *blockCopy) (*blockCopy, error) {
	if !s.refreshMu.TryLock() {
		return old, nil
	}
	defer s.refreshMu.Unlock()
	if c := s.blocked.Load(); c != old { // someone refreshed meanwhile
		return c, nil
	}
	now := s.now()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	v, err := s.rdb.Get(ctx, s.versionKey()).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return s.keep(old, now), fmt.Errorf("queue: block list: %w", err)
	}
	if old != nil && v == old.version {
		c := &blockCopy{ids: old.ids, version: v, at: now}
		s.blocked.Store(c)
		return c, nil
	}
	ids, err := s.rdb.SMembers(ctx, s.blockedKey()).Result()
	if err != nil {
		return s.keep(old, now), fmt.Errorf("queue: block list: %w", err)
	}
	c := &blockCopy{ids: make(map[string]struct{}, len(ids)), version: v, at: now}
	for _, id := range ids {
		c.ids[id] = struct{}{}
	}
	s.blocked.Store(c)
	return c, nil
}

// keep stamps the old copy so a Redis outage costs one attempt per BlockRefresh, not one
// per message.
func (s *Conversations) keep(old *blockCopy, now time.Time) *blockCopy {
	c := &blockCopy{at: now}
	if old != nil {
		c.ids, c.version = old.ids, old.version
	}
	s.blocked.Store(c)
	return c
}

// Stored implements conversation.Store.
func (s *Conversations) Stored(ctx context.Context, dedupe string) (bool, error) {
	n, err := s.rdb.Exists(ctx, s.seenPrefix+dedupe).Result()
	return n == 1, err
}

// Links implements conversation.Store: one MGET.
func (s *Conversations) Links(ctx context.Context, replied, mentioned []string) (conversation.Links, error) {
	keys := make([]string, 0, len(replied)+len(mentioned))
	for _, k := range replied {
		keys = append(keys, s.sentKey(k))
	}
	for _, r := range mentioned {
		keys = append(keys, s.refKey(r))
	}
	var l conversation.Links
	if len(keys) == 0 {
		return l, nil
	}
	vals, err := s.rdb.MGet(ctx, keys...).Result()
	if err != nil {
		return l, fmt.Errorf("queue: conversation links: %w", err)
	}
	for i := range replied {
		if v, ok := vals[i].(string); ok {
			if c, ok := parseSent(v); ok {
				l.Replied = append(l.Replied, c)
			}
		}
	}
	for i, ref := range mentioned {
		var c conversation.Complaint
		if v, ok := vals[len(replied)+i].(string); ok {
			id, cid, _ := strings.Cut(v, " ")
			c = conversation.Complaint{ID: id, Reference: ref, CitizenID: cid}
		}
		l.Mentioned = append(l.Mentioned, c)
	}
	return l, nil
}

func parseSent(v string) (conversation.Complaint, bool) {
	f := strings.Fields(v)
	if len(f) != 3 {
		return conversation.Complaint{}, false
	}
	return conversation.Complaint{ID: f[0], Reference: f[1], CitizenID: f[2]}, true
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
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.SAdd(ctx, s.blockedKey(), citizenID)
		p.Incr(ctx, s.versionKey())
		return nil
	})
	return err
}

// Unblock implements conversation.BlockList; false when citizenID was not blocked.
func (s *Conversations) Unblock(ctx context.Context, citizenID string) (bool, error) {
	var rem *redis.IntCmd
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		rem = p.SRem(ctx, s.blockedKey(), citizenID)
		p.Incr(ctx, s.versionKey())
		return nil
	})
	if err != nil {
		return false, err
	}
	return rem.Val() > 0, nil
}

// BlockedList implements conversation.BlockList.
func (s *Conversations) BlockedList(ctx context.Context) ([]string, error) {
	return s.rdb.SMembers(ctx, s.blockedKey()).Result()
}

// Close closes the connection pool.
func (s *Conversations) Close() error { return s.rdb.Close() }

// converse gives o the record's conversation keys: its citizen's rate window (counted by
// the publish script after dedupe) and, for a new complaint, its reference's owner.
func (q *Queue) converse(o *op, c *record.Complaint) {
	if c.CitizenID == "" || o.kind == opReject {
		return
	}
	if c.Kind != record.KindFollowUp {
		o.citizen = c.CitizenID
	}
	if b := c.RateBudget; b.Key != "" && b.Max > 0 && b.Window > 0 {
		o.rateKey = q.ratePrefix + b.Key
		o.rateSpec = strconv.Itoa(b.Max) + " " + strconv.FormatInt(b.Window.Milliseconds(), 10)
	}
}
