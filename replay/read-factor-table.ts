/**
 * Reads a factor table back into plain columns (exact: bigint keys and times, float64 values with
 * nulls as null). Used by tests and notebooks. `openFactorTableStream` reads it a row group at a
 * time instead, column-wise with validity bitmaps, for the streaming parity diff.
 */
import { openAsBlob } from 'node:fs';
import { createRequire } from 'node:module';
import { Type, tableFromIPC, type Data, type RecordBatch, type Table, type Vector } from 'apache-arrow';
import { InputError } from '../core/errors.ts';
import { keyValueOfNumber, keyValueOfText, valueColumns, type KeyColumn } from '../core/row-key.ts';
import { chunkValues, openParquet, ParquetFileError, READ_BATCH_SIZE } from './parquet-io.ts';

const require = createRequire(import.meta.url);
const pq = require('parquet-wasm/node') as typeof import('parquet-wasm/node');

/** A factor table read whole: key columns and each factor column, row by row. */
export interface FactorTable {
  columns: string[];
  symbol: string[];
  source: string[];
  seq: bigint[];
  tsEvent: bigint[];
  tsRecv: bigint[];
  /** Factor columns by name; null = warming up. */
  values: Record<string, (number | null)[]>;
  metadata: Map<string, string>;
}

/** Reads a whole factor table (a replay's output) into memory; for large ones use `openFactorTableStream`. */
export async function readFactorTable(path: string): Promise<FactorTable> {
  const src = await openParquet(path);
  const factorCols = src.columns.map((c) => c.name).filter((n) => !['symbol', 'source', 'seq', 'ts_event', 'ts_recv'].includes(n));
  const t: FactorTable = { columns: src.columns.map((c) => c.name), symbol: [], source: [], seq: [], tsEvent: [], tsRecv: [], values: Object.fromEntries(factorCols.map((c) => [c, []])), metadata: src.metadata };
  for (let g = 0; g < src.numRowGroups; g++) {
    const table = src.readRowGroup(g);
    const big = (name: string, out: bigint[]) => {
      for (const d of table.getChild(name)!.data) for (const v of chunkValues(d as unknown as { values: BigInt64Array; offset: number; length: number })) out.push(v);
    };
    big('seq', t.seq);
    big('ts_event', t.tsEvent);
    big('ts_recv', t.tsRecv);
    const sym = table.getChild('symbol')!;
    const source = table.getChild('source')!;
    for (let i = 0; i < table.numRows; i++) {
      t.symbol.push(sym.get(i) as string);
      t.source.push(source.get(i) as string);
    }
    for (const c of factorCols) {
      const col = table.getChild(c)!;
      const out = t.values[c];
      for (let i = 0; i < table.numRows; i++) out.push(col.isValid(i) ? (col.get(i) as number) : null);
    }
  }
  return t;
}

/** A float64 column slice: `values[i]` is meaningful where bit `bitOffset + i` of `bits` is set. */
export interface FloatColumn {
  values: Float64Array;
  /** Arrow validity bitmap (LSB first); null when no value is null. */
  bits: Uint8Array | null;
  bitOffset: number;
}

/** Some rows of a factor table, column by column, exact. */
export interface FactorTableChunk {
  n: number;
  symbol: string[];
  source: string[];
  seq: BigInt64Array;
  tsEvent: BigInt64Array;
  tsRecv: BigInt64Array;
  /** In the order of `FactorTableStream.factorColumns`. */
  columns: FloatColumn[];
  /** The chosen key columns' values, when the table is diffed by keys of the user's choice. */
  keys?: KeyColumn[];
}

/** A factor table opened for reading one row group at a time. */
export interface FactorTableStream {
  path: string;
  columns: string[];
  factorColumns: string[];
  /** Arrow type of each factor column as stored (non-float64 numbers are widened to float64). */
  factorTypes: string[];
  numRows: number;
  numRowGroups: number;
  metadata: Map<string, string>;
  /** The rows in file order, a record batch at a time; each call starts from the first row again. */
  chunks(): AsyncGenerator<FactorTableChunk>;
}

