/**
 * The live deployment log: `<ns>:models:log`, a Redis stream every worker follows, so that a deploy,
 * promote or rollback made during the day takes effect on every shard at the same event-time point
 * (`at`, receive time), and a replay given the exported log (`exportLiveLog`) computes what live did.
 *
 * Choosing `at` (appendLiveDeployment): the newest receive time fed to any shard (the last entry of
 * each input stream) plus a lead. The input streams, not the checkpoints or output streams, because
 * they bound everything a worker can have applied: a checkpoint lags its shard by up to
 * checkpointEvery events, and a worker applies a batch before its outputs are committed, so both
 * can be behind what a shard has passed. The lead (default 2 s of event time) covers what the feed
 * publishes between that read and the workers' next poll of the log (each worker polls before
 * every batch).
 *
 * Late entries. A shard may still have passed `at` by the time its worker reads the entry (a feed
 * far faster than real time, a lead too short, a worker that restarts behind a long backlog). The
 * rule: the worker never applies an entry in its shard's past. It applies it from the first receive
 * time after what the shard has applied (`R + 1`), and first records that point in the log as an
 * amendment `{of: <entry id>, shard, shards, at}`; the exported log carries it as the entry's
 * `late` map (deployment.ts `entryAt`), which replay honours, so replay still reproduces live
 * exactly. Every late entry is logged by the worker and raises an alert (`model-log-late`).
 *
 * What "applied" means across restarts: before a worker applies anything to a shard after reading
 * new log entries, it records in `<ns>:models:seen` (per shard) the last log ID it has judged. A
 * worker that recovers a shard judges the entries after that ID against the shard's committed
 * outputs (the input entry the checkpoint's `outId` names): those outputs were made without them.
 * Entries at or before it were judged by the previous owner (on time, or amended first).
 */
import { writeFileSync } from 'node:fs';
import { ModelError } from '../../models/errors.ts';
import type { DeploymentEntry } from '../../models/deployment.ts';
import { entryFromJson, entryToJson } from '../../models/registry.ts';
import { inputStream, metaKey, modelsLogStream, modelsSeenKey, type KeyLayout } from '../keys.ts';
import { decodeEvent } from '../wire.ts';
import type { Redis } from 'ioredis';

/** A deployment entry before its effect point is chosen (what an operator asks for). */
export type LiveDeploymentRequest = Omit<DeploymentEntry, 'at' | 'late'>;

/** One record of the live log: an entry, or a shard's amendment of a late entry. */
export type LiveLogRecord =
  | { id: string; entry: DeploymentEntry }
  | { id: string; amend: { of: string; shard: number; shards: number; at: bigint } };

/** The minimal Redis surface used here (ioredis `Redis`; the log is one key, so Cluster works too). */
type R = Pick<Redis, 'xadd' | 'xrange' | 'xrevrange' | 'hget' | 'hgetall' | 'hset' | 'watch' | 'unwatch' | 'multi'>;

/** Default lead of `appendLiveDeployment`: 2 s of event time. */
export const DEFAULT_LEAD_NS = 2_000_000_000n;

/** Receive time of the newest input entry of a shard at or before `upTo` (`+`: the newest), or -1n. */
export async function inputRecvAt(redis: Pick<Redis, 'xrevrange'>, keys: KeyLayout, shard: number, upTo = '+'): Promise<bigint> {
  if (upTo === '0-0') return -1n;
  const last = await redis.xrevrange(inputStream(keys, shard), upTo, '-', 'COUNT', 16);
  for (const [, fields] of last) {
    const d = decodeEvent(fields);
    if (d.ok) return d.event.tsRecv;
  }
  return -1n;
}

/** The deployment's shard count, from `<ns>:meta`. */
async function shardCount(redis: Pick<Redis, 'hget'>, ns: string): Promise<number> {
  const n = Number(await redis.hget(metaKey({ ns, shards: 0 }), 'shards'));
  if (!Number.isSafeInteger(n) || n <= 0) throw new ModelError(`${ns}:meta`, 'no shard count recorded: start the feed or a worker of this namespace first');
  return n;
}

/**
 * Appends a deploy / promote / rollback to the live log, taking effect at `at` = the newest receive
 * time fed to any shard + `leadNs` (and after the log's last entry), so all shards switch at the
 * same event-time point. Returns the entry with its `at` and its stream ID. The log stays in time
 * order under concurrent appenders (WATCH on the log, retried).
 */
export async function appendLiveDeployment(redis: R, ns: string, req: LiveDeploymentRequest, leadNs: bigint = DEFAULT_LEAD_NS): Promise<{ id: string; entry: DeploymentEntry }> {
  if (leadNs < 0n) throw new ModelError('--lead', `${leadNs} must be >= 0`);
  const shards = await shardCount(redis, ns);
  const keys = { ns, shards };
  let fed = -1n;
  for (let s = 0; s < shards; s++) {
    const t = await inputRecvAt(redis, keys, s);
    if (t > fed) fed = t;
  }
  return appendLogEntry(redis, ns, { ...req, at: (fed < 0n ? 0n : fed) + leadNs });
}

