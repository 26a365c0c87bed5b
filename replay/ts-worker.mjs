// Bootstrap for worker threads written in TypeScript: registers the tsx loader in the worker
// (loader hooks are not inherited from the parent thread), then loads the real entry module.
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';

register();
await import(workerData.entry);
