/**
 * The live worker's options, documented once here; every default comes from defaults.ts
 * (`WORKER_DEFAULTS`), which `lockstep live` shows as its flags' defaults.
 */
import type { SessionTable } from '../../core/fold.ts';
import type { AnyFactor } from '../../core/factor.ts';
import type { KeyLayout } from '../keys.ts';
import type { ConnectOptions } from '../redis-connect.ts';
import { defaultConsumer, WORKER_DEFAULTS } from './defaults.ts';

export interface WorkerOptions extends ConnectOptions {
  /** Redis URL; a Cluster URL makes the worker read and commit per shard (see redis-connect.ts). */
  redis: string;
  /** Key namespace. */
  ns?: string;
  /** Shard count of the deployment (must match `<ns>:meta`). */
  shards: number;
  /** Shards this worker owns (default: all). */
  owned?: readonly number[];
  /**
   * Instead of a fixed `owned` list, hold a fair share of the shards, ceil(shards / workers present),
   * and rebalance as balancing workers come and go (checked every leaseMs / 3): a worker above its
   * share hands its highest shards back (committed, with their state saved), one below it takes
   * free ones, lowest first, including those of a crashed worker once their lease runs out.
   */
  balance?: boolean;
  /** Consumer group of the input streams. */
  group?: string;
  /** Consumer name: unique per process by default; reuse one explicitly when restarting a worker. */
  consumer?: string;
  /** Factors to run (default: the registry's DEFAULT_FACTORS). */
  factors?: readonly AnyFactor[];
  /**
   * The session table to fold with (core/fold.ts SessionTable), e.g. a catalog's sessions.json.
   * Unset: the one the feed recorded in `<ns>:meta` (shard-meta.ts settleSessions).
   */
  sessions?: SessionTable;
  /** Entries per XREADGROUP per shard. */
  batch?: number;
  /** How long one blocking read waits for input, ms. */
  blockMs?: number;
  /** Save the fold state (a checkpoint) after this many applied entries ... */
  checkpointEvery?: number;
  /** ... or after this many ms, whichever comes first. */
  checkpointMs?: number;
  /** Expire latest-value keys this long after their last update, s (0 = never). */
  ttlSeconds?: number;
  /** A pending entry delivered more than this many times is dead-lettered (a poison entry). */
  maxDeliveries?: number;
  /** Shard lease: a crashed worker's shards are free again after this long, ms. */
  leaseMs?: number;
  /** Durable commits: go on only once this many replicas have each commit (WAIT; default 0, off). */
  durableReplicas?: number;
  /**
   * Warm start: a shard with no checkpoint yet starts from this catalog's fold state up to the
   * first event of its input stream, not empty (warm-start.ts).
   */
  warmFrom?: string;
  /** With `warmFrom`: fold only these symbols (the feed's `--symbols`; default every symbol). */
  warmSymbols?: readonly string[];
  /**
   * A model registry folder (models/registry.ts): its models run as slot stages after the factors,
   * following the live deployment log `<ns>:models:log` (live/live/models/live-log.ts).
   */
  registry?: string;
  /** Where the worker's log lines go (default: nowhere). */
  log?: (msg: string) => void;
}

/** The options with every default filled in. */
export type ResolvedWorkerOptions = Required<Pick<WorkerOptions, 'group' | 'consumer' | 'batch' | 'blockMs' | 'checkpointEvery' | 'checkpointMs' | 'ttlSeconds' | 'maxDeliveries' | 'leaseMs'>> & WorkerOptions;

/** The options with the defaults of WORKER_DEFAULTS (and a fresh consumer name) filled in. */
export function resolveWorkerOptions(opts: WorkerOptions): { opts: ResolvedWorkerOptions; keys: KeyLayout } {
  const { ns: _ns, ...defaults } = WORKER_DEFAULTS;
  return { opts: { ...defaults, consumer: defaultConsumer(), ...opts }, keys: { ns: opts.ns ?? WORKER_DEFAULTS.ns, shards: opts.shards } };
}
