/**
 * Arrow IPC file format (Feather v2) written one record batch at a time: the file's magic and
 * schema first, each batch as it arrives, the footer (the batches' offsets) at close. Memory is one
 * batch, whatever the table's length. pyarrow (`pa.ipc.open_file`, `pyarrow.feather`), polars
 * (`read_ipc`), apache-arrow JS and flechette read it.
 *
 * The record batches are laid out here straight from the sink's typed arrays (no Arrow JS objects:
 * a numeric column's values are written as they are, only validity bits are packed); flechette's
 * flatbuffer encoders write the message headers, schema and footer.
 *
 * Strings: the Parquet writer takes symbol/source dictionary-encoded; here they are plain utf8.
 * The IPC file format allows no dictionary replacement, and a replay's symbol set grows as it runs
 * (delta dictionaries in files are not read by every reader). The values are the same.
 *
 * Compression (`lz4`): each buffer LZ4-frame compressed (Arrow's BodyCompression, BUFFER method),
 * with the 8-byte uncompressed-length prefix; a buffer that does not shrink is stored raw (-1
 * prefix), as the format allows. See lz4-frame.ts.
 */
/// <reference path="./flechette-internals.d.ts" />
import { createHash } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import { CompressionType, TimeUnit, Version, field, float64, int8, int32, int64, timestamp, utf8 } from '@uwdata/flechette';
import { Builder } from '@uwdata/flechette/src/encode/builder.js';
import { writeMessage } from '@uwdata/flechette/src/encode/message.js';
import { encodeSchema } from '@uwdata/flechette/src/encode/schema.js';
import { encodeRecordBatch } from '@uwdata/flechette/src/encode/record-batch.js';
import { writeFooter } from '@uwdata/flechette/src/encode/footer.js';
import type { ColumnData, ColumnSpec } from './parquet-io.ts';
import { lz4FrameCompress } from './lz4-frame.ts';

/** Arrow IPC body compression of an `.arrow` output. */
export type ArrowCompression = 'none' | 'lz4';

const MAGIC = Uint8Array.of(65, 82, 82, 79, 87, 49); // "ARROW1"
const EOS = Uint8Array.of(255, 255, 255, 255, 0, 0, 0, 0);
const HEADER_SCHEMA = 1;
const HEADER_RECORD_BATCH = 3;
const NO_COMPRESSION = -1n;

/** flechette's field type for one of our column types. */
function fieldType(t: ColumnSpec['type']) {
  switch (t) {
    case 'timestamp':
      return timestamp(TimeUnit.NANOSECOND, 'UTC');
    case 'int64':
      return int64();
    case 'float64':
      return float64();
    case 'int8':
      return int8();
    case 'int32':
      return int32();
    case 'utf8':
      return utf8();
    default:
      throw new Error(`Arrow IPC output: column type ${t} is not supported`);
  }
}

/** Writes bytes to a file descriptor, counting and hashing them (flechette's Sink shape). */
class FdSink {
  bytes = 0;
  readonly hash = createHash('sha256');
  constructor(private readonly fd: number) {}
  write(b: Uint8Array): void {
    for (let off = 0; off < b.length; ) off += writeSync(this.fd, b, off, b.length - off);
    this.hash.update(b);
    this.bytes += b.length;
  }
  pad(n: number): void {
    this.write(new Uint8Array(n));
  }
  finish(): null {
    return null;
  }
}

interface Assembled {
  byteLength: number;
  nodes: { length: number; nullCount: number }[];
  regions: { offset: number; length: number }[];
  variadic: number[];
  buffers: Uint8Array[];
}

const EMPTY = new Uint8Array(0);
const encoder = new TextEncoder();

/** Validity bits from one byte per row (0 = null); no bitmap when nothing is null. */
function packValidity(valid: Uint8Array, n: number): { bitmap: Uint8Array; nullCount: number } {
  const bitmap = new Uint8Array((n + 7) >> 3);
  let nulls = 0;
  for (let i = 0; i < n; i++) {
    if (valid[i] !== 0) bitmap[i >> 3] |= 1 << (i & 7);
    else nulls++;
  }
  return nulls === 0 ? { bitmap: EMPTY, nullCount: 0 } : { bitmap, nullCount: nulls };
}

function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** One Arrow IPC file, written batch by batch. Not thread-safe; the writer worker owns one. */
export class ArrowIpcFileWriter {
  private readonly fd: number;
  private readonly sink: FdSink;
  private readonly builder: Builder;
  private readonly schema: { version: number; endianness: number; fields: ReturnType<typeof field>[]; metadata: Map<string, string> | null };
  private readonly blocks: { offset: number; metadataLength: number; bodyLength: number }[] = [];
  /** utf8 bytes of each dictionary string seen (the sink's dictionaries only grow). */
  private readonly utf8Cache = new Map<string, Uint8Array>();
  rows = 0;