/** The columns a table must have to be diffed by `keys` (default: the input event's identity). */
export function checkKeyColumns(names: readonly string[], path: string, keys?: readonly string[]): void {
  if (keys === undefined) {
    for (const k of ['symbol', 'source', 'seq', 'ts_recv']) if (!names.includes(k)) throw new InputError({ file: path, field: k, reason: 'missing key column (a factor table needs symbol, source, seq, ts_recv)' });
  } else {
    for (const k of keys) if (!names.includes(k)) throw new InputError({ file: path, field: k, reason: `missing key column (--keys ${keys.join(',')})` });
  }
}

/**
 * Opens a factor table for streaming. Memory is bounded by one row group: the file's bytes are
 * read through a file-backed Blob a column chunk at a time, never loaded whole (a 5M-row table is
 * over a gigabyte). Files other tools wrote are accepted when they have the key columns and
 * numeric factor columns. `keys`: columns of the user's choice that identify a row (see
 * core/row-key.ts); by default the input event's identity. `exclude`: columns that are neither keys
 * nor values (a training set's `asof_*` identity and `split`).
 */
export async function openFactorTableStream(path: string, keys?: readonly string[], opts: { exclude?: readonly string[] } = {}): Promise<FactorTableStream> {
  const src = await openParquet(path);
  const names = src.columns.map((c) => c.name);
  checkKeyColumns(names, path, keys);
  const values = valueColumns(names, keys).filter((c) => !(opts.exclude ?? []).includes(c));
  const factorCols = src.columns.filter((c) => values.includes(c.name));
  return {
    path,
    columns: names,
    factorColumns: factorCols.map((c) => c.name),
    factorTypes: factorCols.map((c) => c.type),
    numRows: src.numRows,
    numRowGroups: src.numRowGroups,
    metadata: src.metadata,
    async *chunks() {
      const file = await pq.ParquetFile.fromFile(await openAsBlob(path));
      let row = 0;
      try {
        for (let g = 0; g < src.numRowGroups; g++) {
          let table: Table;
          try {
            table = tableFromIPC((await file.read({ rowGroups: [g], batchSize: READ_BATCH_SIZE })).intoIPCStream());
          } catch (e) {
            throw new ParquetFileError(path, `row group ${g} is unreadable (${(e as Error).message ?? String(e)})`);
          }
          for (const batch of table.batches) {
            yield factorTableChunk(batch, path, row, factorCols.map((c) => c.name), keys);
            row += batch.numRows;
          }
        }
      } finally {
        file.free();
      }
    },
  };
}

/**
 * One decoded record batch of a factor table as a chunk (`firstRow`: its first row, for errors).
 * With `keys` (the user's row keys), the identity columns may be absent: symbol and source are then
 * empty, seq 0, and ts_recv (the mismatch timeline's axis) falls back to ts_event, then to the row
 * number.
 */
export function factorTableChunk(batch: RecordBatch, path: string, firstRow: number, factorCols: string[], keys?: readonly string[]): FactorTableChunk {
  const n = batch.numRows;
  const child = (name: string): Data => batch.getChild(name)!.data[0];
  const has = (name: string) => batch.getChild(name) !== null;
  const int = (name: string) => int64s(child(name), path, firstRow, name);
  const tsEvent = has('ts_event') ? int('ts_event') : new BigInt64Array(n);
  const chunk: FactorTableChunk = {
    n,
    symbol: keys === undefined || has('symbol') ? strings(batch.getChild('symbol')!) : new Array<string>(n).fill(''),
    source: keys === undefined || has('source') ? strings(batch.getChild('source')!) : new Array<string>(n).fill(''),
    seq: keys === undefined || has('seq') ? int('seq') : new BigInt64Array(n),
    tsEvent,
    tsRecv: keys === undefined || has('ts_recv') ? int('ts_recv') : has('ts_event') ? tsEvent : BigInt64Array.from({ length: n }, (_, i) => BigInt(firstRow + i)),
    columns: factorCols.map((c) => floats(child(c), path, firstRow, c)),
  };
  if (keys !== undefined) chunk.keys = keys.map((k) => keyColumn(batch.getChild(k)!, path, firstRow, k));
  return chunk;
}

