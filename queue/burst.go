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
	segjson "github.com/segmentio/encoding/json"

	"github.com/lapor/intake/conversation"
	"github.com/lapor/intake/record"
)

// Bursts keeps open bursts (CONTRACT §8) in Redis, shared by every replica
// (conversation.BurstStore):
//
//	intake:burst:open:<channel>:<citizen_id>   the citizen's open burst id
//	intake:burst:<burst id>                    hash: id, ref (the record's, allocated at open),
//	                                           first, last (Redis TIME, ms), greet, key, closed, window,
//	                                           full (set when it holds conversation.BurstMaxParts)
//	intake:burst:<burst id>:parts              list of the parts' normalised records, in arrival order
//	intake:burst:due                           sorted set: open burst ids by due time (ms)
//	intake:burst:lease                         sorted set: claimed burst ids by lease deadline (ms)
//	intake:burst:closed:<channel>:<citizen_id> "<id> <ref>" of a burst claimed while a part
//	                                           within its window may still come (a follow-up)
//	intake:seen:<channel>:<provider id>        as for records: "<id> <ref>[ held]"
//
// Every decision uses Redis's clock (TIME inside the scripts), so replicas with skewed
// clocks neither split nor merge bursts.
type Bursts struct {
	q      *Queue
	prefix string
	batch  *burstBatcher
	// recent is what this process last learnt of each citizen's open burst: while Redis is
	// down it tells a spooled part to join that burst (burstspool.go).
	recent recentBursts
	fetch  atomic.Pointer[map[string]bool] // SetFetchProviders
}

var _ conversation.BurstStore = (*Bursts)(nil)

// Bursts returns the burst store on q's Redis (one per queue: the spool replays its
// parts). It stops with q.
func (q *Queue) Bursts() *Bursts {
	q.burstsOnce.Do(func() {
		q.bursts = &Bursts{q: q, prefix: q.cfg.KeyPrefix + "intake:burst:", batch: newBurstBatcher(q),
			recent: recentBursts{m: map[string]recentBurst{}}}
	})
	return q.bursts
}

// burstPart is a part as the list keeps it: the record plus what JSON leaves out.
type burstPart struct {
	C      *record.Complaint `json:"c"`
	Dedupe string            `json:"d,omitempty"`
}

// AddPart implements conversation.BurstStore.
func (b *Bursts) AddPart(ctx context.Context, p conversation.BurstPart) (conversation.BurstAnswer, error) {
	if b.q.down.Load() || (b.q.spool.size() > 0 && b.q.spool.holdsBurst(p.Key)) {
		return b.spoolPart(ctx, p, nil)
	}
	body, err := segjson.Marshal(burstPart{C: p.Part, Dedupe: p.Part.DedupeKey})
	if err != nil {
		return conversation.BurstAnswer{}, fmt.Errorf("queue: burst part: %w", err)
	}
	bid, id := newID(), newID()
	ref, _ := b.q.refs.take(ctx, b.q.down.Load())
	greet := "0"
	if p.Greeting {
		greet = "1"
	}
	maxAge := p.MaxAge
	if maxAge <= 0 {
		maxAge = conversation.BurstMax
	}
	// The burst's receipt counts against the citizen's receipt budget when it opens.
	budgetKey, budgetSpec := "", ""
	if rb := p.Part.ReceiptBudget; rb.Key != "" && rb.Max >= 0 && rb.Window > 0 {
		budgetKey = receiptKey(b.q.cfg.KeyPrefix, rb.Key)
		budgetSpec = strconv.Itoa(rb.Max) + " " + strconv.FormatInt(rb.Window.Milliseconds(), 10)
	}
	// A part staged counts against the citizen's rate limit, as a record does (a retry, or a
	// part that becomes a follow-up and takes the ordinary path, is not counted here).
	rateKey, rateSpec := "", ""
	if rb := p.Part.RateBudget; rb.Key != "" && rb.Max > 0 && rb.Window > 0 {
		rateKey = b.q.ratePrefix + rb.Key
		rateSpec = strconv.Itoa(rb.Max) + " " + strconv.FormatInt(rb.Window.Milliseconds(), 10)
	}
	keys := []string{b.prefix + "open:" + p.Key, b.q.seenPrefix + p.Dedupe, b.prefix + "due",
		b.prefix + "closed:" + p.Key, b.prefix + bid, b.prefix + bid + ":parts", budgetKey, rateKey}
	if p.Dedupe == "" {
		keys[1] = b.q.seenPrefix + "burst-nodedupe:" + id
	}
	args := []any{body, p.Window.Milliseconds(), maxAge.Milliseconds(), bid, id, ref, b.q.argTTL, greet, b.prefix, budgetSpec,
		p.FollowUpOf, "", "0", rateSpec, conversation.BurstMaxParts}
	v, err := b.batch.add(ctx, keys, args)
	if err != nil {
		if unreachable(err) {
			// It may have been staged before the connection broke: replayed, it is then
			// answered as the duplicate it is. Staged but not confirmed by enough replicas,
			// it is spooled as what the script decided, so the answer stays true whether
			// or not the primary keeps it.
			b.q.setDown(err)
			var decided *conversation.BurstAnswer
			if a, perr := parseBurstAnswer(v); perr == nil && errors.Is(err, errNotReplicated) {
				decided = &a
			}
			return b.spoolPart(ctx, p, decided)
		}
		return conversation.BurstAnswer{}, fmt.Errorf("queue: burst part not staged: %w", err)
	}
	a, err := parseBurstAnswer(v)
	if err == nil {
		b.recent.note(p, a, time.Now())
	}
	return a, err
}

