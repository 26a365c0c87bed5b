/**
 * The desk fold: the PnL/risk ledger (ledger.ts) and the limits (limits.ts) over K streams of
 * factor rows (one per shard; replay: one) and one fills stream, merged by event-time watermarks
 * (core/watermark-merge.ts), sampled every second of event time. Pure: what `lockstep desk` runs
 * live over Redis, and what a replay of the same rows and fills runs over files.
 *
 * Order, whatever the interleaving of the streams (and the same as trading/pnl-fold.ts, the replay's):
 * - inputs are applied in time order (the factor rows' and the fills' ts_recv); at one instant the
 *   factor rows come first, in the replay's row order (core/row-key.ts: source, symbol, seq)
 *   whatever shard they came on, and the fills after them, as the feed publishes them (live/feed.ts
 *   `side`). So an input at T waits until every other stream has passed T (`strict` in the
 *   merge): the VaR is a float sum whose bits depend on that order;
 * - the sample at grid time S (every whole second) is the ledger after every input before S. It is
 *   emitted when the first input at or after S is applied, so no sample is emitted past the last
 *   input (live could not know the input ended) and replay and live emit the same series; a gap
 *   between inputs emits every second in it. A factor row without a usable mark (null, ≤ 0) is not
 *   an input of the series (earlier days' fundamentals would otherwise open it a year early).
 * Outputs come in one sequence (samples, fill outcomes, limit transitions), so a live adapter can
 * count how many it wrote and, after a restart, fold again from the start and write only the rest.
 *
 * No I/O, clock, randomness or promises; event time (bigint ns) is the only clock.
 */
import { advanceMark, enqueue, initMerge, nextReady, type MergeState } from '../core/watermark-merge.ts';
import { compareRowKey } from '../core/row-key.ts';
import { applyFill, applyMarkPrice, clearDirty, initLedger, type FillOutcome, type Ledger, type LedgerConfig } from './ledger.ts';
import { snapshot, type BookRecord } from './ledger-snapshot.ts';
import { evaluateLimits, initLimits, type LimitRecord, type Limits, type LimitsState } from './limits.ts';
import { instrumentOf } from './instruments.ts';
import type { Fill } from './types.ts';

/** One second of event time. */
export const SAMPLE_NS = 1_000_000_000n;

/** A factor row as the desk reads it: the mark column (currency) and the rv column, null when missing. */
export interface DeskRow {
  kind: 'row';
  ts: bigint;
  symbol: string;
  /** The row's identity (core/row-key.ts): orders the rows of one instant as the replay's table. */
  source: string;
  seq: bigint;
  mark: number | null;
  rv: number | null;
}

/** A fill (on the grid), or an entry of the fills stream that could not be read (`bad`, with why). */
export type DeskFillInput = { kind: 'fill'; ts: bigint; fill: Fill; tag?: string } | { kind: 'bad'; ts: bigint; reason: string; tag?: string; fields?: readonly string[] };

type Item = DeskRow | DeskFillInput;

/** What the fold emits, in one sequence. `tag` is handed back as given (live: the stream entry ID). */
export type DeskOutput =
  | { kind: 'sample'; t: bigint; books: BookRecord[] }
  | { kind: 'fill'; ts: bigint; fill: Fill; outcome: FillOutcome; tag?: string }
  | { kind: 'bad'; ts: bigint; reason: string; tag?: string; fields?: readonly string[] }
  | { kind: 'limit'; rec: LimitRecord };

export interface DeskConfig {
  ledger: LedgerConfig;
  limits: Limits;
  /** Factor rows' streams (shards); the fills stream is one more, after them. */
  rowStreams: number;
}

export interface DeskState {
  merge: MergeState<Item>;
  ledger: Ledger;
  limits: LimitsState;
  /** The next sample time (null until the first input). */
  next: bigint | null;
  /** Index of the fills stream in the merge. */
  fills: number;
  /** Event time of the last input applied (null before the first). */
  last: bigint | null;
  /** Outputs emitted so far. */
  emitted: number;
  /** Inputs that reached the ledger so far (a live adapter rewrites its served state when this moves). */
  applied: number;
}

export type DeskSink = (o: DeskOutput) => void;

