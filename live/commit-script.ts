/**
 * The one Lua script that commits a worker's batch for a shard, atomically:
 *   1. fencing: the shard's lease must still name this worker (a paused, superseded worker
 *      cannot write after another took over);
 *   2. idempotence: if the checkpoint already covers this batch's last input ID, nothing is
 *      written (a retry after a lost reply is harmless);
 *   3. the output rows (XADD to the output stream), the latest values per symbol (HSET, guarded by
 *      input ID so an older row never overwrites a newer one), the checkpoint (last input whose
 *      outputs are written; optionally the fold state and the input it covers), and the XACK of
 *      the batch's input entries.
 * Everything touches keys of one shard (one hash tag), so it also runs on Redis Cluster.
 *
 * KEYS: lease, output stream, checkpoint, input stream, latest keys...
 * ARGV: owner, group, lastId, ttlSeconds, stateIdOrEmpty, nRows, then per row: nFields f v ...,
 *       nLatest, then per latest: nFields f v ..., nAcks, ack ids...
 * The state blob, when present, is the last ARGV.
 * Returns 1 when committed, 0 when already committed, error "LEASE" when fenced off.
 */
export const COMMIT_BATCH_LUA = `
local function idless(a, b)
  local ams, aseq = string.match(a, '^(%d+)-(%d+)$')
  local bms, bseq = string.match(b, '^(%d+)-(%d+)$')
  ams = tonumber(ams); bms = tonumber(bms)
  if ams ~= bms then return ams < bms end
  return tonumber(aseq) < tonumber(bseq)
end
local owner = redis.call('GET', KEYS[1])
if owner ~= ARGV[1] then return redis.error_reply('LEASE shard is owned by ' .. (owner or 'nobody (the lease expired)')) end
local lastId = ARGV[3]
local prev = redis.call('HGET', KEYS[3], 'outId')
if prev and not idless(prev, lastId) then return 0 end
local ttl = tonumber(ARGV[4])
local i = 7
local nRows = tonumber(ARGV[6])
for r = 1, nRows do
  local n = tonumber(ARGV[i]); i = i + 1
  local args = {}
  for j = 1, n do args[j] = ARGV[i + j - 1] end
  i = i + n
  redis.call('XADD', KEYS[2], '*', unpack(args))
end
local nLatest = tonumber(ARGV[i]); i = i + 1
for l = 1, nLatest do
  local key = KEYS[4 + l]
  local n = tonumber(ARGV[i]); i = i + 1
  local args = {}
  for j = 1, n do args[j] = ARGV[i + j - 1] end
  i = i + n
  local cur = redis.call('HGET', key, '_in')
  local newIn = nil
  for j = 1, n, 2 do if args[j] == '_in' then newIn = args[j + 1] end end
  if (not cur) or idless(cur, newIn) then
    redis.call('HSET', key, unpack(args))
    if ttl > 0 then redis.call('EXPIRE', key, ttl) end
  end
end
local nAcks = tonumber(ARGV[i]); i = i + 1
local acks = {}
for a = 1, nAcks do acks[a] = ARGV[i + a - 1] end
i = i + nAcks
if nAcks > 0 then redis.call('XACK', KEYS[4], ARGV[2], unpack(acks)) end
redis.call('HSET', KEYS[3], 'outId', lastId)
if ARGV[5] ~= '' then
  redis.call('HSET', KEYS[3], 'stateId', ARGV[5], 'state', ARGV[i])
end
return 1
`;
