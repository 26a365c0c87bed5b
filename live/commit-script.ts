/**
 * The Lua scripts of the live worker.
 *
 * COMMIT_BATCH_LUA commits a worker's batch for one or more shards; each shard's part is exactly
 * what a commit of that shard alone would do, and the whole call is atomic:
 *   1. fencing: the shard's lease must hold this worker run's token (a paused, superseded worker
 *      cannot write after another took over): else that shard's result is `LEASE ...`;
 *   2. ordering: `lastId` (the batch's last input) older than the stored `outId` means the batch
 *      is already covered (a silent re-application during recovery): nothing is written. Equal
 *      means a retry of a committed batch (its reply was lost): only a pending state save is done.
 *      Newer requires the stored `outId` to be the `expectedPrev` this worker last committed;
 *      anything else means someone else wrote, or Redis lost acknowledged writes (a rollback):
 *      that shard's result is `DIVERGED ...` and the worker recovers it from its checkpoint;
 *   3. every read and check, of every shard, happens before the first write, so a runtime error
 *      cannot leave half a batch behind (Redis does not roll back a script's earlier writes);
 *   4. then, per shard: dead letters, the output rows as one stream entry, latest values per symbol
 *      (HSET, guarded by input ID so an older row never overwrites a newer one), XACK of the
 *      batch's inputs (in chunks), the checkpoint (`outId`, and when due the fold state with
 *      `stateId`).
 *
 * Latest values are sent as a difference when they can be: most columns of a symbol's row equal
 * the row before (bar factors move once a minute, a book row moves two depth columns), and the
 * per-column fields of every touched symbol were most of a commit's bytes at low rates (~80
 * arguments per symbol, one symbol per event or so). The worker names the row its difference is
 * against (`base`: the input ID of the row it last sent for the symbol) and sends the meta fields,
 * the columns that changed and `_row`; the script applies that only when the hash's `_in` is that
 * base, so the hash then equals the base row plus the changes, i.e. the new row. Anything else (no
 * base, a first write, a hash that expired, was written by a previous owner, or missed a commit
 * that never landed) gets every column, split from `_row` in the script: correctness never rests
 * on the worker's memory of what it sent.
 *
 * Why several shards in one call: on this kind of machine each round trip costs Redis ~60-100 µs
 * of CPU before any work is done, and a worker commits every batch of every shard it owns; on a
 * single node one call commits them all. On Redis Cluster the shards live in different slots and
 * the worker makes one call per shard (every key of a call then shares its shard's hash tag).
 *
 * Why one output entry per shard commit (field `rows`, the rows one per line): adding an entry
 * from a script costs Redis ~10 µs, more than everything else a row needs. The rows of a commit
 * become visible together anyway (they are committed atomically).
 *
 * KEYS, per shard: lease, output stream, checkpoint, input stream, dead-letter stream, the latest
 *       keys of its symbols...
 * ARGV: token, group, ttlSeconds, featureSetVersion, columns joined by ',', nShards, then per
 *       shard (built by `shardCommitArgs`): nLatest, lastId, expectedPrev, stateIdOrEmpty,
 *       nDlq, per dead letter: nFields f v ...,
 *       nRows, the rows joined by '\n' (read-output.ts parses them),
 *       per latest key: nPairs, base ('' for none), then the hash's field/value pairs: `_in`
 *       (input ID), `_te`, `_tr`, `_seq`, `_src`, `_fsv`, `_at`, a field per column sent (all
 *       without a base, else the changed ones; empty for null), `_row` last
 *       (`ts_event|ts_recv|seq|source|computed-at|feature-set version|v1,v2,...`),
 *       nAcks, the ack IDs, the state blob (empty unless stateId is given)
 * The pairs come split by the worker, so the script does no string work per value: HSET takes
 * them straight from ARGV, as XACK takes the IDs (a Lua split of every latest row and of the ack
 * list cost the commit ~1-2 ms of Redis time per batch at 50k events/s, during which Redis serves
 * nobody else); it splits `_row` only for a write without a usable base.
 * Returns one result per shard: 1 when written, 0 when already covered (nothing written), or the
 * text of the refusal (`LEASE ...`, `DIVERGED ...`; nothing written for that shard).
 */
import { DEAD_LETTER_MAXLEN } from './dead-letter.ts';

/** One shard's part of a commit: what `shardCommitArgs` turns into its ARGV. */
export interface ShardCommit {
  lastId: string;
  /** The checkpoint's `outId` this worker last committed for the shard. */
  expectedPrev: string;
  /** lastId when the fold state is saved with this commit, else ''. */
  stateId: string;
  /** Dead letters, each as stream field/value pairs. */
  deadLetters: readonly (readonly string[])[];
  /** Output rows (worker/row-format.ts encodeRow), in input order; or their count and bytes, one per line. */
  rows: readonly string[] | { count: number; bytes: Buffer };
  /** Per symbol, the newest row's latest-value write (latestWrite); keys in the same order. */
  latest: readonly LatestWrite[];
  acks: readonly string[];
  state: string | Buffer;
}

