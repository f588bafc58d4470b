package queue

import "github.com/redis/go-redis/v9"

// The scripts answer with short strings so a reply costs one allocation to read:
//
//	"N"                   written now
//	"n"                   written now, and the citizen's receipt budget is spent: no receipt
//	"D<id> <ref>[ <sha>][ held]" the provider message (or this very record, on a retry) was
//	                      written before ("held": its receipt was held back)
//	"K<id> <ref> <sha>"   the dedupe key was taken by a request with another body (an
//	                      Idempotency-Key reused for a different complaint): nothing written
//	"R"                   the reference is taken by another record: pick another and try again
//
// Every script is idempotent for a record that carries the same id: a retried or
// replayed write finds its own id and answers "D" with it, so the caller can tell "mine,
// already written" (same id) from "someone else's" (another id). Every record has a dedupe
// key for this (its provider id, or "<channel>:rid:<record id>" without one).

// publishScript publishes a batch of records to one stream. For each record, in order,
// it claims the provider message's seen key and the reference (SET NX: one call each on
// the common path), then XADDs the record; a claim that fails is read back to tell a
// duplicate (or our own earlier write) from a taken reference, and claims made for a
// record that is not written are undone. Lua runs the whole batch atomically, so nobody
// sees an undone claim. One call per batch keeps the per-script cost off each record.
// Each record gets its own answer (see above; "E<error>" when its XADD failed).
//
// A stream that does not exist (Redis restarted without persistence, or was flushed) is
// created with its consumer group first, so the core's group is never missing when a
// record arrives (XGROUP CREATE from 0 on the new, empty stream).
//
// A record written now counts one receipt against its citizen's budget, if it has one:
// counted here, in the write's own round trip, a budget costs an SMS webhook no second
// trip to Redis (a separate claim cost about a tenth of the webhook's throughput).
//
// The conversation (conversation.go): a record with a citizen rate window counts one
// message against it, after dedupe (a provider's retry of a written message answered "D"
// above never counts); over the limit nothing is written, the claims are undone and the
// answer is "L" (the caller keeps the message as a rejected input). A new complaint of a
// known citizen notes whose its reference is (intake:conv:ref:<reference>).
//
//	KEYS[1]                the stream (complaints, or pending for Stage)
//	KEYS[5i-3 .. 5i+1]     intake:seen:<channel>:<dedupe key> ("" without dedupe),
//	                       intake:ref:<reference> ("" when the reference is not claimed),
//	                       intake:receipt:<hash> (the receipt budget, "" without one),
//	                       intake:rate:<citizen_id> ("" without a rate limit),
//	                       intake:conv:ref:<reference> ("" when no owner is noted),
//	                       intake:contacts:<day> ("" without a contact), intake:window:<…>
//	                       ("" outside WhatsApp); see contact.go
//	ARGV[1]                seen TTL in seconds
//	ARGV[2]                the stream's consumer group
//	ARGV[3]                contact TTL in seconds
//	ARGV[11i-7 .. 11i+3]   id, reference, channel, complaint JSON, flags ("d" to dedupe, "c"
//	                       to claim the reference, one the counter did not issue), request
//	                       hash ("" when the caller gave none), budget "<max> <window ms>",
//	                       rate limit "<max> <window ms>", citizen_id, contact JSON ("" for
//	                       none), window timestamp (unix ms)
var publishScript = redis.NewScript(`
local stream, ttl = KEYS[1], ARGV[1]
if redis.call('EXISTS', stream) == 0 then
  redis.pcall('XGROUP', 'CREATE', stream, ARGV[2], '0', 'MKSTREAM')
end
-- over adds one to a fixed-window counter ("<max> <window ms>") and tells whether it is
-- now over its max. A window's first count (the common case) costs one command.
local function over(key, spec)
  local max, window = string.match(spec, '^(%d+) (%d+)$')
  local n = 1
  if not redis.call('SET', key, 1, 'PX', window, 'NX') then n = redis.call('INCR', key) end
  return n > tonumber(max)
end
local out = {}
local buckets = {}
for i = 1, (#KEYS - 1) / 7 do
  local seenKey, refKey, budgetKey = KEYS[7 * i - 5], KEYS[7 * i - 4], KEYS[7 * i - 3]
  local rateKey, ownerKey = KEYS[7 * i - 2], KEYS[7 * i - 1]
  local contactKey, windowKey = KEYS[7 * i], KEYS[7 * i + 1]
  local a = 11 * i - 7
  local id, ref, flags, hash = ARGV[a], ARGV[a + 1], ARGV[a + 4], ARGV[a + 5]
  local dedupe, claim = flags == 'd' or flags == 'dc', flags == 'c' or flags == 'dc'
  local seenVal = id .. ' ' .. ref
  if hash ~= '' then seenVal = seenVal .. ' ' .. hash end
  if dedupe and not redis.call('SET', seenKey, seenVal, 'NX', 'EX', ttl) then
    local seen = redis.call('GET', seenKey)
    local had = string.match(seen, '^%S+ %S+ (%x+)')
    if hash ~= '' and had and had ~= hash then out[i] = 'K' .. seen else out[i] = 'D' .. seen end
  elseif claim and not redis.call('SET', refKey, id, 'NX') then
    if dedupe then redis.call('DEL', seenKey) end
    if redis.call('GET', refKey) == id then out[i] = 'D' .. id .. ' ' .. ref else out[i] = 'R' end
  elseif rateKey ~= '' and over(rateKey, ARGV[a + 7]) then
    if claim then redis.call('DEL', refKey) end
    if dedupe then redis.call('DEL', seenKey) end
    out[i] = 'L'
  else
    local r = redis.pcall('XADD', stream, '*', 'id', id, 'channel', ARGV[a + 2], 'complaint', ARGV[a + 3])
    if type(r) == 'table' and r.err then
      if claim then redis.call('DEL', refKey) end
      if dedupe then redis.call('DEL', seenKey) end
      out[i] = 'E' .. r.err
    else
      if ownerKey ~= '' then redis.call('SET', ownerKey, id .. ' ' .. ARGV[a + 8], 'EX', 34560000) end
      -- Return path: how to answer this record (contact.go), written with it.
      if contactKey ~= '' then
        redis.call('HSET', contactKey, id, ARGV[a + 9], 'r:' .. ref, id)
        if not buckets[contactKey] then
          buckets[contactKey] = true
          redis.call('EXPIRE', contactKey, ARGV[3])
        end
      end
      if windowKey ~= '' then
        local ts = tonumber(ARGV[a + 10])
        if ts and ts > tonumber(redis.call('GET', windowKey) or '0') then redis.call('SET', windowKey, ts, 'PX', 172800000) end
      end
      out[i] = 'N'
      if budgetKey ~= '' and over(budgetKey, ARGV[a + 6]) then
        -- A repeat of this message must get the same answer: no receipt either.
        if dedupe then redis.call('APPEND', seenKey, ' held') end
        out[i] = 'n'
      end
    end
  end
end
return out
`)

