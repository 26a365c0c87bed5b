/**
 * Reading the deployment snapshot the evaluator needs from Redis (`takeSnapshot`): two pipelined
 * round trips whatever the shard count.
 */
import { dataLostKey, deadLetterStream, inputStream, killSwitchKey, leaseKey, metaKey, outputStream, type KeyLayout } from '../keys.ts';
import { parseKillState } from '../kill-switch.ts';
import type { Cluster } from 'ioredis';
import { callEach } from '../cluster-commands.ts';
import type { RedisClient } from '../redis-connect.ts';
import { compareIds, idMs } from '../stream-id.ts';
import type { DeploymentPresence, DeploymentSnapshot, ShardSnapshot } from './model.ts';
import { field, firstEntry, isCluster, pairs, type Entry } from './replies.ts';

type Cmd = [string, ...(string | number)[]];
interface Reply {
  err: Error | null;
  v: unknown;
}

/**
 * Runs groups of commands in one round trip: one pipeline on a single node; on Cluster every
 * command on its own, all at once (a Cluster pipeline can wedge a connection during a failover:
 * cluster-commands.ts).
 */
async function runGroups(redis: RedisClient, groups: Cmd[][]): Promise<Reply[][]> {
  if (isCluster(redis)) {
    return Promise.all(groups.map(async (g) => (await callEach(redis as Cluster, g)).map(([err, v]) => ({ err, v }))));
  }
  const run = async (cmds: Cmd[]): Promise<Reply[]> => {
    if (cmds.length === 0) return [];
    const p = redis.pipeline();
    for (const [c, ...args] of cmds) p.call(c, ...args);
    const res = await p.exec();
    if (!res) throw new Error('pipeline was discarded');
    return res.map(([err, v]) => ({ err, v }));
  };
  const flat = await run(groups.flat());
  let i = 0;
  return groups.map((g) => flat.slice(i, (i += g.length)));
}

/** The reply, or null when the key (or group) does not exist; any other error is thrown. */
function orAbsent(r: Reply): unknown {
  if (!r.err) return r.v;
  if (/no such key|NOGROUP/i.test(r.err.message)) return null;
  throw r.err;
}

function value(r: Reply): unknown {
  if (r.err) throw r.err;
  return r.v;
}

/** A worker's `<ns>:data-lost` record; an unreadable one still says that a worker stopped for it. */
function workerReport(v: unknown): DeploymentPresence['workerReport'] {
  if (v === null || v === undefined) return null;
  try {
    const j = JSON.parse(String(v)) as { consumer?: unknown; at?: unknown; reason?: unknown };
    return { consumer: String(j.consumer ?? '?'), at: Number(j.at ?? 0), reason: String(j.reason ?? '') };
  } catch {
    return { consumer: '?', at: 0, reason: String(v).slice(0, 200) };
  }
}

/** How many inputs after the newest output are read to find one that is not a heartbeat. */
const UNANSWERED_PEEK = 8;

export interface SnapshotOptions {
  /** The workers' consumer group (default `lockstep`, as `lockstep live`). */
  group?: string;
}

/**
 * Reads what `evaluateAlerts` needs, for every shard, in two pipelined round trips: first whether
 * `<ns>:meta` exists, a worker's `<ns>:data-lost` record, the lease TTLs, XINFO STREAM / XINFO
 * GROUPS / XPENDING of the inputs, the newest output and dead letter (XREVRANGE COUNT 1), XLEN of
 * the dead letters, the kill switch and TIME; then, only where needed, the first undelivered input
 * and the first inputs after the newest output (XRANGE from an exclusive start, COUNT 1 / 8). `now` defaults to Redis's TIME. Never throws for Redis: a
 * failure is a snapshot with `ok: false`, which evaluates to `redis-down`.
 *
 * Works on Redis Cluster: there every command goes on its own, all sent at once (no pipelines:
 * cluster-commands.ts). XREVRANGE returns the newest output entry whole (one commit's rows,
 * up to a batch of them): Redis has no command that returns only a stream's last ID.
 */
