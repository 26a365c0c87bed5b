/**
 * The number KEDA's `redis-streams` scaler reads for one input stream, computed the way it does,
 * so that a test (and an operator at a redis-cli) can see what the autoscaler sees.
 *
 * Source: kedacore/keda pkg/scalers/redis_streams_scaler.go at 8b4f083ca8c8 (v2.20.1-117),
 * `createEntriesCountFn` and `GetMetricsAndActivity`:
 * - `lagCount` set (and `consumerGroup`): INFO must say `redis_version` 7 or more (else an error);
 *   XINFO GROUPS on the stream; "ERR no such key" (no stream yet) is 0; the group's `lag` field;
 *   no such group yet is XLEN of the stream (what the lag would be had the group been created).
 * - only `consumerGroup`: `pendingEntriesCount`, the count of XPENDING's summary (entries
 *   delivered and not acknowledged; entries nobody has read yet do not count).
 * - The trigger is active when the value is > `activationLagCount` (default 0), for every mode.
 *
 * A group's lag is null in Redis 7 when it cannot be known (an entry deleted with XDEL between the
 * group's last delivered entry and the end of the stream, or a group set to an arbitrary ID).
 * KEDA reads it through go-redis's XINFO GROUPS parser: go-redis 9.9 and later (KEDA 2.18 and
 * later) give -1 for null (redis/go-redis b67455e0, "support nil lag in XINFO GROUPS"); earlier
 * ones left the field at 0. Either way the trigger is not active and asks for no replicas.
 */
import type { RedisClient } from './redis-connect.ts';

/** What KEDA reads a null lag as: -1 from KEDA 2.18 on (go-redis >= 9.9), 0 before. */
export type NullLagAs = -1 | 0;

/** One trigger's reading: the metric value and whether the trigger is active. */
export interface KedaReading {
  /** The value KEDA reports to the HPA for this trigger. */
  value: number;
  /** value > activationLagCount: whether this trigger alone keeps the target scaled from zero. */
  active: boolean;
  /** Redis said the group's lag was null (value is then `nullLagAs`). */
  lagWasNull: boolean;
}

export interface KedaTrigger {
  stream: string;
  consumerGroup: string;
  /** 'lagCount' (XINFO GROUPS lag, Redis 7+) or 'pendingEntriesCount' (XPENDING). */
  mode: 'lagCount' | 'pendingEntriesCount';
  activationLagCount?: number;
  nullLagAs?: NullLagAs;
}

/** XINFO GROUPS's flat reply for one group as a map (RESP2: name, value, name, value...). */
function fields(flat: unknown[]): Map<string, unknown> {
  const m = new Map<string, unknown>();
  for (let i = 0; i + 1 < flat.length; i += 2) m.set(String(flat[i]), flat[i + 1]);
  return m;
}

/** KEDA's metric for one `redis-streams` trigger, read from `r` as the scaler would. */
export async function kedaStreamMetric(r: RedisClient, t: KedaTrigger): Promise<KedaReading> {
  const activation = t.activationLagCount ?? 0;
  const reading = (value: number, lagWasNull = false): KedaReading => ({ value, active: value > activation, lagWasNull });
  if (t.mode === 'pendingEntriesCount') {
    const summary = (await r.xpending(t.stream, t.consumerGroup)) as [number, ...unknown[]];
    return reading(Number(summary[0]));
  }
  const info = await r.info();
  const version = /^redis_version:(\d+)\./m.exec(info);
  if (!version) throw new Error('could not find Redis version number');
  if (Number(version[1]) < 7) throw new Error('redis version 7+ required for lag');
  let groups: unknown[][] = [];
  try {
    groups = (await r.call('XINFO', 'GROUPS', t.stream)) as unknown[][];
  } catch (e) {
    if ((e as Error).message === 'ERR no such key') return reading(0);
    // KEDA checks only for that message and goes on with no groups otherwise: any other failure
    // (a NOPERM for a user without +xinfo|groups) silently turns the reading into XLEN
  }
  for (const g of groups) {
    const f = fields(g);
    if (String(f.get('name')) !== t.consumerGroup) continue;
    const lag = f.get('lag');
    if (lag === null || lag === undefined) return reading(t.nullLagAs ?? -1, true);
    return reading(Number(lag));
  }
  return reading(await r.xlen(t.stream));
}

/**
 * The replica count the HPA computes from the ScaledObject in deploy/ (one trigger per shard,
 * combined by `scalingModifiers.formula` into the sum of max(lag, 0), metricType AverageValue):
 * ceil(sum / target), within [min, max]. Left out: KEDA's own step from 0 to 1 (activation;
 * deploy/ keeps at least one worker) and the HPA's tolerance (no change while the ratio of the
 * metric to its target is within 10% of the current count).
 */
export function desiredReplicas(readings: readonly KedaReading[], target: number, min: number, max: number): number {
  const total = readings.reduce((s, r) => s + Math.max(r.value, 0), 0);
  return Math.min(max, Math.max(min, Math.ceil(total / target)));
}
