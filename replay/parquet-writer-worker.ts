/**
 * Worker side of ParquetStreamWriter: receives column batches, builds Arrow, encodes Parquet with
 * parquet-wasm and writes the file, so encoding runs on another core than the replay itself.
 * Messages: {type:'batch', columns, n} → {type:'ack'}; {type:'close'} → {type:'closed', bytes,
 * sha256} or {type:'error', message}. The sha256 of the file is computed here, over the bytes as
 * they are written: reading a 340 MB factor table back to hash it cost the replay's main thread
 * ~2 s at the end of a 5 M-event day (and a buffer the size of the file).
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';
import { tableToIPC } from 'apache-arrow';
import { arrowTableOf, writerProperties, type ColumnData, type ColumnSpec, type Compression } from './parquet-io.ts';

const require = createRequire(import.meta.url);
const pq = require('parquet-wasm/node') as typeof import('parquet-wasm/node');
type WasmBatch = import('parquet-wasm/node').RecordBatch;

interface Init {
  path: string;
  specs: ColumnSpec[];
  rowGroupSize?: number;
  metadata?: Record<string, unknown>;
  compression: Compression;
  statisticsColumns?: string[];
}

const init = workerData.init as Init;
const port = parentPort!;
const queue: WasmBatch[] = [];
let closed = false;
let wake: (() => void) | null = null;
let bytes = 0;
const hash = createHash('sha256');
const fd = openSync(init.path, 'w');

/** Writes all of `b` at the end of the file (writeSync may write less than asked) and hashes it. */
function append(b: Uint8Array): void {
  for (let off = 0; off < b.length; ) off += writeSync(fd, b, off, b.length - off);
  hash.update(b);
  bytes += b.length;
}

const input = new ReadableStream<WasmBatch>({
  pull: async (c) => {
    while (queue.length === 0 && !closed) await new Promise<void>((r) => (wake = r));
    const b = queue.shift();
    if (b) c.enqueue(b);
    else c.close();
  },
});

const done = (async () => {
  const out = await pq.transformParquetStream(input as ReadableStream, writerProperties(init.specs, { ...init, dictionary: 'strings' }));
  const reader = out.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    append(value as Uint8Array);
  }
})();
done.catch(() => {});

function toBatch(columns: Record<string, ColumnData>, n: number): WasmBatch {
  const ipc = tableToIPC(arrowTableOf(init.specs, columns, n), 'stream');
  const table = pq.Table.fromIPCStream(ipc);
  // free the wasm table now: left to the GC (rare in this small heap) every batch's copy stays
  // in wasm memory, which grew by ~30 MB a batch to 600 MB on a 1 M-row replay
  try {
    return table.recordBatch(0)!;
  } finally {
    table.free();
  }
}

port.on('message', async (m: { type: 'batch'; columns: Record<string, ColumnData>; n: number } | { type: 'close' }) => {
  try {
    if (m.type === 'batch') {
      queue.push(toBatch(m.columns, m.n));
      wake?.();
      // ack once the encoder has taken the batch, so the sender's backlog stays bounded
      while (queue.length > 1) await new Promise((r) => setImmediate(r));
      port.postMessage({ type: 'ack' });
      return;
    }
    closed = true;
    wake?.();
    await done;
    closeSync(fd);
    port.postMessage({ type: 'closed', bytes, sha256: hash.digest('hex') });
  } catch (e) {
    port.postMessage({ type: 'error', message: (e as Error).message ?? String(e) });
  }
});
