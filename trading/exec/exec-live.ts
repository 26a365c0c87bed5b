/**
 * `lockstep execute --redis URL --ns NS ...`: one parent order executed live by the fold of
 * exec-fold.ts (the algorithm of algo.ts), the same one `lockstep execute --fills` runs in replay.
 *
 * Inputs, each read from the start of its stream (XRANGE: nothing is acknowledged or consumed, so
 * a worker or another algorithm reading the same streams is not disturbed):
 * - the raw market events of the input stream of the symbol's shard (live/keys.ts inputStream,
 *   decoded as the worker decodes them, live/wire.ts; an entry that cannot be decoded is the
 *   worker's to dead-letter, and is passed over here);
 * - `<ns>:fills` (trading/fills-wire.ts): this parent's fills (`parent_id`, else an `order_id`
 *   `<parent>-<n>`); heartbeats and other parents' fills move the stream's clock;
 * - `<ns>:exec:reports` (exec-wire.ts): the gateway's cancel reports for this parent (a cancelled
 *   child's lots count as working until its report, algo.ts `cancelAcks`); heartbeats and other
 *   parents' reports move the stream's clock;
 * - the kill switch, read every poll from its changes stream `{<ns>:kill}:changes` (every change of
 *   `<ns>:kill` in order, live/kill-switch.ts), so a symbol halted and released between two polls
 *   is two changes, not none; then the key's state itself (a writer that does not append). A
 *   change of the mode in force for the symbol is logged to `<ns>:exec:<parent>:kills` at the
 *   event time of the last market event read, with the changes stream's position (`change`), then
 *   applied (a restart reads the log back: the change stays where it was, and the stream is read
 *   on from there). An unreadable kill switch reads as a halt (it fails closed).
 * Outputs, written in one MULTI per poll with the progress (`<ns>:exec:<parent>` `n`: how many of
 * the fold's outputs are written): one `<ns>:orders` entry per child order or cancel
 * (exec-wire.ts), one `<ns>:exec:dlq` entry per fill refused (the entry's id and fields, the reason).
 * For the dashboard (exec-status.ts): the planned schedule `<ns>:exec:<parent>:schedule` as it
 * starts; in the progress hash its state (`running`, then `done` or `stopped` with why), where it
 * is against the schedule (with every write), and `at`, refreshed every `heartbeatMs` even when
 * idle, so that a run that went silent (SIGKILL) reads as stalled, not done.
 *
 * Restart (after SIGKILL or a Redis error): the fold resumes from its checkpoint (exec-codec.ts,
 * `ckpt` of the progress hash: the fold and the stream positions it covers, and the segments of
 * what only grows in the list `<ns>:exec:<parent>:journal` (ckpt-journal.ts: a write costs what
 * changed), written in the same MULTI as the outputs, and once the input is read up), so the
 * streams may be trimmed before it;
 * without one (or a refused one) it runs again from the start of every stream (pure: the same
 * outputs in the same order). Either way the first `n` outputs are not written again, so no child
 * order is sent twice and none is lost.
 *
 * It stops once the window has ended, every stream has passed the end and every cancelled child's
 * report (or last fill) has come (a parent filled or halted early runs on to the end too: the
 * window's market is part of its TCA), then writes the TCA (exec-tca.ts, the same report as
 * `execute --fills` gives) as JSON to `<ns>:exec:<parent>:tca`; or on SIGTERM/SIGINT (no TCA).
 */
