/**
 * `lockstep desk --redis URL --ns NS`: the desk fold (desk-fold.ts) live. It reads every shard's
 * output stream `<ns>:out:{<ns>:<s>}` (the factor rows: the mark and rv columns) and the fills
 * stream `<ns>:fills` (fills and heartbeats, fills-wire.ts), runs the same pure fold as a replay,
 * and writes, in one MULTI per poll: the hashes `<ns>:pnl`, `<ns>:risk` (the ledger after every
 * input before their `t`, the watermark every stream has passed: rewritten as inputs are applied,
 * not once a second) and `<ns>:positions` (rewritten with each second and each fill), one
 * `<ns>:pnl:log` entry per second (the fold's 1 Hz series, the replay's bit for bit), the dead
 * letters of the fills it refused (`<ns>:fills:dlq`: a malformed entry, a duplicate or stale fill
 * id, with the reason), and its progress (`<ns>:desk` `n`: how many of the fold's outputs are written).
 *
 * Watermarks: a shard's are its rows' times and the time of the last input its worker committed
 * (as portfolio/live.ts reads them); the fills stream's are its fills' and heartbeats' ts_recv.
 *
 * Latency: each poll reads every stream at once (one round trip: a shard's committed time by a
 * script, then its output batch), folds, and writes one MULTI; with nothing new it waits on a
 * blocking XREAD of the streams (not a sleep), so a worker's commit is read as it lands.
 *
 * Restart: every `checkpointEvery` outputs the MULTI also holds the checkpoint (desk-checkpoint.ts:
 * the fold state and each stream's position, in `<ns>:desk` `ckpt`). A restart restores it and
 * reads each stream after its position (so the streams may be trimmed up to it); with no usable
 * checkpoint the fold is run again from the start of the streams. Either way the fold is pure
 * (the same outputs in the same order) and the first `n` outputs are not written again: no fill is
 * applied or dead-lettered twice, no second of the series logged twice. A limit breach acts (alert, kill switch by the limits
 * file's policy) before the MULTI that records it: after a crash in between it acts again, which
 * the kill switch takes as a no-op and the alerts list shows once more (at least once, never lost).
 *
 * Limits: the thresholds it runs with (and its limits file's path and SHA-256) are written to
 * `<ns>:limits` (limits-record.ts) when it starts, before it waits for the deployment, and again
 * after a Redis error (Redis may have come back without them), for the dashboard's limit bars.
 */
import { UserError } from '../core/errors.ts';
import { raiseAlert } from '../live/alerts/raise.ts';
import { quoteValue } from '../live/dead-letter.ts';
import { checkpointKey, deskKey, fillsDeadLetterStream, fillsStream, inputStream, limitsKey, metaKey, outputStream, pnlKey, pnlLogKey, positionsKey, riskKey, type KeyLayout } from '../live/keys.ts';
import { entryMode, killFor, readKillSwitch, setKillSwitch, type KillState } from '../live/kill-switch.ts';
import { encodeDeskFields } from '../live/pnl-record.ts';
import { parseRow, readOutputColumns } from '../live/read-output.ts';
import { openRedis, type RedisClient } from '../live/redis-connect.ts';
import { isTransientRedisError } from '../live/redis-errors.ts';
import { decodeDeskCheckpoint, encodeDeskCheckpoint, type DeskCursor } from './desk-checkpoint.ts';
import { globalMark } from '../core/watermark-merge.ts';
import { initDesk, pushDeskFills, pushDeskRows, pushDeskWatermark, type DeskConfig, type DeskState, type DeskFillInput, type DeskOutput, type DeskRow } from './desk-fold.ts';
import { decodeFillsEntry, encodeFillFields } from './fills-wire.ts';
import { snapshot, type BookRecord, type PositionRecord } from './ledger-snapshot.ts';
import type { LimitRecord } from './limits.ts';
import { encodeLimits, limitsView } from './limits-record.ts';

