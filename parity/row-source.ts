/**
 * Row sources: a factor table as a sequence of column batches, so the diff never holds a whole
 * table. Parquet (a replay's output, or another tool's) is read a row group at a time, Arrow IPC
 * (file or stream format) a record batch at a time, CSV a block of lines at a time, and a live capture (`redis://host:port/?ns=ls&shards=4`) a page of each
 * shard's output stream at a time, the shards merged in replay order.
 *
 * A source can be iterated more than once (each `batches()` starts again from the first row): the
 * diff re-reads both sides when one turns out too disordered for its first pass.
 */
import { createReadStream, statSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { RecordBatchReader, type AsyncRecordBatchFileReader, type AsyncRecordBatchStreamReader } from 'apache-arrow';
import type { DiffTable } from './diff.ts';
import type { OutputRow } from '../live/read-output.ts';
import { InputError, UsageError } from '../core/errors.ts';
import { checkKeyColumns, factorTableChunk, openFactorTableStream, type FloatColumn } from '../replay/read-factor-table.ts';
import { prefetchRowGroups } from './prefetch-row-groups.ts';
import { registerIpcCodecs } from './ipc-codecs.ts';
import { keyValueOfText, timeAxisOf, valueColumns, type KeyColumn, type KeyValue, type TimeAxis } from '../core/row-key.ts';

export type { FloatColumn };

/** Rows of a table, column-wise. `columns` follows the source's `factorColumns`. */
export interface RowBatch {
  n: number;
  symbol: string[];
  source: string[];
  seq: BigInt64Array;
  tsRecv: BigInt64Array;
  columns: FloatColumn[];
  /** The values of the user's key columns (`--keys`), in the order given; absent for the default key. */
  keys?: KeyColumn[];
}

export interface RowSource {
  /** What the user named (path or URL), for messages. */
  name: string;
  /** Every column as the source names it (a DiffTable's `columns`). */
  columns: string[];
  /** The value columns compared by the diff: all but symbol, source, seq, ts_event, ts_recv and the keys. */
  factorColumns: string[];
  /** What the batches' `tsRecv` holds (the timeline's axis): ts_recv, else ts_event, else the row number. */
  timeAxis: TimeAxis;
  /** Stored type of each factor column, where the format has types (Parquet); else undefined. */
  factorTypes?: string[];
  batches(): AsyncIterable<RowBatch>;
  close(): Promise<void>;
}

/** Rows per batch for sources that build their own batches (CSV, Redis, in-memory tables). */
export const BATCH_ROWS = 16384;

export interface SourceOptions {
  /**
   * Columns that identify a row, when not the input event's identity (symbol, source, seq): the
   * batches then carry their values in `keys` (see core/row-key.ts), and the identity columns may be
   * absent.
   */
  keys?: string[];
}

export async function openRowSource(src: string, opts: SourceOptions = {}): Promise<RowSource> {
  if (/^(rediss?|redis\+sentinel):\/\//i.test(src)) return openRedisSource(src, opts);
  checkFile(src);
  if (src.endsWith('.csv')) return openCsvSource(src, opts);
  if (ARROW_IPC.test(src)) return openArrowIpcSource(src, opts);
  return openParquetSource(src, opts);
}

/** A UsageError unless `path` is an existing regular file (a missing one names itself as such). */
function checkFile(path: string): void {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(`${path}: ${code === 'ENOENT' ? 'no such file' : `cannot read file (${code ?? errorText(e)})`}`);
  }
  if (st.isDirectory()) throw new UsageError(`${path}: is a directory, not a table file`);
}

/** Extensions read as Arrow IPC; the format (file or stream) is told by the file's magic bytes. */
const ARROW_IPC = /\.(arrow|arrows|feather|ipc)$/i;

interface OpenIpc {
  reader: AsyncRecordBatchFileReader | AsyncRecordBatchStreamReader;
  close(): Promise<void>;
}

function errorText(e: unknown): string {
  return (e as Error)?.message ?? String(e);
}

/**
 * Opens an IPC file through a file handle, never reading it whole: the file format is read by
 * random access (footer, then one record batch per read), the stream format message by message.
 */
async function openIpcReader(path: string): Promise<OpenIpc> {
  registerIpcCodecs();
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (e) {
    throw new UsageError(`${path}: cannot read file (${(e as NodeJS.ErrnoException).code ?? errorText(e)})`);
  }
  try {
    const reader = await RecordBatchReader.from(handle);
    await reader.open();
    // arrow-js reads an empty file as a stream with no schema rather than failing
    if (!reader.schema) throw new Error('no schema message; the file is empty');
    return { reader, close: () => handle.close() };
  } catch (e) {
    await handle.close();
    throw new InputError({ file: path, reason: `not a readable Arrow IPC file or stream (${errorText(e)})` });
  }
}

/**
 * Arrow IPC (`.arrow`, `.arrows`, `.feather` v2, `.ipc`), file or stream format, as written by
 * pyarrow, polars or arrow-js. Each record batch has the shape of a decoded Parquet row group's
 * batches, so it goes through the same exact reader (`factorTableChunk`): int64 and timestamp
 * columns straight from their BigInt64Array data, dictionary or plain utf8 keys. Compressed
 * record batches (LZ4_FRAME, pyarrow's feather default, or ZSTD) are decoded by ipc-codecs.ts.
 */
export async function openArrowIpcSource(path: string, opts: SourceOptions = {}): Promise<RowSource> {
  const first = await openIpcReader(path);
  const fields = first.reader.schema.fields;
  await first.close();
  const names = fields.map((f) => f.name);
  checkKeyColumns(names, path, opts.keys);
  const values = valueColumns(names, opts.keys);
  const factorFields = fields.filter((f) => values.includes(f.name));
  const factorColumns = factorFields.map((f) => f.name);
  return {
    name: path,
    columns: names,
    factorColumns,
    timeAxis: opts.keys ? timeAxisOf(names) : 'ts_recv',
    factorTypes: factorFields.map((f) => String(f.type)),
    async *batches() {
      const { reader, close } = await openIpcReader(path);
      const it = reader[Symbol.asyncIterator]();
      let row = 0;
      try {
        for (let index = 0; ; index++) {
          let next: IteratorResult<Parameters<typeof factorTableChunk>[0]>;
          try {
            next = await it.next();
          } catch (e) {
            throw new InputError({ file: path, row, reason: `record batch ${index} is unreadable (${errorText(e)})` });
          }
          if (next.done) break;
          const batch = next.value;
          if (batch.numRows > 0) yield factorTableChunk(batch, path, row, factorColumns, opts.keys);
          row += batch.numRows;
        }
      } finally {
        await close();
      }
    },
    close: async () => {},
  };
}

/** Parquet, decoded on a worker thread a row group ahead (or on this thread: `decodeInWorker: false`). */
export async function openParquetSource(path: string, opts: SourceOptions & { decodeInWorker?: boolean; ahead?: number } = {}): Promise<RowSource> {
  const t = await openFactorTableStream(path, opts.keys);
  const inWorker = opts.decodeInWorker ?? true;
  return {
    name: path,
    columns: t.columns,
    factorColumns: t.factorColumns,
    factorTypes: t.factorTypes,
    timeAxis: opts.keys ? timeAxisOf(t.columns) : 'ts_recv',
    batches: inWorker
      ? async function* () {
          let row = 0;
          for await (const table of prefetchRowGroups(path, { ahead: opts.ahead })) {
            for (const batch of table.batches) {
              yield factorTableChunk(batch, path, row, t.factorColumns, opts.keys);
              row += batch.numRows;
            }
          }
        }
      : () => t.chunks(),
    close: async () => {},
  };
}

/** Collects a source into memory (tests, `parity run`, which also hashes whole tables). */
export async function collectTable(s: RowSource): Promise<DiffTable> {
  const t: DiffTable = { columns: s.columns, symbol: [], source: [], seq: [], tsRecv: [], values: Object.fromEntries(s.factorColumns.map((c) => [c, []])) };
  const cols = s.factorColumns.map((c) => t.values[c]);
  for await (const b of s.batches()) {
    for (let i = 0; i < b.n; i++) {
      t.symbol.push(b.symbol[i]);
      t.source.push(b.source[i]);
      t.seq.push(b.seq[i]);
      t.tsRecv.push(b.tsRecv[i]);
    }
    b.columns.forEach((c, j) => {
      const out = cols[j];
      for (let i = 0; i < b.n; i++) out.push(isValid(c, i) ? c.values[i] : null);
    });
  }
  return t;
}

export function isValid(c: FloatColumn, i: number): boolean {
  if (c.bits === null) return true;
  const k = c.bitOffset + i;
  return ((c.bits[k >> 3] >> (k & 7)) & 1) === 1;
}

/** Builds batches from rows given one at a time (CSV lines, Redis entries). */
class BatchBuilder {
  private b!: RowBatch;
  private valid!: Uint8Array[];
  private anyNull!: boolean[];

  /** `keyWidth`: how many user key columns each row has (0 for the default key). */
  constructor(
    private readonly width: number,
    private readonly keyWidth = 0,
  ) {
    this.reset();
  }

  private reset(): void {
    this.b = { n: 0, symbol: [], source: [], seq: new BigInt64Array(BATCH_ROWS), tsRecv: new BigInt64Array(BATCH_ROWS), columns: [] };
    if (this.keyWidth > 0) this.b.keys = Array.from({ length: this.keyWidth }, () => [] as KeyValue[]);
    for (let c = 0; c < this.width; c++) this.b.columns.push({ values: new Float64Array(BATCH_ROWS), bits: null, bitOffset: 0 });
    this.valid = Array.from({ length: this.width }, () => new Uint8Array((BATCH_ROWS + 7) >> 3));
    this.anyNull = new Array<boolean>(this.width).fill(false);
  }

  get full(): boolean {
    return this.b.n === BATCH_ROWS;
  }

  get empty(): boolean {
    return this.b.n === 0;
  }

  add(symbol: string, source: string, seq: bigint, tsRecv: bigint, value: (c: number) => number | null, key?: (k: number) => KeyValue): void {
    const i = this.b.n++;
    this.b.symbol.push(symbol);
    this.b.source.push(source);
    this.b.seq[i] = seq;
    this.b.tsRecv[i] = tsRecv;
    for (let k = 0; k < this.keyWidth; k++) (this.b.keys![k] as KeyValue[]).push(key!(k));
    for (let c = 0; c < this.width; c++) {
      const v = value(c);
      if (v === null) this.anyNull[c] = true;
      else {
        this.b.columns[c].values[i] = v;
        this.valid[c][i >> 3] |= 1 << (i & 7);
      }
    }
  }

  /** The batch so far; the builder starts a new one. */
  take(): RowBatch {
    const b = this.b;
    b.seq = b.seq.subarray(0, b.n);
    b.tsRecv = b.tsRecv.subarray(0, b.n);
    b.columns.forEach((c, j) => {
      c.values = c.values.subarray(0, b.n);
      c.bits = this.anyNull[j] ? this.valid[j] : null;
    });
    this.reset();
    return b;
  }
}

/** The columns of a live capture row that a `--keys` list may name. */
const CAPTURE_KEYS: Record<string, (r: OutputRow) => KeyValue> = {
  symbol: (r) => keyValueOfText(r.symbol),
  source: (r) => keyValueOfText(r.source),
  seq: (r) => r.seq,
  ts_event: (r) => r.tsEvent,
  ts_recv: (r) => r.tsRecv,
};

/**
 * A live capture's URL split into the Redis URL to connect to (its other parameters kept:
 * `tls_ca`, `cluster`, `sentinel_password`, ...) and the capture's `ns` and `shards`. String
 * surgery, not `new URL`: a Cluster or Sentinel URL lists several `host:port`, which URL rejects.
 */
export function splitCaptureUrl(url: string): { connectUrl: string; ns: string; shards: number } {
  const q = url.indexOf('?');
  const base = q < 0 ? url : url.slice(0, q);
  const params = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
  const ns = params.get('ns') ?? 'ls';
  const shards = Number(params.get('shards'));
  params.delete('ns');
  params.delete('shards');
  const rest = params.toString();
  return { connectUrl: rest ? `${base}?${rest}` : base, ns, shards };
}

/** The live capture URL of namespace `ns` (`shards` shards) on the Redis at `url`. */
export function captureUrl(url: string, ns: string, shards: number): string {
  const q = url.indexOf('?');
  const capture = `ns=${encodeURIComponent(ns)}&shards=${shards}`;
  return q < 0 ? `${url}${url.endsWith('/') ? '' : '/'}?${capture}` : `${url}&${capture}`;
}

async function openRedisSource(url: string, opts: SourceOptions): Promise<RowSource> {
  const keyOf = (opts.keys ?? []).map((k) => {
    const f = CAPTURE_KEYS[k];
    if (f === undefined) throw new UsageError(`${url}: --keys ${k}: a live capture's rows are keyed by ${Object.keys(CAPTURE_KEYS).join(', ')}`);
    return f;
  });
  const { connectUrl, ns, shards } = splitCaptureUrl(url);
  if (!Number.isInteger(shards) || shards < 1) throw new UsageError(`${url}: add ?shards=N (and ?ns=...) to read a live capture`);
  const { openRedis } = await import('../live/redis-connect.ts');
  const { readOutputColumns, streamOutputRows } = await import('../live/read-output.ts');
  // an output entry holds a whole commit (512 rows of a 1,000-column set are ~9 MB): a reply that
  // big can take more than the default 2 s to arrive and parse on a busy machine
  const r = await openRedis(connectUrl, { name: 'lockstep-parity', commandTimeoutMs: 60_000 });
  const keys = { ns, shards };
  const columns = await readOutputColumns(r, keys);
  return {
    name: url,
    columns,
    factorColumns: columns,
    timeAxis: 'ts_recv',
    async *batches() {
      const b = new BatchBuilder(columns.length, keyOf.length);
      for await (const row of streamOutputRows(r, keys)) {
        if (row.values.length !== columns.length) {
          throw new InputError({ file: url, field: 'r', value: `${row.symbol}/${row.source}/${row.seq}`, reason: `output row has ${row.values.length} values for ${columns.length} columns` });
        }
        b.add(row.symbol, row.source, row.seq, row.tsRecv, (c) => row.values[c], (k) => keyOf[k](row));
        if (b.full) yield b.take();
      }
      if (!b.empty) yield b.take();
    },
    close: async () => {
      r.disconnect();
    },
  };
}

async function* csvLines(path: string): AsyncGenerator<{ line: string; n: number }> {
  const rl = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  let n = 0;
  try {
    for await (const line of rl) {
      n++;
      if (line.length > 0) yield { line, n };
    }
  } finally {
    rl.close();
  }
}

/**
 * CSV with a header: symbol, source, seq, ts_recv (ns integer) and factor columns; empty = null.
 * With `--keys`, the key columns instead (any text; integers are matched as integers).
 */
async function openCsvSource(path: string, opts: SourceOptions): Promise<RowSource> {
  let header: string[] | undefined;
  try {
    for await (const { line } of csvLines(path)) {
      header = line.split(',');
      break;
    }
  } catch (e) {
    throw new UsageError(`${path}: cannot read file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (!header) throw new UsageError(`${path}: empty file (expected a header line)`);
  const cols = header;
  const idx = (c: string) => {
    const i = cols.indexOf(c);
    if (i < 0) throw new UsageError(`${path}: missing column ${c}`);
    return i;
  };
  const keys = opts.keys;
  const keyIdx = (keys ?? []).map(idx);
  // with the user's keys the identity columns are optional: absent ones read as '' / 0 (see factorTableChunk)
  const [si, so, sq, tr] = ['symbol', 'source', 'seq', 'ts_recv'].map((c) => (keys && !cols.includes(c) ? -1 : idx(c)));
  const te = cols.indexOf('ts_event');
  const axis = keys ? timeAxisOf(cols) : 'ts_recv';
  const factorCols = valueColumns(cols, keys);
  const factorIdx = factorCols.map((c) => cols.indexOf(c));
  const int = (f: string[], i: number, line: number): bigint => {
    try {
      return BigInt(f[i]);
    } catch {
      throw new InputError({ file: path, row: line, rowLabel: 'line', field: cols[i], value: f[i] ?? '', reason: 'must be an integer' });
    }
  };
  return {
    name: path,
    columns: cols,
    factorColumns: factorCols,
    timeAxis: axis,
    async *batches() {
      const b = new BatchBuilder(factorCols.length, keyIdx.length);
      let first = true;
      let row = 0;
      for await (const { line, n } of csvLines(path)) {
        if (first) {
          first = false;
          continue;
        }
        const f = line.split(',');
        const time = axis === 'ts_recv' ? int(f, tr, n) : axis === 'ts_event' ? int(f, te, n) : BigInt(row);
        row++;
        b.add(
          si < 0 ? '' : f[si],
          so < 0 ? '' : f[so],
          sq < 0 ? 0n : int(f, sq, n),
          time,
          (c) => {
            const v = f[factorIdx[c]];
            return v === '' || v === undefined ? null : Number(v);
          },
          (k) => {
            const v = f[keyIdx[k]];
            if (v === undefined || v === '') throw new InputError({ file: path, row: n, rowLabel: 'line', field: cols[keyIdx[k]], value: v ?? '', reason: 'a key cell cannot be empty' });
            return keyValueOfText(v);
          },
        );
        if (b.full) yield b.take();
      }
      if (!b.empty) yield b.take();
    },
    close: async () => {},
  };
}

/** An in-memory table as batches (for `diffTables`). */
export function* tableBatches(t: DiffTable, rows = 65536): Generator<RowBatch> {
  const cols = Object.values(t.values);
  for (let from = 0; from < t.seq.length; from += rows) {
    const to = Math.min(t.seq.length, from + rows);
    const n = to - from;
    yield {
      n,
      symbol: t.symbol.slice(from, to),
      source: t.source.slice(from, to),
      seq: BigInt64Array.from(t.seq.slice(from, to)),
      tsRecv: BigInt64Array.from(t.tsRecv.slice(from, to)),
      columns: cols.map((v) => {
        const values = new Float64Array(n);
        const bits = new Uint8Array((n + 7) >> 3);
        let anyNull = false;
        for (let i = 0; i < n; i++) {
          const x = v[from + i];
          if (x === null) anyNull = true;
          else {
            values[i] = x;
            bits[i >> 3] |= 1 << (i & 7);
          }
        }
        return { values, bits: anyNull ? bits : null, bitOffset: 0 };
      }),
    };
  }
}
