package queue

import "github.com/redis/go-redis/v9"

// The scripts answer with short strings so a reply costs one allocation to read:
//
//	"N"            written now
//	"D<id> <ref>"  the provider message (or this very record, on a retry) was written before
//	"R"            the reference is taken by another record: pick another and try again
//
// Every script is idempotent for a record that carries the same id: a retried or
// replayed write finds its own id and answers "D" with it, so the caller can tell "mine,
// already written" (same id) from "someone else's" (another id).

// publishScript claims the provider message and the reference, then XADDs the record.
//
//	KEYS[1] intake:seen:<channel>:<provider id> ("" when the record has no provider id)
//	KEYS[2] intake:ref:<reference>
//	KEYS[3] the stream (complaints, or pending for Stage)
//	ARGV    id, reference, channel, complaint JSON, seen TTL in seconds, "1" to dedupe
var publishScript = redis.NewScript(`
local dedupe = ARGV[6] == '1'
if dedupe then
  local seen = redis.call('GET', KEYS[1])
  if seen then return 'D' .. seen end
end
local owner = redis.call('GET', KEYS[2])
if owner then
  if owner == ARGV[1] then return 'D' .. ARGV[1] .. ' ' .. ARGV[2] end
  return 'R'
end
redis.call('SET', KEYS[2], ARGV[1])
if dedupe then
  redis.call('SET', KEYS[1], ARGV[1] .. ' ' .. ARGV[2], 'EX', ARGV[5])
end
redis.call('XADD', KEYS[3], '*', 'id', ARGV[1], 'channel', ARGV[3], 'complaint', ARGV[4])
return 'N'
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
//	ARGV    pending group, pending entry id, record id, channel, complaint JSON
var completeScript = redis.NewScript(`
local e = redis.call('XRANGE', KEYS[1], ARGV[2], ARGV[2])
if #e == 0 then return 0 end
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