/** A key column's values, normalized (core/row-key.ts) so that the same value matches across formats. */
function keyColumn(v: Vector, path: string, firstRow: number, field: string): KeyColumn {
  const d = v.data[0];
  if (d.nullCount > 0) {
    for (let i = 0; i < d.length; i++) if (!v.isValid(i)) throw new InputError({ file: path, row: firstRow + i, field, value: 'null', reason: 'a key column cannot hold nulls' });
  }
  const t = d.type as { typeId: Type };
  if (t.typeId === Type.Int || t.typeId === Type.Timestamp) return int64s(d, path, firstRow, field);
  if (t.typeId === Type.Float) {
    const out = new Array(d.length);
    for (let i = 0; i < d.length; i++) out[i] = keyValueOfNumber(v.get(i) as number);
    return out;
  }
  if (t.typeId === Type.Utf8 || t.typeId === Type.LargeUtf8 || t.typeId === Type.Dictionary) return strings(v).map(keyValueOfText);
  throw new InputError({ file: path, row: firstRow, field, reason: `a key column must be an integer, timestamp, float or string column, not ${String(d.type)}` });
}

const dictionaryStrings = new WeakMap<object, string[]>();

/** Key strings; a dictionary column decodes each distinct string once, not once per row. */
function strings(v: Vector): string[] {
  const d = v.data[0];
  if (d.type.typeId === Type.Dictionary && d.dictionary && d.nullCount === 0) {
    let dict = dictionaryStrings.get(d.dictionary);
    if (!dict) {
      dict = Array.from(d.dictionary as Iterable<string>, (s) => s ?? '');
      dictionaryStrings.set(d.dictionary, dict);
    }
    const idx = chunkValues(d as unknown as { values: Int32Array; offset: number; length: number });
    const out = new Array<string>(d.length);
    for (let i = 0; i < out.length; i++) out[i] = dict[idx[i]];
    return out;
  }
  const out = new Array<string>(v.length);
  for (let i = 0; i < out.length; i++) out[i] = String(v.get(i) ?? '');
  return out;
}

/** Exact 64-bit integers (int64 and timestamps in their stored unit); narrower ints widened. */
function int64s(d: Data, path: string, firstRow: number, field: string): BigInt64Array {
  const t = d.type as { typeId: Type; bitWidth?: number };
  if (t.typeId === Type.Timestamp || (t.typeId === Type.Int && t.bitWidth === 64)) {
    const v = chunkValues(d as unknown as { values: BigInt64Array; offset: number; length: number });
    return v instanceof BigInt64Array ? v : BigInt64Array.from(v as Iterable<bigint>);
  }
  if (t.typeId === Type.Int) return BigInt64Array.from(chunkValues(d as unknown as { values: Int32Array; offset: number; length: number }), (x) => BigInt(x));
  throw new InputError({ file: path, row: firstRow, field, reason: `must be an integer or timestamp column, not ${String(d.type)}` });
}

/** A factor column as float64 with its validity bitmap; other numeric types are widened. */
function floats(d: Data, path: string, firstRow: number, field: string): FloatColumn {
  const bits = d.nullCount > 0 ? (d.nullBitmap as Uint8Array) : null;
  const t = d.type as { typeId: Type; precision?: number };
  const raw = chunkValues(d as unknown as { values: ArrayLike<number | bigint> & ArrayBufferView; offset: number; length: number }) as unknown;
  if (t.typeId === Type.Float && raw instanceof Float64Array) return { values: raw, bits, bitOffset: d.offset };
  if ((t.typeId === Type.Float && raw instanceof Float32Array) || t.typeId === Type.Int) {
    const src = raw as ArrayLike<number | bigint>;
    const values = new Float64Array(d.length);
    for (let i = 0; i < values.length; i++) values[i] = Number(src[i]);
    return { values, bits, bitOffset: d.offset };
  }
  if (t.typeId === Type.Bool) {
    const values = new Float64Array(d.length);
    const packed = (d as unknown as { values: Uint8Array }).values;
    for (let i = 0; i < values.length; i++) values[i] = (packed[(d.offset + i) >> 3] >> ((d.offset + i) & 7)) & 1;
    return { values, bits, bitOffset: d.offset };
  }
  throw new InputError({ file: path, row: firstRow, field, reason: `factor columns must be numeric, not ${String(d.type)}` });
}
