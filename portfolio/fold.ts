/**
 * The target-weights fold: a pure, cross-sectional state machine over the output rows of the
 * factor fold (one row per symbol update, carrying any output columns: factors today, model
 * signals later) from K input streams (live: one per shard; replay: one), plus event-time
 * watermarks. At each rebalance time T it builds one weights record from, for every symbol, the
 * latest row with ts < T (weights-math.ts has the math).
 *
 * Why strictly before T: events sharing an instant are ordered clock first (core/events.ts,
 * SOURCE_PRIORITY), so a heartbeat at T proves its stream has delivered everything before T, and
 * nothing about the other events at T. With `< T` a heartbeat at T releases the rebalance at T;
 * with `≤ T` it could not, and a shard whose last heartbeat is the close would hold the close's
 * rebalance forever. The book at T is what the platform knew before T.
 *
 * Determinism whatever the interleaving of the streams:
 * - Each stream's clock only moves forward: a row's time is max(ts, the stream's watermark), so a
 *   late row (ts_event below one already seen; never with the default ts_recv clock, which is the
 *   merge order of both paths) counts at the stream's current time, decided by its own stream
 *   alone. Stream s's watermark W_s is the greatest time it has delivered (rows, heartbeats): it
 *   will deliver nothing before W_s any more.
 * - T runs only once every stream has reached it: W = min_s W_s ≥ T. Rows with ts ≥ T that
 *   arrived early wait in their stream's queue; rows are applied in time order across streams. A symbol
 *   lives on one stream (its shard), so its latest row at T is fixed by its stream's order.
 * Hence the records depend only on each stream's own sequence, not on how streams interleave or
 * how rows are batched. There is no end-of-input flush: a T the watermark never reaches does not
 * run (live could not know the input ended), so replay and live emit the same records.
 *
 * Control events (pushControl): an on-demand rebalance request, and a change of the operator's kill
 * switch. Live, the driver reads them at the present and stamps each with an event time, logging it
 * (portfolio/control.ts); replay takes the log, so both paths meet the same events at the same
 * times. A kill change at K is in force for the rebalances after K (as a row at K: the book at T
 * holds what happened before T); `all` kills every symbol.
 *
 * No I/O, clock, randomness or promises; event time (bigint ns) is the only clock.
 */
import { advanceMark, enqueue as enqueueItem, globalMark as mergeMark, initMerge, nextReady, type MergeState } from '../core/watermark-merge.ts';
import type { WeightsConfig } from './config.ts';
import { gridAfter, nextGrid, type GridPoint } from './schedule.ts';
import { compareText, targetWeights, type BookSpec, type BookStats } from './weights-math.ts';

/** One output row as the fold reads it: `values` in the order of `inputColumns(cfg)`, null where missing. */
export interface WeightsRow {
  symbol: string;
  ts: bigint;
  values: readonly (number | null)[];
}

/** A kill-switch mode (live/kill-switch.ts; trading/types.ts KillMode): any mode but 'off' excludes the symbol. */
export type KillMode = 'off' | 'halt' | 'reduce-only';

/** A change of the kill switch: `symbol` null is the whole deployment's entry. */
export interface WeightsKill {
  ts: bigint;
  symbol: string | null;
  mode: KillMode;
}

/** A control event of the fold: a request to rebalance at `ts`, or a kill-switch change at `ts`. */
export type ControlEvent = { kind: 'request'; ts: bigint } | ({ kind: 'kill' } & WeightsKill);

/** Why a symbol of the universe holds no new position at T. */
export type ExclusionReason = 'no-data' | 'killed' | 'halted' | 'stale' | 'no-signal' | 'no-vol';

/** One rebalance: the weights at T of every symbol in the universe (code-unit order of names). */
export interface WeightsRecord {
  t: bigint;
  /** `every`: a grid time; `request`: asked for on demand. */
  trigger: 'every' | 'request';
  symbols: string[];
  weights: Float64Array;
  /** The signal value used (null when none). */
  signal: (number | null)[];
  /** Null for a symbol that took part; else why not (its weight then only winds down). */
  excluded: (ExclusionReason | null)[];
  stats: BookStats;
}

