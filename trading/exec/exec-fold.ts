/**
 * The execution fold with its inputs merged: algo.ts (the algorithm) over three event-time
 * streams, merged by watermarks (core/watermark-merge.ts), so that the child orders depend only on
 * each stream's own sequence, never on how the streams interleave in wall-clock time. What
 * `lockstep execute --redis` runs live (exec-live.ts) and what `lockstep execute --fills` runs over
 * a catalog day and a file of the gateway's fills (run-execute-fills.ts): the same code, so the
 * same inputs give the same orders byte for byte.
 *
 * Streams, and the order of one instant (T):
 *   0 market: the raw events of the shard's input stream (other symbols and heartbeats only move
 *     the watermark: a replay of the catalog has no heartbeats, and the orders must not depend on
 *     them); applied once every stream has reached T;
 *   1 fills: the gateway's fills (and heartbeats) for this parent, `strict`: a fill at T waits
 *     until every other stream has passed T, so all market events at T come first;
 *   2 kill: the kill-switch changes the live adapter read (and logged), `strict` too;
 *   3 reports: the gateway's cancel reports for this parent (and heartbeats), `strict`: a report
 *     comes after the fills of its child the venue made before it (the gateway writes them so),
 *     and ends the child's cancelling (algo.ts onCancelAck); a report of a child not cancelling
 *     (it completed, or its settle time ran out) changes nothing.
 * A strict item waits for the others to pass its time and a tie picks the lower stream, so the
 * merge equals one stable sort of the streams by (time, stream): a replay with every stream in
 * hand takes the same order.
 *
 * Why a cancel report caused by a fill of the same nanosecond counts 1 ns late at zero entry and
 * response latency (run-execute.ts's `t + 1n` heartbeats), and why this fold cannot do better
 * with replay == live (issue 18): at one instant T the venue's causal chains cross the fills and
 * reports streams both ways. fill(T) → onFill → decide → a cancel → its report(T), and
 * report(T) → onCancelAck → decide → a new marketable child → its fill(T) (the lots a confirmed
 * cancel frees are sent again; `cancelAcks` is always on in `lockstep execute`). A fold orders
 * the items of one instant by (time, stream) only; whichever stream ranks first, the chain that
 * starts on the other one reaches it after its instant has closed. Waiting only for the lower
 * streams (lexicographic, core/watermark-merge.ts `strict` waits for all) would hold one
 * direction and still break the other. Both need the venue's own order of what it wrote at T,
 * across the two streams: live they are two Redis streams (`<ns>:fills` and `<ns>:exec:reports`)
 * with no sequence in common, so neither the fold nor its live adapter can learn it. What would:
 * a venue sequence number on every fill and report (a field of `<ns>:fills`, which the desk reads
 * too) and a merge whose clock is (time, venue sequence) for those two streams; or the reports
 * written on the fills stream. Until then a same-instant report is read after the fill that
 * caused it: 1 ns after in the simulator replay (whose `--inputs-out` file records the heartbeats
 * at T + 1 ns, so `execute --fills` reproduces it), and live at the test gateway's heartbeat past
 * T or later (the fill was applied only once the reports stream had passed T, and the gateway
 * never writes before its last heartbeat), which `execute --fills` reproduces from the recorded
 * inputs as well.
 *
 * Why the market first at one instant (the simulator replay, run-execute.ts, runs this fold too;
 * its own loop read reports, then kill changes, then the market, and on ties gave other orders:
 * mostly POV, whose target rises with a print read before the fill that print made):
 * - causality: with zero latency a fill (or a cancel report) at T can follow from a decision on
 *   the market event at T, never the reverse (the market is not ours); a sort with fills first
 *   would put such a fill before the order it fills and refuse it as an unknown child;
 * - live: a market event at T is applied once every stream has reached T, without waiting for
 *   the gateway to pass T;
 * - a print and our fill of the same exchange instant arriving together is a tie of the latency
 *   model (feed = response), not a fact of the venue: a venue whose fills come first is a shorter
 *   response latency. At a tie the algorithm decides without a fill it has not read, and never
 *   overfills for it (the child's lots count as working until its fill or cancel report). The window's end is a timer: `onTime(end)` runs once every stream
 * has reached `end`, before any input at `end` (as run-execute.ts reads the end).
 *
 * Fills are checked before the algorithm sees them: a fill id seen before, a fill of another
 * symbol or side, or of a child that is not working (unknown, complete, or cancelled and settled)
 * is a dead letter with the reason, as is an entry of the fills stream that cannot be read. Dead
 * letters and order actions come out in one sequence, so a live adapter counts what it wrote and,
 * after a restart, folds again from the start and writes only the rest.
 *
 * Pure: no I/O, clock, randomness or promises; event time (bigint ns) is the only clock.
 */
