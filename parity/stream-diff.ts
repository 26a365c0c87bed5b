/**
 * The streaming diff engine: a merge join of two factor tables read a batch at a time, so a diff
 * of two 5M-row tables holds two batches, not two tables.
 *
 * Both sides normally arrive in the replay order (ts_recv, source priority, symbol, seq): a second
 * replay writes the same order, and a live capture is merged across shards by it. The engine
 * always consumes the smaller head of the two; equal heads start a run of rows the two sides share
 * in the same order, compared where they lie, column by column (the common case: no copies, no
 * per-row allocation). A row whose partner has not arrived yet waits in its side's window, a map
 * keyed by (symbol, source, seq); a row arriving later on the other side finds it there. So rows
 * out of order still match: order is what keeps the windows small, not what makes the answer
 * right. The report is the same whatever the order.
 *
 * Rows only on one side would pile up in a window. When the other side has been in order so far,
 * a waiting row that sorts before the other side's head can no longer get a partner, so once a
 * window holds `retireAfter` rows, such rows are retired: counted as only on their side, with the
 * first 20 kept as examples. Should a later row of the other side find no partner and sort at or
 * below the largest retired key (that side was not in order after all), a retired row might have
 * been its partner: the first pass is then abandoned and the diff starts over with retirement off
 * (exact, at the cost of memory). The stats say how many passes it took and how large the windows
 * got.
 *
 * Everything else is O(columns) (per-factor counts and worst differences) or O(symbols) (first
 * divergence per symbol), plus 8 bytes per mismatched row for the timeline, whose time span (A's
 * ts_recv range) is only known at the end.
 *
 * A key repeated on one side is a table error; here every row matches at most one row on the
 * other side, and a repeat left without a partner counts as a row only on its side.
 */
import { endianness } from 'node:os';
import type { DiffOptions, DiffReport, Divergence, FactorSummary } from './diff.ts';
import { cellsAgree, toleranceName, ulpDistance, type Tolerance } from './tolerance.ts';
import { compareRowKey, sourceRank, type RowKey } from '../core/row-key.ts';
import type { FloatColumn, RowBatch, RowSource } from './row-source.ts';
import { compareKeyParts, isIdentityKeys, keyText, type KeyColumn, type KeyValue, type TimeAxis } from '../core/row-key.ts';

if (endianness() !== 'LE') throw new Error('the diff engine reads int64 keys as two 32-bit halves and needs a little-endian machine');

export interface StreamDiffOptions extends DiffOptions {
  /** Rows a window may hold before rows that can no longer match are retired (default 16384). */
  retireAfter?: number;
}

/**
 * With the user's keys (`DiffOptions.keys`, see row-key.ts) a row's identity and order are its key
 * columns' values, lexicographically, instead of the replay order; everything else is the same.
 */
type EngineKey = RowKey & { parts?: KeyValue[] };

export interface StreamStats {
  /** 1, or 2 when a side's disorder made the first pass's retirements unsafe. */
  passes: number;
  /** Most rows held waiting for a partner at once (both sides), and per side. */
  windowHighWater: number;
  windowHighWaterA: number;
  windowHighWaterB: number;
  /** Rows counted as only on one side before the end, by order. */
  retired: number;
  /** Matched rows that met head to head (same order) and through a window (out of order). */
  headMatches: number;
  windowMatches: number;
}

export interface SideSchema {
  factorColumns: string[];
  factorTypes?: string[];
  /** What the batches' tsRecv holds (A's spans the timeline); default ts_recv. */
  timeAxis?: TimeAxis;
}

export type Need = 'A' | 'B' | 'done' | 'restart';

const SAMPLE = 20;
const BUCKETS = 96;
const DAY = 86_400_000_000_000n;

/** A row waiting for its partner: its identity, its row number on its side, its shared cells. */
interface Held extends EngineKey {
  index: number;
  values: Float64Array;
  valid: Uint8Array;
}