interface Latest {
  ts: bigint;
  signal: number;
  vol: number;
  killed: boolean;
  halted: boolean;
}

/**
 * The fold's state: plain data (maps, arrays, bigints), snapshot-able. `marks`/`queues` are the
 * K-stream watermark merge (core/watermark-merge.ts): per stream the greatest time delivered so far,
 * before which it delivers nothing more (null: nothing yet, which holds every T back), and its rows.
 */
export interface WeightsFoldState extends MergeState<WeightsRow> {
  cfg: WeightsConfig;
  spec: BookSpec;
  latest: Map<string, Latest>;
  /** Symbols seen, in code-unit order (the universe when it is `all`). */
  seen: string[];
  universe: Set<string> | null;
  prev: Map<string, number>;
  grid: GridPoint | null;
  /** Requested rebalance times not yet run, ascending. */
  requests: bigint[];
  /** The kill switch in force at the last rebalance: the deployment's mode, and each symbol's ('off' not kept). */
  kill: { all: KillMode; symbols: Map<string, KillMode> };
  /** Kill changes delivered, not yet in force (each is, from the first rebalance after its time), ascending by time. */
  kills: WeightsKill[];
  lastT: bigint | null;
  /** Column positions in WeightsRow.values (-1: not configured). */
  col: { signal: number; vol: number; killed: number; halted: number };
}

/** A fresh fold for `streams` input streams (every one must deliver before any T runs). */
export function initWeightsFold(cfg: WeightsConfig, streams: number): WeightsFoldState {
  const merge = initMerge<WeightsRow>(streams);
  let next = 1;
  const pos = (on: boolean) => (on ? next++ : -1);
  return {
    cfg,
    spec: {
      method: cfg.method,
      zClip: cfg.zClip,
      construction: cfg.construction,
      maxWeight: cfg.maxWeight,
      grossLeverage: cfg.grossLeverage,
      volInverse: cfg.vol?.inverse ?? false,
      volTarget: cfg.vol?.target ?? null,
      turnoverLimit: cfg.turnoverLimit,
    },
    marks: merge.marks,
    queues: merge.queues,
    latest: new Map(),
    seen: [],
    universe: cfg.universe === 'all' ? null : new Set(cfg.universe),
    prev: new Map(),
    grid: null,
    requests: [],
    kill: { all: 'off', symbols: new Map() },
    kills: [],
    lastT: null,
    // same order as inputColumns(cfg): signal, vol, killed, halted
    col: { signal: 0, vol: pos(cfg.vol !== null), killed: pos(cfg.killedColumn !== null), halted: pos(cfg.haltedColumn !== null) },
  };
}

/** Where the fold hands each record. */
export type WeightsSink = (r: WeightsRecord) => void;

/** Stream `stream` delivers `row`; records whose T the watermark now reaches go to `out`. */
export function pushRow(st: WeightsFoldState, stream: number, row: WeightsRow, out: WeightsSink): void {
  enqueue(st, stream, row);
  drain(st, out);
}

/** Stream `stream` delivers `rows` in order (any batch size gives the same records as one by one). */
export function pushRows(st: WeightsFoldState, stream: number, rows: readonly WeightsRow[], out: WeightsSink): void {
  for (const r of rows) enqueue(st, stream, r);
  drain(st, out);
}

/** Stream `stream` will deliver nothing before `ts` any more (a heartbeat, or a worker's committed position). */
export function pushWatermark(st: WeightsFoldState, stream: number, ts: bigint, out: WeightsSink): void {
  advance(st, stream, ts);
  drain(st, out);
}

/**
 * A rebalance request on `stream` at `ts` (a control event: it counts in that stream's order and
 * watermark like a row), run once every stream has reached its time. Its time is `ts` when the
 * stream has not reached `ts` yet; otherwise the stream may already have delivered rows at its
 * watermark W, which a book at W must not hold (rows before T only) and could not un-apply, so
 * the request runs at W + 1 ns. Either way the time depends on the stream's own order alone.
 */
