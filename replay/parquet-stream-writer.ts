/**
 * Streams record batches into one Parquet file from a worker thread (parquet-wasm's
 * transformParquetStream runs there), so a replay's output never has to fit in memory and its
 * encoding runs on another core. The file appears under its final name only after a successful
 * close (written to a temporary name, then renamed).
 */
import { renameSync, unlinkSync } from 'node:fs';
import type { Worker } from 'node:worker_threads';
import { startTsWorker } from './worker-thread.ts';
import type { ColumnData, ColumnSpec, Compression } from './parquet-io.ts';
import type { ArrowCompression } from './arrow-ipc-writer.ts';

export interface StreamWriterOptions {
  rowGroupSize?: number;
  metadata?: Record<string, unknown>;
  /** Default snappy: the factor table is written at replay speed, so encode speed wins. */
  compression?: Compression;
  /**
   * Only these columns get min/max statistics (default: all). Computing them is most of what
   * parquet-wasm spends encoding a wide table of floats (measured here: the factor table encodes
   * 1.4-1.7x faster without them), and readers prune row groups on the key columns, not on
   * factor values.
   */
  statisticsColumns?: readonly string[];
  /**
   * `arrow`: the file is Arrow IPC (Feather v2) instead, written by arrow-writer-worker.ts with
   * the same messages; `arrowCompression` applies to it, `compression`/`statisticsColumns` do not.
   */
  format?: 'parquet' | 'arrow';
  arrowCompression?: ArrowCompression;
}

/** Batches in flight to the worker before `write` waits: bounds memory, keeps the worker busy. */
const MAX_IN_FLIGHT = 2;

export class ParquetStreamWriter {
  private readonly worker: Worker;
  private readonly tmp: string;
  private inFlight = 0;
  private waiters: (() => void)[] = [];
  private failure: Error | null = null;
  private closedResolve: ((r: { bytes: number; sha256: string }) => void) | null = null;
  private closedReject: ((e: Error) => void) | null = null;
  bytesWritten = 0;
  /** sha256 (hex) of the file's bytes, set by a successful close. */
  sha256 = '';
  rows = 0;

  constructor(
    readonly path: string,
    private readonly specs: readonly ColumnSpec[],
    opts: StreamWriterOptions = {},
  ) {
    this.tmp = `${path}.tmp-${process.pid}`;
    const entry = opts.format === 'arrow' ? new URL('./arrow-writer-worker.ts', import.meta.url) : new URL('./parquet-writer-worker.ts', import.meta.url);
    this.worker = startTsWorker(entry, {
      workerData: {
        init: { path: this.tmp, specs, rowGroupSize: opts.rowGroupSize ?? 65536, metadata: opts.metadata, compression: opts.compression ?? 'snappy', statisticsColumns: opts.statisticsColumns, arrowCompression: opts.arrowCompression },
      },
    });
    this.worker.on('message', (m: { type: string; bytes?: number; sha256?: string; message?: string }) => {
      if (m.type === 'ack') {
        this.inFlight--;
        this.waiters.shift()?.();
      } else if (m.type === 'closed') {
        this.closedResolve?.({ bytes: m.bytes ?? 0, sha256: m.sha256 ?? '' });
      } else if (m.type === 'error') {
        this.fail(new Error(`writing ${this.path}: ${m.message}`));
      }
    });
    this.worker.on('error', (e: Error) => this.fail(e));
  }

  private fail(e: Error): void {
    this.failure ??= e;
    for (const w of this.waiters.splice(0)) w();
    this.closedReject?.(e);
  }

  /** Appends one batch of rows; typed-array buffers are transferred (the caller must not reuse them). */
  async write(columns: Record<string, ColumnData>, n: number): Promise<void> {
    if (this.failure) throw this.failure;
    if (n === 0) return;
    const transfer: ArrayBuffer[] = [];
    for (const c of Object.values(columns)) {
      if (ArrayBuffer.isView(c)) transfer.push(c.buffer as ArrayBuffer);
      else if ('valid' in c) transfer.push(c.values.buffer as ArrayBuffer, c.valid.buffer as ArrayBuffer);
      else if ('dict' in c) transfer.push(c.indices.buffer as ArrayBuffer);
    }
    this.inFlight++;
    this.rows += n;
    this.worker.postMessage({ type: 'batch', columns, n }, transfer);
    while (this.inFlight > MAX_IN_FLIGHT && !this.failure) await new Promise<void>((r) => this.waiters.push(r));
    if (this.failure) throw this.failure;
  }

  /** Stops the writer thread and removes the temporary file; the target is left untouched. */
  async abort(): Promise<void> {
    await this.worker.terminate();
    try {
      unlinkSync(this.tmp);
    } catch {
      // never created or already gone
    }
  }

  async close(): Promise<void> {
    try {
      if (this.rows === 0) {
        // an empty file still needs its schema: send one zero-row batch
        const empty = Object.fromEntries(this.specs.map((s) => [s.name, emptyColumn(s)]));
        this.worker.postMessage({ type: 'batch', columns: empty, n: 0 });
        this.inFlight++;
      }
      const closed = await new Promise<{ bytes: number; sha256: string }>((resolve, reject) => {
        this.closedResolve = resolve;
        this.closedReject = reject;
        if (this.failure) reject(this.failure);
        else this.worker.postMessage({ type: 'close' });
      });
      this.bytesWritten = closed.bytes;
      this.sha256 = closed.sha256;
      renameSync(this.tmp, this.path);
    } catch (e) {
      try {
        unlinkSync(this.tmp);
      } catch {
        // never created or already gone
      }
      throw e;
    } finally {
      await this.worker.terminate();
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
