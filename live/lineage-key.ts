/**
 * The lineage of a shard's rows (`<ns>:lineage:{<ns>:<s>}`, JSON, replay/lineage.ts): the
 * worker's Lockstep version, feature-set version and factor code hashes, and the catalog files a
 * warm start folded (paths relative to the `--warm-from` catalog). Written when a worker takes the
 * shard; a worker that recovers it from a checkpoint keeps the warm-up files recorded before.
 * `lockstep lineage --redis URL --ns NS` prints it.
 */
import type { AnyFactor } from '../core/factor.ts';
import { UsageError } from '../core/errors.ts';
import { lineageOf, type Lineage, type LineageInput } from '../replay/lineage.ts';
import { lineageKey, metaKey, type KeyLayout } from './keys.ts';
import type { RedisClient } from './redis-connect.ts';

/** The two commands the worker's lineage write needs. */
interface KeyValue {
  get(key: string): Promise<string | null>;
  set(key: string, value: string): Promise<unknown>;
}

/** Writes shard `s`'s lineage; `inputs` (a warm start's files) replace the recorded ones when given. */
export async function writeShardLineage(writer: KeyValue, keys: KeyLayout, s: number, factors: readonly AnyFactor[], inputs?: LineageInput[]): Promise<void> {
  const key = lineageKey(keys, s);
  let kept: LineageInput[] = [];
  if (inputs === undefined) {
    const before = await writer.get(key);
    try {
      kept = before === null ? [] : ((JSON.parse(before) as Lineage).inputs ?? []);
    } catch {
      kept = [];
    }
  }
  const l = lineageOf({ factors, files: [] });
  await writer.set(key, JSON.stringify({ ...l, inputs: inputs ?? kept }));
}

/**
 * A live deployment's lineage: every shard's (they share the feature set when one version of the
 * workers runs; a mix is a usage error naming the shards), with the warm-up files of all shards.
 */
export async function readLiveLineage(r: RedisClient, ns: string): Promise<{ lineage: Lineage; shards: number; withLineage: number }> {
  const shards = Number(await r.hget(metaKey({ ns, shards: 0 }), 'shards'));
  if (!Number.isInteger(shards) || shards <= 0) throw new UsageError(`${metaKey({ ns, shards: 0 })} names no shard count: no live deployment in namespace ${ns} here`);
  const keys: KeyLayout = { ns, shards };
  const found: [number, Lineage][] = [];
  for (let s = 0; s < shards; s++) {
    const text = await r.get(lineageKey(keys, s));
    if (text !== null) found.push([s, JSON.parse(text) as Lineage]);
  }
  if (found.length === 0) throw new UsageError(`namespace ${ns}: no shard has a lineage key (${lineageKey(keys, 0)}, ...): its workers predate lineage, or none has started`);
  const versions = new Map<string, number[]>();
  for (const [s, l] of found) versions.set(l.featureSetVersion, [...(versions.get(l.featureSetVersion) ?? []), s]);
  if (versions.size > 1) throw new UsageError(`namespace ${ns}: shards run different feature sets (${[...versions].map(([v, ss]) => `${v}: shards ${ss.join(',')}`).join('; ')})`);
  const inputs = new Map<string, LineageInput>();
  for (const [, l] of found) for (const f of l.inputs) inputs.set(f.path, f);
  const lineage = { ...found[0][1], inputs: [...inputs.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)) };
  return { lineage, shards, withLineage: found.length };
}