/**
 * Appends an entry with the `at` given (raised to just after the log's last entry, if earlier: the
 * log is in time order). `appendLiveDeployment` is the operator's way; this one is for tools that
 * choose the point themselves (and for tests of late entries).
 */
export async function appendLogEntry(redis: R, ns: string, entry: DeploymentEntry): Promise<{ id: string; entry: DeploymentEntry }> {
  const key = modelsLogStream({ ns });
  for (;;) {
    await redis.watch(key);
    const last = await redis.xrevrange(key, '+', '-', 'COUNT', 50);
    let lastAt = -1n;
    for (const [id, f] of last) {
      const rec = recordOf(id, f);
      if (rec !== null && 'entry' in rec) {
        lastAt = rec.entry.at;
        break;
      }
    }
    const e = { ...entry, at: entry.at > lastAt ? entry.at : lastAt + 1n };
    const res = await redis.multi().xadd(key, '*', 'e', entryToJson(e)).exec();
    if (res === null) continue; // another append came first: choose again
    const [err, id] = res[0];
    if (err) throw err;
    return { id: String(id), entry: e };
  }
}

/** Parses one stream entry of the log (null: not a log record; skipped). */
function recordOf(id: string, f: string[]): LiveLogRecord | null {
  const m = new Map<string, string>();
  for (let i = 0; i + 1 < f.length; i += 2) m.set(f[i], f[i + 1]);
  const e = m.get('e');
  if (e !== undefined) return { id, entry: entryFromJson(e, `${id} of the models log`) };
  const a = m.get('amend');
  if (a !== undefined) {
    const o = JSON.parse(a) as { of: string; shard: number; shards: number; at: string };
    return { id, amend: { of: o.of, shard: o.shard, shards: o.shards, at: BigInt(o.at) } };
  }
  return null;
}

/** Records of the live log after `after` (exclusive; '0-0' for all), in stream order, with the last ID read. */
export async function readLiveLog(redis: Pick<Redis, 'xrange'>, ns: string, after = '0-0', count = 1000): Promise<{ records: LiveLogRecord[]; lastId: string }> {
  const key = modelsLogStream({ ns });
  const records: LiveLogRecord[] = [];
  let from = after === '0-0' ? '-' : `(${after}`;
  let lastId = after;
  for (;;) {
    const got = await redis.xrange(key, from, '+', 'COUNT', count);
    for (const [id, f] of got) {
      const r = recordOf(id, f);
      if (r !== null) records.push(r);
      lastId = id;
    }
    if (got.length < count) return { records, lastId };
    from = `(${lastId}`;
  }
}

/** Writes a shard's amendment of a late entry (`of`: its stream ID). */
export async function appendAmendment(redis: Pick<Redis, 'xadd'>, ns: string, a: { of: string; shard: number; shards: number; at: bigint }): Promise<void> {
  await redis.xadd(modelsLogStream({ ns }), '*', 'amend', JSON.stringify({ ...a, at: a.at.toString() }));
}

/** Sets `late` on `entry` from an amendment (the first amendment of a shard holds). */
export function applyAmendment(entry: DeploymentEntry, a: { shard: number; shards: number; at: bigint }): void {
  entry.late ??= { shards: a.shards, at: {} };
  if (entry.late.shards !== a.shards) throw new ModelError('models log', `amendments of one entry give ${entry.late.shards} and ${a.shards} shards`);
  entry.late.at[a.shard] ??= a.at;
}

/** The log's entries in stream order, each with its shards' amendments folded in (`late`). */
export function mergeLiveLog(records: readonly LiveLogRecord[]): DeploymentEntry[] {
  const byId = new Map<string, DeploymentEntry>();
  const out: DeploymentEntry[] = [];
  for (const r of records) {
    if ('entry' in r) {
      const e = { ...r.entry };
      byId.set(r.id, e);
      out.push(e);
    } else {
      const e = byId.get(r.amend.of);
      if (e !== undefined) applyAmendment(e, r.amend);
    }
  }
  return out;
}

/** Exports the live log as a deployments.jsonl file (amendments folded in); returns its entries. */
export async function exportLiveLog(redis: Pick<Redis, 'xrange'>, ns: string, file: string): Promise<DeploymentEntry[]> {
  const entries = mergeLiveLog((await readLiveLog(redis, ns)).records);
  writeFileSync(file, entries.map((e) => entryToJson(e) + '\n').join(''));
  return entries;
}

/** The last log ID judged per shard (`<ns>:models:seen`). */
export async function readSeen(redis: Pick<Redis, 'hgetall'>, ns: string): Promise<Map<number, string>> {
  const h = await redis.hgetall(modelsSeenKey({ ns }));
  return new Map(Object.entries(h).map(([k, v]) => [Number(k), v]));
}
