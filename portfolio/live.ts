/**
 * `lockstep weights --redis URL --ns NS`: the weights fold live. It reads every shard's output
 * stream `<ns>:out:{<ns>:<s>}` (one stream of the fold per shard), runs the same pure fold as
 * replay, and writes each record to `<ns>:weights` (hash: the latest) and `<ns>:weights:log`
 * (stream: one entry per rebalance), in one MULTI.
 *
 * A shard's watermark: the times of its rows, and the time of the last input its worker committed.
 * The feed sends every heartbeat to every shard (live/feed.ts), and a worker commits a heartbeat's
 * input ID in its checkpoint (`outId` of `<ns>:ckpt:{..}`) in the same script call as the output
 * rows of everything before it (commit-script.ts). So after reading `outId` and then the output
 * stream, every row of that shard up to the committed input's ts_recv is in hand, and the shard
 * has reached that time even if none of its symbols traded: a quiet shard does not hold the
 * cross-section back.
 *
 * Requests and the kill switch (control.ts): once every shard's backlog is read, each poll reads the
 * kill switch's new changes `{<ns>:kill}:changes` (every change of `<ns>:kill` in order, checked
 * against the key's state read with them; live/kill-switch.ts) and the new entries of
 * `<ns>:weights:requests`, and logs them to `<ns>:weights:inputs`, stamped at W, the time every shard has reached (a
 * request for now at W + 1 ns: its book holds every row up to W); then applies the log's new entries
 * to the fold's control stream (stream K, after the K shards), whose watermark the driver moves to W
 * after each poll. The fold meets them only from the log, so a restart and a replay (`lockstep
 * weights --inputs`, written by `--inputs-out`) meet the same events at the same times. This is the
 * execution algorithm's kill log (trading/exec/exec-live.ts), for every symbol and for requests too.
 *
 * Restart: each MULTI that writes rebalances also writes the checkpoint (checkpoint.ts: the fold
 * state and each input stream's position, the control log's too, and the requests stream's position
 * past the last request logged, `<ns>:weights:state` `ckpt`), so it covers exactly the
 * rebalances logged. A restart restores it and reads each output stream after its position (the
 * streams may be trimmed up to `ckptPos`); with no usable checkpoint the fold is run again from the
 * start of the streams. Either way the fold is pure (the same records), and records at or before
 * the hash's `t` are not written again: each rebalance is logged once. The log entries after the
 * checkpoint's position are applied before anything is read, and each request entry logged carries
 * its `<ns>:weights:requests` ID: a request logged before a SIGKILL is neither logged again nor lost.
 */
import { UserError } from '../core/errors.ts';
import { writeFileSync } from 'node:fs';
import { checkpointKey, inputStream, metaKey, outputStream, weightsInputsKey, weightsKey, weightsLogKey, weightsRequestsKey, weightsStateKey, type KeyLayout } from '../live/keys.ts';
import { readKillChanges } from '../live/kill-switch.ts';
import { parseRow, readOutputColumns } from '../live/read-output.ts';
import { openRedis, type RedisClient } from '../live/redis-connect.ts';
import { isTransientRedisError } from '../live/redis-errors.ts';
import { encodeWeightsFields } from '../live/weights-record.ts';
import { decodeWeightsCheckpoint, encodeWeightsCheckpoint } from './checkpoint.ts';
import { inputColumns, type WeightsConfig } from './config.ts';
import { controlLine, decodeControlFields, killLogEntries, stampRequest } from './control.ts';
import { initWeightsFold, killView, pushControl, pushRows, pushWatermark, type WeightsFoldState, type WeightsRecord, type WeightsRow } from './fold.ts';
import { formatRecord } from './summary.ts';

export interface LiveWeightsOptions {
  url: string;
  ns: string;
  cfg: WeightsConfig;
  log?: (s: string) => void;
  /** Wait between polls when nothing new arrived, ms (default 50). */
  pollMs?: number;
  /** Stop after this long without new rows or watermarks once some were read, ms (tests; default: run until SIGTERM/SIGINT). */
  idleStopMs?: number;
  /** On stopping, write the whole control log here as an inputs file (`lockstep weights --inputs` reads it). */
  inputsOut?: string;
}

export class LiveWeightsError extends UserError {}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Output-stream entries read per shard per poll: a backlog (a restart) is written in bounded MULTIs, each with its checkpoint. */
const ROWS_BATCH = 500;