// parseBurstAnswer reads "N|J|F<id> <ref>[ <burst id>]", "D<id> <ref>[ held]", "X" or "L".
func parseBurstAnswer(v string) (conversation.BurstAnswer, error) {
	switch v {
	case "X":
		return conversation.BurstAnswer{Action: conversation.BurstNotPart}, nil
	case "L":
		return conversation.BurstAnswer{Action: conversation.BurstRateLimited}, nil
	}
	if len(v) < 2 {
		return conversation.BurstAnswer{}, fmt.Errorf("queue: burst script answered %q", v)
	}
	f := strings.Fields(v[1:])
	if len(f) < 2 {
		return conversation.BurstAnswer{}, fmt.Errorf("queue: burst script answered %q", v)
	}
	a := conversation.BurstAnswer{ID: f[0], Reference: f[1]}
	switch v[0] {
	case 'N':
		a.Action = conversation.BurstStarted
	case 'n': // opened, and the citizen's receipt budget is spent
		a.Action, a.Held = conversation.BurstStarted, true
	case 'J':
		a.Action, a.Held = conversation.BurstJoined, true
	case 'F':
		a.Action = conversation.BurstFollowUp
	case 'D':
		a.Action = conversation.BurstDuplicate
		a.Held = len(f) > 2 && f[len(f)-1] == "held"
		return a, nil
	default:
		return conversation.BurstAnswer{}, fmt.Errorf("queue: burst script answered %q", v)
	}
	if len(f) > 2 {
		a.BurstID = f[2]
	}
	return a, nil
}

