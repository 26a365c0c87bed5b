/**
 * Parquet row-group decoding on a worker thread, consumed synchronously by the replay thread.
 *
 * The merge is synchronous (it must be: the fold may not interleave with anything), but decoding
 * Parquet is the single largest cost of a replay. Cursors ask for their next row group as soon as
 * they start on the current one; the worker decodes it meanwhile on the other core. When a cursor
 * needs a group that has not arrived, `take` blocks on a shared counter (Atomics.wait) and reads
 * the reply with receiveMessageOnPort: no event loop turn, so event order cannot change.
 * Decoding moves; the order, the bytes decoded and therefore the output are the same.
 */
import { MessageChannel, receiveMessageOnPort, type MessagePort, type Worker } from 'node:worker_threads';
import { startTsWorker } from './worker-thread.ts';
import { tableFromIPC, type Table } from 'apache-arrow';
import { ParquetFileError, READ_BATCH_SIZE } from './parquet-io.ts';

interface Reply {
  file: number;
  group: number;
  ipc?: Uint8Array;
  error?: string;
}

export class DecodePool {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly signal = new Int32Array(new SharedArrayBuffer(4));
  private readonly ready = new Map<string, Reply>();
  private readonly paths = new Map<number, string>();
  private nextFile = 0;

  constructor() {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.worker = startTsWorker(new URL('./decode-worker.ts', import.meta.url), {
      workerData: { port: port2, signal: this.signal.buffer, batchSize: READ_BATCH_SIZE },
      transferList: [port2],
    });
    this.worker.unref();
    this.port.unref();
  }

  /**
   * Registers a file with the worker; returns its id. `columns`: only these are decoded (the ones
   * the reader uses: vendor columns such as a trade's conditions cost decode time for nothing).
   */
  open(path: string, columns?: readonly string[]): number {
    const file = this.nextFile++;
    this.paths.set(file, path);
    this.port.postMessage({ type: 'open', file, path, columns });
    return file;
  }

  /**
   * Asks for a row group to be decoded in the background. `rows`: the group's row count, decoded
   * as one Arrow batch so its columns arrive as single typed arrays (no concatenation copy).
   */
  request(file: number, group: number, rows?: number): void {
    this.port.postMessage({ type: 'read', file, group, rows });
  }

  /** The decoded row group, waiting for it if needed. It must have been requested. */
  take(file: number, group: number): Table {
    const key = `${file}/${group}`;
    for (;;) {
      const r = this.ready.get(key);
      if (r) {
        this.ready.delete(key);
        if (r.error !== undefined) throw new ParquetFileError(this.paths.get(file) ?? `file ${file}`, `cannot decode row group ${group} (${r.error})`);
        return tableFromIPC(r.ipc!);
      }
      const seen = Atomics.load(this.signal, 0);
      let got = false;
      for (let m = receiveMessageOnPort(this.port); m; m = receiveMessageOnPort(this.port)) {
        const reply = m.message as Reply;
        this.ready.set(`${reply.file}/${reply.group}`, reply);
        got = true;
      }
      if (!got) Atomics.wait(this.signal, 0, seen, 10_000);
    }
  }

  closeFile(file: number): void {
    this.port.postMessage({ type: 'close', file });
  }

  async close(): Promise<void> {
    this.port.close();
    await this.worker.terminate();
  }
}
