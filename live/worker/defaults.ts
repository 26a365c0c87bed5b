/**
 * Every live-worker option's default, in one place: `LiveWorker` fills its options from here and
 * `lockstep live` shows these as its flags' defaults, so the library and the CLI cannot disagree.
 */
export const WORKER_DEFAULTS = Object.freeze({
  /** Key namespace. */
  ns: 'ls',
  /** Consumer group of the input streams. */
  group: 'lockstep',
  /** Entries per XREADGROUP per shard. */
  batch: 512,
  /** How long one blocking read waits for input, ms. */
  blockMs: 100,
  /** Save the fold state (a checkpoint) after this many applied entries ... */
  checkpointEvery: 20_000,
  /** ... or after this many ms, whichever comes first. */
  checkpointMs: 2_000,
  /** Expire latest-value keys this long after their last update, s (0 = never). */
  ttlSeconds: 0,
  /** A pending entry delivered this many times is dead-lettered (a poison entry). */
  maxDeliveries: 5,
  /** Shard lease: a crashed worker's shards are free again after this long, ms. */
  leaseMs: 10_000,
});

/** The default consumer name: unique per process; reuse one explicitly when restarting a worker. */
export const defaultConsumer = (): string => `worker-${process.pid}`;
