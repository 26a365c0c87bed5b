/**
 * Parquet I/O through parquet-wasm (Rust parquet + arrow, compiled to wasm) and apache-arrow.
 *
 * Writing builds Arrow columns straight from typed arrays (no per-cell objects) and lets the Rust
 * writer encode them; int64 and TIMESTAMP(NANOS) stay exact. Reading decodes one row group at a
 * time so memory is bounded by the row-group size, not the file size.
 */
import { openAsBlob, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import {
  Bool,
  DateDay,
  Field,
  Float64,
  Int8,
  Int32,
  Int64,
  Schema,
  Dictionary,
  makeVector,
  Struct,
  RecordBatch,
  Table,
  TimestampNanosecond,
  Utf8,
  makeData,
  tableFromIPC,
  tableToIPC,
  vectorFromArray,
  type DataType,
  type Vector,
} from 'apache-arrow';
import { UserError } from '../core/errors.ts';

// The node build of parquet-wasm is CommonJS and instantiates its wasm synchronously.
const require = createRequire(import.meta.url);
const pq = require('parquet-wasm/node') as typeof import('parquet-wasm/node');

export type ColumnType = 'timestamp' | 'int64' | 'float64' | 'int8' | 'int32' | 'bool' | 'utf8' | 'date';

export interface ColumnSpec {
  name: string;
  type: ColumnType;
  nullable?: boolean;
}

/** Column data as the writer takes it: typed arrays for numbers, arrays for the rest. */
/** Float64 values with a validity mask (1 = value present, 0 = null). */
export interface NullableFloat64 {
  values: Float64Array;
  valid: Uint8Array;
}

/** Strings already dictionary-encoded: `values[indices[i]]` (index -1 = null). */
export interface DictStrings {
  dict: readonly string[];
  indices: Int32Array;
}

/** Int64 or timestamp values with a validity mask (1 = value present, 0 = null). */
export interface NullableInt64 {
  values: BigInt64Array;
  valid: Uint8Array;
}

export type ColumnData =
  | NullableFloat64
  | NullableInt64
  | DictStrings
  | BigInt64Array
  | Float64Array
  | Int8Array
  | Int32Array
  | (string | null)[]
  | (boolean | null)[]
  | (number | null)[];

export function arrowType(t: ColumnType): DataType {
  switch (t) {
    case 'timestamp':
      return new TimestampNanosecond('UTC');
    case 'int64':
      return new Int64();
    case 'float64':
      return new Float64();
    case 'int8':
      return new Int8();
    case 'int32':
      return new Int32();
    case 'bool':
      return new Bool();
    case 'utf8':
      return new Dictionary(new Utf8(), new Int32());
    case 'date':
      return new DateDay();
  }
}

/** Validity bitmap from a per-row "is null" test, or undefined when nothing is null. */
function nullBitmap(n: number, isNull: (i: number) => boolean): { bitmap?: Uint8Array; nullCount: number } {
  let nullCount = 0;
  const bitmap = new Uint8Array((n + 7) >> 3);
  for (let i = 0; i < n; i++) {
    if (isNull(i)) nullCount++;
    else bitmap[i >> 3] |= 1 << (i & 7);
  }
  return nullCount === 0 ? { nullCount } : { bitmap, nullCount };
}

/**
 * Arrow validity bits from one byte per row (0 = null). The factor table's 40-odd nullable
 * columns go through here for every row a replay writes, so it packs eight rows per byte in a
 * straight loop (the generic nullBitmap's per-row callback cost more than the Parquet encode).
 */
export function validityBitmap(valid: Uint8Array, n: number): { bitmap?: Uint8Array; nullCount: number } {
  const bitmap = new Uint8Array((n + 7) >> 3);
  let set = 0;
  const whole = n >> 3;
  for (let b = 0; b < whole; b++) {
    const i = b << 3;
    const byte =
      (valid[i] !== 0 ? 1 : 0) |
      (valid[i + 1] !== 0 ? 2 : 0) |
      (valid[i + 2] !== 0 ? 4 : 0) |
      (valid[i + 3] !== 0 ? 8 : 0) |
      (valid[i + 4] !== 0 ? 16 : 0) |
      (valid[i + 5] !== 0 ? 32 : 0) |
      (valid[i + 6] !== 0 ? 64 : 0) |
      (valid[i + 7] !== 0 ? 128 : 0);
    bitmap[b] = byte;
    set += POPCOUNT[byte];
  }
  for (let i = whole << 3; i < n; i++) {
    if (valid[i] !== 0) {
      bitmap[i >> 3] |= 1 << (i & 7);
      set++;
    }
  }
  const nullCount = n - set;
  return nullCount === 0 ? { nullCount } : { bitmap, nullCount };
}

const POPCOUNT = Uint8Array.from({ length: 256 }, (_, b) => {
  let c = 0;
  for (let x = b; x > 0; x >>= 1) c += x & 1;
  return c;
});

function toVector(spec: ColumnSpec, data: ColumnData, n: number): Vector {
  const type = arrowType(spec.type);
  const len = 'valid' in data ? data.values.length : 'dict' in data ? data.indices.length : data.length;
  if (len !== n) throw new Error(`column ${spec.name}: ${len} values for ${n} rows`);
  if (spec.type === 'timestamp' || spec.type === 'int64') {
    if ('valid' in data && data.values instanceof BigInt64Array) {
      const { bitmap, nullCount } = validityBitmap(data.valid, n);
      return vectorFromData(type, n, data.values, bitmap, nullCount);
    }
    if (!(data instanceof BigInt64Array)) throw new Error(`column ${spec.name}: expected BigInt64Array`);
    return vectorFromData(type, n, data);
  }
  if (spec.type === 'float64' && 'valid' in data) {
    const { values, valid } = data as NullableFloat64;
    const { bitmap, nullCount } = validityBitmap(valid, n);
    return vectorFromData(type, n, values, bitmap, nullCount);
  }
  if (spec.type === 'float64' || spec.type === 'int8' || spec.type === 'int32') {
    if (Array.isArray(data)) {
      // nullable numbers given as (number | null)[]
      const arr = data as (number | null)[];
      const Ctor = spec.type === 'float64' ? Float64Array : spec.type === 'int8' ? Int8Array : Int32Array;
      const values = new Ctor(n);
      for (let i = 0; i < n; i++) values[i] = arr[i] ?? 0;
      const { bitmap, nullCount } = nullBitmap(n, (i) => arr[i] === null);
      return vectorFromData(type, n, values, bitmap, nullCount);
    }
    return vectorFromData(type, n, data as Float64Array | Int8Array | Int32Array);
  }
  if (spec.type === 'date') {
    const arr = data as (number | null)[];
    const values = new Int32Array(n);
    for (let i = 0; i < n; i++) values[i] = arr[i] ?? 0;
    const { bitmap, nullCount } = nullBitmap(n, (i) => arr[i] === null);
    return vectorFromData(type, n, values, bitmap, nullCount);
  }
  if (spec.type === 'utf8' && 'dict' in data) return dictVector(data.dict, data.indices, n);
  if (spec.type === 'utf8') return dictionaryUtf8(data as (string | null)[], n);
  if (spec.type === 'bool') {
    const arr = data as (boolean | null)[];
    const { bitmap: bits } = nullBitmap(n, (i) => arr[i] !== true);
    const { bitmap, nullCount } = nullBitmap(n, (i) => arr[i] === null);
    return vectorFromData(type, n, bits ?? new Uint8Array((n + 7) >> 3).fill(0xff), bitmap, nullCount);
  }
  return vectorFromArray(data as unknown[], type as never) as Vector;
}

/**
 * Strings as Dictionary<Int32, Utf8>, built directly from bytes: arrow's generic builder takes
 * seconds per million strings, and catalog strings (symbols, exchange codes) repeat heavily.
 */
function dictionaryUtf8(values: readonly (string | null)[], n: number): Vector {
  const ids = new Map<string, number>();
  const indices = new Int32Array(n);
  const uniques: string[] = [];
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v === null) continue;
    let id = ids.get(v);
    if (id === undefined) {
      id = uniques.length;
      ids.set(v, id);
      uniques.push(v);
    }
    indices[i] = id;
  }
  return dictVector(uniques, indices, n, (i) => values[i] === null);
}