import type { MarketEvent } from '../../core/events.ts';
import { advanceMark, enqueue, globalMark, initMerge, nextReady, type MergeState } from '../../core/watermark-merge.ts';
import { decodeFillsEntry } from '../fills-wire.ts';
import type { Instruments } from '../instruments.ts';
import type { Fill, KillInput, OrderAction } from '../types.ts';
import { initExec, onCancelAck, onFill, onKill, onMarket, onTime } from './algo.ts';
import { decodeReportsEntry } from './exec-wire.ts';
import type { CancelReport, ExecConfig, ExecState, ParentOrder } from './types.ts';

export const MARKET = 0;
export const FILLS = 1;
export const KILL = 2;
export const REPORTS = 3;
/** The fold's streams, in tie order. */
export const STREAMS = [MARKET, FILLS, KILL, REPORTS] as const;

/** One input of the fold. `tag`: handed back on a dead letter (live: the stream entry id). */
export type ExecItem =
  | { kind: 'market'; ts: bigint; ev: MarketEvent }
  | { kind: 'fill'; ts: bigint; fill: Fill; tag?: string; fields?: readonly string[] }
  | { kind: 'bad'; ts: bigint; reason: string; tag?: string; fields?: readonly string[] }
  | { kind: 'kill'; ts: bigint; kill: KillInput }
  | { kind: 'report'; ts: bigint; report: CancelReport };

/** What the fold emits, in one sequence. */
export type ExecOutput = { kind: 'action'; action: OrderAction } | { kind: 'dead'; ts: bigint; reason: string; tag?: string; fields?: readonly string[] };

export interface ExecFoldState {
  algo: ExecState;
  merge: MergeState<ExecItem>;
  /** The end-of-window timer has run. */
  endFired: boolean;
  /** Fill ids seen, applied or refused (a repeat is a dead letter). */
  fillIds: Record<string, true>;
  /** The same ids in the order first seen: the checkpoint's journal of them (exec-codec.ts). */
  fillIdLog: string[];
  /** Fills applied, in fold order (the TCA's and `--orders-out`'s). */
  fills: Fill[];
  /** Outputs emitted so far. */
  emitted: number;
  /** Mid (ticks) as the window ended (the TCA's), null until then. */
  endMid: number | null;
  /** The symbol's trades in the window applied so far: size (units) and price × size (the TCA's market VWAP). */
  volume: number;
  notional: number;
}

export type ExecSink = (o: ExecOutput) => void;

/** A fold for `parent` under `cfg` (validated by initExec). */
export function initExecFold(parent: ParentOrder, cfg: ExecConfig): ExecFoldState {
  return { algo: initExec(parent, cfg), merge: initMerge<ExecItem>(STREAMS.length), endFired: false, fillIds: Object.create(null) as Record<string, true>, fillIdLog: [], fills: [], emitted: 0, endMid: null, volume: 0, notional: 0 };
}

const retime = (it: ExecItem, ts: bigint): ExecItem => {
  if (it.kind === 'market') return { ...it, ts, ev: { ...it.ev, tsRecv: ts } };
  if (it.kind === 'fill') return { ...it, ts, fill: { ...it.fill, tsRecv: ts } };
  if (it.kind === 'kill') return { ...it, ts, kill: { ...it.kill, ts } };
  if (it.kind === 'report') return { ...it, ts, report: { ...it.report, tsRecv: ts } };
  return { ...it, ts };
};

