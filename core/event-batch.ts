/**
 * Events as columns: one batch of events of one kind, a typed array per field, so a reader can
 * validate, order-check and merge millions of rows without building an object per row. An event
 * object is made only where a consumer still takes `MarketEvent`s (`eventAt`), and it is the very
 * object the row decoder used to make (same fields, same order), so outputs do not change.
 *
 * Times and sequence numbers stay exact (BigInt64Array); `tsRecvF` is ts_recv as a correctly
 * rounded float64 for cheap comparisons: rounding is monotonic, so `tsRecvF[a] < tsRecvF[b]`
 * implies ts_recv[a] < ts_recv[b], and only equal floats need the exact values.
 */
import { SOURCE_PRIORITY, type CorporateActionType, type Kind, type MarketEvent, type Side } from './events.ts';
import { validateEvent, type EventProblem } from './validate-event.ts';
import { MAX_EVENT_AHEAD_NS, MAX_MAGNITUDE } from './plausibility.ts';

export interface EventBatch {
  kind: Kind;
  n: number;
  tsEvent: BigInt64Array;
  tsRecv: BigInt64Array;
  seq: BigInt64Array;
  tsRecvF: Float64Array;
  /** Index into `symbols` per row. */
  symbolId: Int32Array;
  /** The batch's symbol strings; ids may be shared by every batch of one file. */
  symbols: readonly string[];
  /** Kind-specific columns; those of other kinds are empty arrays (one shape for every batch). */
  price: Float64Array;
  size: Float64Array;
  /** trade: aggressor side; book: 1 bid, -1 ask. */
  side: Int8Array;
  bidPx: Float64Array;
  bidSz: Float64Array;
  askPx: Float64Array;
  askSz: Float64Array;
  /** 1 = true. */
  snapshot: Uint8Array;
  last: Uint8Array;
  fiscalYear: Int32Array;
  fiscalPeriod: readonly string[];
  /** NaN = null. */
  eps: Float64Array;
  epsTtm: Float64Array;
  bookValuePerShare: Float64Array;
  sharesOutstanding: Float64Array;
  action: readonly string[];
  tsEx: BigInt64Array;
  ratio: Float64Array;
  amount: Float64Array;
  sentiment: Float64Array;
}

const NO_F64 = new Float64Array(0);
const NO_I64 = new BigInt64Array(0);

/** A batch with every kind-specific column empty: a builder fills in those of its kind. */
export function emptyBatch(kind: Kind, n: number, common: Pick<EventBatch, 'tsEvent' | 'tsRecv' | 'seq' | 'tsRecvF' | 'symbolId' | 'symbols'>): EventBatch {
  return {
    kind,
    n,
    ...common,
    price: NO_F64,
    size: NO_F64,
    side: new Int8Array(0),
    bidPx: NO_F64,
    bidSz: NO_F64,
    askPx: NO_F64,
    askSz: NO_F64,
    snapshot: new Uint8Array(0),
    last: new Uint8Array(0),
    fiscalYear: new Int32Array(0),
    fiscalPeriod: [],
    eps: NO_F64,
    epsTtm: NO_F64,
    bookValuePerShare: NO_F64,
    sharesOutstanding: NO_F64,
    action: [],
    tsEx: NO_I64,
    ratio: NO_F64,
    amount: NO_F64,
    sentiment: NO_F64,
  };
}

/**
 * ts_recv of every row as a float64, correctly rounded from the exact int64 (one rounding of
 * hi·2^32 + lo, the same value as Number(bigint)).
 */
export function int64ToF64(ts: BigInt64Array): Float64Array {
  const halves = new Int32Array(ts.buffer, ts.byteOffset, ts.length * 2);
  const out = new Float64Array(ts.length);
  for (let i = 0; i < ts.length; i++) out[i] = halves[2 * i + 1] * 4294967296 + (halves[2 * i] >>> 0);
  return out;
}