import { writeFileSync } from 'node:fs';
import { UserError } from '../../core/errors.ts';
import { decodeEvent } from '../../live/wire.ts';
import { execClocksKey, execDeadLetterStream, execKillLogStream, execProgressKey, execReportsStream, execScheduleKey, execTcaKey, fillsStream, inputStream, metaKey, ordersStream, type KeyLayout } from '../../live/keys.ts';
import { killFor, killModeFor, readKillChanges } from '../../live/kill-switch.ts';
import { openRedis, type RedisClient } from '../../live/redis-connect.ts';
import { isTransientRedisError } from '../../live/redis-errors.ts';
import { shardOf } from '../../live/shard.ts';
import { globalMark } from '../../core/watermark-merge.ts';
import type { KillInput, KillMode, OrderAction } from '../types.ts';
import { initExecFold, KILL, MARKET, pushFillsEntry, pushKill, pushMark, pushMarket, pushReportsEntry, type ExecFoldState, type ExecOutput } from './exec-fold.ts';
import type { ExecSetup } from './exec-setup.ts';
import { decodeKillFields, encodeKillFields, encodeOrderFields, inputLine } from './exec-wire.ts';
import type { TcaReport } from '../tca.ts';
import { execTca } from './exec-tca.ts';
import { decodeExecCheckpoint, encodeExecHead, encodeExecSegment, execDelta, ExecCodecError, execConfigHash, execHeadSegs, execLogged, NOTHING_LOGGED, type ExecCursor, type ExecLogged } from './exec-codec.ts';
import { journalToMulti, newJournal, planJournal, readJournal, type Journal } from './ckpt-journal.ts';
import { writeOrders } from './run-execute.ts';
import { DEFAULT_BEAT_MS, positionFields, scheduleRecord } from './exec-status.ts';

export interface ExecLiveOptions {
  url: string;
  ns: string;
  setup: ExecSetup;
  /** Write the orders and applied fills (as `--orders` of a replay) here when it stops. */
  ordersOut?: string;
  /** Write the inputs it read (fills entries, kill changes) here when it stops: `execute --fills` reads them. */
  inputsOut?: string;
  log?: (s: string) => void;
  /** Wait between polls when nothing new arrived, ms (default 10). */
  pollMs?: number;
  /** Stop after this long without new input once something was read, ms (default: never). */
  idleStopMs?: number;
  /** Refresh the progress hash's `at` this often even when idle, ms (default 1000; exec-status.ts: 5 missed beats read as stalled). */
  heartbeatMs?: number;
}

export interface ExecLiveResult {
  /** Outputs written by this run (a restart writes only the rest). */
  written: number;
  actions: OrderAction[];
  deadLetters: number;
  state: ExecFoldState;
  /** The parent's TCA (as `execute --fills` reports it), once the window has ended and settled; null if stopped before. */
  tca: TcaReport | null;
}

export class ExecLiveError extends UserError {}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** After the window, how long (event time) the run waits for the reports of its last cancels. */
const REPORT_WAIT_NS = 60_000_000_000n;
type Batch = [string, string[]][];

