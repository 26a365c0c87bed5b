/**
 * The Lua scripts of the live worker. Every key a script touches belongs to one shard (one hash
 * tag), so they run unchanged on Redis Cluster.
 *
 * COMMIT_BATCH_LUA commits a worker's batch for a shard, atomically:
 *   1. fencing: the shard's lease must hold this worker run's token (a paused, superseded worker
 *      cannot write after another took over);
 *   2. ordering: `lastId` (the batch's last input) older than the stored `outId` means the batch
 *      is already covered (a silent re-application during recovery): nothing is written. Equal
 *      means a retry of a committed batch (its reply was lost): only a pending state save is done.
 *      Newer requires the stored `outId` to be the `expectedPrev` this worker last committed;
 *      anything else means someone else wrote, or Redis lost acknowledged writes (a rollback):
 *      error DIVERGED, and the worker recovers the shard from its checkpoint;
 *   3. every read and check happens before the first write, so a runtime error cannot leave half a
 *      batch behind (Redis does not roll back a script's earlier writes);
 *   4. then: dead letters, output rows (XADD), latest values per symbol (HSET, guarded by input ID
 *      so an older row never overwrites a newer one), XACK of the batch's inputs (in chunks), the
 *      checkpoint (`outId`, and when due the fold state with `stateId`).
 *
 * KEYS: lease, output stream, checkpoint, input stream, dead-letter stream, latest keys...
 * ARGV: token, group, lastId, expectedPrev, ttlSeconds, stateIdOrEmpty, featureSetVersion,
 *       nDlq, per dead letter: nFields f v ..., nRows, per row: nFields f v ...,
 *       nLatest, per latest: nFields f v ..., nAcks, ack ids..., [state blob]
 * Returns 1 when written, 0 when already covered.
 */
export const COMMIT_BATCH_LUA = `
local function parse(id)
  local ms, seq = string.match(id or '', '^(%d+)-(%d+)$')
  if not ms then error('bad stream id ' .. tostring(id)) end
  return tonumber(ms), tonumber(seq)
end
local function idless(a, b)
  local am, as = parse(a)
  local bm, bs = parse(b)
  if am ~= bm then return am < bm end
  return as < bs
end
local owner = redis.call('GET', KEYS[1])
if owner ~= ARGV[1] then return redis.error_reply('LEASE shard is held by ' .. (owner or 'nobody (the lease expired)')) end
local lastId = ARGV[3]
local expectedPrev = ARGV[4]
local prev = redis.call('HGET', KEYS[3], 'outId') or '0-0'
local stateId = ARGV[6]
if idless(lastId, prev) then return 0 end
local retry = (lastId == prev)
if not retry and prev ~= expectedPrev then
  return redis.error_reply('DIVERGED checkpoint outId is ' .. prev .. ', this worker expected ' .. expectedPrev)
end
-- parse everything and do every read before the first write
local i = 8
local function block()
  local n = tonumber(ARGV[i]); i = i + 1
  local t = {}
  for j = 1, n do t[j] = ARGV[i + j - 1] end
  i = i + n
  return t
end
local dlq = {}
local nDlq = tonumber(ARGV[i]); i = i + 1
for d = 1, nDlq do dlq[d] = block() end
local rows = {}
local nRows = tonumber(ARGV[i]); i = i + 1
for r = 1, nRows do rows[r] = block() end
local latest = {}
local nLatest = tonumber(ARGV[i]); i = i + 1
for l = 1, nLatest do
  local args = block()
  local newIn = nil
  for j = 1, #args, 2 do if args[j] == '_in' then newIn = args[j + 1] end end
  local cur = redis.call('HGET', KEYS[5 + l], '_in')
  if (not cur) or idless(cur, newIn) then latest[#latest + 1] = { KEYS[5 + l], args } end
end
local nAcks = tonumber(ARGV[i]); i = i + 1
local ackStart = i
i = i + nAcks
local state = ARGV[i]
local ttl = tonumber(ARGV[5])
if not retry then
  for d = 1, #dlq do redis.call('XADD', KEYS[5], '*', unpack(dlq[d])) end
  for r = 1, #rows do redis.call('XADD', KEYS[2], '*', unpack(rows[r])) end
  for l = 1, #latest do
    redis.call('HSET', latest[l][1], unpack(latest[l][2]))
    if ttl > 0 then redis.call('EXPIRE', latest[l][1], ttl) end
  end
  for a = 0, nAcks - 1, 1000 do
    local chunk = {}
    for j = a, math.min(a + 999, nAcks - 1) do chunk[#chunk + 1] = ARGV[ackStart + j] end
    redis.call('XACK', KEYS[4], ARGV[2], unpack(chunk))
  end
  redis.call('HSET', KEYS[3], 'outId', lastId)
end
if stateId ~= '' then
  redis.call('HSET', KEYS[3], 'stateId', stateId, 'state', state, 'featureSetVersion', ARGV[7])
  return 1
end
if retry then return 0 end
return 1
`;

/** Renews a lease only if this worker run still holds it. Returns 1, or 0 when it was lost. */
export const RENEW_LEASE_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`;

/** Releases a lease only if this worker run holds it (graceful shutdown frees the shard at once). */
export const RELEASE_LEASE_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;