/** One symbol's latest-value write: what shardCommitArgs sends for it. */
export interface LatestWrite {
  /** The input ID of the row that this is the difference against, '' for none (every column is written). */
  base: string;
  /** The hash's field/value pairs, `_in` first and `_row` last (latestPairs). */
  pairs: readonly string[];
}

/** What a worker remembers of the latest row it sent for a symbol: the base of its next write. */
export interface SentLatest {
  inId: string;
  /** Its column values as text, in column order. */
  values: readonly string[];
}

/**
 * The latest-value hash's field/value pairs for a packed `_row`
 * (`ts_event|ts_recv|seq|source|computed-at|feature-set version|v1,v2,...`): the meta fields, one
 * field per column (only those whose text differs from `prev`'s when given), `_row` last; and the
 * row's values. Throws when the row does not have one value per column (a worker bug, never
 * written).
 */
export function latestPairs(inId: string, row: string, columns: readonly string[], prev?: readonly string[] | null): string[] {
  return latestWriteOf(inId, row, columns, prev).pairs;
}

function latestWriteOf(inId: string, row: string, columns: readonly string[], prev?: readonly string[] | null): { pairs: string[]; values: string[] } {
  const parts = row.split('|');
  if (parts.length !== 7) throw new Error(`bad latest row ${JSON.stringify(row.slice(0, 80))}: expected 7 '|'-separated parts`);
  const [te, tr, seq, src, at, fsv, packed] = parts;
  const vals = packed === '' ? (columns.length > 0 ? [''] : []) : packed.split(',');
  if (vals.length !== columns.length) throw new Error(`latest row has ${vals.length} values for ${columns.length} columns`);
  const out = ['_in', inId, '_te', te, '_tr', tr, '_seq', seq, '_src', src, '_fsv', fsv, '_at', at];
  const diff = prev !== undefined && prev !== null && prev.length === vals.length;
  for (let c = 0; c < columns.length; c++) if (!diff || prev[c] !== vals[c]) out.push(columns[c], vals[c]);
  out.push('_row', row);
  return { pairs: out, values: vals };
}

/**
 * A symbol's latest-value write of `row` (input `inId`), as the difference against `prev` (the
 * row this worker last sent for the symbol) when there is one; and what to remember as the next
 * write's base. The script falls back to a full write whenever the hash is not at `prev`.
 */
export function latestWrite(inId: string, row: string, columns: readonly string[], prev: SentLatest | undefined): { write: LatestWrite; sent: SentLatest } {
  const { pairs, values } = latestWriteOf(inId, row, columns, prev?.values);
  return { write: { base: prev?.inId ?? '', pairs }, sent: { inId, values } };
}