/** Row `i` as the event object consumers of `MarketEvent`s take (the fold's input contract). */
export function eventAt(b: EventBatch, i: number): MarketEvent {
  const kind = b.kind;
  const tsEvent = b.tsEvent[i];
  const tsRecv = b.tsRecv[i];
  const symbol = b.symbols[b.symbolId[i]];
  const seq = b.seq[i];
  // property order as the row decoder always wrote them: anything that serialises events sees the same
  switch (kind) {
    case 'trade':
      return { kind, tsEvent, tsRecv, symbol, seq, price: b.price[i], size: b.size[i], side: b.side[i] as Side };
    case 'quote':
      return { kind, tsEvent, tsRecv, symbol, seq, bidPx: b.bidPx[i], bidSz: b.bidSz[i], askPx: b.askPx[i], askSz: b.askSz[i] };
    case 'book':
      return { kind, tsEvent, tsRecv, symbol, seq, side: b.side[i] as 1 | -1, price: b.price[i], size: b.size[i], snapshot: b.snapshot[i] === 1, last: b.last[i] === 1 };
    case 'fundamental':
      return {
        kind,
        tsEvent,
        tsRecv,
        symbol,
        seq,
        fiscalYear: b.fiscalYear[i],
        fiscalPeriod: b.fiscalPeriod[i],
        eps: b.eps[i],
        epsTtm: b.epsTtm[i],
        bookValuePerShare: b.bookValuePerShare[i],
        sharesOutstanding: b.sharesOutstanding[i],
      };
    case 'corporate_action':
      // an unknown action string is refused by validateEvent, naming the row
      return { kind, tsEvent, tsRecv, symbol, seq, action: b.action[i] as CorporateActionType, tsEx: b.tsEx[i], ratio: b.ratio[i], amount: b.amount[i] };
    case 'news':
      return { kind, tsEvent, tsRecv, symbol, seq, sentiment: b.sentiment[i] };
    case 'heartbeat':
      return { kind, tsEvent, tsRecv, symbol, seq };
  }
}

/**
 * core's event order (compareEvents) between row `i` of `a` and row `j` of `b`, read from the
 * columns. Callers compare `tsRecvF` first; this is the exact fall-back.
 */
export function compareRows(a: EventBatch, i: number, b: EventBatch, j: number): number {
  const ta = a.tsRecv[i];
  const tb = b.tsRecv[j];
  if (ta !== tb) return ta < tb ? -1 : 1;
  const pa = SOURCE_PRIORITY[a.kind];
  const pb = SOURCE_PRIORITY[b.kind];
  if (pa !== pb) return pa - pb;
  const sa = a.symbols[a.symbolId[i]];
  const sb = b.symbols[b.symbolId[j]];
  if (sa !== sb) return sa < sb ? -1 : 1;
  const qa = a.seq[i];
  const qb = b.seq[j];
  if (qa !== qb) return qa < qb ? -1 : 1;
  return 0;
}

/** ts_event − ts_recv above this (as floats, each within 256 ns of exact) may break the 1-day rule. */
const AHEAD_HINT = Number(MAX_EVENT_AHEAD_NS) - 1e6;

/**
 * The first row in [start, end) that validateEvent rejects, with its problem, or null. A columnar
 * pass flags the rows that might fail (a superset: every bound is checked loosely or exactly);
 * only flagged rows are built into an event and judged by validateEvent itself, so the verdict
 * and its wording are core's one policy, row for row.
 */
export function firstInvalidRow(b: EventBatch, start: number, end: number): { row: number; problem: EventProblem } | null {
  const te = new Int32Array(b.tsEvent.buffer, b.tsEvent.byteOffset, b.n * 2);
  const sq = new Int32Array(b.seq.buffer, b.seq.byteOffset, b.n * 2);
  const tr = b.tsRecvF;
  const sym = b.symbolId;
  const emptySymbol = b.symbols.map((s) => s.length === 0);
  const M = MAX_MAGNITUDE;
  const k = b.kind;
  const { price, size, side, bidPx, bidSz, askPx, askSz } = b;
  for (let i = start; i < end; i++) {
    const teHi = te[2 * i + 1];
    let suspect = tr[i] < 0 || teHi < 0 || sq[2 * i + 1] < 0 || teHi * 4294967296 + (te[2 * i] >>> 0) - tr[i] > AHEAD_HINT || emptySymbol[sym[i]];
    if (!suspect) {
      if (k === 'trade') {
        const p = price[i];
        const s = size[i];
        const d = side[i];
        suspect = !(p > 0 && p < M && s > 0 && s < M && (d === 1 || d === -1 || d === 0));
      } else if (k === 'quote') {
        const bp = bidPx[i];
        const ap = askPx[i];
        const bs = bidSz[i];
        const as = askSz[i];
        suspect = !(bp >= 0 && bp < M && ap >= 0 && ap < M && bs >= 0 && bs < M && as >= 0 && as < M);
      } else if (k === 'book') {
        const p = price[i];
        const s = size[i];
        const d = side[i];
        suspect = !(p > 0 && p < M && s >= 0 && s < M && (d === 1 || d === -1));
      } else {
        // the rare kinds (reference data, news, heartbeats) are judged row by row
        suspect = k !== 'heartbeat';
      }
    }
    if (suspect) {
      const problem = validateEvent(eventAt(b, i));
      if (problem) return { row: i, problem };
    }
  }
  return null;
}