/** Runs until stopped (signal, or `idleStopMs` without progress); resolves with the records written. */
export async function runLiveWeights(o: LiveWeightsOptions): Promise<{ written: number; logged: number }> {
  const log = o.log ?? (() => {});
  // not on a latency path: a slow answer under load is waited for rather than failed
  const r = await openRedis(o.url, { name: 'lockstep-weights', commandTimeoutMs: 10_000 });
  let stop = false;
  const onSignal = () => (stop = true);
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  try {
    const pollMs = o.pollMs ?? 50;
    // the deployment: shard count and columns, recorded by the feed and the workers
    let keys: KeyLayout | null = null;
    let columns: string[] = [];
    // idle time counts once rows have been read: a driver started before the feed waits for it
    let idleSince: number | null = null;
    const idle = () => o.idleStopMs !== undefined && idleSince !== null && Date.now() - idleSince >= o.idleStopMs;
    while (!stop) {
      const shards = Number((await r.hget(metaKey({ ns: o.ns, shards: 0 }), 'shards')) ?? 0);
      keys = { ns: o.ns, shards };
      columns = shards > 0 ? await readOutputColumns(r, keys) : [];
      if (shards > 0 && columns.length > 0) break;
      if (idle()) return { written: 0, logged: 0 };
      await sleep(200);
    }
    if (stop || keys === null) return { written: 0, logged: 0 };
    const pos = inputColumns(o.cfg).map((c) => {
      const i = columns.indexOf(c);
      if (i < 0) throw new LiveWeightsError(`weights config: column ${c} is not an output column of deployment ${o.ns} (it computes ${columns.join(', ')})`);
      return i;
    });
    const useRecv = o.cfg.time === 'ts_recv';
    // the fold's streams: one per shard, then the control stream (requests and kill changes, from the log)
    const K = keys.shards;
    const restored = await restore(r, keys, o.cfg, log);
    const st = restored?.st ?? initWeightsFold(o.cfg, K + 1);
    const from = restored?.from ?? new Array<string>(K + 1).fill('-');
    const ctl: Control = { asked: restored?.asked ?? '-', changes: restored?.changes ?? null, logged: 0 };
    const lastT = await r.hget(weightsKey(keys), 't');
    const written: Written = { n: 0, after: lastT === null ? null : BigInt(lastT), resync: false };
    const pending: WeightsRecord[] = [];
    const sink = (rec: WeightsRecord) => pending.push(rec);
    // resumed from a checkpoint, the streams may hold nothing new: idle counts from now
    if (restored !== null) idleSince = Date.now();
    log(`weights: following ${K} shards of ${o.ns}${written.after !== null ? ` (records up to t=${written.after} already written)` : ''}`);
    while (!stop) {
      let progress = false;
      try {
        // the control events logged but not yet applied (before a restart, or by a write whose answer was lost)
        if (await applyControlLog(r, keys, st, from, ctl, sink)) progress = true;
        let caughtUp = true;
        for (let s = 0; s < K; s++) {
          // the committed position first: every row up to it is in the output stream read next
          const mark = await committedTime(r, keys, s, useRecv);
          const batch = (await r.xrange(outputStream(keys, s), from[s], '+', 'COUNT', ROWS_BATCH)) as [string, string[]][];
          if (batch.length > 0) {
            // the position moves only with rows handed to the fold: a failed poll rereads nothing twice
            from[s] = `(${batch[batch.length - 1][0]}`;
            const rows: WeightsRow[] = [];
            for (const [, f] of batch) for (let i = 0; i + 1 < f.length; i += 2) if (f[i] === 'rows' || f[i] === 'r') for (const line of f[i + 1].split('\n')) rows.push(weightsRow(line, pos, useRecv));
            pushRows(st, s, rows, sink);
            progress = true;
          }
          if (batch.length === ROWS_BATCH) caughtUp = false;
          // the committed time is a watermark only once every row before it was read (the batch did not stop short)
          if (batch.length < ROWS_BATCH && mark !== null && (st.marks[s] === null || mark > st.marks[s]!)) {
            pushWatermark(st, s, mark, sink);
            progress = true;
          }
        }
        const w = shardsMark(st, K);
        if (w !== null) {
          // the switch and the requests are read at the shards' present, not while a restart reads the past again
          if (caughtUp && (await logControl(r, keys, st, ctl, w, log))) {
            await applyControlLog(r, keys, st, from, ctl, sink);
            progress = true;
          }
          // nothing will be logged before w any more: the control stream's clock
          if (st.marks[K] === null || w > st.marks[K]!) pushWatermark(st, K, w, sink);
        }
        await write(r, keys, st, from, ctl, pending, written, log);
      } catch (e) {
        // a timeout or failover: the next poll goes on from where this one got (records not yet
        // written stay queued; whether the last MULTI applied is read back from the hash)
        if (!isTransientRedisError(e)) throw e;
        written.resync = true;
        log(`weights: redis: ${(e as Error).message}; retrying`);
        await sleep(200);
        continue;
      }
      if (progress) idleSince = Date.now();
      else if (idle()) break;
      else await sleep(pollMs);
    }
    if (o.inputsOut !== undefined) await writeInputsFile(r, keys, o.inputsOut);
    return { written: written.n, logged: ctl.logged };
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    r.disconnect();
  }
}