export interface DeskLiveOptions {
  url: string;
  ns: string;
  cfg: Omit<DeskConfig, 'rowStreams'>;
  log?: (s: string) => void;
  /** With nothing new, the longest wait for an entry on the streams (a blocking XREAD that returns as one lands), ms (default 20). */
  pollMs?: number;
  /** Stop after this long without progress once something was read, ms (tests; default: until SIGTERM/SIGINT). */
  idleStopMs?: number;
  /** Called after each MULTI with the number of outputs written so far (bench). */
  onWrite?: (n: number) => void;
  /** Checkpoint the fold with the first MULTI after every this many outputs (default 1000; 0: never, a restart refolds the day). */
  checkpointEvery?: number;
  /** Where `cfg.limits` was read from (readLimitsSource), published with them; null/absent: no limits file. */
  limitsSource?: { file: string; sha256: string } | null;
}

export class DeskLiveError extends UserError {}

/** What a run did: outputs written, fills applied, entries dead-lettered, and fills applied while their symbol was killed (each also an alert). */
export interface DeskStats {
  written: number;
  fills: number;
  deadLettered: number;
  killedFills: number;
}

/** Output-stream entries per shard and fills-stream entries read per poll (each poll ends with one MULTI). */
const ROWS_BATCH = 500;
const FILLS_BATCH = 2000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const noTs = <T extends { ts: bigint }>(x: T): Omit<T, 'ts'> => {
  const { ts: _ts, ...rest } = x;
  return rest;
};

/** The JSON records of a sample, as `<ns>:pnl`, `<ns>:risk`, `<ns>:positions` and the log hold them. */
export function sampleRecords(books: readonly BookRecord[], positions: readonly PositionRecord[], breaches: readonly { limit: string; scope: string }[]): { pnl: unknown; risk: unknown; positions: unknown } {
  return {
    pnl: { books: books.map((b) => ({ account: b.account, strategy: b.strategy, realized: b.realized, unrealized: b.unrealized, fees: b.fees, dayPnl: b.dayPnl, hwm: b.hwm, drawdown: b.drawdown })) },
    risk: {
      books: books.map((b) => ({ account: b.account, strategy: b.strategy, positions: b.positions, gross: b.gross, net: b.net, concentration: b.concentration, var: b.var, varMissing: b.varMissing })),
      breaches,
    },
    positions: { positions: positions.map(noTs) },
  };
}

/** The `<ns>:pnl:log` entry of a sample: every book's full record (the replay's series has the same rows). */
export const logRecord = (books: readonly BookRecord[]) => ({ books: books.map(noTs) });