  constructor(
    path: string,
    private readonly specs: readonly ColumnSpec[],
    metadata: Map<string, string> | null,
    private readonly compression: ArrowCompression = 'none',
  ) {
    this.fd = openSync(path, 'w');
    this.sink = new FdSink(this.fd);
    this.builder = new Builder(this.sink);
    this.schema = {
      version: Version.V5,
      endianness: 0,
      fields: specs.map((s) => field(s.name, fieldType(s.type), s.nullable ?? false)),
      metadata,
    };
    this.builder.addBuffer(MAGIC);
    writeMessage(this.builder, HEADER_SCHEMA, encodeSchema(this.builder, this.schema as never), 0);
  }

  get bytes(): number {
    return this.sink.bytes;
  }

  /** Appends `n` rows as one record batch. */
  write(columns: Record<string, ColumnData>, n: number): void {
    const a: Assembled = { byteLength: 0, nodes: [], regions: [], variadic: [], buffers: [] };
    const buffer = (b: Uint8Array) => {
      let out = b;
      if (this.compression === 'lz4' && b.length > 0) {
        const c = lz4FrameCompress(b);
        const keep = c.length < b.length;
        out = new Uint8Array(8 + (keep ? c.length : b.length));
        new DataView(out.buffer).setBigInt64(0, keep ? BigInt(b.length) : NO_COMPRESSION, true);
        out.set(keep ? c : b, 8);
      }
      a.regions.push({ offset: a.byteLength, length: out.length });
      a.buffers.push(out);
      a.byteLength += (out.length + 7) & ~7;
    };
    for (const s of this.specs) {
      const d = columns[s.name];
      if (d === undefined) throw new Error(`column ${s.name} missing`);
      this.column(s, d, n, a, buffer);
    }
    writeMessage(this.builder, HEADER_RECORD_BATCH, encodeRecordBatch(this.builder, a as never, this.compression === 'lz4' ? ({ codec: CompressionType.LZ4_FRAME, method: 0 } as never) : null), a.byteLength, this.blocks);
    for (const b of a.buffers) this.builder.addBuffer(b);
    this.rows += n;
  }

  private column(s: ColumnSpec, d: ColumnData, n: number, a: Assembled, buffer: (b: Uint8Array) => void): void {
    if (s.type === 'utf8') {
      const { offsets, data, nullCount, validity } = this.strings(d, n);
      a.nodes.push({ length: n, nullCount });
      buffer(validity);
      buffer(bytesOf(offsets));
      buffer(data);
      return;
    }
    if (ArrayBuffer.isView(d)) {
      if (d.length !== n) throw new Error(`column ${s.name}: ${d.length} values for ${n} rows`);
      a.nodes.push({ length: n, nullCount: 0 });
      buffer(EMPTY);
      buffer(bytesOf(d));
      return;
    }
    if ('valid' in d) {
      if (d.values.length !== n) throw new Error(`column ${s.name}: ${d.values.length} values for ${n} rows`);
      const { bitmap, nullCount } = packValidity(d.valid, n);
      a.nodes.push({ length: n, nullCount });
      buffer(bitmap);
      // null slots hold zeros (the sink never writes them), as Arrow writers usually leave them
      buffer(bytesOf(d.values));
      return;
    }
    throw new Error(`column ${s.name}: unsupported data for ${s.type}`);
  }

  /** utf8 offsets and bytes of a string column (dictionary indices or plain strings). */
  private strings(d: ColumnData, n: number): { offsets: Int32Array; data: Uint8Array; nullCount: number; validity: Uint8Array } {
    const get = (i: number): string | null => {
      if ('dict' in d) {
        const k = d.indices[i];
        return k < 0 ? null : d.dict[k];
      }
      return (d as (string | null)[])[i];
    };
    const parts: (Uint8Array | null)[] = new Array(n);
    let total = 0;
    let nullCount = 0;
    for (let i = 0; i < n; i++) {
      const s = get(i);
      if (s === null) {
        parts[i] = null;
        nullCount++;
        continue;
      }
      let b = this.utf8Cache.get(s);
      if (b === undefined) {
        b = encoder.encode(s);
        if (this.utf8Cache.size < 100_000) this.utf8Cache.set(s, b);
      }
      parts[i] = b;
      total += b.length;
    }
    const offsets = new Int32Array(n + 1);
    const data = new Uint8Array(total);
    const validity = nullCount === 0 ? EMPTY : new Uint8Array((n + 7) >> 3);
    let off = 0;
    for (let i = 0; i < n; i++) {
      const b = parts[i];
      if (b !== null) {
        data.set(b, off);
        off += b.length;
        if (nullCount !== 0) validity[i >> 3] |= 1 << (i & 7);
      }
      offsets[i + 1] = off;
    }
    return { offsets, data, nullCount, validity };
  }

  /** Writes the end-of-stream marker and the footer; returns the file's size and sha256. */
  close(): { bytes: number; sha256: string } {
    this.builder.addBuffer(EOS);
    writeFooter(this.builder, this.schema as never, [], this.blocks as never, null);
    closeSync(this.fd);
    return { bytes: this.sink.bytes, sha256: this.sink.hash.digest('hex') };
  }

  /** Closes the descriptor without a footer (the caller removes the file). */
  abandon(): void {
    try {
      closeSync(this.fd);
    } catch {
      // already closed
    }
  }
}
