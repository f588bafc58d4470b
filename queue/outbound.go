package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/lapor/intake/outbound"
	"github.com/redis/go-redis/v9"
)

// The return path's keys (CONTRACT §7), under Config.KeyPrefix:
//
//	intake:outbound                        stream of answers from the core (OutboundConfig.Stream)
//	intake:delivery                        stream of delivery entries to the core (OutboundConfig.DeliveryStream)
//	intake:out:<outbound id>               hash: state, complaint_id, channel, provider,
//	                                       provider_message_id, lease_until (unix ms), tries
//	intake:out-pmid:<provider>:<msg id>    the outbound id a provider's message id belongs to
//	intake:out-pause:<channel/provider/number>  a throttled sending number's pause (PX)
//	intake:optout:<channel>:<address>      a citizen who asked for no more messages (kept for good)
//
// The state hash changes only through transitionScript: a compare-and-set against the
// states the outbound package allows, which appends the delivery entry in the same step,
// so a state and its report never part.

// Return-path defaults.
const (
	DefaultOutboundStream = "intake:outbound"
	DefaultDeliveryStream = "intake:delivery"
	DefaultOutboundGroup  = "intake"
	// DefaultOutboundStateTTL is how long an outbound id's state is kept: the core's
	// repeats of an id within it are never sent twice.
	DefaultOutboundStateTTL = 30 * 24 * time.Hour
)

// OutboundConfig names the return path's streams.
type OutboundConfig struct {
	Stream         string        // intake:outbound
	DeliveryStream string        // intake:delivery
	Group          string        // the gateway's consumer group on Stream ("intake")
	StateTTL       time.Duration // 30 days
	// CoreGroup is created (from 0) on DeliveryStream so no delivery entry is missed before
	// the core first reads; the queue's ConsumerGroup when empty.
	CoreGroup string
}

// OutboundStore keeps outbound state in Redis; it implements outbound.Store. It is
// self-contained: its own client, the queue's key prefix.
type OutboundStore struct {
	rdb                    *redis.Client
	prefix                 string
	cfg                    OutboundConfig
	keyStream, keyDelivery string
	ttlArg                 string
}

var _ outbound.Store = (*OutboundStore)(nil)

// OpenOutbound connects to cfg.URL and creates the consumer groups (the gateway's on the
// outbound stream, the core's on the delivery stream) when Redis answers.
func OpenOutbound(ctx context.Context, cfg Config, oc OutboundConfig) (*OutboundStore, error) {
	rdb, _, err := NewRedisClient(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("queue: outbound: %w", err)
	}
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&oc.Stream, DefaultOutboundStream)
	def(&oc.DeliveryStream, DefaultDeliveryStream)
	def(&oc.Group, DefaultOutboundGroup)
	def(&oc.CoreGroup, cfg.ConsumerGroup)
	def(&oc.CoreGroup, DefaultConsumerGroup)
	if oc.StateTTL <= 0 {
		oc.StateTTL = DefaultOutboundStateTTL
	}
	if oc.Stream == oc.DeliveryStream {
		return nil, fmt.Errorf("queue: the outbound and delivery streams must be two keys (both are %q)", oc.Stream)
	}
	s := &OutboundStore{rdb: rdb, prefix: cfg.KeyPrefix, cfg: oc,
		keyStream: cfg.KeyPrefix + oc.Stream, keyDelivery: cfg.KeyPrefix + oc.DeliveryStream,
		ttlArg: strconv.FormatInt(int64(oc.StateTTL/time.Second), 10)}
	for _, g := range []struct{ stream, group string }{{s.keyStream, oc.Group}, {s.keyDelivery, oc.CoreGroup}} {
		err := s.rdb.XGroupCreateMkStream(ctx, g.stream, g.group, "0").Err()
		if err != nil && !redis.HasErrorPrefix(err, "BUSYGROUP") && !unreachable(err) {
			_ = s.rdb.Close()
			return nil, fmt.Errorf("queue: create group %s on %s: %w", g.group, g.stream, err)
		}
	}
	return s, nil
}

// Close closes the connection pool.
func (s *OutboundStore) Close() error { return s.rdb.Close() }

func (s *OutboundStore) stateKey(id string) string { return s.prefix + "intake:out:" + id }

func (s *OutboundStore) pmidKey(provider, pmid string) string {
	return s.prefix + "intake:out-pmid:" + provider + ":" + pmid
}

// noState stands for outbound.StateNone in the script (no hash, or no state field).
const noState = "-"

