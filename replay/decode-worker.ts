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
const files = new Map<number, Uint8Array>();

function reply(msg: unknown, transfer: ArrayBuffer[] = []): void {
  port.postMessage(msg, transfer);
  Atomics.add(signal, 0, 1);
  Atomics.notify(signal, 0);
}

port.on('message', (m: { type: 'open'; file: number; path: string } | { type: 'read'; file: number; group: number } | { type: 'close'; file: number }) => {
  try {
    if (m.type === 'open') {
      files.set(m.file, readFileSync(m.path));
    } else if (m.type === 'close') {
      files.delete(m.file);
    } else {
      const bytes = files.get(m.file);
      if (!bytes) throw new Error(`file ${m.file} is not open`);
      const ipc = pq.readParquet(bytes, { rowGroups: [m.group], batchSize }).intoIPCStream();
      reply({ file: m.file, group: m.group, ipc }, [ipc.buffer as ArrayBuffer]);
    }
  } catch (e) {
    reply({ file: (m as { file: number }).file, group: (m as { group?: number }).group ?? -1, error: (e as Error).message ?? String(e) });
  }
});