/** Runs until the parent is over (or stopped); resolves with what it wrote. */
export async function runExecLive(o: ExecLiveOptions): Promise<ExecLiveResult> {
  const log = o.log ?? (() => {});
  const { parent } = o.setup;
  const beatMs = o.heartbeatMs ?? DEFAULT_BEAT_MS;
  if (!(beatMs > 0)) throw new ExecLiveError(`--heartbeat-ms ${beatMs}: must be > 0`);
  const r = await openRedis(o.url, { name: 'lockstep-execute', commandTimeoutMs: 10_000 });
  let stop = false;
  const onSignal = () => (stop = true);
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  let st = initExecFold(parent, o.setup.cfg);
  let actions: OrderAction[] = [];
  let inputs: string[] = [];
  // the orders and inputs files need everything from the start: a checkpoint then carries them
  const record = o.ordersOut !== undefined || o.inputsOut !== undefined;
  const configHash = execConfigHash(parent, o.setup.cfg);
  const stats = { written: 0, deadLetters: 0 };
  const progressKey = execProgressKey({ ns: o.ns }, parent.id);
  // set once the run's state is written: what the finally clause marks as stopped, and why
  let ended: 'done' | null = null;
  let why = 'stopped by a signal';
  let announced = false;
  try {
    const pollMs = o.pollMs ?? 10;
    let shards = 0;
    while (!stop && shards === 0) {
      shards = Number((await r.hget(metaKey({ ns: o.ns, shards: 0 }), 'shards')) ?? 0);
      if (shards === 0) await sleep(100);
    }
    const keys: KeyLayout = { ns: o.ns, shards };
    const progress = { after: Number((await r.hget(progressKey, 'n')) ?? 0) };
    const pending: { n: number; o: ExecOutput }[] = [];
    const sink = (x: ExecOutput) => {
      if (x.kind === 'action') actions.push(x.action);
      if (st.emitted > progress.after) pending.push({ n: st.emitted, o: x });
    };
    let cur: ExecCursor = { market: '-', fills: '-', reports: '-', kills: '-', mode: 'off', changes: null, actions: [], inputs: [] };
    const saved = await r.hgetBuffer(progressKey, 'ckpt');
    const journalKey = execJournalKey(o.ns, parent.id);
    // what the journal list holds (as of the last MULTI applied), and the entries it covers
    let journal: Journal = newJournal();
    let logged: ExecLogged = NOTHING_LOGGED;
    if (saved !== null) {
      try {
        const head = new Uint8Array(saved.buffer, saved.byteOffset, saved.byteLength);
        const segs = await readJournal(r, journalKey, execHeadSegs(head, configHash));
        if (typeof segs === 'string') throw new ExecCodecError(segs);
        const d = decodeExecCheckpoint(head, segs, configHash);
        if (record && d.st.emitted > 0 && d.cur.actions.length === 0 && d.cur.inputs.length === 0) throw new ExecCodecError('taken by a run that kept no orders or inputs (--orders, --inputs-out need them from the start)');
        ({ st, cur } = d);
        actions = cur.actions;
        inputs = cur.inputs;
        journal = { segs: segs.length, baseN: 0, deltaN: 0 };
        logged = execLogged(st, cur);
        log(`execute: ${parent.id} resuming from its checkpoint at output ${st.emitted} (market after ${cur.market}, fills after ${cur.fills}, reports after ${cur.reports})`);
      } catch (e) {
        if (!(e instanceof ExecCodecError)) throw e;
        log(`execute: ${parent.id}: the checkpoint in ${progressKey} is not used (${e.message}): folding the streams again from the start`);
      }
    }
    // the kill changes read before a restart (after the checkpoint's), where they were read
    let mode: KillMode = cur.mode;
    let killFrom = cur.kills;
    // the kill switch's changes stream, read up to (null: not yet: a first read starts at its end)
    let changesFrom: string | null = cur.changes ?? null;
    for (const [id, f] of (await r.xrange(execKillLogStream(keys, parent.id), killFrom, '+')) as Batch) {
      const k = decodeKillFields(f);
      if ('bad' in k) throw new ExecLiveError(`${execKillLogStream(keys, parent.id)} entry ${id}: ${k.bad}`);
      inputs.push(inputLine('kill', id, f));
      pushKill(st, k, sink);
      mode = k.mode;
      killFrom = `(${id}`;
      for (let i = 0; i + 1 < f.length; i += 2) if (f[i] === 'change' && f[i + 1] !== '') changesFrom = f[i + 1];
    }
    const inKey = inputStream(keys, shardOf(parent.symbol, shards));
    let inFrom = cur.market;
    let fillsFrom = cur.fills;
    let reportsFrom = cur.reports;
    // anything read since the last checkpoint, and when that was written (wall clock: only its pace)
    let unsaved = saved === null;
    let savedAt = 0;
    let idleSince = Date.now();
    let clock: bigint | null = null;
    let tca: TcaReport | null = null;
    // the plan (the same for every run of this parent and configuration) and that a run is alive
    await r.multi().set(execScheduleKey(keys, parent.id), JSON.stringify(scheduleRecord(st))).hset(progressKey, 'state', 'running', 'beat_ms', String(beatMs), 'at', String(Date.now()), ...positionFields(st)).hdel(progressKey, 'why').exec();
    announced = true;
    let beatAt = Date.now();
    log(`execute: ${parent.id} following ${inKey}, ${fillsStream(keys)} and the kill switch${progress.after > 0 ? ` (${progress.after} outputs already written)` : ''}`);
    while (!stop) {
      let progressed = false;
      let caughtUp = false;
      try {
        for (;;) {
          const batch = (await r.xrange(inKey, inFrom, '+', 'COUNT', 2000)) as Batch;
          caughtUp = batch.length < 2000;
          if (batch.length === 0) break;
          inFrom = `(${batch[batch.length - 1][0]}`;
          for (const [, f] of batch) {
            const d = decodeEvent(f);
            if (d.ok) pushMarket(st, d.event, sink);
          }
          progressed = true;
          if (pending.length >= 1000) break;
        }
        for (;;) {
          const batch = (await r.xrange(fillsStream(keys), fillsFrom, '+', 'COUNT', 2000)) as Batch;
          if (batch.length === 0) break;
          fillsFrom = `(${batch[batch.length - 1][0]}`;
          for (const [id, f] of batch) {
            const what = pushFillsEntry(st, f, id, o.setup.ins, sink);
            // another parent's fill moved the clock only: kept as a heartbeat at its time
            const tr = f[f.indexOf('ts_recv') + 1];
            inputs.push(what === 'clock' && !f.includes('heartbeat') ? inputLine('fills', id, ['kind', 'heartbeat', 'ts_recv', tr]) : inputLine('fills', id, f));
          }
          progressed = true;
        }
        for (;;) {
          const batch = (await r.xrange(execReportsStream(keys), reportsFrom, '+', 'COUNT', 2000)) as Batch;
          if (batch.length === 0) break;
          reportsFrom = `(${batch[batch.length - 1][0]}`;
          for (const [id, f] of batch) {
            const what = pushReportsEntry(st, f, id, sink);
            const tr = f[f.indexOf('ts_recv') + 1];
            inputs.push(what === 'clock' && !f.includes('heartbeat') ? inputLine('reports', id, ['kind', 'heartbeat', 'ts_recv', tr]) : inputLine('reports', id, f));
          }
          progressed = true;
        }
        const marketMark = st.merge.marks[MARKET];
        // the switch is read at the input's present (not while a restart reads the past again)
        if (marketMark !== null && caughtUp) {
          // every change of the switch in order (an on and off between two polls are two entries),
          // then its state when the read reached it (a writer that does not append: fail closed)
          const read = await readKillChanges(r, keys, changesFrom);
          if (read.streamError !== undefined && changesFrom !== read.upto) log(`execute: ${parent.id}: ${read.streamError}; reading the kill switch's state alone`);
          const seen = read.changes.map((c) => ({ state: c.state, at: c.id }));
          if (read.complete) seen.push({ state: read.state, at: read.upto });
          for (const { state, at } of seen) {
            const m = killModeFor(state, parent.symbol);
            if (m === mode) continue;
            const k: KillInput = { symbol: parent.symbol, mode: m, reason: killFor(state, parent.symbol)?.reason ?? 'switched off', ts: marketMark };
            const f = [...encodeKillFields(k), 'change', at];
            const id = (await r.xadd(execKillLogStream(keys, parent.id), '*', ...f)) as string;
            log(`execute: ${parent.id}: kill switch ${m} read at ts_recv ${marketMark} (${k.reason})`);
            inputs.push(inputLine('kill', id, f));
            killFrom = `(${id}`;
            pushKill(st, k, sink);
            mode = m;
            progressed = true;
          }
          changesFrom = read.upto;
          // nothing is logged before the last market event read any more: the kill stream's clock
          pushMark(st, KILL, marketMark, sink);
        }
        if (progressed) unsaved = true;
        // a checkpoint with every write of outputs, and once the input is read up (or every second)
        const outputs = pending.some((x) => x.n > progress.after);
        let ckpt: Ckpt | null = null;
        if (outputs || (unsaved && (!progressed || Date.now() - savedAt >= 1000))) {
          const c: ExecCursor = { market: inFrom, fills: fillsFrom, reports: reportsFrom, kills: killFrom, mode, changes: changesFrom, actions: record ? actions : [], inputs: record ? inputs : [] };
          const now = execLogged(st, c);
          const plan = planJournal(journal, execDelta(logged, now), execDelta(NOTHING_LOGGED, now), () => encodeExecSegment(st, c, logged), () => encodeExecSegment(st, c, NOTHING_LOGGED));
          ckpt = { head: encodeExecHead(st, c, configHash, plan.next.segs), key: journalKey, journal, plan, logged: now };
        }
        if (await write(r, keys, o, st, pending, progress, stats, ckpt)) beatAt = Date.now();
        else if (Date.now() - beatAt >= beatMs) {
          // nothing to write: the heartbeat alone (the page tells a live idle run from a dead one)
          await r.hset(progressKey, 'at', String(Date.now()), ...positionFields(st));
          beatAt = Date.now();
        }
        if (ckpt !== null) {
          // the list now holds what this MULTI wrote (a failed one throws before: the next write carries it again)
          journal = ckpt.plan.next;
          logged = ckpt.logged;
          unsaved = false;
          savedAt = Date.now();
        }
        // every decision before this time is written: a simulated venue may play the market up to it
        const c = decidedBefore(st);
        if (c !== null && c !== clock) {
          await r.hset(execClocksKey(keys), parent.id, String(c));
          clock = c;
        }
      } catch (e) {
        if (!isTransientRedisError(e)) throw e;
        log(`execute: redis: ${(e as Error).message}; retrying`);
        await sleep(200);
        progress.after = Number((await r.hget(execProgressKey(keys, parent.id), 'n').catch(() => String(progress.after))) ?? 0);
        continue;
      }
      const w = globalMark(st.merge);
      // confirmed cancels: done once none is outstanding (or a minute of event time has passed
      // without the report: a gateway that does not report); else once a late fill can no longer come
      const settle = o.setup.cfg.cancelSettleNs ?? 0n;
      const settled = w !== null && (o.setup.cfg.cancelAcks ? st.algo.cancelling.length === 0 || w >= parent.end + settle + REPORT_WAIT_NS : w >= parent.end + settle);
      if (st.endFired && w !== null && w >= parent.end && settled) {
        log(`execute: ${parent.id} done: ${st.algo.filled} of ${parent.qty} lots filled, ${st.algo.sent} child orders`);
        tca = execTca(st, o.setup.ins);
        await r.multi().set(execTcaKey(keys, parent.id), JSON.stringify(tca)).hdel(execClocksKey(keys), parent.id).hset(progressKey, 'state', 'done', 'at', String(Date.now()), ...positionFields(st)).exec();
        ended = 'done';
        break;
      }
      if (progressed) idleSince = Date.now();
      else if (o.idleStopMs !== undefined && Date.now() - idleSince >= o.idleStopMs) {
        why = `no new input for ${o.idleStopMs} ms (--exit-when-idle)`;
        break;
      }
      else await sleep(pollMs);
    }
    if (tca === null && stop) tca = await stoppedTca(r, keys, st, o.setup, log);
    if (o.ordersOut) writeOrders(o.ordersOut, actions, st.fills);
    if (o.inputsOut) writeFileSync(o.inputsOut, inputs.join('\n') + (inputs.length ? '\n' : ''));
    return { written: stats.written, actions, deadLetters: stats.deadLetters, state: st, tca };
  } catch (e) {
    why = `failed: ${(e as Error).message}`;
    throw e;
  } finally {
    // a run that ends before its window is over says so (a killed process cannot: it goes silent)
    if (announced && ended === null) await r.hset(progressKey, 'state', 'stopped', 'why', why.slice(0, 500), 'at', String(Date.now())).catch(() => {});
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    r.disconnect();
  }
}