/**
 * A raw event of the input stream: the parent's symbol is an input, anything else moves the clock.
 * `at`: when the algorithm reads it, the event's ts_recv (live, `--fills`) or that plus the
 * simulator's feed latency (run-execute.ts); the event itself keeps its ts_recv.
 */
export function pushMarket(st: ExecFoldState, ev: MarketEvent, sink: ExecSink, at: bigint = ev.tsRecv): void {
  if (ev.kind === 'heartbeat' || ev.symbol !== st.algo.parent.symbol) advanceMark(st.merge, MARKET, at);
  else enqueue(st.merge, MARKET, { kind: 'market', ts: at, ev }, retime);
  drain(st, sink);
}

/** A cancel report of this parent already decoded (the simulator's, run-execute.ts). */
export function pushReport(st: ExecFoldState, report: CancelReport, sink: ExecSink): void {
  enqueue(st.merge, REPORTS, { kind: 'report', ts: report.tsRecv, report }, retime);
  drain(st, sink);
}

/** The time of the earliest input held in the fold (waiting for the watermarks), or null when none is. */
export function nextHeldAt(st: ExecFoldState): bigint | null {
  let t: bigint | null = null;
  for (const q of st.merge.queues) if (q.head < q.rows.length && (t === null || q.rows[q.head].ts < t)) t = q.rows[q.head].ts;
  return t;
}

/** An entry of the fills stream: a fill of this parent, a bad entry, or (anything else) only its time. */
export function pushFillInput(st: ExecFoldState, it: Extract<ExecItem, { kind: 'fill' | 'bad' }>, sink: ExecSink): void {
  enqueue(st.merge, FILLS, it, retime);
  drain(st, sink);
}

/**
 * One entry of `<ns>:exec:reports` (exec-wire.ts): this parent's cancel report is an input; a
 * heartbeat or another parent's report only moves the stream's clock; an entry that cannot be read
 * is a dead letter. Returns which it was.
 */
export function pushReportsEntry(st: ExecFoldState, flat: readonly string[], tag: string, sink: ExecSink): 'mine' | 'clock' | 'bad' {
  const e = decodeReportsEntry(flat);
  if (e.kind === 'heartbeat') {
    pushMark(st, REPORTS, e.ts, sink);
    return 'clock';
  }
  if (e.kind === 'bad') {
    enqueue(st.merge, REPORTS, { kind: 'bad', ts: e.ts ?? st.merge.marks[REPORTS] ?? 0n, reason: e.reason, tag, fields: flat }, retime);
    drain(st, sink);
    return 'bad';
  }
  if (e.report.parentId !== st.algo.parent.id) {
    pushMark(st, REPORTS, e.report.tsRecv, sink);
    return 'clock';
  }
  enqueue(st.merge, REPORTS, { kind: 'report', ts: e.report.tsRecv, report: e.report }, retime);
  drain(st, sink);
  return 'mine';
}

/** A kill-switch change (live: as logged when read). */
export function pushKill(st: ExecFoldState, kill: KillInput, sink: ExecSink): void {
  enqueue(st.merge, KILL, { kind: 'kill', ts: kill.ts, kill }, retime);
  drain(st, sink);
}

/** Stream `s` will deliver nothing before `ts` (a heartbeat, another parent's fill, the end of a file). */
export function pushMark(st: ExecFoldState, s: number, ts: bigint, sink: ExecSink): void {
  advanceMark(st.merge, s, ts);
  drain(st, sink);
}

/**
 * One entry of `<ns>:fills` (flat fields, as the stream or an inputs file holds it): this parent's
 * fill is an input; a heartbeat or another parent's fill only moves the stream's clock; an entry
 * that cannot be read is a dead letter. Returns which it was (live writes it to its inputs file).
 */