/**
 * The control log's progress: the requests stream's XRANGE start past the last request logged, the
 * kill switch's changes stream read up to (an entry ID; null: not yet known), and the entries this
 * run logged.
 */
interface Control {
  asked: string;
  changes: string | null;
  logged: number;
}

/** The time every shard has reached (the control stream not counted), or null. */
function shardsMark(st: WeightsFoldState, shards: number): bigint | null {
  let w: bigint | null = null;
  for (let s = 0; s < shards; s++) {
    const m = st.marks[s];
    if (m === null) return null;
    if (w === null || m < w) w = m;
  }
  return w;
}

/**
 * Reads the kill switch's new changes and the new requests and logs them, stamped at `w`
 * (control.ts), in one MULTI: all of a poll's entries are logged or none. Returns whether anything
 * was. The switch is read from its changes stream after the position logged last, every change in
 * order (an on and off between two polls is two entries), then checked against its state read in
 * the same transaction (the fail-closed fallback: a change no entry of the stream carries). The
 * first read of a driver with no position takes the state alone and the stream's end.
 */
async function logControl(r: RedisClient, keys: KeyLayout, st: WeightsFoldState, ctl: Control, w: bigint, log: (s: string) => void): Promise<boolean> {
  const k = await readKillChanges(r, keys, ctl.changes);
  if (k.streamError !== undefined && ctl.changes !== k.upto) log(`weights: ${k.streamError}; reading the kill switch's state alone`);
  const entries = killLogEntries(killView(st), k.changes.map((c) => c.state), k.complete ? k.state : null, w, k.upto);
  const asks = (await r.xrange(weightsRequestsKey(keys), ctl.asked, '+', 'COUNT', 100)) as [string, string[]][];
  // each request read at w runs at its own time (control.ts stampRequest): not one the fold already holds or this poll gave
  const taken = new Set(st.requests);
  for (const [id, f] of asks) {
    const e = stampRequest(id, f, w, (t) => taken.has(t));
    const ts = e[0] === 'kind' && e[1] === 'request' ? BigInt(e[3]) : null;
    if (ts !== null) taken.add(ts);
    entries.push(e);
  }
  if (entries.length === 0) {
    // nothing to log: the changes read left the fold's view as it was, so they are read
    ctl.changes = k.upto;
    return false;
  }
  const m = r.multi();
  for (const e of entries) m.xadd(weightsInputsKey(keys), '*', ...e);
  const res = await m.exec();
  for (const [err] of res ?? []) if (err) throw err;
  ctl.changes = k.upto;
  ctl.logged += entries.length;
  for (const e of entries) log(`weights: logged ${e.join(' ')}`);
  return true;
}

/** Applies the control log's entries after the control stream's position; returns whether there were any. */
async function applyControlLog(r: RedisClient, keys: KeyLayout, st: WeightsFoldState, from: string[], ctl: Control, sink: (rec: WeightsRecord) => void): Promise<boolean> {
  const key = weightsInputsKey(keys);
  const c = from.length - 1;
  let any = false;
  for (;;) {
    const batch = (await r.xrange(key, from[c], '+', 'COUNT', 1000)) as [string, string[]][];
    if (batch.length === 0) return any;
    for (const [id, f] of batch) {
      const d = decodeControlFields(f);
      // the driver's own record: a damaged one cannot be judged again, and skipping it would part live from replay
      if ('bad' in d) throw new LiveWeightsError(`${key} entry ${id}: ${d.bad}`);
      if (d.ev !== null) pushControl(st, c, d.ev, sink);
      // the requests stream is read in order, and its entries logged in that order: the last one logged is the position
      if (d.requestId !== null) ctl.asked = `(${d.requestId}`;
      // likewise the kill switch's changes stream, read up to the position each kill entry records
      if (d.changeId !== null) ctl.changes = d.changeId;
      from[c] = `(${id}`;
    }
    any = true;
  }
}

/** The whole control log as an inputs file (`lockstep weights --inputs` reads it). */
async function writeInputsFile(r: RedisClient, keys: KeyLayout, path: string): Promise<void> {
  const log = (await r.xrange(weightsInputsKey(keys), '-', '+')) as [string, string[]][];
  writeFileSync(path, log.map(([id, f]) => controlLine(id, f) + '\n').join(''));
}

/** Posts an on-demand rebalance request to `<ns>:weights:requests` (`at`: for that time, epoch ns; else for now); returns its entry ID. */
export async function postWeightsRequest(url: string, ns: string, at: bigint | null): Promise<string> {
  const r = await openRedis(url, { name: 'lockstep-weights-request', commandTimeoutMs: 10_000 });
  try {
    return (await r.xadd(weightsRequestsKey({ ns }), '*', ...(at === null ? ['by', 'cli'] : ['at', String(at), 'by', 'cli']))) as string;
  } finally {
    r.disconnect();
  }
}

