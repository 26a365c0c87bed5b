/**
 * Recovering a shard from its checkpoint (nothing lost, nothing counted twice): the checkpoint
 * holds the shard's fold state with `stateId` (the last input applied to it) and `outId` (the last
 * input whose outputs and ack are committed). The state is restored and the input stream re-read
 * after `stateId` with XRANGE: entries up to `outId` are re-applied silently (their outputs exist),
 * the rest are processed normally. Dead consumers' pending entries are claimed first; an entry
 * delivered more than `maxDeliveries` times without being committed (a poison pill) is
 * dead-lettered with the reason.
 */
import { DEAD_LETTER_MAXLEN } from '../dead-letter.ts';
import { checkpointKey, deadLetterStream, inputStream, type KeyLayout } from '../keys.ts';
import { compareIds } from '../stream-id.ts';
import type { Entry } from '../stream-reader.ts';
import type { EntryApplier } from './apply.ts';
import type { WorkerRedis } from './commands.ts';
import type { Committer } from './commit.ts';
import { FatalWorkerError } from './errors.ts';
import type { WorkerHealth } from './health.ts';
import type { ResolvedWorkerOptions } from './options.ts';
import { runFromCheckpoint, type ShardRun } from './shard-run.ts';
import { warmOrWait, warmRun, firstInputEvent, type WarmContext } from './warm-start.ts';
import { writeShardLineage } from '../lineage-key.ts';
import type { AnyFactor } from '../../core/factor.ts';
import type { LineageInput } from '../../replay/lineage.ts';

/** What recovering a shard works with. */
export interface RecoveryContext {
  writer: WorkerRedis;
  opts: ResolvedWorkerOptions;
  keys: KeyLayout;
  fsv: string;
  status: WorkerHealth;
  applier: EntryApplier;
  committer: Committer;
  log: (msg: string) => void;
  /** Warm start of shards without a checkpoint (`--warm-from`), when asked for. */
  warm?: WarmContext;
  /** The factors run (for the shard's lineage key). */
  factors: readonly AnyFactor[];
  /** The live models log (with `--registry`): judges its entries for the shard before it catches up. */
  models?: { beforeCatchUp(run: ShardRun): Promise<void> };
}

/** Restores shard `s` from its checkpoint and catches it up with the input its group has delivered. */
export async function recoverShard(c: RecoveryContext, s: number): Promise<ShardRun> {
  const { writer, opts, keys } = c;
  const inKey = inputStream(keys, s);
  try {
    await writer.xgroup('CREATE', inKey, opts.group, '0', 'MKSTREAM');
  } catch (e) {
    if (!String((e as Error).message).includes('BUSYGROUP')) throw e;
  }
  const ck: Record<string, Buffer> = await writer.hgetallBuffer(checkpointKey(keys, s));
  const ckFsv = ck.featureSetVersion?.toString();
  if (ck.state && ckFsv !== undefined && ckFsv !== c.fsv) {
    throw new FatalWorkerError(`shard ${s}: its checkpoint was made by feature set ${ckFsv}, this worker runs ${c.fsv}; replay the shard from scratch (delete ${checkpointKey(keys, s)}) or run the matching version`);
  }
  const run = runFromCheckpoint(s, ck);
  let warmed: LineageInput[] | undefined;
  if (c.warm) {
    // a saved state wins: it already holds the warm-up (or the day since the open)
    if (ck.state) c.warm.cache.delete(s);
    if (ck.state) c.log(`shard ${s}: has a checkpoint (state at ${run.stateId}); recovering from it, not from --warm-from ${c.warm.warm.catalog}`);
    else warmed = await warmOrWait(c.warm, run, inKey);
  }
  await writeShardLineage(writer, keys, s, c.factors, warmed);
  await claimAndPoison(c, run);
  await c.models?.beforeCatchUp(run);
  // Catch up from the state checkpoint: silently up to `committed`, normally after it, as far
  // as the group has delivered (later entries come through XREADGROUP as usual).
  const groups = (await writer.xinfo('GROUPS', inKey)) as unknown[][];
  const info = groups.map((g) => Object.fromEntries(Array.from({ length: g.length / 2 }, (_, i) => [g[2 * i], g[2 * i + 1]]))).find((g) => g.name === opts.group);
  const delivered = String(info?.['last-delivered-id'] ?? '0-0');
  let from = `(${run.applied}`;
  while (compareIds(run.applied, delivered) < 0) {
    const entries = (await writer.xrange(inKey, from, delivered, 'COUNT', opts.batch)) as Entry[];
    if (entries.length === 0) break;
    await ensureWarm(c, run);
    for (const e of entries) c.applier.apply(run, e);
    await c.committer.commit(run, false);
    from = `(${entries[entries.length - 1][0]}`;
  }
  c.log(`shard ${s}: recovered at ${run.applied} (state ${run.stateId}, outputs ${run.committed})`);
  return run;
}

/** Warms a shard that waited for its first input entry (warm-start.ts), before any entry is applied to it. */
export async function ensureWarm(c: RecoveryContext, run: ShardRun): Promise<void> {
  if (!run.warmPending || !c.warm) return;
  const first = await firstInputEvent(c.warm.writer, inputStream(c.keys, run.shard));
  if (first !== null) await writeShardLineage(c.writer, c.keys, run.shard, c.factors, await warmRun(c.warm, run, first));
}

/** Claims pending entries of dead consumers; dead-letters those delivered too many times. */
async function claimAndPoison(c: RecoveryContext, run: ShardRun): Promise<void> {
  const { writer, opts, keys } = c;
  const inKey = inputStream(keys, run.shard);
  let cursor = '0-0';
  do {
    // without JUSTID: claiming counts as a delivery, which is what makes poison entries visible
    const res = (await writer.xautoclaim(inKey, opts.group, opts.consumer, 0, cursor, 'COUNT', 1000)) as [string, unknown[]];
    cursor = res[0];
  } while (cursor !== '0-0');
  const pending = (await writer.xpending(inKey, opts.group, '-', '+', 10_000)) as [string, string, number, number][];
  for (const [id, , , deliveries] of pending) {
    if (deliveries <= opts.maxDeliveries || compareIds(id, run.committed) <= 0) continue;
    const entry = (await writer.xrange(inKey, id, id)) as Entry[];
    await writer.xadd(deadLetterStream(keys, run.shard), 'MAXLEN', '~', DEAD_LETTER_MAXLEN, '*', 'id', id, 'reason', `delivered ${deliveries} times without being committed (poison entry)`, ...(entry[0]?.[1] ?? []));
    c.status.deadLettered++;
    // remembered in the checkpoint, so a crash before the next commit cannot apply it after all
    await writer.hset(checkpointKey(keys, run.shard), `skip:${id}`, '1');
    await writer.xack(inKey, opts.group, id);
    run.skip.add(id);
  }
}

/**
 * Entries delivered to this consumer group at or below `committed` but still pending were never
 * processed (a read whose reply was lost, e.g. re-sent by the Cluster client): the shard must be
 * recovered.
 */
export async function hasPendingGap(writer: WorkerRedis, keys: KeyLayout, group: string, run: ShardRun): Promise<boolean> {
  const pending = (await writer.xpending(inputStream(keys, run.shard), group, '-', run.committed, 1)) as unknown[];
  return pending.length > 0 && !run.skip.has((pending[0] as string[])[0]);
}
