/**
 * The inputs of the research API, an Arrow table in memory or a Parquet file on disk, seen the same
 * way: a list of row groups that can be read a few columns at a time. A Parquet file is read
 * through a file-backed Blob, one row group and only the asked-for columns at a time, so memory is
 * bounded by what the caller keeps, never by the file (a 5 M-row factor table is ~350 MB on disk
 * and 1.8 GB decoded).
 *
 * The column readers here decode straight into typed arrays: timestamps and int64 into a
 * BigInt64Array of exact nanoseconds (arrow-js `get()` would turn a timestamp into lossy
 * milliseconds), symbols into dense int32 ids, numbers into float64 with a validity bitmap.
 */
import { openAsBlob } from 'node:fs';
import { createRequire } from 'node:module';
import { makeVector, Schema, Table, tableFromIPC, Type, type Data, type Vector } from 'apache-arrow';
import { InputError } from '../core/errors.ts';
import { ParquetFileError } from '../replay/parquet-io.ts';

const require = createRequire(import.meta.url);
const pq = require('parquet-wasm/node') as typeof import('parquet-wasm/node');

/** An Arrow table or the path of a Parquet file. */
export type TableInput = Table | string;

/** A table read a row group (an Arrow record batch, for a table in memory) at a time. */
export interface ColumnarSource {
  /** The file's path, or `what` for a table in memory (for error messages). */
  name: string;
  /** The Parquet file's path; undefined for a table in memory. */
  path?: string;
  columns: string[];
  /** Arrow type id of each column, as stored. */
  typeIds: Type[];
  numRows: number;
  /** Rows in each group, in order. */
  groupRows: number[];
  /** Some columns of one group (absent names are the caller's business: check `columns` first). */
  read(group: number, columns: readonly string[]): Promise<Table>;
  /** The whole table, every column (for entity tables: they come back in the output). */
  readAll(): Promise<Table>;
  close(): void;
}

/** Opens an Arrow table or a Parquet file as a source; `what` names an in-memory table in errors. */
export async function openSource(input: TableInput, what: string): Promise<ColumnarSource> {
  if (typeof input !== 'string') return tableSource(input, what);
  let file: import('parquet-wasm/node').ParquetFile;
  try {
    file = await pq.ParquetFile.fromFile(await openAsBlob(input));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ParquetFileError(input, code ? `cannot read file (${code})` : `not a readable Parquet file (${(e as Error).message ?? String(e)})`);
  }
  const md = file.metadata();
  const groupRows = md.rowGroups().map((g) => g.numRows());
  const fields = tableFromIPC(file.schema().intoIPCStream()).schema.fields;
  const columns = fields.map((f) => f.name);
  // parquet-wasm leaves the file's key/value metadata out of the Arrow schema: put it back
  const metadata = new Map([...(md.fileMetadata().keyValueMetadata() as Map<string, string>)].filter(([k]) => k !== 'ARROW:schema'));
  const read = async (opts: import('parquet-wasm/node').ReaderOptions): Promise<Table> => {
    try {
      const t = tableFromIPC((await file.read(opts)).intoIPCStream());
      return new Table(new Schema(t.schema.fields, metadata), t.batches);
    } catch (e) {
      throw new ParquetFileError(input, `unreadable (${(e as Error).message ?? String(e)})`);
    }
  };
  return {
    name: input,
    path: input,
    columns,
    typeIds: fields.map((f) => f.type.typeId),
    numRows: groupRows.reduce((a, b) => a + b, 0),
    groupRows,
    // one batch per row group: the column readers then see one chunk, not 1024-row slices
    read: (g, cols) => read({ rowGroups: [g], columns: [...cols], batchSize: Math.max(1, groupRows[g]) }),
    readAll: () => read({ batchSize: 1 << 20 }),
    close: () => file.free(),
  };
}

function tableSource(t: Table, what: string): ColumnarSource {
  const batches = t.batches;
  return {
    name: what,
    columns: t.schema.fields.map((f) => f.name),
    typeIds: t.schema.fields.map((f) => f.type.typeId),
    numRows: t.numRows,
    groupRows: batches.map((b) => b.numRows),
    read: async (g, cols) => new Table(batches[g]).select(cols as string[]),
    readAll: async () => t,
    close: () => {},
  };
}

/** The column `name` of `t`, or an InputError naming the source and the columns it has. */
export function column(t: Table, name: string, src: ColumnarSource): Vector {
  const v = t.getChild(name);
  if (v === null) throw new InputError({ file: src.name, field: name, reason: `no such column (columns: ${src.columns.join(', ')})` });
  return v;
}

/** The values of a numeric chunk as its typed array, honouring the chunk's offset. */
function chunkArray<T>(d: Data): T {
  const v = d.values as unknown as { subarray(a: number, b: number): T };
  return v.subarray(d.offset, d.offset + d.length);
}

const UNIT_NS = [1_000_000_000n, 1_000_000n, 1_000n, 1n]; // arrow TimeUnit: SECOND, MILLISECOND, MICROSECOND, NANOSECOND