/** Runs until stopped; resolves with the outputs written by this run. */
export async function runDesk(o: DeskLiveOptions): Promise<DeskStats> {
  const log = o.log ?? (() => {});
  const r = await openRedis(o.url, { name: 'lockstep-desk', commandTimeoutMs: 10_000 });
  let stop = false;
  const onSignal = () => (stop = true);
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  const stats: DeskStats = { written: 0, fills: 0, deadLettered: 0, killedFills: 0 };
  const publishLimits = () => r.set(limitsKey({ ns: o.ns }), encodeLimits(limitsView(o.cfg.limits, o.limitsSource ?? null), Date.now()));
  let limitsLost = false;
  try {
    await publishLimits();
    const pollMs = o.pollMs ?? 20;
    let idleSince: number | null = null;
    const idle = () => o.idleStopMs !== undefined && idleSince !== null && Date.now() - idleSince >= o.idleStopMs;
    let keys: KeyLayout | null = null;
    let columns: string[] = [];
    while (!stop) {
      const shards = Number((await r.hget(metaKey({ ns: o.ns, shards: 0 }), 'shards')) ?? 0);
      keys = { ns: o.ns, shards };
      columns = shards > 0 ? await readOutputColumns(r, keys) : [];
      if (shards > 0 && columns.length > 0) break;
      if (o.idleStopMs !== undefined && idleSince === null) idleSince = Date.now();
      if (idle()) return stats;
      await sleep(200);
    }
    if (stop || keys === null) return stats;
    idleSince = null;
    const markCol = o.cfg.ledger.mark === 'mid' ? 'mid' : 'last_price';
    const rvCol = `rv_${o.cfg.ledger.varRvMinutes}m`;
    const mi = columns.indexOf(markCol);
    if (mi < 0) throw new DeskLiveError(`--mark ${o.cfg.ledger.mark}: column ${markCol} is not an output column of deployment ${o.ns} (it computes ${columns.join(', ')})`);
    const ri = columns.indexOf(rvCol);
    if (ri < 0) log(`desk: column ${rvCol} is not computed by deployment ${o.ns}: VaR counts every position as missing`);
    const cfg = { ...o.cfg, rowStreams: keys.shards };
    const progress: Progress = { after: Number((await r.hget(deskKey(keys), 'n')) ?? 0), resync: false, ckptAt: 0, served: { w: null, applied: -1, positions: -1 } };
    const restored = await restore(r, keys, cfg, log);
    const st = restored?.st ?? initDesk(cfg);
    const cur: DeskCursor = restored?.cur ?? { from: new Array<string>(keys.shards).fill('-'), fills: '-' };
    progress.ckptAt = st.emitted;
    const pending: { n: number; o: DeskOutput }[] = [];
    const sink = (out: DeskOutput) => {
      if (st.emitted > progress.after) pending.push({ n: st.emitted, o: out });
    };
    const from = cur.from;
    // resumed from a checkpoint, the streams may hold nothing new: idle counts from now
    if (restored !== null && o.idleStopMs !== undefined) idleSince = Date.now();
    log(`desk: following ${keys.shards} shards of ${o.ns} and ${fillsStream(keys)}${progress.after > 0 ? ` (${progress.after} outputs already written)` : ''}`);
    while (!stop) {
      let progressed = false;
      try {
        if (limitsLost) {
          await publishLimits();
          limitsLost = false;
        }
        // every stream's reads go out at once (one round trip, not one per stream); one batch per
        // stream per poll, then the MULTI: a backlog (a restart, a slow desk) is written in bounded
        // steps, each with its checkpoint when due, not in one giant MULTI
        const polled = await Promise.all([...from.map((f, s) => readShard(r, keys, s, f)), r.xrange(fillsStream(keys), cur.fills, '+', 'COUNT', FILLS_BATCH) as Promise<[string, string[]][]>]);
        for (let s = 0; s < keys.shards; s++) {
          const { mark, batch } = polled[s] as ShardPoll;
          if (batch.length > 0) {
            from[s] = `(${batch[batch.length - 1][0]}`;
            const rows: DeskRow[] = [];
            for (const [, f] of batch) for (let i = 0; i + 1 < f.length; i += 2) if (f[i] === 'rows' || f[i] === 'r') for (const line of f[i + 1].split('\n')) rows.push(deskRow(line, mi, ri));
            pushDeskRows(st, s, rows, sink);
            progressed = true;
          }
          const m = st.merge.marks[s];
          // the committed time is a watermark only once every row before it was read (the batch did not stop short)
          if (batch.length < ROWS_BATCH && mark !== null && (m === null || mark > m)) {
            pushDeskWatermark(st, s, mark, sink);
            progressed = true;
          }
        }
        const fb = polled[keys.shards] as [string, string[]][];
        if (fb.length > 0) {
          cur.fills = `(${fb[fb.length - 1][0]}`;
          let run: DeskFillInput[] = [];
          for (const [id, f] of fb) {
            const e = decodeFillsEntry(f, o.cfg.ledger.instruments);
            if (e.kind === 'heartbeat') {
              // in stream order: the fills before it first
              if (run.length > 0) pushDeskFills(st, run, sink);
              run = [];
              pushDeskWatermark(st, st.fills, e.ts, sink);
            } else if (e.kind === 'fill') run.push({ kind: 'fill', ts: e.fill.tsRecv, fill: e.fill, tag: id });
            else run.push({ kind: 'bad', ts: e.ts ?? st.merge.marks[st.fills] ?? 0n, reason: e.reason, tag: id, fields: f });
          }
          if (run.length > 0) pushDeskFills(st, run, sink);
          progressed = true;
        }
        await write(r, keys, o, cfg, st, cur, pending, progress, stats, log);
        if (!progressed && !idle() && pollMs > 0) await waitForInput(r, keys, from, cur.fills, pollMs);
      } catch (e) {
        if (!isTransientRedisError(e)) throw e;
        progress.resync = true;
        limitsLost = true;
        log(`desk: redis: ${(e as Error).message}; retrying`);
        await sleep(200);
        continue;
      }
      if (progressed) idleSince = Date.now();
      else if (idle()) break;
    }
    return stats;
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    r.disconnect();
  }
}

function deskRow(line: string, mi: number, ri: number): DeskRow {
  const o = parseRow(line);
  return { kind: 'row', ts: o.tsRecv, symbol: o.symbol, source: o.source, seq: o.seq, mark: o.values[mi] ?? null, rv: ri < 0 ? null : (o.values[ri] ?? null) };
}

