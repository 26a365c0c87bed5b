/**
 * Training-set rows, buffered column-wise in fixed-size chunks until their labels are resolved,
 * then handed out in row order as writer batches. Plain typed arrays; no I/O.
 */
import { KINDS } from '../core/events.ts';
import type { ColumnData, ColumnSpec } from '../replay/parquet-io.ts';

export const CHUNK_ROWS = 16384;

/** The columns of a training set, in file order. */
export interface TrainingLayout {
  features: readonly string[];
  labels: readonly string[];
  entityRow: boolean;
  split: boolean;
}

/**
 * Column specs of a training set: `symbol`, `ts` (the sample instant), [`entity_row`], the as-of
 * identity of the last event applied for the symbol (`asof_ts_recv`, `asof_source`, `asof_seq`),
 * the features, the labels, [`split`].
 */
export function trainingSetSpecs(l: TrainingLayout): ColumnSpec[] {
  return [
    { name: 'symbol', type: 'utf8' },
    { name: 'ts', type: 'timestamp' },
    ...(l.entityRow ? [{ name: 'entity_row', type: 'int64' as const }] : []),
    { name: 'asof_ts_recv', type: 'timestamp', nullable: true },
    { name: 'asof_source', type: 'utf8', nullable: true },
    { name: 'asof_seq', type: 'int64', nullable: true },
    ...l.features.map((name) => ({ name, type: 'float64' as const, nullable: true })),
    ...l.labels.map((name) => ({ name, type: 'float64' as const, nullable: true })),
    ...(l.split ? [{ name: 'split', type: 'utf8' as const, nullable: true }] : []),
  ];
}

interface Chunk {
  n: number;
  unresolved: number;
  symbol: Int32Array;
  ts: BigInt64Array;
  entityRow: BigInt64Array;
  asofTs: BigInt64Array;
  asofValid: Uint8Array;
  asofSource: Int32Array;
  asofSeq: BigInt64Array;
  fv: Float64Array[];
  fok: Uint8Array[];
  lv: Float64Array[];
  lok: Uint8Array[];
  /** Labels still pending per row. */
  pending: Uint8Array;
}

/** Rows not yet handed out; `base` is the part-wide index of chunks[0]'s first row. */
export interface RowStore {
  layout: TrainingLayout;
  chunks: Chunk[];
  base: number;
  rows: number;
  symbols: string[];
  symbolIds: Map<string, number>;
}

export function initRowStore(layout: TrainingLayout): RowStore {
  return { layout, chunks: [], base: 0, rows: 0, symbols: [], symbolIds: new Map() };
}

function newChunk(l: TrainingLayout): Chunk {
  const f = (n: number) => Array.from({ length: n }, () => new Float64Array(CHUNK_ROWS));
  const u = (n: number) => Array.from({ length: n }, () => new Uint8Array(CHUNK_ROWS));
  return {
    n: 0,
    unresolved: 0,
    symbol: new Int32Array(CHUNK_ROWS),
    ts: new BigInt64Array(CHUNK_ROWS),
    entityRow: new BigInt64Array(l.entityRow ? CHUNK_ROWS : 0),
    asofTs: new BigInt64Array(CHUNK_ROWS),
    asofValid: new Uint8Array(CHUNK_ROWS),
    asofSource: new Int32Array(CHUNK_ROWS).fill(-1),
    asofSeq: new BigInt64Array(CHUNK_ROWS),
    fv: f(l.features.length),
    fok: u(l.features.length),
    lv: f(l.labels.length),
    lok: u(l.labels.length),
    pending: new Uint8Array(CHUNK_ROWS),
  };
}

/** The as-of identity of a symbol: its last applied event (null when it has none). */
export interface AsOf {
  tsRecv: bigint;
  kind: number;
  seq: bigint;
}

/**
 * Appends a row: the symbol's feature values read at `featureIdx` of `values` (null when the
 * symbol is unknown), with `pendingLabels` labels to come. Returns the row's part-wide index.
 */
