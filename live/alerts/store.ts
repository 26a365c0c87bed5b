/**
 * The alerts as stored in Redis: `<ns>:alerts` (a stream of transitions) and `<ns>:alerts:state`
 * (a hash of the alerts firing now, as JSON). How the watcher writes them (`transitionWrites`),
 * and how `readFiringAlerts` and `followAlerts` read them back.
 */
import { alertsStateKey, alertsStream } from '../keys.ts';
import type { Cluster } from 'ioredis';
import { callInOrder, type ClusterCmd } from '../cluster-commands.ts';
import type { RedisClient } from '../redis-connect.ts';
import type { AlertTransition, FiringAlert, Severity } from './model.ts';
import { firstEntry, isCluster, type Entry } from './replies.ts';

const storedJson = (f: FiringAlert): string =>
  JSON.stringify({ id: f.id, severity: f.severity, summary: f.summary, shard: f.shard, value: f.value, scope: f.scope, since: f.since });

function transitionFields(t: AlertTransition): string[] {
  const f = ['id', t.id, 'state', t.state, 'severity', t.severity, 'summary', t.summary, 'at', String(t.at), 'since', String(t.since)];
  if (t.shard !== undefined) f.push('shard', String(t.shard));
  if (t.value !== undefined) f.push('value', String(t.value));
  return f;
}

/** A stored alert; an unreadable one still counts as firing (and is resolved when it is not). */
export function parseFiring(id: string, json: string): FiringAlert {
  try {
    const j = JSON.parse(json) as Partial<FiringAlert>;
    if (j.severity !== 'warning' && j.severity !== 'critical') throw new Error('no severity');
    const f: FiringAlert = { id, severity: j.severity, summary: String(j.summary ?? ''), since: Number(j.since ?? 0) };
    if (typeof j.shard === 'number') f.shard = j.shard;
    if (typeof j.value === 'number') f.value = j.value;
    if (typeof j.scope === 'string') f.scope = j.scope;
    return f;
  } catch (e) {
    return { id, severity: 'warning', summary: `unreadable alert state (${(e as Error).message}): ${json.slice(0, 200)}`, since: 0 };
  }
}

/** One step of recording transitions: an ioredis MULTI on a single node; on Cluster, single commands (`exec` alike). */
export interface WriteStep {
  exec(): Promise<[Error | null, unknown][] | null>;
}

/**
 * The state hash's changes in one script call on Cluster (one command, so no MULTI there:
 * cluster-commands.ts): ARGV[1] '1' deletes the hash first (a resync), then id/JSON pairs, an
 * empty JSON deleting the field.
 */
const STATE_SCRIPT = `if ARGV[1] == '1' then redis.call('DEL', KEYS[1]) end
for i = 2, #ARGV, 2 do
  if ARGV[i + 1] == '' then redis.call('HDEL', KEYS[1], ARGV[i]) else redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
end
return 1`;

/**
 * The steps that record `batch` (to execute in order): an XADD to the stream per transition and
 * an HSET / HDEL in the state hash, or with `resyncFrom` the state hash rewritten from those
 * alerts. One MULTI on a single node. On Cluster the two keys live in different slots, and a
 * Cluster MULTI can wedge a connection during a failover (cluster-commands.ts): the XADDs one
 * after the other, then the state hash's changes in one script call.
 */
