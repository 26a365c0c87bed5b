/** What `LiveWorker.health()` reports, and the two ways the last Redis round trip can end. */

export interface WorkerHealth {
  /** The last Redis round trip succeeded. */
  healthy: boolean;
  /** ms of the last one that did. */
  lastOkAt: number;
  /** The last failure's message, null once a round trip succeeds again. */
  lastError: string | null;
  /** Input entries applied to a fold (silent re-applications during recovery included). */
  applied: number;
  deadLettered: number;
  /** Entries whose event repeated a sequence number already applied: dropped by the fold's duplicate policy, acknowledged. */
  duplicates: number;
  commits: number;
  /** Seconds spent in commit round trips that succeeded, summed (with `commits`: the mean commit latency). */
  commitSeconds: number;
  /** Per model slot (`--registry`): output rows whose signal is null because the model failed (status 2). */
  modelErrorRows: Record<string, number>;
  /** The same for the unserved side (a shadow, or the canary's other side): `<slot>_unserved_status`. */
  modelUnservedErrorRows: Record<string, number>;
  /** Redis lost the deployment's data (streams and checkpoints gone): the worker stopped (RedisDataLostError, in lastError). */
  dataLost: boolean;
}

export const newHealth = (): WorkerHealth => ({ healthy: false, lastOkAt: 0, lastError: null, applied: 0, deadLettered: 0, duplicates: 0, commits: 0, commitSeconds: 0, dataLost: false, modelErrorRows: {}, modelUnservedErrorRows: {} });

export function markOk(h: WorkerHealth): void {
  if (h.dataLost) return; // stays visible: the worker stopped for it
  h.healthy = true;
  h.lastOkAt = Date.now();
  h.lastError = null;
}

export function markFailed(h: WorkerHealth, e: unknown): void {
  h.healthy = false;
  h.lastError = (e as Error).message ?? String(e);
}