/**
 * Stopped by SIGTERM/SIGINT before the parent ended (ROADMAP: such a run wrote no TCA): the TCA of
 * what was done so far, logged and written to `<ns>:exec:<parent>:tca` with `stopped: true` and
 * the event time the fold had reached: the fills applied, the window's prints read, and the
 * opportunity cost of the rest at the last mid read (the window's end mid is not known yet). Null
 * (nothing written) when the window had not started.
 */
async function stoppedTca(r: RedisClient, keys: KeyLayout, st: ExecFoldState, setup: ExecSetup, log: (s: string) => void): Promise<TcaReport | null> {
  if (st.algo.arrivalMid === null) return null;
  const tca = execTca(st.endMid !== null ? st : { ...st, endMid: st.algo.lastMid }, setup.ins);
  const at = globalMark(st.merge);
  log(`execute: ${st.algo.parent.id} stopped at event time ${at ?? 'none'} before the parent ended: the TCA of what was done so far (${st.algo.filled} of ${st.algo.parent.qty} lots filled, ${st.algo.sent} child orders)`);
  try {
    await r.set(execTcaKey(keys, st.algo.parent.id), JSON.stringify({ ...tca, stopped: true, eventTime: at === null ? null : String(at) }));
  } catch (e) {
    if (!isTransientRedisError(e)) throw e;
    log(`execute: redis: ${(e as Error).message}; the stopped run's TCA is printed only`);
  }
  return tca;
}