interface Side {
  batch: RowBatch | null;
  i: number;
  /** Row number (on this side) of the batch's first row. */
  base: number;
  rows: number;
  ended: boolean;
  /** The batch's shared columns in report order, and each one's index among the side's columns. */
  cols: FloatColumn[];
  colIdx: number[];
  /** Little-endian 32-bit views of ts_recv and seq: order compares without allocating bigints. */
  tsI: Int32Array;
  tsU: Uint32Array;
  seqI: Int32Array;
  seqU: Uint32Array;
  window: Map<string, Held>;
  nextScan: number;
  /** Every row pushed so far was in replay order (or key order, with the user's keys). */
  inOrder: boolean;
  last: EngineKey | null;
  maxRetired: EngineKey | null;
  onlyIn: number;
  sample: { index: number; key: string }[];
  highWater: number;
  retired: number;
}

const EMPTY_I = new Int32Array(0);
const EMPTY_U = new Uint32Array(0);

function newSide(colIdx: number[], retireAfter: number): Side {
  return {
    batch: null,
    i: 0,
    base: 0,
    rows: 0,
    ended: false,
    cols: [],
    colIdx,
    tsI: EMPTY_I,
    tsU: EMPTY_U,
    seqI: EMPTY_I,
    seqU: EMPTY_U,
    window: new Map(),
    nextScan: retireAfter,
    inOrder: true,
    last: null,
    maxRetired: null,
    onlyIn: 0,
    sample: [],
    highWater: 0,
    retired: 0,
  };
}

/** Replay order (or the user's key order) of row i of x against row j of y (negative, zero, positive). */
function cmpRows(x: Side, i: number, y: Side, j: number): number {
  const kx = x.batch!.keys;
  if (kx !== undefined) return cmpKeyColumns(kx, i, y.batch!.keys!, j);
  let d = x.tsI[2 * i + 1] - y.tsI[2 * j + 1];
  if (d !== 0) return d;
  d = x.tsU[2 * i] - y.tsU[2 * j];
  if (d !== 0) return d;
  const bx = x.batch!;
  const by = y.batch!;
  const sx = bx.source[i];
  const sy = by.source[j];
  if (sx !== sy) {
    d = sourceRank(sx) - sourceRank(sy);
    return d !== 0 ? d : sx < sy ? -1 : 1;
  }
  const yx = bx.symbol[i];
  const yy = by.symbol[j];
  if (yx !== yy) return yx < yy ? -1 : 1;
  d = x.seqI[2 * i + 1] - y.seqI[2 * j + 1];
  if (d !== 0) return d;
  return x.seqU[2 * i] - y.seqU[2 * j];
}

function cmpKeyColumns(kx: KeyColumn[], i: number, ky: KeyColumn[], j: number): number {
  for (let c = 0; c < kx.length; c++) {
    const a = kx[c][i];
    const b = ky[c][j];
    if (a === b) continue;
    // same-typed values differ here; mixed types order integers first (row-key.ts)
    if (typeof a === typeof b) return a < b ? -1 : 1;
    return typeof a === 'bigint' ? -1 : 1;
  }
  return 0;
}

const partsAt = (keys: KeyColumn[], i: number): KeyValue[] => keys.map((c) => c[i]);

function keyAt(x: Side, i: number): EngineKey {
  const b = x.batch!;
  const k: EngineKey = { symbol: b.symbol[i], source: b.source[i], seq: b.seq[i], tsRecv: b.tsRecv[i] };
  if (b.keys !== undefined) k.parts = partsAt(b.keys, i);
  return k;
}