/**
 * The ts_recv of the last input a shard's worker committed: its checkpoint's `outId` and that input
 * entry's `tr`, read in one step on the server (both keys carry the shard's hash tag).
 */
const COMMITTED_TIME = `local id = redis.call('HGET', KEYS[1], 'outId')
if not id then return false end
local e = redis.call('XRANGE', KEYS[2], id, id)
if #e == 0 then return false end
local f = e[1][2]
for i = 1, #f - 1, 2 do if f[i] == 'tr' then return f[i + 1] end end
return false`;

interface ShardPoll {
  mark: bigint | null;
  batch: [string, string[]][];
}

/**
 * Shard `s`'s committed time, then one batch of its output stream after `from`. Sent in that order
 * on one connection (Redis runs them in order): every row up to the committed time is in the batch
 * or before it, so the committed time is a watermark once the batch is read in full.
 */
async function readShard(r: RedisClient, keys: KeyLayout, s: number, from: string): Promise<ShardPoll> {
  const [tr, batch] = await Promise.all([r.eval(COMMITTED_TIME, 2, checkpointKey(keys, s), inputStream(keys, s)) as Promise<string | null>, r.xrange(outputStream(keys, s), from, '+', 'COUNT', ROWS_BATCH) as Promise<[string, string[]][]>]);
  return { mark: typeof tr === 'string' && /^-?\d+$/.test(tr) ? BigInt(tr) : null, batch };
}

/**
 * Waits until a stream the desk reads has an entry after its position, or `ms` passed: a blocking
 * XREAD on the output streams and `<ns>:fills` instead of a sleep, so a commit is read as it lands.
 * In Redis Cluster the streams are in different slots, which one XREAD cannot span: there it waits
 * on `<ns>:fills` alone (a worker's commit then waits for a fill, a heartbeat or `ms`).
 */
async function waitForInput(r: RedisClient, keys: KeyLayout, from: readonly string[], fillsFrom: string, ms: number): Promise<void> {
  const after = (start: string) => lastRead(start) ?? '0-0';
  const cluster = (r as { isCluster?: boolean }).isCluster === true;
  const streams = cluster ? [fillsStream(keys)] : [...from.map((_, s) => outputStream(keys, s)), fillsStream(keys)];
  const ids = cluster ? [after(fillsFrom)] : [...from.map(after), after(fillsFrom)];
  await r.xread('COUNT', 1, 'BLOCK', ms, 'STREAMS', ...streams, ...ids);
}

const limitId = (rec: LimitRecord) => `limit:${rec.limit}:${rec.scope}`;
const limitSummary = (rec: LimitRecord) =>
  `limit ${rec.limit} breached for ${rec.scope}: ${rec.value} > ${rec.threshold} at ${rec.ts} (action: ${rec.action})`;

/** Acts on a limit breach: an alert with the numbers, and the kill switch by the limits file's policy. */
async function actOn(r: RedisClient, keys: KeyLayout, rec: LimitRecord, log: (s: string) => void): Promise<void> {
  if (rec.event !== 'breach') return;
  const symbol = rec.scope.startsWith('symbol ') ? rec.scope.slice(7).split(' ')[0] : null;
  // a symbol limit acts on its symbol; a book-wide one (gross, daily loss, drawdown) on everything
  const scopeSymbols = rec.action === 'kill-all' || symbol === null ? undefined : [symbol];
  const mode = rec.action === 'reduce-only' ? ('reduce-only' as const) : rec.action === 'kill-all' || rec.action === 'kill-symbol' ? ('halt' as const) : null;
  await raiseAlert(r, keys, { id: limitId(rec), severity: mode !== null ? 'critical' : 'warning', summary: limitSummary(rec), value: rec.value, scope: rec.scope });
  log(`desk: ${limitSummary(rec)}`);
  if (mode !== null) {
    // escalate only: a breach never eases a halt already in force (switching off stays a human's)
    await setKillSwitch(r, keys, { on: true, symbols: scopeSymbols, mode, escalateOnly: true, reason: limitSummary(rec), by: 'lockstep desk' });
  }
}

