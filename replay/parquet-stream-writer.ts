/**
 * Streams record batches into one Parquet file (parquet-wasm's transformParquetStream), so a
 * replay's output never has to fit in memory. The file appears under its final name only after a
 * successful close (written to a temporary name, then renamed).
 */
import { closeSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tableToIPC } from 'apache-arrow';
import { arrowTableOf, metadataMap, type ColumnData, type ColumnSpec } from './parquet-io.ts';

const require = createRequire(import.meta.url);
const pq = require('parquet-wasm/node') as typeof import('parquet-wasm/node');
type WasmBatch = import('parquet-wasm/node').RecordBatch;

export interface StreamWriterOptions {
  rowGroupSize?: number;
  metadata?: Record<string, unknown>;
}

export class ParquetStreamWriter {
  private readonly queue: WasmBatch[] = [];
  private closed = false;
  private wake: (() => void) | null = null;
  private readonly done: Promise<void>;
  private readonly fd: number;
  private readonly tmp: string;
  bytesWritten = 0;
  rows = 0;

  constructor(
    readonly path: string,
    private readonly specs: readonly ColumnSpec[],
    opts: StreamWriterOptions = {},
  ) {
    this.tmp = `${path}.tmp-${process.pid}`;
    this.fd = openSync(this.tmp, 'w');
    let props = new pq.WriterPropertiesBuilder()
      .setCompression(pq.Compression.ZSTD)
      .setMaxRowGroupSize(opts.rowGroupSize ?? 131072)
      .setCreatedBy('lockstep');
    if (opts.metadata) props = props.setKeyValueMetadata(metadataMap(opts.metadata));
    const input = new ReadableStream<WasmBatch>({
      pull: async (c) => {
        while (this.queue.length === 0 && !this.closed) await new Promise<void>((r) => (this.wake = r));
        const b = this.queue.shift();
        if (b) c.enqueue(b);
        else c.close();
      },
    });
    const fd = this.fd;
    this.done = (async () => {
      const out = await pq.transformParquetStream(input as ReadableStream, props.build());
      const reader = out.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        writeSync(fd, value as Uint8Array);
        this.bytesWritten += (value as Uint8Array).length;
      }
    })();
    // surfaced by close(); avoid an unhandled rejection in between
    this.done.catch(() => {});
  }

  /** Appends one batch of rows. Waits while the encoder is behind, bounding memory. */
  async write(columns: Record<string, ColumnData>, n: number): Promise<void> {
    if (n === 0) return;
    const ipc = tableToIPC(arrowTableOf(this.specs, columns, n), 'stream');
    const t = pq.Table.fromIPCStream(ipc);
    this.queue.push(t.recordBatch(0)!);
    this.rows += n;
    this.wake?.();
    while (this.queue.length > 1) await new Promise((r) => setImmediate(r));
  }

  async close(): Promise<void> {
    if (this.rows === 0) {
      // an empty file still needs its schema: send one zero-row batch
      const empty = Object.fromEntries(this.specs.map((s) => [s.name, emptyColumn(s)]));
      this.queue.push(pq.Table.fromIPCStream(tableToIPC(arrowTableOf(this.specs, empty, 0), 'stream')).recordBatch(0)!);
    }
    this.closed = true;
    this.wake?.();
    try {
      await this.done;
      closeSync(this.fd);
      renameSync(this.tmp, this.path);
    } catch (e) {
      try {
        closeSync(this.fd);
        unlinkSync(this.tmp);
      } catch {
        // already gone
      }
      throw e;
    }
  }
}

function emptyColumn(s: ColumnSpec): ColumnData {
  switch (s.type) {
    case 'timestamp':
    case 'int64':
      return new BigInt64Array(0);
    case 'float64':
      return new Float64Array(0);
    case 'int8':
      return new Int8Array(0);
    case 'int32':
      return new Int32Array(0);
    default:
      return [];
  }
}
