/** The live worker (live-worker.ts) and what its users need: options, health, errors, the row format. */
export { LiveWorker } from './live-worker.ts';
export type { WorkerOptions } from './options.ts';
export type { WorkerHealth } from './health.ts';
export { FatalWorkerError, LeaseExpiredError, RedisDataLostError, ShardDivergedError } from './errors.ts';
export { encodeRow, packValues, packValuesCached, type PackCache } from './row-format.ts';
export { defaultConsumer, WORKER_DEFAULTS } from './defaults.ts';
export { compareIds } from '../stream-id.ts';