/** A shard's ARGV part of a COMMIT_BATCH_LUA call (layout above). */
export function shardCommitArgs(c: ShardCommit): (string | Buffer)[] {
  const argv: (string | Buffer)[] = [String(c.latest.length), c.lastId, c.expectedPrev, c.stateId, String(c.deadLetters.length)];
  for (const d of c.deadLetters) argv.push(String(d.length), ...d);
  if (Array.isArray(c.rows)) argv.push(String(c.rows.length), c.rows.join('\n'));
  else {
    const r = c.rows as { count: number; bytes: Buffer };
    argv.push(String(r.count), r.bytes);
  }
  for (const l of c.latest) {
    argv.push(String(l.pairs.length / 2), l.base);
    for (const x of l.pairs) argv.push(x);
  }
  argv.push(String(c.acks.length));
  for (const a of c.acks) argv.push(a);
  argv.push(c.state);
  return argv;
}

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
-- fields of s separated by sep, empty ones kept ('' gives none)
local function split(s, sep)
  local t = {}
  if s == '' then return t end
  for v in string.gmatch(s .. sep, '([^' .. sep .. ']*)' .. sep) do t[#t + 1] = v end
  return t
end
-- the column values of a packed latest row (after its 6th '|'), as latestPairs splits them
local function rowValues(row, ncols)
  local pos = 0
  for _ = 1, 6 do
    pos = string.find(row, '|', pos + 1, true)
    if not pos then return nil end
  end
  local packed = string.sub(row, pos + 1)
  if packed == '' then
    if ncols > 0 then return { '' } end
    return {}
  end
  return split(packed, ',')
end
local token, group, ttl, fsv = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local cols = split(ARGV[5], ',')
local nShards = tonumber(ARGV[6])
local i, k = 7, 1
local plans, results = {}, {}
-- phase 1: parse, check and read everything; nothing is written
for s = 1, nShards do
  local nLatest = tonumber(ARGV[i])
  local p = { k = k, lastId = ARGV[i + 1], stateId = ARGV[i + 3], dlq = {}, latest = {} }
  local expectedPrev = ARGV[i + 2]
  local nDlq = tonumber(ARGV[i + 4])
  i = i + 5
  for d = 1, nDlq do
    local n = tonumber(ARGV[i])
    p.dlq[d] = { unpack(ARGV, i + 1, i + n) }
    i = i + 1 + n
  end
  p.nRows = tonumber(ARGV[i])
  p.rows = ARGV[i + 1]
  i = i + 2
  -- latest values: per symbol its base and hash's field/value pairs, '_in' first, '_row' last
  local ranges = {}
  for l = 1, nLatest do
    local n = tonumber(ARGV[i])
    local from, to = i + 2, i + 1 + 2 * n
    if not n or n < 8 or n > #cols + 8 or ARGV[from] ~= '_in' or ARGV[to - 1] ~= '_row' then error('latest pairs for ' .. KEYS[k + 4 + l] .. ': ' .. tostring(n) .. ' for ' .. #cols .. ' columns') end
    ranges[l] = { from, to, ARGV[i + 1] }
    i = to + 1
  end
  local nAcks = tonumber(ARGV[i])
  p.ackFrom, p.ackTo = i + 1, i + nAcks
  p.state = ARGV[i + 1 + nAcks]
  i = i + 2 + nAcks
  local owner = redis.call('GET', KEYS[k])
  if owner ~= token then
    results[s] = 'LEASE shard is held by ' .. (owner or 'nobody (the lease expired)')
  else
    local prev = redis.call('HGET', KEYS[k + 2], 'outId') or '0-0'
    if idless(p.lastId, prev) then
      results[s] = 0
    else
      p.retry = (p.lastId == prev)
      if not p.retry and prev ~= expectedPrev then
        results[s] = 'DIVERGED checkpoint outId is ' .. prev .. ', this worker expected ' .. expectedPrev
      else
        if not p.retry then
          for l = 1, nLatest do
            local key, r = KEYS[k + 4 + l], ranges[l]
            local cur = redis.call('HGET', key, '_in')
            if (not cur) or idless(cur, ARGV[r[1] + 1]) then
              local w = { key, r[1], r[2] }
              -- not at the base the pairs are a difference against: every column, from _row
              if r[3] == '' or cur ~= r[3] then
                local vals = rowValues(ARGV[r[2]], #cols)
                if not vals or #vals ~= #cols then error('latest row for ' .. key .. ': ' .. (vals and #vals or 'no') .. ' values for ' .. #cols .. ' columns') end
                local all = {}
                for c = 1, #cols do all[2 * c - 1], all[2 * c] = cols[c], vals[c] end
                w[4] = all
              end
              p.latest[#p.latest + 1] = w
            end
          end
        end
        p.write = true
        if p.stateId ~= '' or not p.retry then results[s] = 1 else results[s] = 0 end
      end
    end
  end
  plans[s] = p
  k = k + 5 + nLatest
end
-- phase 2: the writes of every shard that may write
for s = 1, nShards do
  local p = plans[s]
  if p.write then
    local k = p.k
    if not p.retry then
      for d = 1, #p.dlq do redis.call('XADD', KEYS[k + 4], 'MAXLEN', '~', '${DEAD_LETTER_MAXLEN}', '*', unpack(p.dlq[d])) end
      if p.nRows > 0 then redis.call('XADD', KEYS[k + 1], '*', 'rows', p.rows) end
      for l = 1, #p.latest do
        local lt = p.latest[l]
        if lt[4] and #lt[4] > 0 then redis.call('HSET', lt[1], unpack(lt[4])) end
        redis.call('HSET', lt[1], unpack(ARGV, lt[2], lt[3]))
        if ttl > 0 then redis.call('EXPIRE', lt[1], ttl) end
      end
      for a = p.ackFrom, p.ackTo, 1000 do
        redis.call('XACK', KEYS[k + 3], group, unpack(ARGV, a, math.min(a + 999, p.ackTo)))
      end
      redis.call('HSET', KEYS[k + 2], 'outId', p.lastId)
    end
    if p.stateId ~= '' then
      redis.call('HSET', KEYS[k + 2], 'stateId', p.stateId, 'state', p.state, 'featureSetVersion', fsv)
    end
  end
end
return results
`;

/** Renews a lease only if this worker run still holds it. Returns 1, or 0 when it was lost. */
export const RENEW_LEASE_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`;

/**
 * A balancing worker's presence: (re)adds this run's token to the workers set with an expiry of
 * now + ARGV[2] ms by Redis's clock (so hosts' clocks never matter), drops expired members, and
 * returns how many workers are present.
 */
export const PRESENCE_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return redis.call('ZCARD', KEYS[1])
`;

/** Releases a lease only if this worker run holds it (graceful shutdown frees the shard at once). */
export const RELEASE_LEASE_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;