const cmpKey = (a: EngineKey, b: EngineKey): number => (a.parts !== undefined ? compareKeyParts(a.parts, b.parts!) : compareRowKey(a, b));
const keyString = (symbol: string, source: string, seq: bigint) => `${symbol}\u0000${source}\u0000${seq}`;
const keyStringAt = (b: RowBatch, i: number) => (b.keys !== undefined ? keyText(partsAt(b.keys, i)) : keyString(b.symbol[i], b.source[i], b.seq[i]));
const showKey = (k: string) => k.split('\u0000').join('/');

/**
 * One diff pass as a state machine: `push` a side's next batch (null at its end), `step` until it
 * says which side it needs next, `report` when it says done. Synchronous, so the same engine
 * serves in-memory tables (`diffTables`) and streamed sources (`diffSources`).
 */
export function createStreamDiff(schemaA: SideSchema, schemaB: SideSchema, opts: StreamDiffOptions = {}, retire = true) {
  // --columns: compare only these (a reference table computed a few factors, not the whole set)
  const only = opts.columns;
  const colsA = only ? schemaA.factorColumns.filter((c) => only.includes(c)) : schemaA.factorColumns;
  const colsB = only ? schemaB.factorColumns.filter((c) => only.includes(c)) : schemaB.factorColumns;
  const shared = colsA.filter((c) => colsB.includes(c));
  const userKeys = isIdentityKeys(opts.keys) ? undefined : opts.keys!;
  const axis = schemaA.timeAxis ?? 'ts_recv';
  const n = shared.length;
  const tol: Tolerance[] = shared.map((c) => opts.factorTolerance?.[c] ?? opts.tolerance ?? { kind: 'exact' });
  const sums: FactorSummary[] = shared.map((c, s) => ({ factor: c, tolerance: toleranceName(tol[s]), compared: 0, mismatched: 0, signedZero: 0, maxAbs: 0, maxRel: 0, maxUlp: '0' }));
  const maxUlp = shared.map(() => 0n);
  const retireAfter = opts.retireAfter ?? 16384;
  const A = newSide(shared.map((c) => schemaA.factorColumns.indexOf(c)), retireAfter);
  const B = newSide(shared.map((c) => schemaB.factorColumns.indexOf(c)), retireAfter);
  let matched = 0;
  let headMatches = 0;
  let windowMatches = 0;
  let mismatchedCells = 0;
  let highWater = 0;
  let tsLo: bigint | null = null;
  let tsHi: bigint | null = null;
  /** ts_recv (A's) of each mismatched row, for the timeline. */
  let badTs = new BigInt64Array(1024);
  let badRows = 0;
  const first = new Map<string, { index: number; d: Divergence }>();
  let flushed = false;

  /** Stats of a cell pair that is not the same bits (or has a null); true when it is a mismatch. */
  function cellDiffers(s: number, va: number | null, vb: number | null): boolean {
    if (va !== null && vb !== null) {
      const sum = sums[s];
      if (va === 0 && vb === 0 && !Object.is(va, vb)) sum.signedZero++;
      if (!Number.isNaN(va) && !Number.isNaN(vb)) {
        const abs = Math.abs(va - vb);
        const rel = abs === 0 ? 0 : abs / Math.max(Math.abs(va), Math.abs(vb));
        if (abs > sum.maxAbs) sum.maxAbs = abs;
        if (rel > sum.maxRel) sum.maxRel = rel;
        const u = ulpDistance(va, vb);
        if (u > maxUlp[s]) maxUlp[s] = u;
      }
    }
    if (cellsAgree(va, vb, tol[s])) return false;
    sums[s].mismatched++;
    mismatchedCells++;
    return true;
  }

  /** A mismatched row: the timeline, and the symbol's first divergence (smallest row of A). */
  function badRow(index: number, symbol: string, source: string, seq: bigint, tsRecv: bigint, s: number, va: number | null, vb: number | null, parts?: KeyValue[]): void {
    if (badRows === badTs.length) {
      const grown = new BigInt64Array(badTs.length * 2);
      grown.set(badTs);
      badTs = grown;
    }
    badTs[badRows++] = tsRecv;
    const f = first.get(symbol);
    if (f === undefined || index < f.index) {
      const d: Divergence = { symbol, source, seq: seq.toString(), tsRecv: tsRecv.toString(), factor: shared[s], a: va, b: vb };
      if (userKeys !== undefined && parts !== undefined) d.key = Object.fromEntries(userKeys.map((k, c) => [k, String(parts[c])]));
      first.set(symbol, { index, d });
    }
  }

  /** First mismatched column (and its cells) of each row of the current run, by row offset. */
  const runBad = new Map<number, { s: number; a: number | null; b: number | null }>();

  function runCell(s: number, j: number, va: number | null, vb: number | null): void {
    if (cellDiffers(s, va, vb) && !runBad.has(j)) runBad.set(j, { s, a: va, b: vb });
  }

  /**
   * The next k rows of A and B are the same rows in the same order (the common case): compare them
   * where they lie, column by column, with no copies. Equal bits (telling -0 from +0) and NaN vs
   * NaN agree and change no stats, so only the rare differing cells leave the tight loops.
   */
  function matchRun(k: number): void {
    const ia = A.i;
    const ib = B.i;
    for (let s = 0; s < n; s++) {
      const ca = A.cols[s];
      const cb = B.cols[s];
      const xa = ca.values;
      const xb = cb.values;
      const ba = ca.bits;
      const bb = cb.bits;
      if (ba === null && bb === null) {
        for (let j = 0; j < k; j++) {
          const va = xa[ia + j];
          const vb = xb[ib + j];
          if (va === vb ? va !== 0 || 1 / va === 1 / vb : va !== va && vb !== vb) continue;
          runCell(s, j, va, vb);
        }
        continue;
      }
      const oa = ca.bitOffset + ia;
      const ob = cb.bitOffset + ib;
      for (let j = 0; j < k; j++) {
        const nullA = ba !== null && ((ba[(oa + j) >> 3] >> ((oa + j) & 7)) & 1) === 0;
        const nullB = bb !== null && ((bb[(ob + j) >> 3] >> ((ob + j) & 7)) & 1) === 0;
        const va = xa[ia + j];
        const vb = xb[ib + j];
        if (!nullA && !nullB) {
          if (va === vb ? va !== 0 || 1 / va === 1 / vb : va !== va && vb !== vb) continue;
        } else if (nullA && nullB) continue;
        runCell(s, j, nullA ? null : va, nullB ? null : vb);
      }
    }
    matched += k;
    headMatches += k;
    if (runBad.size > 0) {
      const b = A.batch!;
      for (const [j, f] of runBad) badRow(A.base + ia + j, b.symbol[ia + j], b.source[ia + j], b.seq[ia + j], b.tsRecv[ia + j], f.s, f.a, f.b, b.keys && partsAt(b.keys, ia + j));
      runBad.clear();
    }
  }

  function hold(x: Side, i: number): Held {
    const values = new Float64Array(n);
    const valid = new Uint8Array(n);
    for (let s = 0; s < n; s++) {
      const c = x.cols[s];
      values[s] = c.values[i];
      if (c.bits === null) valid[s] = 1;
      else {
        const k = c.bitOffset + i;
        valid[s] = (c.bits[k >> 3] >> (k & 7)) & 1;
      }
    }
    const b = x.batch!;
    const h: Held = { index: x.base + i, symbol: b.symbol[i], source: b.source[i], seq: b.seq[i], tsRecv: b.tsRecv[i], values, valid };
    if (b.keys !== undefined) h.parts = partsAt(b.keys, i);
    return h;
  }

  /** Two rows that met through a window (rare: only rows out of order get here). */
  function matchHeld(a: Held, b: Held): void {
    let bad = -1;
    let badA: number | null = null;
    let badB: number | null = null;
    for (let s = 0; s < n; s++) {
      const va = a.valid[s] ? a.values[s] : null;
      const vb = b.valid[s] ? b.values[s] : null;
      if (va === null || vb === null ? va === vb : Object.is(va, vb) || (Number.isNaN(va) && Number.isNaN(vb))) continue;
      if (cellDiffers(s, va, vb) && bad < 0) {
        bad = s;
        badA = va;
        badB = vb;
      }
    }
    matched++;
    windowMatches++;
    if (bad >= 0) badRow(a.index, a.symbol, a.source, a.seq, a.tsRecv, bad, badA, badB, a.parts);
  }

  function onlyIn(x: Side, index: number, key: string): void {
    x.onlyIn++;
    const smp = x.sample;
    if (smp.length === SAMPLE && index > smp[SAMPLE - 1].index) return;
    if (smp.length === SAMPLE) smp.pop();
    let at = smp.length;
    while (at > 0 && smp[at - 1].index > index) at--;
    smp.splice(at, 0, { index, key: showKey(key) });
  }

  /** Retires x's waiting rows that sort before o's head, when o has been in order so far. */
  function retireRows(x: Side, o: Side): void {
    if (o.inOrder) {
      const w = keyAt(o, o.i);
      for (const [k, h] of x.window) {
        if (cmpKey(h, w) >= 0) continue;
        x.window.delete(k);
        onlyIn(x, h.index, k);
        x.retired++;
        if (x.maxRetired === null || cmpKey(h, x.maxRetired) > 0) x.maxRetired = { symbol: h.symbol, source: h.source, seq: h.seq, tsRecv: h.tsRecv, parts: h.parts };
      }
    }
    x.nextScan = Math.max(retireAfter, 2 * x.window.size);
  }

  /** x's head is not o's head: find its partner in o's window, or wait in x's. True = restart. */
  function takeRow(x: Side, o: Side): boolean {
    const i = x.i;
    const b = x.batch!;
    const k = keyStringAt(b, i);
    const partner = o.window.get(k);
    if (partner !== undefined) {
      o.window.delete(k);
      const mine = hold(x, i);
      if (x === A) matchHeld(mine, partner);
      else matchHeld(partner, mine);
      return false;
    }
    // a retired row of o may have been this row's partner: start over without retiring
    if (o.maxRetired !== null && cmpKey(keyAt(x, i), o.maxRetired) <= 0) return true;
    if (o.ended) {
      onlyIn(x, x.base + i, k);
      return false;
    }
    const twin = x.window.get(k);
    if (twin !== undefined) {
      x.window.delete(k);
      onlyIn(x, twin.index, k);
    }
    x.window.set(k, hold(x, i));
    if (x.window.size > x.highWater) x.highWater = x.window.size;
    if (A.window.size + B.window.size > highWater) highWater = A.window.size + B.window.size;
    if (retire && x.window.size >= x.nextScan) retireRows(x, o);
    return false;
  }

  function push(side: 'A' | 'B', batch: RowBatch | null): void {
    const x = side === 'A' ? A : B;
    if (batch === null) {
      x.ended = true;
      x.batch = null;
      return;
    }
    if ((batch.keys !== undefined) !== (userKeys !== undefined) || (userKeys !== undefined && batch.keys!.length !== userKeys.length)) {
      throw new Error(`a ${side} batch without the key columns the diff was asked to match on (${(userKeys ?? ['symbol', 'source', 'seq']).join(',')})`);
    }
    x.batch = batch;
    x.i = 0;
    x.base = x.rows;
    x.rows += batch.n;
    x.cols = x.colIdx.map((j) => batch.columns[j]);
    const len = batch.n * 2;
    x.tsI = new Int32Array(batch.tsRecv.buffer, batch.tsRecv.byteOffset, len);
    x.tsU = new Uint32Array(batch.tsRecv.buffer, batch.tsRecv.byteOffset, len);
    x.seqI = new Int32Array(batch.seq.buffer, batch.seq.byteOffset, len);
    x.seqU = new Uint32Array(batch.seq.buffer, batch.seq.byteOffset, len);
    if (batch.n === 0) return;
    if (x.inOrder) {
      if (x.last !== null && cmpKey(x.last, keyAt(x, 0)) > 0) x.inOrder = false;
      for (let i = 1; i < batch.n && x.inOrder; i++) if (cmpRows(x, i - 1, x, i) > 0) x.inOrder = false;
    }
    x.last = keyAt(x, batch.n - 1);
    if (x === A) {
      // A's ts_recv range spans the timeline
      let lo = 0;
      let hi = 0;
      for (let i = 1; i < batch.n; i++) {
        if (x.tsI[2 * i + 1] - x.tsI[2 * lo + 1] < 0 || (x.tsI[2 * i + 1] === x.tsI[2 * lo + 1] && x.tsU[2 * i] < x.tsU[2 * lo])) lo = i;
        if (x.tsI[2 * i + 1] - x.tsI[2 * hi + 1] > 0 || (x.tsI[2 * i + 1] === x.tsI[2 * hi + 1] && x.tsU[2 * i] > x.tsU[2 * hi])) hi = i;
      }
      if (tsLo === null || batch.tsRecv[lo] < tsLo) tsLo = batch.tsRecv[lo];
      if (tsHi === null || batch.tsRecv[hi] > tsHi) tsHi = batch.tsRecv[hi];
    }
  }

  function step(): Need {
    for (;;) {
      const aIn = A.batch !== null && A.i < A.batch.n;
      if (!aIn && !A.ended) return 'A';
      const bIn = B.batch !== null && B.i < B.batch.n;
      if (!bIn && !B.ended) return 'B';
      if (!aIn && !bIn) {
        if (!flushed) {
          flushed = true;
          for (const [k, h] of A.window) onlyIn(A, h.index, k);
          for (const [k, h] of B.window) onlyIn(B, h.index, k);
          A.window.clear();
          B.window.clear();
        }
        return 'done';
      }
      const c = aIn && bIn ? cmpRows(A, A.i, B, B.i) : aIn ? -1 : 1;
      if (c === 0) {
        // extend to the whole run of rows the two sides share in the same order
        const most = Math.min(A.batch!.n - A.i, B.batch!.n - B.i);
        let k = 1;
        while (k < most && cmpRows(A, A.i + k, B, B.i + k) === 0) k++;
        matchRun(k);
        A.i += k;
        B.i += k;
      } else if (c < 0) {
        if (takeRow(A, B)) return 'restart';
        A.i++;
      } else {
        if (takeRow(B, A)) return 'restart';
        B.i++;
      }
    }
  }

  function report(): DiffReport {
    if (!flushed) throw new Error('report() before the diff is done');
    let lo = tsLo ?? 0n;
    const hi = tsHi ?? lo;
    // the day of the last row: earlier-dated point-in-time rows (old fundamentals) would squash it
    if (axis !== 'row' && hi - lo > DAY) lo = (hi / DAY) * DAY;
    const span = hi - lo + 1n;
    const buckets = new Array<number>(BUCKETS).fill(0);
    for (let r = 0; r < badRows; r++) {
      const t = badTs[r];
      buckets[t < lo ? 0 : Number(((t - lo) * BigInt(BUCKETS)) / span)]++;
    }
    sums.forEach((s, i) => {
      s.compared = matched;
      s.maxUlp = maxUlp[i].toString();
    });
    const columnsOnlyInA = colsA.filter((c) => !colsB.includes(c));
    const columnsOnlyInB = colsB.filter((c) => !colsA.includes(c));
    const skew = A.onlyIn > 0 || B.onlyIn > 0 || mismatchedCells > 0 || columnsOnlyInA.length > 0 || columnsOnlyInB.length > 0;
    const r: DiffReport = {
      verdict: skew ? 'skew' : 'parity',
      rowsA: A.rows,
      rowsB: B.rows,
      matchedRows: matched,
      onlyInA: A.onlyIn,
      onlyInB: B.onlyIn,
      onlyInASample: A.sample.map((x) => x.key),
      onlyInBSample: B.sample.map((x) => x.key),
      columnsOnlyInA,
      columnsOnlyInB,
      mismatchedCells,
      factors: sums,
      // in A's row order first (as the in-memory diff found them), then by ts_recv
      firstDivergencePerSymbol: [...first.values()].sort((x, y) => x.index - y.index).map((f) => f.d).sort((x, y) => (BigInt(x.tsRecv) < BigInt(y.tsRecv) ? -1 : 1)),
      timeline: { fromNs: lo.toString(), toNs: hi.toString(), buckets },
    };
    if (axis !== 'ts_recv') r.timeline.axis = axis;
    const typeDiffs = shared
      .map((c) => ({ column: c, a: schemaA.factorTypes?.[schemaA.factorColumns.indexOf(c)], b: schemaB.factorTypes?.[schemaB.factorColumns.indexOf(c)] }))
      .filter((t): t is { column: string; a: string; b: string } => t.a !== undefined && t.b !== undefined && t.a !== t.b);
    if (typeDiffs.length) r.columnTypeDifferences = typeDiffs;
    return r;
  }

  function stats(passes: number): StreamStats {
    return { passes, windowHighWater: highWater, windowHighWaterA: A.highWater, windowHighWaterB: B.highWater, retired: A.retired + B.retired, headMatches, windowMatches };
  }

  return { push, step, report, stats };
}