export function appendRow(
  st: RowStore,
  symbol: string,
  ts: bigint,
  entityRow: bigint,
  asof: AsOf | null,
  values: readonly (number | null)[] | null,
  featureIdx: readonly number[],
  pendingLabels: number,
): number {
  let c = st.chunks.at(-1);
  if (c === undefined || c.n === CHUNK_ROWS) st.chunks.push((c = newChunk(st.layout)));
  const i = c.n++;
  let id = st.symbolIds.get(symbol);
  if (id === undefined) {
    id = st.symbols.push(symbol) - 1;
    st.symbolIds.set(symbol, id);
  }
  c.symbol[i] = id;
  c.ts[i] = ts;
  if (st.layout.entityRow) c.entityRow[i] = entityRow;
  if (asof !== null) {
    c.asofTs[i] = asof.tsRecv;
    c.asofValid[i] = 1;
    c.asofSource[i] = asof.kind;
    c.asofSeq[i] = asof.seq;
  }
  if (values !== null) {
    for (let j = 0; j < featureIdx.length; j++) {
      const v = values[featureIdx[j]];
      if (v !== null) {
        c.fv[j][i] = v;
        c.fok[j][i] = 1;
      }
    }
  }
  c.pending[i] = pendingLabels;
  c.unresolved += pendingLabels;
  return st.rows++;
}

/** Sets label column `col` of `row` (NaN = null) and counts one of its pending labels as done. */
export function setLabel(st: RowStore, row: number, col: number, v: number, countsDone: boolean): void {
  const r = row - st.base;
  const c = st.chunks[(r / CHUNK_ROWS) | 0];
  const i = r % CHUNK_ROWS;
  if (v === v) {
    c.lv[col][i] = v;
    c.lok[col][i] = 1;
  }
  if (countsDone) {
    c.pending[i]--;
    c.unresolved--;
  }
}

/** A batch ready for the writer. */
export interface RowBatch {
  n: number;
  columns: Record<string, ColumnData>;
  /** Sample instants of the batch's rows (for the split column and checks). */
  ts: BigInt64Array;
}

/**
 * The oldest chunk when all its labels are resolved and it is full (or `final`), as a batch;
 * `split` gives each row's split value.
 */
export function takeReady(st: RowStore, final: boolean, split?: (ts: bigint) => string | null): RowBatch | null {
  const c = st.chunks[0];
  if (c === undefined || c.n === 0 || c.unresolved > 0 || (!final && c.n < CHUNK_ROWS)) return null;
  st.chunks.shift();
  st.base += CHUNK_ROWS;
  const n = c.n;
  const l = st.layout;
  const columns: Record<string, ColumnData> = {
    symbol: { dict: [...st.symbols], indices: c.symbol.subarray(0, n) },
    ts: c.ts.subarray(0, n),
    asof_ts_recv: { values: c.asofTs.subarray(0, n), valid: c.asofValid.subarray(0, n) },
    asof_source: { dict: [...KINDS], indices: c.asofSource.subarray(0, n) },
    asof_seq: { values: c.asofSeq.subarray(0, n), valid: c.asofValid.subarray(0, n).slice() },
  };
  if (l.entityRow) columns.entity_row = c.entityRow.subarray(0, n);
  l.features.forEach((name, j) => (columns[name] = { values: c.fv[j].subarray(0, n), valid: c.fok[j].subarray(0, n) }));
  l.labels.forEach((name, j) => (columns[name] = { values: c.lv[j].subarray(0, n), valid: c.lok[j].subarray(0, n) }));
  if (l.split) {
    const names: string[] = [];
    const ids = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const s = split!(c.ts[i]);
      let id = s === null ? -1 : names.indexOf(s);
      if (s !== null && id < 0) id = names.push(s) - 1;
      ids[i] = id;
    }
    columns.split = { dict: names, indices: ids };
  }
  return { n, columns, ts: c.ts.subarray(0, n) };
}