/**
 * Writes a timestamp (any unit) or integer column as exact epoch nanoseconds into `out` from
 * `at`. Integers are taken as nanoseconds already. A null is an InputError naming the row
 * (`firstRow` is the chunk's first row in the source).
 */
export function readNanos(v: Vector, out: BigInt64Array, at: number, src: ColumnarSource, field: string, firstRow: number): void {
  let row = firstRow;
  for (const d of v.data) {
    if (d.nullCount > 0) {
      for (let i = 0; i < d.length; i++) if (!d.getValid(i)) throw new InputError({ file: src.name, row: row + i, field, value: 'null', reason: 'a timestamp cannot be null' });
    }
    const t = d.type as { typeId: Type; unit?: number; bitWidth?: number };
    if (t.typeId === Type.Timestamp || (t.typeId === Type.Int && t.bitWidth === 64)) {
      const vals = chunkArray<BigInt64Array>(d);
      const scale = t.typeId === Type.Timestamp ? UNIT_NS[t.unit!] : 1n;
      if (scale === 1n) out.set(vals, at);
      else for (let i = 0; i < vals.length; i++) out[at + i] = vals[i] * scale;
    } else if (t.typeId === Type.Int) {
      const vals = chunkArray<Int32Array>(d);
      for (let i = 0; i < vals.length; i++) out[at + i] = BigInt(vals[i]);
    } else {
      throw new InputError({ file: src.name, row, field, reason: `must be a timestamp or an integer of epoch nanoseconds, not ${String(d.type)}` });
    }
    at += d.length;
    row += d.length;
  }
}

/** Per id map (one join), each Arrow dictionary's ids: a dictionary shared by batches is looked up once. */
const dictionaryIds = new WeakMap<Map<string, number>, WeakMap<object, Int32Array>>();

/**
 * Writes a string column as symbol ids into `out` from `at`: `ids` maps each symbol to its id;
 * with `add`, unseen symbols get the next id, otherwise they get -1 (a symbol the other table does
 * not have). A dictionary column looks each distinct string up once, not once per row.
 */
export function readSymbolIds(v: Vector, out: Int32Array, at: number, ids: Map<string, number>, add: boolean, src: ColumnarSource, field: string, firstRow: number): void {
  const idOf = (s: string): number => {
    let id = ids.get(s);
    if (id === undefined) {
      if (!add) return -1;
      id = ids.size;
      ids.set(s, id);
    }
    return id;
  };
  let row = firstRow;
  for (const d of v.data) {
    if (d.nullCount > 0) {
      for (let i = 0; i < d.length; i++) if (!d.getValid(i)) throw new InputError({ file: src.name, row: row + i, field, value: 'null', reason: 'a symbol cannot be null' });
    }
    const typeId = (d.type as { typeId: Type }).typeId;
    if (typeId === Type.Dictionary && d.dictionary) {
      let cache = dictionaryIds.get(ids);
      if (!cache) dictionaryIds.set(ids, (cache = new WeakMap()));
      let map = cache.get(d.dictionary);
      if (!map) {
        map = Int32Array.from(d.dictionary as Iterable<string | null>, (s) => idOf(s ?? ''));
        cache.set(d.dictionary, map);
      }
      const idx = chunkArray<Int32Array | Uint32Array | Int16Array | Uint16Array | Int8Array | Uint8Array>(d);
      for (let i = 0; i < idx.length; i++) out[at + i] = map[idx[i]];
    } else if (typeId === Type.Utf8 || typeId === Type.LargeUtf8) {
      const vec = makeVector(d);
      for (let i = 0; i < d.length; i++) out[at + i] = idOf(vec.get(i) as string);
    } else {
      throw new InputError({ file: src.name, row, field, reason: `must be a string column, not ${String(d.type)}` });
    }
    at += d.length;
    row += d.length;
  }
}

/**
 * A numeric column as float64 values into `values`, with validity (1 = a value) into `valid`,
 * from `at`. Float32, integers and booleans are widened; int64 goes through Number (a factor
 * value, not a time).
 */
export function readFloats(v: Vector, values: Float64Array, valid: Uint8Array, at: number, src: ColumnarSource, field: string): void {
  for (const d of v.data) {
    const t = d.type as { typeId: Type };
    const n = d.length;
    if (t.typeId === Type.Float || t.typeId === Type.Int) {
      const raw = chunkArray<ArrayLike<number | bigint>>(d);
      if (raw instanceof Float64Array) values.set(raw, at);
      else for (let i = 0; i < n; i++) values[at + i] = Number(raw[i]);
    } else if (t.typeId === Type.Bool) {
      const vec = makeVector(d);
      for (let i = 0; i < n; i++) values[at + i] = vec.get(i) ? 1 : 0;
    } else {
      throw new InputError({ file: src.name, field, reason: `feature columns must be numeric, not ${String(d.type)}` });
    }
    if (d.nullCount === 0) valid.fill(1, at, at + n);
    else {
      const bits = d.nullBitmap as Uint8Array;
      const off = d.offset;
      for (let i = 0; i < n; i++) valid[at + i] = (bits[(off + i) >> 3] >> ((off + i) & 7)) & 1;
    }
    at += n;
  }
}