// ClaimDue implements conversation.BurstStore.
func (b *Bursts) ClaimDue(ctx context.Context, lease time.Duration, max int) ([]conversation.DueBurst, error) {
	res, err := burstClaimScript.Run(ctx, b.q.rdb, []string{b.prefix + "due", b.prefix + "lease"},
		lease.Milliseconds(), max, b.prefix).Slice()
	if err != nil {
		return nil, fmt.Errorf("queue: claim due bursts: %w", err)
	}
	out := make([]conversation.DueBurst, 0, len(res))
	for _, r := range res {
		f, ok := r.([]any)
		if !ok || len(f) != 4 {
			return out, fmt.Errorf("queue: claim due bursts: unexpected answer %v", r)
		}
		d := conversation.DueBurst{BurstID: str(f[0]), ID: str(f[1]), Reference: str(f[2])}
		list, _ := f[3].([]any)
		for _, raw := range list {
			var p burstPart
			if err := segjson.Unmarshal([]byte(str(raw)), &p); err != nil || p.C == nil {
				return out, fmt.Errorf("queue: burst %s holds a part that is not a record: %v", d.BurstID, err)
			}
			p.C.DedupeKey = p.Dedupe
			d.Parts = append(d.Parts, p.C)
		}
		out = append(out, d)
	}
	return out, nil
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// Done implements conversation.BurstStore: one transaction for every burst named.
func (b *Bursts) Done(ctx context.Context, burstIDs ...string) error {
	if len(burstIDs) == 0 {
		return nil
	}
	keys := make([]string, 0, 2*len(burstIDs))
	members := make([]any, 0, len(burstIDs))
	for _, id := range burstIDs {
		keys = append(keys, b.prefix+id, b.prefix+id+":parts")
		members = append(members, id)
	}
	_, err := b.q.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, keys...)
		p.ZRem(ctx, b.prefix+"lease", members...)
		p.ZRem(ctx, b.prefix+"due", members...)
		return nil
	})
	if err != nil {
		return fmt.Errorf("queue: forget %d published bursts: %w", len(burstIDs), err)
	}
	return nil
}

// Open reports the number of bursts waiting (open or claimed), for metrics and tests.
func (b *Bursts) Open(ctx context.Context) (int64, error) {
	n1, err := b.q.rdb.ZCard(ctx, b.prefix+"due").Result()
	if err != nil {
		return 0, err
	}
	n2, err := b.q.rdb.ZCard(ctx, b.prefix+"lease").Result()
	return n1 + n2, err
}

// burstAddScript stages one part (conversation.DecideBurst, in Redis's clock):
//
//	KEYS  open, seen, due, closed, new burst hash, new burst parts, receipt budget ("" none),
//	      the citizen's rate window ("" none)
//	ARGV  part JSON, window ms, max age ms, new burst id, new record id, new reference,
//	      seen TTL s, greeting "1"/"0", burst key prefix, budget "<max> <window ms>",
//	      the record id a follow-up continues ("" for a new message: only a follow-up of
//	      the open burst itself joins it; any other answers "X", not a part),
//	      a spooled part's arrival in Redis's clock (ms; "" for a part arriving now),
//	      "1" for a spooled part that opens its own burst under the id and reference it
//	      was answered with (burstspool.go), else "0", rate limit "<max> <window ms>",
//	      the most parts a burst holds (conversation.BurstMaxParts)
//	returns "L" (over the rate limit: nothing staged), "D<id> <ref>[ held]" (a retry),
//	"J<id> <ref> <bid>" (joined), "F<id> <ref>[ <bid>]" (the burst just closed: a follow-up
//	of it), "X" (not a part), "N<id> <ref> <bid>" (opened; "n": opened, the receipt budget
//	spent, so no receipt either)
var burstAddScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local replayed = ARGV[12] ~= ''
if replayed then now = math.min(now, tonumber(ARGV[12])) end
local seen = redis.call('GET', KEYS[2])
if seen then return 'D' .. seen end
local window, maxAge, greet = tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[8] == '1'
local of = ARGV[11]
-- over adds one to a fixed-window counter (as in the publish script); a staged part counts.
local function over(key, spec)
  if key == '' then return false end
  local max, w = string.match(spec, '^(%d+) (%d+)$')
  local n = 1
  if not redis.call('SET', key, 1, 'PX', w, 'NX') then n = redis.call('INCR', key) end
  return n > tonumber(max)
