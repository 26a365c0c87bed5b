/**
 * Decodes Parquet row groups on a worker thread, a row group ahead of the reader: decoding is most
 * of a diff's cost, and this way it overlaps with the comparing on the main thread. One worker
 * serves every open file (the two sides of a diff take turns): a second one would buy little on
 * two cores and cost another wasm heap of ~100 MB. Memory stays bounded: at most `ahead` decoded
 * groups wait per file.
 */
import { Worker } from 'node:worker_threads';
import { tableFromIPC, type Table } from 'apache-arrow';
import { ParquetFileError, READ_BATCH_SIZE } from '../replay/parquet-io.ts';

type Reply = { id: number; group: number; ipc: Uint8Array } | { id: number; done: true } | { id: number; error: string; fatal?: boolean };

interface Inbox {
  replies: Reply[];
  wake: (() => void) | null;
}

/** The shared decoding worker: started with the first open file, stopped with the last. */
class RowGroupPool {
  private worker: Worker | null = null;
  private failure: Error | null = null;
  private readonly inboxes = new Map<number, Inbox>();
  private readonly paths = new Map<number, string>();
  /** The file whose decoding killed the worker, and why (reported whichever side notices). */
  fatal: { path: string; message: string } | null = null;
  private nextId = 0;

  open(path: string, ahead: number): { id: number; inbox: Inbox } {
    if (this.worker === null) this.start();
    const id = this.nextId++;
    const inbox: Inbox = { replies: [], wake: null };
    this.inboxes.set(id, inbox);
    this.paths.set(id, path);
    this.worker!.postMessage({ type: 'open', id, path, ahead });
    return { id, inbox };
  }

  credit(id: number): void {
    this.worker?.postMessage({ type: 'credit', id });
  }

  async close(id: number): Promise<void> {
    this.inboxes.delete(id);
    this.paths.delete(id);
    this.worker?.postMessage({ type: 'close', id });
    if (this.inboxes.size === 0 && this.worker) {
      const w = this.worker;
      this.worker = null;
      await w.terminate();
    }
  }

  get error(): Error | null {
    return this.failure;
  }

  private start(): void {
    this.failure = null;
    this.fatal = null;
    const w = new Worker(new URL('./row-group-worker.mjs', import.meta.url), { workerData: { batchSize: READ_BATCH_SIZE } });
    const fail = (e: Error) => {
      this.failure ??= e;
      for (const b of this.inboxes.values()) b.wake?.();
    };
    w.on('message', (m: Reply) => {
      if ('fatal' in m && m.fatal) this.fatal = { path: this.paths.get(m.id) ?? '?', message: m.error };
      const b = this.inboxes.get(m.id);
      if (!b) return;
      b.replies.push(m);
      b.wake?.();
    });
    w.on('error', fail);
    w.on('exit', (code) => {
      if (this.worker === w) fail(new Error(`the row-group decoder exited with code ${code}`));
    });
    this.worker = w;
  }
}

const pool = new RowGroupPool();

/** The file's row groups in order, as Arrow tables. Stopping early (return) releases the file. */
export async function* prefetchRowGroups(path: string, opts: { ahead?: number } = {}): AsyncGenerator<Table> {
  const { id, inbox } = pool.open(path, opts.ahead ?? 1);
  try {
    for (;;) {
      while (inbox.replies.length === 0 && pool.error === null) await new Promise<void>((r) => (inbox.wake = r));
      inbox.wake = null;
      const m = inbox.replies.shift();
      // the decoder died (a wasm trap on corrupt data): name the file it was decoding
      if (m === undefined) {
        const f = pool.fatal;
        throw f ? new ParquetFileError(f.path, `not a readable Parquet file (decoder failed: ${f.message})`) : pool.error!;
      }
      if ('done' in m) return;
      if ('error' in m) throw new ParquetFileError(path, `not a readable Parquet file (${'fatal' in m ? 'decoder failed: ' : ''}${m.error})`);
      pool.credit(id);
      yield tableFromIPC(m.ipc);
    }
  } finally {
    await pool.close(id);
  }
}