// rejectScript appends a rejection once per provider message (or per spool token).
//
//	KEYS[1] intake:seen-rejected:<channel>:<provider id or token>
//	KEYS[2] the rejected stream
//	ARGV    seen TTL in seconds, then the entry's field/value pairs
var rejectScript = redis.NewScript(`
local seen = redis.call('GET', KEYS[1])
if seen then return 'D' .. seen end
local eid = redis.call('XADD', KEYS[2], '*', unpack(ARGV, 2))
redis.call('SET', KEYS[1], 'rejected:' .. eid, 'EX', ARGV[1])
return 'N'
`)

// completeScript moves a staged record, media settled, to the complaint stream: XADD,
// XACK and XDEL in one step. An entry already completed (gone from the pending stream)
// answers 0 and writes nothing.
//
//	KEYS[1] the pending stream
//	KEYS[2] the complaint stream
//	ARGV    pending group, pending entry id, record id, channel, complaint JSON, the
//	        complaint stream's consumer group (created with the stream when it is missing)
var completeScript = redis.NewScript(`
local e = redis.call('XRANGE', KEYS[1], ARGV[2], ARGV[2])
if #e == 0 then return 0 end
if redis.call('EXISTS', KEYS[2]) == 0 then
  redis.pcall('XGROUP', 'CREATE', KEYS[2], ARGV[6], '0', 'MKSTREAM')
end
local f = e[1][2]
for i = 1, #f, 2 do
  if f[i] == 'id' and f[i + 1] ~= ARGV[3] then
    return redis.error_reply('ERR pending entry ' .. ARGV[2] .. ' holds record ' .. f[i + 1] .. ', not ' .. ARGV[3])
  end
end
redis.call('XADD', KEYS[2], '*', 'id', ARGV[3], 'channel', ARGV[4], 'complaint', ARGV[5])
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
return 1
`)

var allScripts = []*redis.Script{publishScript, rejectScript, completeScript}