/** Both sides' batches, for a synchronous diff of in-memory tables. */
export function diffBatchesSync(a: SideSchema & { batches(): Iterable<RowBatch> }, b: SideSchema & { batches(): Iterable<RowBatch> }, opts: StreamDiffOptions = {}): { report: DiffReport; stats: StreamStats } {
  for (let pass = 1; ; pass++) {
    const d = createStreamDiff(a, b, opts, pass === 1);
    const its = { A: a.batches()[Symbol.iterator](), B: b.batches()[Symbol.iterator]() };
    for (;;) {
      const need = d.step();
      if (need === 'done') return { report: d.report(), stats: d.stats(pass) };
      if (need === 'restart') break;
      const r = its[need].next();
      d.push(need, r.done ? null : r.value);
    }
  }
}

/** Diffs two sources, streaming; reads both again if the first pass has to be redone. */
export async function diffSources(a: RowSource, b: RowSource, opts: StreamDiffOptions = {}): Promise<{ report: DiffReport; stats: StreamStats }> {
  for (let pass = 1; ; pass++) {
    const d = createStreamDiff(a, b, opts, pass === 1);
    const its = { A: a.batches()[Symbol.asyncIterator](), B: b.batches()[Symbol.asyncIterator]() };
    try {
      for (;;) {
        const need = d.step();
        if (need === 'done') return { report: d.report(), stats: d.stats(pass) };
        if (need === 'restart') break;
        const r = await its[need].next();
        d.push(need, r.done ? null : r.value);
      }
    } finally {
      await its.A.return?.();
      await its.B.return?.();
    }
  }
}

/** One line for the terminal (stderr): how the streaming went. */
export function formatStats(s: StreamStats, seconds: number, rows: number): string {
  const rate = seconds > 0 ? `${(rows / seconds / 1e6).toFixed(2)}M rows/s` : '-';
  return `diffed ${rows.toLocaleString('en-US')} rows in ${seconds.toFixed(1)} s (${rate}), ${s.passes} pass${s.passes > 1 ? 'es' : ''}; unmatched window high-water ${s.windowHighWater} rows (A ${s.windowHighWaterA}, B ${s.windowHighWaterB}); ${s.windowMatches} rows matched out of order; ${s.retired} retired early`;
}