function dictVector(uniques: readonly string[], indices: Int32Array, n: number, isNull: (i: number) => boolean = (i) => indices[i] < 0): Vector {
  const enc = new TextEncoder();
  const encoded = uniques.map((u) => enc.encode(u));
  const offsets = new Int32Array(uniques.length + 1);
  for (let i = 0; i < encoded.length; i++) offsets[i + 1] = offsets[i] + encoded[i].length;
  const bytes = new Uint8Array(offsets[uniques.length]);
  for (let i = 0; i < encoded.length; i++) bytes.set(encoded[i], offsets[i]);
  const dictData = makeData({ type: new Utf8(), length: uniques.length, valueOffsets: offsets, data: bytes });
  const { bitmap, nullCount } = nullBitmap(n, isNull);
  const type = new Dictionary(new Utf8(), new Int32());
  const data = makeData({ type, length: n, data: indices, nullBitmap: bitmap, nullCount, dictionary: makeVector(dictData) });
  return makeVector(data) as unknown as Vector;
}

function vectorFromData(type: DataType, n: number, values: ArrayBufferView, bitmap?: Uint8Array, nullCount = 0): Vector {
  return makeVector(makeData({ type: type as never, length: n, data: values as never, nullBitmap: bitmap, nullCount })) as unknown as Vector;
}