export function pushRequest(st: WeightsFoldState, stream: number, ts: bigint, out: WeightsSink): void {
  const before = st.marks[stream];
  advance(st, stream, ts);
  addRequest(st, before === null || ts > before ? ts : before + 1n);
  drain(st, out);
}

/**
 * A control event on `stream` (live: the control stream the driver stamps; replay: the table's
 * stream, pushed before its rows at or after the event's time). Unlike a row it does not move the
 * stream's watermark: a request may be for a later time, and must not hold back what the stream's
 * reader says next (pushWatermark). A request at or before the stream's watermark W runs at W + 1 ns
 * (as pushRequest); a kill change before W counts at W. Either way its time depends on the stream's
 * own order alone, and a reader that stamps events after its watermark gets them at their stamps.
 */
export function pushControl(st: WeightsFoldState, stream: number, ev: ControlEvent, out: WeightsSink): void {
  const w = st.marks[stream];
  if (ev.kind === 'request') addRequest(st, w === null || ev.ts > w ? ev.ts : w + 1n);
  else {
    const k: WeightsKill = { ts: w !== null && ev.ts < w ? w : ev.ts, symbol: ev.symbol, mode: ev.mode };
    // ascending; at one time, in arrival order (a later change of the same entry wins)
    let i = st.kills.length;
    while (i > 0 && st.kills[i - 1].ts > k.ts) i--;
    st.kills.splice(i, 0, k);
  }
  drain(st, out);
}

/** The kill switch as every change delivered so far leaves it (in force or not yet): what a reader compares the switch with. */
export function killView(st: WeightsFoldState): { all: KillMode; symbols: Map<string, KillMode> } {
  const v = { all: st.kill.all, symbols: new Map(st.kill.symbols) };
  for (const k of st.kills) setKill(v, k);
  return v;
}

function setKill(v: { all: KillMode; symbols: Map<string, KillMode> }, k: WeightsKill): void {
  if (k.symbol === null) v.all = k.mode;
  else if (k.mode === 'off') v.symbols.delete(k.symbol);
  else v.symbols.set(k.symbol, k.mode);
}

function addRequest(st: WeightsFoldState, t: bigint): void {
  const i = lowerBound(st.requests, t);
  if (st.requests[i] !== t) st.requests.splice(i, 0, t);
}

/** The watermark every stream has reached (null until each has delivered something). */
export function globalMark(st: WeightsFoldState): bigint | null {
  return mergeMark(st);
}

/** Moves stream `s`'s watermark to at least `ts`; returns the time `ts` counts at. */
const advance = (st: WeightsFoldState, s: number, ts: bigint): bigint => advanceMark(st, s, ts);

const retime = (row: WeightsRow, ts: bigint): WeightsRow => ({ symbol: row.symbol, ts, values: row.values });

function enqueue(st: WeightsFoldState, s: number, row: WeightsRow): void {
  enqueueItem(st, s, row, retime);
}

/** The next time to rebalance at: the earlier of the grid and the first request. */
function nextT(st: WeightsFoldState): { t: bigint; trigger: 'every' | 'request' } | null {
  const g = st.grid?.t ?? null;
  const r = st.requests.length > 0 ? st.requests[0] : null;
  if (g === null) return r === null ? null : { t: r, trigger: 'request' };
  return r !== null && r < g ? { t: r, trigger: 'request' } : { t: g, trigger: 'every' };
}

/** Applies rows and runs rebalances, in time order, as far as the watermark allows. */
function drain(st: WeightsFoldState, out: WeightsSink): void {
  for (;;) {
    const w = mergeMark(st);
    if (w === null) return;
    const next = nextT(st);
    // a row at ts <= w: no stream can still deliver an earlier one (later ones at w: same instant);
    // a rebalance at T takes only rows before T
    const row = nextReady(st, next === null ? null : next.t);
    if (row !== null) {
      apply(st, row);
      continue;
    }
    if (next !== null && next.t <= w) {
      rebalance(st, next.t, next.trigger, out);
      continue;
    }
    return;
  }
}