// transitionScript is the compare-and-set of an outbound id's state.
//
//	KEYS[1] intake:out:<id>; KEYS[2] the delivery stream; KEYS[3] intake:out-pmid:… or ""
//	ARGV[1] the new state; ARGV[2] the allowed current states, " a b " ("-": none);
//	ARGV[3] the delivery entry's JSON ("" for none); ARGV[4] TTL seconds; ARGV[5] the id;
//	ARGV[6..] field/value pairs to store
//
// It answers "M" when it moved, else "S<current state>".
var transitionScript = redis.NewScript(`
local cur = redis.call('HGET', KEYS[1], 'state') or '-'
if not string.find(ARGV[2], ' ' .. cur .. ' ', 1, true) then return 'S' .. cur end
redis.call('HSET', KEYS[1], 'state', ARGV[1], unpack(ARGV, 6))
redis.call('EXPIRE', KEYS[1], ARGV[4])
if KEYS[3] ~= '' then redis.call('SET', KEYS[3], ARGV[5], 'EX', ARGV[4]) end
if ARGV[3] ~= '' then redis.call('XADD', KEYS[2], '*', 'delivery', ARGV[3]) end
return 'M'
`)

// Transition implements outbound.Store.
func (s *OutboundStore) Transition(ctx context.Context, rec outbound.Record, from []outbound.State, to outbound.State, d *outbound.Delivery) (outbound.State, bool, error) {
	var allowed strings.Builder
	allowed.WriteByte(' ')
	for _, f := range from {
		if f == outbound.StateNone {
			allowed.WriteString(noState)
		} else {
			allowed.WriteString(string(f))
		}
		allowed.WriteByte(' ')
	}
	pmidKey := ""
	if rec.ProviderMessageID != "" && rec.Provider != "" {
		pmidKey = s.pmidKey(rec.Provider, rec.ProviderMessageID)
	}
	delivery := ""
	if d != nil {
		delivery = string(d.JSON())
	}
	args := []any{string(to), allowed.String(), delivery, s.ttlArg, rec.ID}
	for _, f := range [][2]string{{"complaint_id", rec.ComplaintID}, {"channel", rec.Channel}, {"provider", rec.Provider},
		{"provider_message_id", rec.ProviderMessageID}} {
		if f[1] != "" {
			args = append(args, f[0], f[1])
		}
	}
	if !rec.LeaseUntil.IsZero() {
		args = append(args, "lease_until", strconv.FormatInt(rec.LeaseUntil.UnixMilli(), 10))
	}
	if rec.Tries > 0 {
		args = append(args, "tries", strconv.Itoa(rec.Tries))
	}
	reply, err := transitionScript.Run(ctx, s.rdb, []string{s.stateKey(rec.ID), s.keyDelivery, pmidKey}, args...).Text()
	if err != nil {
		return "", false, fmt.Errorf("queue: outbound state of %s: %w", rec.ID, err)
	}
	if reply == "M" {
		return to, true, nil
	}
	cur := strings.TrimPrefix(reply, "S")
	if cur == noState {
		cur = ""
	}
	return outbound.State(cur), false, nil
}

// Get implements outbound.Store.
func (s *OutboundStore) Get(ctx context.Context, id string) (outbound.Record, bool, error) {
	h, err := s.rdb.HGetAll(ctx, s.stateKey(id)).Result()
	if err != nil {
		return outbound.Record{}, false, fmt.Errorf("queue: read outbound state of %s: %w", id, err)
	}
	if len(h) == 0 {
		return outbound.Record{}, false, nil
	}
	r := outbound.Record{ID: id, State: outbound.State(h["state"]), ComplaintID: h["complaint_id"], Channel: h["channel"],
		Provider: h["provider"], ProviderMessageID: h["provider_message_id"]}
	if ms, err := strconv.ParseInt(h["lease_until"], 10, 64); err == nil {
		r.LeaseUntil = time.UnixMilli(ms)
	}
	r.Tries, _ = strconv.Atoi(h["tries"])
	return r, true, nil
}

// Lookup implements outbound.Store.
func (s *OutboundStore) Lookup(ctx context.Context, provider, pmid string) (string, error) {
	id, err := s.rdb.Get(ctx, s.pmidKey(provider, pmid)).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("queue: find outbound message: %w", err)
	}
	return id, nil
}

// Pause implements outbound.Store.
func (s *OutboundStore) Pause(ctx context.Context, sender string, d time.Duration) error {
	return s.rdb.Set(ctx, s.prefix+"intake:out-pause:"+sender, "1", d).Err()
}

// Paused implements outbound.Store.
func (s *OutboundStore) Paused(ctx context.Context, sender string) (time.Duration, error) {
	d, err := s.rdb.PTTL(ctx, s.prefix+"intake:out-pause:"+sender).Result()
	if err != nil {
		return 0, fmt.Errorf("queue: read sender pause: %w", err)
	}
	return max(d, 0), nil // -2: no key, -1: no TTL (never set so)
}

func (s *OutboundStore) optOutKey(channel, address string) string {
	return s.prefix + "intake:optout:" + channel + ":" + address
}

// OptOut implements outbound.Store.
func (s *OutboundStore) OptOut(ctx context.Context, channel, address string) error {
	return s.rdb.Set(ctx, s.optOutKey(channel, address), "1", 0).Err()
}