export async function takeSnapshot(redis: RedisClient, keys: KeyLayout, now?: number, opts: SnapshotOptions = {}): Promise<DeploymentSnapshot> {
  const group = opts.group ?? 'lockstep';
  try {
    const shards = Array.from({ length: keys.shards }, (_, s) => s);
    const first = await runGroups(redis, [
      [['GET', killSwitchKey(keys)], ...(now === undefined ? [['TIME'] as Cmd] : [])],
      // each its own group: on Cluster the three keys live in different slots
      [['EXISTS', metaKey(keys)]],
      [['GET', dataLostKey(keys)]],
      ...shards.map((s): Cmd[] => {
        const inKey = inputStream(keys, s);
        const dlq = deadLetterStream(keys, s);
        return [['PTTL', leaseKey(keys, s)], ['XINFO', 'STREAM', inKey], ['XINFO', 'GROUPS', inKey], ['XPENDING', inKey, group], ['XREVRANGE', outputStream(keys, s), '+', '-', 'COUNT', 1], ['XLEN', dlq], ['XREVRANGE', dlq, '+', '-', 'COUNT', 1]];
      }),
    ]);
    const [killReply, timeReply] = first[0];
    const time = now === undefined ? (value(timeReply) as [string, string]) : null;
    const at = time ? Number(time[0]) * 1000 + Math.floor(Number(time[1]) / 1000) : now!;
    const kill = parseKillState(value(killReply) as string | null);
    const presence: DeploymentPresence = { metaKey: metaKey(keys), metaPresent: Number(value(first[1][0])) > 0, metaSeenBefore: false, workerReport: workerReport(value(first[2][0])) };

    const partial = shards.map((s) => {
      const [pttl, xinfo, groups, xpending, lastOut, dlqLen, lastDlq] = first[s + 3];
      const ttl = Number(value(pttl)); // -2: no key; -1: no expiry (held, though not by a worker's SET PX)
      const info = orAbsent(xinfo);
      const st = info === null ? null : pairs(info);
      const lastId = st ? String(st['last-generated-id']) : null;
      const g = ((orAbsent(groups) as unknown[] | null) ?? []).map(pairs).find((x) => String(x.name) === group) ?? null;
      const pend = orAbsent(xpending) as [number, string | null, string | null, unknown] | null;
      const out = firstEntry(value(lastOut));
      const dlqEntry = firstEntry(value(lastDlq));
      const snap: ShardSnapshot = {
        shard: s,
        input: st ? { length: Number(st.length), lastMs: idMs(lastId) } : null,
        leaseTtlMs: ttl === -2 ? null : ttl === -1 ? Infinity : ttl,
        group: g ? { lag: g.lag === null || g.lag === undefined ? null : Number(g.lag), pending: Number(pend?.[0] ?? g['pel-count'] ?? 0) } : null,
        oldestPendingMs: idMs(pend?.[1]),
        oldestUndeliveredMs: null,
        lastOutputMs: idMs(out?.[0]),
        firstUnansweredMs: null,
        deadLetters: { length: Number(value(dlqLen)), lastMs: idMs(dlqEntry?.[0]), lastReason: field(dlqEntry, 'reason') },
      };
      return { snap, lastId, lastDelivered: g ? String(g['last-delivered-id']) : null, lastOutId: out?.[0] ?? null };
    });

    // second round trip: only what depends on the first (and only where it can matter)
    const plans = partial.map(({ snap, lastId, lastDelivered, lastOutId }) => {
      const plan: { kind: 'undelivered' | 'unanswered'; cmd: Cmd }[] = [];
      if (!snap.input || snap.input.lastMs === null) return plan;
      const inKey = inputStream(keys, snap.shard);
      if (snap.group === null) plan.push({ kind: 'undelivered', cmd: ['XRANGE', inKey, '-', '+', 'COUNT', 1] });
      else if (snap.group.lag !== 0) plan.push({ kind: 'undelivered', cmd: ['XRANGE', inKey, `(${lastDelivered}`, '+', 'COUNT', 1] });
      if (lastOutId === null || compareIds(lastId!, lastOutId) > 0) {
        plan.push({ kind: 'unanswered', cmd: ['XRANGE', inKey, lastOutId === null ? '-' : `(${lastOutId}`, '+', 'COUNT', UNANSWERED_PEEK] });
      }
      return plan;
    });
    const replies = await runGroups(redis, plans.map((p) => p.map((x) => x.cmd)));
    plans.forEach((plan, s) => {
      const snap = partial[s].snap;
      plan.forEach(({ kind }, i) => {
        const entries = value(replies[s][i]) as Entry[];
        if (kind === 'undelivered') snap.oldestUndeliveredMs = idMs(entries[0]?.[0]);
        else snap.firstUnansweredMs = idMs(entries.find((e) => field(e, 'k') !== 'heartbeat')?.[0]);
      });
    });
    return { ok: true, at, shards: partial.map((p) => p.snap), kill, presence };
  } catch (e) {
    return { ok: false, at: now ?? Date.now(), error: (e as Error).message };
  }
}