export function transitionWrites(redis: RedisClient, keys: { ns: string }, batch: readonly AlertTransition[], resyncFrom: Iterable<FiringAlert> | null, maxLen: number): WriteStep[] {
  const stream = alertsStream(keys);
  const state = alertsStateKey(keys);
  if (isCluster(redis)) {
    const c = redis as Cluster;
    const args: string[] = [resyncFrom !== null ? '1' : '0'];
    if (resyncFrom !== null) for (const f of resyncFrom) args.push(f.id, storedJson(f));
    else for (const t of batch) args.push(t.id, t.state === 'firing' ? storedJson(t) : '');
    // the stream's first, so that a watcher killed between them announces a transition twice
    // (the restarted one reads the old state) rather than never (state written, stream not)
    return [
      { exec: () => callInOrder(c, batch.map((t): ClusterCmd => ['XADD', stream, 'MAXLEN', '~', maxLen, '*', ...transitionFields(t)])) },
      { exec: () => callInOrder(c, [['EVAL', STATE_SCRIPT, 1, state, ...args]]) },
    ];
  }
  const m = redis.multi();
  if (resyncFrom !== null) {
    m.del(state);
    for (const f of resyncFrom) m.hset(state, f.id, storedJson(f));
  } else {
    for (const t of batch) {
      if (t.state === 'firing') m.hset(state, t.id, storedJson(t));
      else m.hdel(state, t.id);
    }
  }
  for (const t of batch) m.xadd(stream, 'MAXLEN', '~', maxLen, '*', ...transitionFields(t));
  return [m];
}

const SEVERITY_RANK: Record<Severity, number> = { critical: 0, warning: 1 };

/**
 * The alerts firing now, as the watcher recorded them (critical first, then by id): for
 * /healthz and /metrics. One HGETALL; any client with `hgetall` will do (ACL: `+hgetall
 * ~<ns>:alerts:state`).
 */
export async function readFiringAlerts(redis: { hgetall(key: string): Promise<Record<string, string>> }, keys: { ns: string }): Promise<FiringAlert[]> {
  const h = await redis.hgetall(alertsStateKey(keys));
  return Object.entries(h)
    .map(([id, json]) => parseFiring(id, json))
    .sort((a, b) => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** A transition as read back from `<ns>:alerts`, with its stream entry ID. */
export interface AlertEntry extends AlertTransition {
  entryId: string;
}

function parseEntry(entryId: string, fields: readonly string[]): AlertEntry {
  const f: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]] = fields[i + 1];
  const e: AlertEntry = {
    entryId,
    id: f.id ?? '',
    state: f.state === 'resolved' ? 'resolved' : 'firing',
    severity: f.severity === 'critical' ? 'critical' : 'warning',
    summary: f.summary ?? '',
    at: Number(f.at),
    since: Number(f.since ?? f.at),
  };
  if (f.shard !== undefined) e.shard = Number(f.shard);
  if (f.value !== undefined) e.value = Number(f.value);
  return e;
}

export interface FollowOptions {
  /** BLOCK of each XREAD (ms, default 1000); keep it below the client's command timeout. */
  blockMs?: number;
  /** Entries per read (default 100). */
  count?: number;
  /** Stops following (within `blockMs`). */
  signal?: AbortSignal;
  /** Called when a read fails; the generator waits `retryMs` (default 1000) and reads again. */
  onError?: (e: Error) => void;
  retryMs?: number;
}

/**
 * The transitions of `<ns>:alerts` after `fromId` (`$`: from now on; `0`: from the oldest kept),
 * as they are written, until `signal` aborts (or the consumer stops iterating). Survives Redis
 * restarts: a failed read is retried. `$` is pinned to the stream's last ID on the first read,
 * so nothing written between two reads is missed.
 */
export async function* followAlerts(redis: RedisClient, keys: { ns: string }, fromId = '$', opts: FollowOptions = {}): AsyncGenerator<AlertEntry> {
  const key = alertsStream(keys);
  let last: string | null = fromId === '$' ? null : fromId;
  while (!opts.signal?.aborted) {
    let entries: Entry[] = [];
    try {
      if (last === null) last = firstEntry(await redis.xrevrange(key, '+', '-', 'COUNT', 1))?.[0] ?? '0-0';
      const res = (await redis.xread('COUNT', opts.count ?? 100, 'BLOCK', opts.blockMs ?? 1000, 'STREAMS', key, last)) as [string, Entry[]][] | null;
      entries = res?.[0]?.[1] ?? [];
    } catch (e) {
      if (opts.signal?.aborted) return;
      opts.onError?.(e as Error);
      await abortableSleep(opts.retryMs ?? 1000, opts.signal);
      continue;
    }
    for (const [id, fields] of entries) {
      last = id;
      yield parseEntry(id, fields);
    }
  }
}

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