/** The last entry ID read from an XRANGE start (`(<id>`), or null when nothing was read (`-`). */
const lastRead = (start: string): string | null => (start.startsWith('(') ? start.slice(1) : null);

/** The checkpoint in `<ns>:desk`, restored, or null (none, or refused: said why). */
async function restore(r: RedisClient, keys: KeyLayout, cfg: DeskConfig, log: (s: string) => void): Promise<{ st: DeskState; cur: DeskCursor } | null> {
  const bytes = await r.hgetBuffer(deskKey(keys), 'ckpt');
  if (bytes === null) return null;
  const d = decodeDeskCheckpoint(cfg, new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  if ('refused' in d) {
    log(`desk: the checkpoint in ${deskKey(keys)} is not used (${d.refused}): folding the streams again from the start`);
    return null;
  }
  log(`desk: resuming from the checkpoint at output ${d.st.emitted} (shards after ${d.cur.from.join(' ')}, fills after ${d.cur.fills})`);
  return d;
}

/** What the desk has written: outputs (`after`), the checkpoint's, and the served state's watermark and inputs. */
interface Progress {
  after: number;
  resync: boolean;
  ckptAt: number;
  /** The served state: its watermark `t`, and `st.applied` when `<ns>:pnl`/`<ns>:risk` and `<ns>:positions` were last rewritten (-1: not yet by this run). */
  served: { w: bigint | null; applied: number; positions: number };
}

/**
 * The served records of the fold's state: the ledger after every input before `w` (the merge's
 * watermark: every stream has passed it), with the limits in force; `positions: false` leaves the
 * per-position records out (their cost grows with the positions held).
 */
export function servedRecords(st: DeskState, w: bigint, opts: { positions: boolean }): { pnl: unknown; risk: unknown; positions: unknown } {
  const snap = snapshot(st.ledger, w, { positions: opts.positions });
  return sampleRecords(snap.books, snap.positions, activeBreaches(st.limits.active));
}

/**
 * Writes, in one MULTI, the queued outputs (after acting on the limit breaches among them) with
 * the progress and the checkpoint when due, and the served state when the fold has moved:
 * `<ns>:pnl` and `<ns>:risk` are the ledger after every input before their `t` (the watermark
 * every stream has passed), rewritten when an input was applied and only their `t` moved when
 * the watermark passed without one; `<ns>:positions` is rewritten with each second's sample and
 * each applied fill (its records cost a line per position), its `t` moved while nothing changed.
 */
async function write(r: RedisClient, keys: KeyLayout, o: DeskLiveOptions, cfg: DeskConfig, st: DeskState, cur: DeskCursor, queue: { n: number; o: DeskOutput }[], progress: Progress, stats: DeskStats, log: (s: string) => void): Promise<void> {
  if (progress.resync && queue.length > 0) {
    progress.after = Number((await r.hget(deskKey(keys), 'n')) ?? 0);
    progress.resync = false;
  }
  const todo = queue.filter((x) => x.n > progress.after);
  const sv = progress.served;
  const w = globalMark(st.merge);
  const moved = w !== null && (w !== sv.w || st.applied !== sv.applied);
  if (todo.length === 0 && !moved) {
    queue.length = 0;
    return;
  }
  for (const x of todo) if (x.o.kind === 'limit') await actOn(r, keys, x.o.rec, log);
  const killed = await alertKilledFills(r, keys, todo, log);
  const now = Date.now();
  const m = r.multi();
  let sampled = false;
  let dead = 0;
  let fills = 0;
  for (const { o: out } of todo) {
    if (out.kind === 'sample') {
      sampled = true;
      m.xadd(pnlLogKey(keys), '*', ...encodeDeskFields(out.t, logRecord(out.books), now));
    } else if (out.kind === 'fill') {
      if (out.outcome === 'applied') fills++;
      else {
        dead++;
        m.xadd(fillsDeadLetterStream(keys), 'MAXLEN', '~', '100000', '*', 'id', out.tag ?? '', 'reason', `${out.outcome.rejected}: ${quoteValue(out.outcome.detail)}`, ...encodeFillFields(out.fill, o.cfg.ledger.instruments));
      }
    } else if (out.kind === 'bad') {
      dead++;
      m.xadd(fillsDeadLetterStream(keys), 'MAXLEN', '~', '100000', '*', 'id', out.tag ?? '', 'reason', out.reason, ...(out.fields ?? []));
    }
  }
  let positions = sv.positions;
  if (moved) {
    const t = w.toString();
    const changed = st.applied !== sv.applied;
    const full = changed && (sampled || fills > 0 || sv.positions < 0);
    if (changed) {
      const rec = servedRecords(st, w, { positions: full });
      m.hset(pnlKey(keys), ...encodeDeskFields(w, rec.pnl, now));
      m.hset(riskKey(keys), ...encodeDeskFields(w, rec.risk, now));
      if (full) m.hset(positionsKey(keys), ...encodeDeskFields(w, rec.positions, now));
    } else {
      // nothing applied since the last write: the same records, now known to hold up to w
      m.hset(pnlKey(keys), 't', t, 'at', String(now));
      m.hset(riskKey(keys), 't', t, 'at', String(now));
    }
    if (full) positions = st.applied;
    // the positions' records still hold the ledger (nothing applied since they were written): only their t moves
    else if (positions === st.applied) m.hset(positionsKey(keys), 't', t, 'at', String(now));
  }
  const n = todo.length > 0 ? todo[todo.length - 1].n : progress.after;
  if (todo.length > 0) m.hset(deskKey(keys), 'n', String(n), 'at', String(now));
  if (killed > 0) m.hincrby(deskKey(keys), 'killedFills', killed);
  // the checkpoint covers exactly the outputs written up to n (the fold has emitted nothing more)
  const every = o.checkpointEvery ?? 1000;
  const ckpt = todo.length > 0 && every > 0 && n === st.emitted && n - progress.ckptAt >= every;
  // ckptPos (JSON, the last entry read of each shard's output stream and of the fills stream, null: none) says up to where an operator may trim them
  if (ckpt) m.hset(deskKey(keys), 'ckpt', Buffer.from(encodeDeskCheckpoint(cfg, st, cur)), 'ckptN', String(n), 'ckptPos', JSON.stringify({ shards: cur.from.map(lastRead), fills: lastRead(cur.fills) }));
  const res = await m.exec();
  for (const [err] of res ?? []) if (err) throw err;
  progress.after = n;
  if (ckpt) progress.ckptAt = n;
  if (moved) progress.served = { w, applied: st.applied, positions };
  stats.written += todo.length;
  stats.fills += fills;
  stats.deadLettered += dead;
  stats.killedFills += killed;
  queue.length = 0;
  if (todo.length > 0) o.onWrite?.(n);
}

/**
 * Fills are facts: one for a symbol the kill switch has stopped is applied like any other (the
 * position it made exists), but never silently: each raises an alert naming the fill id, the
 * symbol and the kill state in force (read when the desk writes it, which is what the desk can know
 * live; the fold, being pure, does not read the switch), and is counted in `<ns>:desk`
 * `killedFills`. Raised before the MULTI that records the fill, as the limits' alerts (at least once).
 */
async function alertKilledFills(r: RedisClient, keys: KeyLayout, todo: readonly { o: DeskOutput }[], log: (s: string) => void): Promise<number> {
  let state: KillState | null = null;
  let n = 0;
  for (const { o: out } of todo) {
    if (out.kind !== 'fill' || out.outcome !== 'applied') continue;
    state ??= await readKillSwitch(r, keys);
    const e = killFor(state, out.fill.symbol);
    if (e === null) continue;
    const f = out.fill;
    const summary = `fill ${f.fillId} (${f.account}/${f.strategy} ${f.side > 0 ? 'buy' : 'sell'} ${f.qty} lots of ${f.symbol}) applied while the kill switch is on for ${f.symbol}: ${entryMode(e)}${state.all === e ? ' (whole deployment)' : ''} since ${new Date(e.at).toISOString()} by ${e.by}: ${e.reason}`;
    await raiseAlert(r, keys, { id: `fill-killed:${f.symbol}:${f.fillId}`, severity: 'critical', summary, value: f.qty, scope: f.symbol });
    log(`desk: ${summary}`);
    n++;
  }
  return n;
}

/** The breaches in force (the limits' state keys `limit\0scope`), for the risk hash. */
function activeBreaches(active: ReadonlySet<string>): { limit: string; scope: string }[] {
  return [...active].sort().map((k) => {
    const [limit, scope] = k.split('\u0000');
    return { limit, scope };
  });
}