/** One output row (worker/row-format.ts) as the fold reads it. */
function weightsRow(line: string, pos: readonly number[], useRecv: boolean): WeightsRow {
  const o = parseRow(line);
  return { symbol: o.symbol, ts: useRecv ? o.tsRecv : o.tsEvent, values: pos.map((i) => o.values[i] ?? null) };
}

/** The time of the last input shard `s`'s worker committed (a heartbeat or an event), or null. */
async function committedTime(r: RedisClient, keys: KeyLayout, s: number, useRecv: boolean): Promise<bigint | null> {
  const id = await r.hget(checkpointKey(keys, s), 'outId');
  if (!id) return null;
  const e = (await r.xrange(inputStream(keys, s), id, id)) as [string, string[]][];
  // trimmed away (only entries before the last saved state are): the rows' times still count
  if (e.length === 0) return null;
  const f = e[0][1];
  const want = useRecv ? 'tr' : 'te';
  for (let i = 0; i + 1 < f.length; i += 2) if (f[i] === want && /^-?\d+$/.test(f[i + 1])) return BigInt(f[i + 1]);
  return null;
}

interface Written {
  n: number;
  /** The last rebalance time in the hash: records at or before it are not written again. */
  after: bigint | null;
  /** A write may have applied without its answer: read `after` back before the next one. */
  resync: boolean;
}

/** The last entry ID read from an XRANGE start (`(<id>`), or null when nothing was read (`-`). */
const lastRead = (start: string): string | null => (start.startsWith('(') ? start.slice(1) : null);

/** The checkpoint in `<ns>:weights:state`, restored, or null (none, or refused: said why). */
async function restore(r: RedisClient, keys: KeyLayout, cfg: WeightsConfig, log: (s: string) => void): Promise<{ st: WeightsFoldState; from: string[]; asked: string; changes: string | null } | null> {
  const bytes = await r.hgetBuffer(weightsStateKey(keys), 'ckpt');
  if (bytes === null) return null;
  const d = decodeWeightsCheckpoint(cfg, keys.shards + 1, new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  if ('refused' in d) {
    log(`weights: the checkpoint in ${weightsStateKey(keys)} is not used (${d.refused}): folding the output streams again from the start`);
    return null;
  }
  log(`weights: resuming from the checkpoint at t=${d.st.lastT ?? '-'} (shards after ${d.from.slice(0, keys.shards).join(' ')}; inputs after ${d.from[keys.shards]})`);
  return d;
}

/**
 * Writes the queued records (each new one as a log entry, the last as the hash) and the checkpoint
 * of the fold as it is now, in one MULTI: the fold has emitted nothing beyond the queue, so the
 * checkpoint covers exactly the rebalances logged.
 */
async function write(r: RedisClient, keys: KeyLayout, st: WeightsFoldState, from: readonly string[], ctl: Control, queue: WeightsRecord[], written: Written, log: (s: string) => void): Promise<void> {
  if (queue.length === 0) return;
  if (written.resync) {
    const t = await r.hget(weightsKey(keys), 't');
    written.after = t === null ? null : BigInt(t);
    written.resync = false;
  }
  const todo = queue.filter((rec) => written.after === null || rec.t > written.after);
  if (todo.length === 0) {
    queue.length = 0;
    return;
  }
  const now = Date.now();
  const m = r.multi();
  let fields: string[] = [];
  for (const rec of todo) {
    fields = encodeWeightsFields({ ...rec, weights: [...rec.weights], ...rec.stats }, now);
    m.xadd(weightsLogKey(keys), '*', ...fields);
  }
  // hash, log and checkpoint together: a reader never sees a hash the log lacks, a restart never a checkpoint behind the log
  m.del(weightsKey(keys)).hset(weightsKey(keys), ...fields);
  // ckptPos (JSON: the last entry read of each shard's output stream, null: none) says up to where an operator may trim them
  // (the control log is not among them: a replay reads it whole)
  m.hset(weightsStateKey(keys), 'ckpt', Buffer.from(encodeWeightsCheckpoint(st, from, ctl.asked, ctl.changes)), 'ckptT', String(todo[todo.length - 1].t), 'ckptPos', JSON.stringify(from.slice(0, keys.shards).map(lastRead)), 'at', String(now));
  const res = await m.exec();
  for (const [err] of res ?? []) if (err) throw err;
  written.n += todo.length;
  written.after = todo[todo.length - 1].t;
  for (const rec of todo) log(formatRecord(rec).join('\n'));
  queue.length = 0;
}