export type Compression = 'zstd' | 'snappy' | 'lz4' | 'none';

const CODEC: Record<Compression, number> = { zstd: pq.Compression.ZSTD, snappy: pq.Compression.SNAPPY, lz4: pq.Compression.LZ4_RAW, none: pq.Compression.UNCOMPRESSED };

/**
 * Writer settings shared by every Parquet file Lockstep writes. `dictionary: 'strings'` turns
 * dictionary encoding off for numeric columns: on high-cardinality numbers it costs most of the
 * encode time (the factor table, written at replay speed). Catalog files keep it on everywhere:
 * they are written once and read many times, and dictionary pages decode about 2x faster here.
 */
export function writerProperties(
  specs: readonly ColumnSpec[],
  opts: WriteOptions & { compression: Compression; dictionary?: 'all' | 'strings'; statisticsColumns?: readonly string[] },
): import('parquet-wasm/node').WriterProperties {
  let props = new pq.WriterPropertiesBuilder()
    .setCompression(CODEC[opts.compression])
    .setMaxRowGroupSize(opts.rowGroupSize ?? 131072)
    .setCreatedBy('lockstep');
  if (opts.dictionary === 'strings') for (const s of specs) if (s.type !== 'utf8') props = props.setColumnDictionaryEnabled(s.name, false);
  if (opts.statisticsColumns) {
    const keep = new Set(opts.statisticsColumns);
    for (const s of specs) if (!keep.has(s.name)) props = props.setColumnStatisticsEnabled(s.name, pq.EnabledStatistics.None);
  }
  if (opts.metadata) props = props.setKeyValueMetadata(metadataMap(opts.metadata));
  return props.build();
}

export interface WriteOptions {
  /** Rows per row group (default 131072). Smaller groups bound reader memory. */
  rowGroupSize?: number;
  /** Lockstep's file metadata, stored as JSON under the one key `lockstep` (see lockstepMetadata). */
  metadata?: Record<string, unknown>;
}

/** Encodes columns as Parquet bytes. Deterministic: the same columns give the same bytes. */
export function encodeParquet(specs: readonly ColumnSpec[], columns: Record<string, ColumnData>, n: number, opts: WriteOptions = {}): Uint8Array {
  const table = arrowTableOf(specs, columns, n);
  const ipc = tableToIPC(table, 'stream');
  const wasmTable = pq.Table.fromIPCStream(ipc);
  const props = writerProperties(specs, { compression: 'zstd', ...opts });
  return pq.writeParquet(wasmTable, props);
}

