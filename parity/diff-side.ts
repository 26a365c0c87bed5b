/**
 * One side of the streaming diff (stream-diff.ts): its current batch, read through 32-bit views so
 * rows compare in replay order (or the user's key order) without allocating, its window of rows
 * waiting for a partner, and its rows found only on this side.
 */
import { compareKeyParts, compareRowKey, keyText, sourceRank, type KeyColumn, type KeyValue, type RowKey, type TimeAxis } from '../core/row-key.ts';
import type { FloatColumn, RowBatch } from './row-source.ts';

/**
 * With the user's keys (`DiffOptions.keys`, see core/row-key.ts) a row's identity and order are its
 * key columns' values, lexicographically, instead of the replay order; everything else is the same.
 */
export type EngineKey = RowKey & { parts?: KeyValue[] };

/** What the diff needs to know of a side before its rows: its columns and its time axis. */
export interface SideSchema {
  factorColumns: string[];
  factorTypes?: string[];
  /** What the batches' tsRecv holds (A's spans the timeline); default ts_recv. */
  timeAxis?: TimeAxis;
}

/** Examples of rows only on one side kept for the report. */
const SAMPLE = 20;

/** A row waiting for its partner: its identity, its row number on its side, its shared cells. */
export interface Held extends EngineKey {
  index: number;
  values: Float64Array;
  valid: Uint8Array;
}

export interface Side {
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

export function newSide(colIdx: number[], retireAfter: number): Side {
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
export function cmpRows(x: Side, i: number, y: Side, j: number): number {
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
    // same-typed values differ here; mixed types order integers first (core/row-key.ts)
    if (typeof a === typeof b) return a < b ? -1 : 1;
    return typeof a === 'bigint' ? -1 : 1;
  }
  return 0;
}

export const partsAt = (keys: KeyColumn[], i: number): KeyValue[] => keys.map((c) => c[i]);

export function keyAt(x: Side, i: number): EngineKey {
  const b = x.batch!;
  const k: EngineKey = { symbol: b.symbol[i], source: b.source[i], seq: b.seq[i], tsRecv: b.tsRecv[i] };
  if (b.keys !== undefined) k.parts = partsAt(b.keys, i);
  return k;
}

export const cmpKey = (a: EngineKey, b: EngineKey): number => (a.parts !== undefined ? compareKeyParts(a.parts, b.parts!) : compareRowKey(a, b));
const keyString = (symbol: string, source: string, seq: bigint) => `${symbol}\u0000${source}\u0000${seq}`;
export const keyStringAt = (b: RowBatch, i: number) => (b.keys !== undefined ? keyText(partsAt(b.keys, i)) : keyString(b.symbol[i], b.source[i], b.seq[i]));
const showKey = (k: string) => k.split('\u0000').join('/');

/** A copy of row i of x's shared cells, to wait in a window (n = shared columns). */
export function hold(x: Side, i: number, n: number): Held {
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

/** Counts a row only on x's side, keeping the first SAMPLE (by row number) as examples. */
export function onlyIn(x: Side, index: number, key: string): void {
  x.onlyIn++;
  const smp = x.sample;
  if (smp.length === SAMPLE && index > smp[SAMPLE - 1].index) return;
  if (smp.length === SAMPLE) smp.pop();
  let at = smp.length;
  while (at > 0 && smp[at - 1].index > index) at--;
  smp.splice(at, 0, { index, key: showKey(key) });
}

/** Makes `batch` x's current batch: its views, shared columns, and whether x is still in order. */
export function loadBatch(x: Side, batch: RowBatch): void {
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
}
