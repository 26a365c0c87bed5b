/**
 * Worker side of the decode pool: decodes Parquet row groups with parquet-wasm on its own core and
 * sends them back as Arrow IPC bytes (transferred, not copied). After each reply it bumps a shared
 * counter so the replay thread, which waits synchronously, wakes up.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { workerData, type MessagePort } from 'node:worker_threads';

const require = createRequire(import.meta.url);
const pq = require('parquet-wasm/node') as typeof import('parquet-wasm/node');

const port = workerData.port as MessagePort;
const signal = new Int32Array(workerData.signal as SharedArrayBuffer);
const batchSize = workerData.batchSize as number;
const files = new Map<number, { bytes: Uint8Array; columns?: string[] }>();

function reply(msg: unknown, transfer: ArrayBuffer[] = []): void {
  port.postMessage(msg, transfer);
  Atomics.add(signal, 0, 1);
  Atomics.notify(signal, 0);
}

type Msg = { type: 'open'; file: number; path: string; columns?: string[] } | { type: 'read'; file: number; group: number; rows?: number } | { type: 'close'; file: number };

port.on('message', (m: Msg) => {
  try {
    if (m.type === 'open') {
      files.set(m.file, { bytes: readFileSync(m.path), columns: m.columns });
    } else if (m.type === 'close') {
      files.delete(m.file);
    } else {
      const f = files.get(m.file);
      if (!f) throw new Error(`file ${m.file} is not open`);
      const size = m.rows !== undefined && m.rows > 0 ? m.rows : batchSize;
      const ipc = pq.readParquet(f.bytes, { rowGroups: [m.group], batchSize: size, ...(f.columns ? { columns: f.columns } : {}) }).intoIPCStream();
      reply({ file: m.file, group: m.group, ipc }, [ipc.buffer as ArrayBuffer]);
    }
  } catch (e) {
    reply({ file: (m as { file: number }).file, group: (m as { group?: number }).group ?? -1, error: (e as Error).message ?? String(e) });
  }
});
