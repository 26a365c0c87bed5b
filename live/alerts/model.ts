/**
 * What the alerts are made of (plain data): an alert, its transitions, and the snapshot of the
 * deployment it is evaluated on.
 */
import type { KillState } from '../kill-switch.ts';

export type Severity = 'warning' | 'critical';

export interface Alert {
  /** Stable: `lag:3`, `kill-switch`, ... */
  id: string;
  severity: Severity;
  /** One human line, with the numbers. */
  summary: string;
  shard?: number;
  /** The measure that fired it (ms of age for lag and stale, entries for no-worker and dead letters, symbols for the kill switch). */
  value?: number;
  /**
   * What the alert covers beyond its id, when that can change while it fires (the killed
   * symbols): a change is announced again, as a change of severity is.
   */
  scope?: string;
}

/** An alert as stored in `<ns>:alerts:state`: the alert when it last changed, and since when it fires. */
export interface FiringAlert extends Alert {
  /** ms when it started firing. */
  since: number;
}

/** One entry of `<ns>:alerts`. A resolved alert keeps the severity it fired with; its summary says it resolved. */
export interface AlertTransition extends FiringAlert {
  state: 'firing' | 'resolved';
  /** ms of the snapshot that saw the change. */
  at: number;
}

/** What the evaluator needs to know about one shard; times are ms on the snapshot's clock. */
export interface ShardSnapshot {
  shard: number;
  /** The input stream, or null when it does not exist (nothing was ever published to the shard). */
  input: {
    length: number;
    /** When the newest entry arrived (its ID); null when none ever did. */
    lastMs: number | null;
  } | null;
  /** ms left on the lease; null when no worker holds it. */
  leaseTtlMs: number | null;
  /** The workers' consumer group on the input, or null when none was created (no worker ever ran). */
  group: {
    /** Entries not yet delivered (Redis 7 `lag`); null when Redis cannot tell (after deletions). */
    lag: number | null;
    /** Delivered, not yet acknowledged (committed). */
    pending: number;
  } | null;
  /** Arrival of the oldest entry delivered but not acknowledged; null when none. */
  oldestPendingMs: number | null;
  /** Arrival of the oldest entry not yet delivered (the first after `last-delivered-id`); null when none. */
  oldestUndeliveredMs: number | null;
  /** When the newest output entry was written; null when there is none. */
  lastOutputMs: number | null;
  /**
   * Arrival of the first input (heartbeats skipped) that came after the newest output entry, so
   * certainly has no output yet; null when none (or only heartbeats among the first few).
   */
  firstUnansweredMs: number | null;
  deadLetters: { length: number; lastMs: number | null; lastReason: string | null };
}

/** What tells whether the deployment's data is still in Redis (the `data-lost` alert). */
export interface DeploymentPresence {
  /** `<ns>:meta`, as named in the alert. */
  metaKey: string;
  /** It exists: every feed and worker records it when it starts. */
  metaPresent: boolean;
  /** The watcher saw it in an earlier snapshot (snapshot.ts leaves this false; the watcher fills it in). */
  metaSeenBefore: boolean;
  /** A worker's record (`<ns>:data-lost`) that it stopped because Redis lost the data; null when none. */
  workerReport: { consumer: string; at: number; reason: string } | null;
}

export type DeploymentSnapshot =
  | { ok: true; at: number; shards: ShardSnapshot[]; kill: KillState; presence?: DeploymentPresence }
  | { ok: false; at: number; error: string };

export const REDIS_DOWN = 'redis-down';
export const KILL_SWITCH = 'kill-switch';
export const DATA_LOST = 'data-lost';