export function initDesk(cfg: DeskConfig): DeskState {
  return { merge: initMerge<Item>(cfg.rowStreams + 1), ledger: initLedger(cfg.ledger), limits: initLimits(cfg.limits), next: null, last: null, fills: cfg.rowStreams, emitted: 0, applied: 0 };
}

const retime = <T extends Item>(x: T, ts: bigint): T => ({ ...x, ts });

/** Row stream `s` delivers `rows` in order. */
export function pushDeskRows(st: DeskState, s: number, rows: readonly DeskRow[], out: DeskSink): void {
  if (s === st.fills) throw new RangeError(`stream ${s} is the fills stream`);
  for (const r of rows) enqueue(st.merge, s, r, retime);
  drain(st, out);
}

/** The fills stream delivers `fills` in order. */
export function pushDeskFills(st: DeskState, fills: readonly DeskFillInput[], out: DeskSink): void {
  for (const f of fills) enqueue(st.merge, st.fills, f, retime);
  drain(st, out);
}

/** Stream `s` (a row stream, or `st.fills`) will deliver nothing before `ts` any more. */
export function pushDeskWatermark(st: DeskState, s: number, ts: bigint, out: DeskSink): void {
  advanceMark(st.merge, s, ts);
  drain(st, out);
}

function emit(st: DeskState, out: DeskSink, o: DeskOutput): void {
  st.emitted++;
  out(o);
}

function checkLimits(st: DeskState, ts: bigint, out: DeskSink): void {
  const l = st.ledger;
  if (l.dirtyBooks.length === 0 && l.dirtySymbols.length === 0) return;
  for (const rec of evaluateLimits(st.limits, l, ts)) emit(st, out, { kind: 'limit', rec });
  clearDirty(l);
}

function apply(st: DeskState, x: Item, out: DeskSink): void {
  // an entry that is not a fill, or a fill id already applied, leaves the clock alone: a replay
  // never sees either (its file reader refuses the one and leaves the other out), so neither may
  // emit a sample the replay's series lacks
  if (x.kind === 'bad') return emit(st, out, { kind: 'bad', ts: x.ts, reason: x.reason, tag: x.tag, fields: x.fields });
  if (x.kind === 'fill' && st.ledger.fillIds.has(x.fill.fillId)) return emit(st, out, { kind: 'fill', ts: x.ts, fill: x.fill, outcome: applyFill(st.ledger, x.fill), tag: x.tag });
  // a row without a usable mark changes nothing the series shows, and must not start it: the
  // factor rows of earlier days' fundamentals (no quote yet) would open a year of empty seconds
  if (x.kind === 'row' && (x.mark === null || !(x.mark > 0))) return;
  // the samples due before this input (the merge gives inputs in time order)
  if (st.next === null) st.next = (x.ts / SAMPLE_NS + 1n) * SAMPLE_NS;
  while (st.next !== null && st.next <= x.ts) {
    const t: bigint = st.next;
    st.next = t + SAMPLE_NS;
    emit(st, out, { kind: 'sample', t, books: snapshot(st.ledger, t, { positions: false }).books });
  }
  st.last = x.ts;
  st.applied++;
  if (x.kind === 'row') {
    applyMarkPrice(st.ledger, x.symbol, x.ts, x.mark!, x.rv);
  } else {
    const outcome = applyFill(st.ledger, x.fill);
    emit(st, out, { kind: 'fill', ts: x.ts, fill: x.fill, outcome, tag: x.tag });
  }
  checkLimits(st, x.ts, out);
}

const strictAll = () => true;
/** At one instant: rows in the replay's row order (whatever shard they came on), fills after them. */
function tie(a: Item, b: Item): number {
  if (a.kind !== 'row' || b.kind !== 'row') return a.kind === 'row' ? -1 : b.kind === 'row' ? 1 : 0;
  return compareRowKey({ tsRecv: a.ts, source: a.source, symbol: a.symbol, seq: a.seq }, { tsRecv: b.ts, source: b.source, symbol: b.symbol, seq: b.seq });
}

function drain(st: DeskState, out: DeskSink): void {
  for (;;) {
    const x = nextReady(st.merge, null, strictAll, tie);
    if (x === null) return;
    apply(st, x, out);
  }
}

/** True when `symbol` is tradable under `cfg` (in the instruments, or a default). */
export const knownSymbol = (cfg: DeskConfig, symbol: string): boolean => instrumentOf(cfg.ledger.instruments, symbol) !== null;
