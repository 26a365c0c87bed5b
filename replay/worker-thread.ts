/**
 * Worker threads whose entry module is TypeScript. Run from source (a git checkout, through tsx)
 * the entry is a `.ts` file and the thread has to register tsx itself, because loader hooks are
 * not inherited from the parent thread: `ts-worker.mjs` does that. Run from the built package
 * (`dist/`, what `npm install lockstep` gets) the entry is the compiled `.js` sibling and starts
 * directly, without tsx.
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** True when this module is the TypeScript source (not the compiled copy in dist/). */
export const FROM_SOURCE = import.meta.url.endsWith('.ts');

/** Starts a worker on `entry`, a URL of a `.ts` module (its `.js` sibling when built). */
export function startTsWorker(entry: URL, opts: WorkerOptions & { workerData?: Record<string, unknown> }): Worker {
  if (!FROM_SOURCE) return new Worker(new URL(entry.href.replace(/\.ts$/, '.js')), opts);
  return new Worker(new URL('./ts-worker.mjs', import.meta.url), { ...opts, workerData: { ...opts.workerData, entry: entry.href } });
}