/**
 * The event time before which the fold has made every decision it will make, but for what fills
 * still to come may cause (the gateway knows those: they come after its own heartbeat): the
 * earliest input held back, else where the market and kill streams have got to.
 */
function decidedBefore(st: ExecFoldState): bigint | null {
  const m = st.merge.marks;
  let c: bigint | null = m[MARKET] === null || m[KILL] === null ? null : m[MARKET]! < m[KILL]! ? m[MARKET] : m[KILL];
  for (const q of st.merge.queues) if (q.head < q.rows.length && (c === null || q.rows[q.head].ts < c)) c = q.rows[q.head].ts;
  return c;
}

/** The list of the checkpoint's segments (ckpt-journal.ts), next to the progress hash. */
export const execJournalKey = (ns: string, parent: string): string => `${execProgressKey({ ns }, parent)}:journal`;

/** A checkpoint to write: the head, and the journal's segment planned from `journal` (the list as it stands). */
interface Ckpt {
  head: Uint8Array;
  key: string;
  journal: Journal;
  plan: ReturnType<typeof planJournal>;
  logged: ExecLogged;
}

/** Writes the outputs not yet written, with the progress and the checkpoint (when given), in one MULTI; false when there was nothing to write. */
async function write(r: RedisClient, keys: KeyLayout, o: ExecLiveOptions, st: ExecFoldState, queue: { n: number; o: ExecOutput }[], progress: { after: number }, stats: { written: number; deadLetters: number }, ckpt: Ckpt | null): Promise<boolean> {
  const todo = queue.filter((x) => x.n > progress.after);
  if (todo.length === 0) queue.length = 0;
  if (todo.length === 0 && ckpt === null) return false;
  const { tick, lot } = o.setup.instrument;
  const m = r.multi();
  let dead = 0;
  for (const { o: x } of todo) {
    if (x.kind === 'action') m.xadd(ordersStream(keys), '*', ...encodeOrderFields(x.action, tick, lot));
    else {
      dead++;
      m.xadd(execDeadLetterStream(keys), 'MAXLEN', '~', '100000', '*', 'parent_id', st.algo.parent.id, 'id', x.tag ?? '', 'reason', x.reason, ...(x.fields ?? []));
    }
  }
  const n = todo.length === 0 ? progress.after : todo[todo.length - 1].n;
  m.hset(execProgressKey(keys, st.algo.parent.id), 'n', String(n), 'at', String(Date.now()), ...positionFields(st));
  if (ckpt !== null) {
    journalToMulti(m, ckpt.key, ckpt.journal, ckpt.plan);
    m.hset(execProgressKey(keys, st.algo.parent.id), 'ckpt', Buffer.from(ckpt.head.buffer, ckpt.head.byteOffset, ckpt.head.byteLength));
  }
  const res = await m.exec();
  for (const [err] of res ?? []) if (err) throw err;
  // dropped only once written: after a failed MULTI the retry writes them (past the progress re-read)
  queue.length = 0;
  progress.after = n;
  stats.written += todo.length;
  stats.deadLetters += dead;
  return true;
}