// OptIn implements outbound.Store.
func (s *OutboundStore) OptIn(ctx context.Context, channel, address string) error {
	return s.rdb.Del(ctx, s.optOutKey(channel, address)).Err()
}

// OptedOut implements outbound.Store.
func (s *OutboundStore) OptedOut(ctx context.Context, channel, address string) (bool, error) {
	n, err := s.rdb.Exists(ctx, s.optOutKey(channel, address)).Result()
	if err != nil {
		return false, fmt.Errorf("queue: read opt-out: %w", err)
	}
	return n == 1, nil
}

// Add puts an outbound entry on the outbound stream (what the core does; `intake reply`).
func (s *OutboundStore) Add(ctx context.Context, messageJSON []byte) (string, error) {
	id, err := s.rdb.XAdd(ctx, &redis.XAddArgs{Stream: s.keyStream, Values: []any{outbound.EntryField, messageJSON}}).Result()
	if err != nil {
		return "", fmt.Errorf("queue: add to %s: %w", s.keyStream, err)
	}
	return id, nil
}

// FollowDeliveries calls fn for every delivery entry after fromID ("$": only new ones,
// "0": all), until ctx ends. It reads without a consumer group.
func (s *OutboundStore) FollowDeliveries(ctx context.Context, fromID string, fn func(entryID, delivery string) error) error {
	last := fromID
	if last == "" || last == "$" {
		// Resolve "$" once: repeating it between reads would skip entries.
		msgs, err := s.rdb.XRevRangeN(ctx, s.keyDelivery, "+", "-", 1).Result()
		if err != nil {
			return fmt.Errorf("queue: read %s: %w", s.keyDelivery, err)
		}
		last = "0-0"
		if len(msgs) > 0 {
			last = msgs[0].ID
		}
	}
	for ctx.Err() == nil {
		res, err := s.rdb.XRead(ctx, &redis.XReadArgs{Streams: []string{s.keyDelivery, last}, Count: 100, Block: followBlock}).Result()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			return fmt.Errorf("queue: follow %s: %w", s.keyDelivery, err)
		}
		for _, st := range res {
			for _, m := range st.Messages {
				last = m.ID
				v, _ := m.Values[outbound.DeliveryField].(string)
				if err := fn(m.ID, v); err != nil {
					return err
				}
			}
		}
	}
	return ctx.Err()
}

var _ outbound.Parking = (*OutboundStore)(nil)

func (s *OutboundStore) earlyKey(provider, pmid string) string {
	return s.prefix + "intake:out-early:" + provider + ":" + pmid
}

// earlyReport is a parked outbound.Update as the list keeps it.
type earlyReport struct {
	State  outbound.State          `json:"state"`
	Error  *outbound.DeliveryError `json:"error,omitempty"`
	Parked string                  `json:"parked_at"`
}

// parkScript keeps a report unless the provider message id became known meanwhile.
//
//	KEYS[1] intake:out-pmid:…; KEYS[2] intake:out-early:…; ARGV[1] the report; ARGV[2] TTL s
var parkScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 1 end
redis.call('RPUSH', KEYS[2], ARGV[1])
redis.call('EXPIRE', KEYS[2], ARGV[2])
return 0
`)

// unparkScript returns and deletes the reports kept for a provider message id.
var unparkScript = redis.NewScript(`
local r = redis.call('LRANGE', KEYS[1], 0, -1)
redis.call('DEL', KEYS[1])
return r
`)

// Park implements outbound.Parking.
func (s *OutboundStore) Park(ctx context.Context, u outbound.Update) (bool, error) {
	b, err := json.Marshal(earlyReport{State: u.State, Error: u.Error, Parked: time.Now().UTC().Format(time.RFC3339)})
	if err != nil {
		return false, err
	}
	n, err := parkScript.Run(ctx, s.rdb, []string{s.pmidKey(u.Provider, u.ProviderMessageID), s.earlyKey(u.Provider, u.ProviderMessageID)},
		b, int64(outbound.EarlyReportTTL/time.Second)).Int()
	if err != nil {
		return false, fmt.Errorf("queue: park an early %s report: %w", u.Provider, err)
	}
	return n == 1, nil
}

// Unpark implements outbound.Parking.
func (s *OutboundStore) Unpark(ctx context.Context, provider, pmid string) ([]outbound.Update, error) {
	raw, err := unparkScript.Run(ctx, s.rdb, []string{s.earlyKey(provider, pmid)}).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("queue: read early %s reports: %w", provider, err)
	}
	out := make([]outbound.Update, 0, len(raw))
	for _, r := range raw {
		var e earlyReport
		if json.Unmarshal([]byte(r), &e) != nil || e.State == "" {
			continue // not a report this gateway wrote: nothing to apply
		}
		out = append(out, outbound.Update{Provider: provider, ProviderMessageID: pmid, State: e.State, Error: e.Error})
	}
	return out, nil
}