export function arrowTableOf(specs: readonly ColumnSpec[], columns: Record<string, ColumnData>, n: number): Table {
  const fields = specs.map((s) => new Field(s.name, arrowType(s.type), s.nullable ?? false));
  const children = specs.map((s) => {
    const d = columns[s.name];
    if (d === undefined) throw new Error(`column ${s.name} missing`);
    const v = toVector(s, d, n);
    if (v.data.length !== 1) throw new Error(`column ${s.name}: built ${v.data.length} chunks, expected 1`);
    return v.data[0];
  });
  const schema = new Schema(fields);
  const batch = new RecordBatch(schema, makeData({ type: new Struct(fields), length: n, nullCount: 0, children }));
  return new Table(schema, [batch]);
}

/** A Parquet file opened for row-group-at-a-time reading. */
export interface ParquetSource {
  path: string;
  numRows: number;
  numRowGroups: number;
  rowGroupRows: number[];
  metadata: Map<string, string>;
  /** Column names and Arrow type names, from the file's schema. */
  columns: { name: string; type: string }[];
  readRowGroup(i: number, columns?: string[]): Table;
}

/** Raised when a file is missing, unreadable or not Parquet. */
export class ParquetFileError extends UserError {
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`${file}: ${reason}`);
  }
}

export const READ_BATCH_SIZE = 65536;

/**
 * Opens a Parquet file: reads only its footer (through a file-backed Blob); the file's bytes are
 * read on the first `readRowGroup` (the replay's decode pool reads them in its worker instead).
 */
export async function openParquet(path: string): Promise<ParquetSource> {
  let blob: Blob;
  try {
    blob = await openAsBlob(path);
  } catch (e) {
    throw new ParquetFileError(path, `cannot read file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    const file = await pq.ParquetFile.fromFile(blob);
    const md = file.metadata();
    const rowGroupRows = md.rowGroups().map((g) => g.numRows());
    const metadata = new Map<string, string>();
    for (const [k, v] of md.fileMetadata().keyValueMetadata() as Map<string, string>) metadata.set(k, v);
    const schema = tableFromIPC(file.schema().intoIPCStream()).schema;
    file.free();
    let bytes: Uint8Array | undefined;
    return {
      path,
      numRows: rowGroupRows.reduce((a, b) => a + b, 0),
      numRowGroups: rowGroupRows.length,
      rowGroupRows,
      metadata,
      columns: schema.fields.map((f) => ({ name: f.name, type: String(f.type) })),
      readRowGroup(i: number, columns?: string[]): Table {
        bytes ??= readFileSync(path);
        const t = pq.readParquet(bytes, { rowGroups: [i], batchSize: READ_BATCH_SIZE, ...(columns ? { columns } : {}) });
        return tableFromIPC(t.intoIPCStream());
      },
    };
  } catch (e) {
    throw new ParquetFileError(path, `not a readable Parquet file (${(e as Error).message ?? String(e)})`);
  }
}

/**
 * The values of a numeric Arrow column chunk as its typed array, honouring the chunk's offset.
 * Always read timestamps this way: arrow-js `get()` turns them into lossy millisecond numbers.
 */
export function chunkValues<T extends ArrayBufferView>(data: { values: T; offset: number; length: number }): T {
  const v = data.values as unknown as { subarray(a: number, b: number): T };
  return v.subarray(data.offset, data.offset + data.length);
}

/**
 * Key/value metadata for the writer. One key only: parquet-wasm passes the map through a Rust
 * HashMap, so several keys would be written in a random order and break byte-identical output.
 */
export function metadataMap(meta: Record<string, unknown>): Map<string, string> {
  return new Map([['lockstep', JSON.stringify(meta)]]);
}

/** Lockstep's metadata of an opened file, or {} for files other tools wrote. */
export function lockstepMetadata(src: ParquetSource): Record<string, unknown> {
  const raw = src.metadata.get('lockstep');
  if (raw === undefined) return {};
  try {
    return JSON.parse(raw) as Record<string, unknown>;
  } catch {
    return {};
  }
}