export function pushFillsEntry(st: ExecFoldState, flat: readonly string[], tag: string, ins: Instruments, sink: ExecSink): 'mine' | 'clock' | 'bad' {
  const e = decodeFillsEntry(flat, ins);
  if (e.kind === 'heartbeat') {
    pushMark(st, FILLS, e.ts, sink);
    return 'clock';
  }
  if (e.kind === 'bad') {
    pushFillInput(st, { kind: 'bad', ts: e.ts ?? st.merge.marks[FILLS] ?? 0n, reason: e.reason, tag, fields: flat }, sink);
    return 'bad';
  }
  const p = st.algo.parent.id;
  const mine = e.parentId !== undefined ? e.parentId === p : e.fill.orderId.startsWith(`${p}-`);
  if (!mine) {
    pushMark(st, FILLS, e.fill.tsRecv, sink);
    return 'clock';
  }
  pushFillInput(st, { kind: 'fill', ts: e.fill.tsRecv, fill: e.fill, tag, fields: flat }, sink);
  return 'mine';
}

const strict = (s: number) => s !== MARKET;

function emit(st: ExecFoldState, sink: ExecSink, o: ExecOutput): void {
  st.emitted++;
  sink(o);
}

function actions(st: ExecFoldState, sink: ExecSink, acts: readonly OrderAction[]): void {
  for (const action of acts) emit(st, sink, { kind: 'action', action });
}

/** Applies every input the watermarks allow, and the end timer when its time has come. */
export function drain(st: ExecFoldState, sink: ExecSink): void {
  const end = st.algo.parent.end;
  for (;;) {
    const it = nextReady(st.merge, st.endFired ? null : end, strict);
    if (it === null) {
      const w = globalMark(st.merge);
      if (st.endFired || w === null || w < end) return;
      st.endFired = true;
      st.endMid = st.algo.lastMid;
      actions(st, sink, onTime(st.algo, end));
      continue;
    }
    apply(st, it, sink);
  }
}

function apply(st: ExecFoldState, it: ExecItem, sink: ExecSink): void {
  const a = st.algo;
  switch (it.kind) {
    case 'market': {
      const ev = it.ev;
      // the window's prints by the market's own clock (ts_recv), not by when the algorithm reads
      // them: with a feed latency the last ones are read after the end and the first ones before the start
      if (ev.kind === 'trade' && ev.tsRecv >= a.parent.start && ev.tsRecv < a.parent.end && ev.size > 0) {
        st.volume += ev.size;
        st.notional += ev.price * ev.size;
      }
      actions(st, sink, onMarket(a, ev, it.ts));
      return;
    }
    case 'kill':
      actions(st, sink, onKill(a, it.kill));
      return;
    case 'report':
      actions(st, sink, onCancelAck(a, it.report.orderId, it.ts));
      return;
    case 'bad':
      emit(st, sink, { kind: 'dead', ts: it.ts, reason: it.reason, tag: it.tag, fields: it.fields });
      return;
    case 'fill': {
      const f = it.fill;
      const why = refuse(st, f);
      // an id is used once, applied or refused: its repeat is a duplicate either way
      if (st.fillIds[f.fillId] !== true) {
        st.fillIds[f.fillId] = true;
        st.fillIdLog.push(f.fillId);
      }
      if (why !== null) {
        emit(st, sink, { kind: 'dead', ts: it.ts, reason: why, tag: it.tag, fields: it.fields });
        return;
      }
      st.fills.push(f);
      actions(st, sink, onFill(a, f));
      return;
    }
  }
}

/** Why a fill of this parent cannot be applied, or null. */
function refuse(st: ExecFoldState, f: Fill): string | null {
  const p = st.algo.parent;
  if (st.fillIds[f.fillId]) return `fill_id ${JSON.stringify(f.fillId)}: duplicate (already applied)`;
  if (f.symbol !== p.symbol) return `symbol ${JSON.stringify(f.symbol)}: parent ${p.id} trades ${p.symbol}`;
  if (f.side !== p.side) return `side ${f.side === 1 ? 'buy' : 'sell'}: parent ${p.id} is a ${p.side === 1 ? 'buy' : 'sell'}`;
  const live = st.algo.working.some((o) => o.id === f.orderId) || st.algo.cancelling.some((o) => o.id === f.orderId);
  if (!live) return `order_id ${JSON.stringify(f.orderId)}: not a working child of ${p.id} (unknown, complete, or cancelled and settled)`;
  return null;
}