end
local bid = ARGV[4]
if ARGV[13] ~= '1' then
  local open = redis.call('GET', KEYS[1])
  if of ~= '' and not open then return 'X' end
  if open then
    local h = ARGV[9] .. open
    local b = redis.call('HMGET', h, 'id', 'ref', 'first', 'last', 'greet')
    local due = redis.call('ZSCORE', KEYS[3], open)
    if of ~= '' and b[1] ~= of then return 'X' end
    if b[1] and due then
      local first, last = tonumber(b[3]), tonumber(b[4])
      if now <= tonumber(due) and now < first + maxAge then
        local onlyGreet = b[5] == '1' and greet
        local nd = now + window
        if onlyGreet then nd = first + maxAge end
        if nd > first + maxAge then nd = first + maxAge end
        if nd < tonumber(due) and replayed then nd = tonumber(due) end
        if over(KEYS[8], ARGV[14]) then return 'L' end
        local n = redis.call('RPUSH', h .. ':parts', ARGV[1])
        redis.call('HSET', h, 'last', math.max(last, now), 'greet', onlyGreet and '1' or '0')
        if n >= tonumber(ARGV[15]) then
          -- Full: published at once, and the next part opens a burst of its own (not a
          -- follow-up: the claim sets no closed key for it).
          nd = now
          redis.call('DEL', KEYS[1])
          redis.call('HSET', h, 'full', '1')
        end
        redis.call('ZADD', KEYS[3], nd, open)
        redis.call('SET', KEYS[2], b[1] .. ' ' .. b[2] .. ' held', 'EX', ARGV[7])
        return 'J' .. b[1] .. ' ' .. b[2] .. ' ' .. open
      end
      if now - last <= window then
        return 'F' .. b[1] .. ' ' .. b[2] .. ' ' .. open
      end
    end
  end
  if of ~= '' then return 'X' end
  local closed = redis.call('GET', KEYS[4])
  if closed then return 'F' .. closed end
end
if over(KEYS[8], ARGV[14]) then return 'L' end
local nd = now + window
if greet then nd = now + maxAge end
redis.call('HSET', KEYS[5], 'id', ARGV[5], 'ref', ARGV[6], 'first', now, 'last', now,
  'greet', greet and '1' or '0', 'key', KEYS[1], 'closed', KEYS[4], 'window', window)
redis.call('RPUSH', KEYS[6], ARGV[1])
redis.call('SET', KEYS[1], bid, 'PX', maxAge)
redis.call('ZADD', KEYS[3], nd, bid)
local held, answer = '', 'N'
if KEYS[7] ~= '' then
  local max, bw = string.match(ARGV[10], '^(%d+) (%d+)$')
  local n = 1
  if not redis.call('SET', KEYS[7], 1, 'PX', bw, 'NX') then n = redis.call('INCR', KEYS[7]) end
  if n > tonumber(max) then held, answer = ' held', 'n' end
end
redis.call('SET', KEYS[2], ARGV[5] .. ' ' .. ARGV[6] .. held, 'EX', ARGV[7])
return answer .. ARGV[5] .. ' ' .. ARGV[6] .. ' ' .. bid
`)

// burstClaimScript leases due bursts (and bursts whose lease ran out: their holder died)
// to the caller. A claimed burst is no longer open: a part within its window after this
// is a follow-up of it (the closed key, kept until the window after its last part ends).
//
//	KEYS  due, lease
//	ARGV  lease ms, max bursts, burst key prefix
//	returns {{burst id, record id, reference, {part JSON...}}...}
var burstClaimScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = {}
local function take(bid)
  local h = ARGV[3] .. bid
  local b = redis.call('HMGET', h, 'id', 'ref', 'key', 'closed', 'last', 'window', 'full')
  if not b[1] then
    redis.call('ZREM', KEYS[2], bid)
    return
  end
  redis.call('ZADD', KEYS[2], now + tonumber(ARGV[1]), bid)
  if redis.call('GET', b[3]) == bid then redis.call('DEL', b[3]) end
  local ttl = tonumber(b[5]) + tonumber(b[6]) - now
  if ttl > 0 and not b[7] then redis.call('SET', b[4], b[1] .. ' ' .. b[2], 'PX', ttl) end
  out[#out + 1] = {bid, b[1], b[2], redis.call('LRANGE', h .. ':parts', 0, -1)}
end
local max = tonumber(ARGV[2])
for _, bid in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, max)) do take(bid) end
if #out < max then
  for _, bid in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, max - #out)) do
    redis.call('ZREM', KEYS[1], bid)
    take(bid)
  end
end
return out
`)