const num = (v: number | null | undefined): number => (v === null || v === undefined ? NaN : v);
/** A status flag is set when its column holds a non-zero number (null or 0: not set). */
const flag = (v: number | null | undefined): boolean => v !== null && v !== undefined && v !== 0 && !Number.isNaN(v);

function apply(st: WeightsFoldState, r: WeightsRow): void {
  const { col } = st;
  const signal = num(r.values[col.signal]);
  const prior = st.latest.get(r.symbol);
  st.latest.set(r.symbol, {
    ts: r.ts,
    signal,
    vol: col.vol < 0 ? NaN : num(r.values[col.vol]),
    killed: col.killed >= 0 && flag(r.values[col.killed]),
    halted: col.halted >= 0 && flag(r.values[col.halted]),
  });
  if (prior === undefined) st.seen.splice(lowerBoundText(st.seen, r.symbol), 0, r.symbol);
  // a session's grid starts with its first row carrying a signal (schedule.ts)
  const every = st.cfg.everyNs;
  if (every !== null && st.grid === null && Number.isFinite(signal) && (st.universe === null || st.universe.has(r.symbol))) {
    st.grid = gridAfter(st.cfg.session, every, r.ts);
  }
}

function rebalance(st: WeightsFoldState, t: bigint, trigger: 'every' | 'request', out: WeightsSink): void {
  const { cfg } = st;
  // the kill changes before T are in force at T
  let k = 0;
  while (k < st.kills.length && st.kills[k].ts < t) setKill(st.kill, st.kills[k++]);
  if (k > 0) st.kills.splice(0, k);
  const symbols = cfg.universe === 'all' ? st.seen.slice() : (cfg.universe as string[]).slice();
  const n = symbols.length;
  const sig = new Float64Array(n);
  const vol = cfg.vol ? new Float64Array(n) : null;
  const eligible = new Uint8Array(n);
  const prev = new Float64Array(n);
  const excluded: (ExclusionReason | null)[] = new Array(n);
  const signal: (number | null)[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const s = symbols[i];
    prev[i] = st.prev.get(s) ?? 0;
    const l = st.latest.get(s);
    signal[i] = l && Number.isFinite(l.signal) ? l.signal : null;
    const why = st.kill.all !== 'off' || st.kill.symbols.has(s) ? 'killed' : exclusion(cfg, l, t);
    excluded[i] = why;
    if (why !== null) continue;
    sig[i] = l!.signal;
    if (vol) vol[i] = l!.vol;
    eligible[i] = 1;
  }
  const weights = new Float64Array(n);
  const stats = targetWeights(st.spec, sig, vol, eligible, prev, weights);
  st.prev.clear();
  for (let i = 0; i < n; i++) if (weights[i] !== 0) st.prev.set(symbols[i], weights[i]);
  if (st.grid !== null && st.grid.t === t) st.grid = nextGrid(st.grid, cfg.everyNs!);
  if (st.requests.length > 0 && st.requests[0] === t) st.requests.shift();
  st.lastT = t;
  out({ t, trigger, symbols, weights, signal, excluded, stats });
}

function exclusion(cfg: WeightsConfig, l: Latest | undefined, t: bigint): ExclusionReason | null {
  if (l === undefined) return 'no-data';
  if (l.killed) return 'killed';
  if (l.halted) return 'halted';
  if (cfg.staleNs !== null && t - l.ts > cfg.staleNs) return 'stale';
  if (!Number.isFinite(l.signal)) return 'no-signal';
  if (cfg.vol && !(Number.isFinite(l.vol) && l.vol > 0)) return 'no-vol';
  return null;
}

function lowerBound(a: readonly bigint[], x: bigint): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const m = (lo + hi) >> 1;
    if (a[m] < x) lo = m + 1;
    else hi = m;
  }
  return lo;
}

function lowerBoundText(a: readonly string[], x: string): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const m = (lo + hi) >> 1;
    if (compareText(a[m], x) < 0) lo = m + 1;
    else hi = m;
  }
  return lo;
}
