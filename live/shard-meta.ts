/**
 * The deployment's shard count, recorded in `<ns>:meta` by the first feed or worker. Every process
 * that maps symbols to shards (feed, workers, `serve`, the read client) must use the same count:
 * with another one, a symbol hashes to a shard whose streams and latest values are not its own, and
 * reads come back `missing` while everything looks healthy.
 */
import { UserError } from '../core/errors.ts';
import { metaKey, type KeyLayout } from './keys.ts';

/** Started with `--shards` other than the deployment's: a usage error (one line, exit 2). */
export class ShardCountMismatchError extends UserError {
  constructor(
    readonly key: string,
    readonly deployed: number,
    readonly given: number,
    who: string,
  ) {
    super(`${key} says this deployment has ${deployed} shards, but ${who} was started with --shards ${given}: use --shards ${deployed}`);
  }
}

/** What the check reads through: ioredis or the read-only RowReader (HMGET only, as the reader ACL allows). */
export interface MetaReader {
  hmget(key: string, ...fields: string[]): Promise<(string | null)[]>;
}

/**
 * Checks `keys.shards` against the deployment's recorded shard count; returns the recorded count,
 * or null when none is recorded yet (a new deployment: the caller may record it). `who` names the
 * process in the message (`the feed`, `serve`).
 */
export async function checkShardCount(r: MetaReader, keys: KeyLayout, who: string): Promise<number | null> {
  const key = metaKey(keys);
  const [meta] = await r.hmget(key, 'shards');
  if (meta === null || meta === undefined || meta === '') return null;
  const deployed = Number(meta);
  if (deployed !== keys.shards) throw new ShardCountMismatchError(key, deployed, keys.shards, who);
  return deployed;
}

/** Started with another factor set than the deployment serves: a usage error (one line, exit 2). */
export class FeatureSetMismatchError extends UserError {}

/**
 * Checks a worker's factor set against the one the deployment's workers recorded in `<ns>:meta`
 * (its feature-set version and columns): workers of one deployment must run the same set, or the
 * latest values and output rows of different shards would be made by different factors. Nothing
 * recorded yet (a new deployment) passes. `who` names the process in the message.
 */
export async function checkFeatureSet(r: MetaReader, keys: KeyLayout, fsv: string, columns: readonly string[], who: string): Promise<void> {
  const key = metaKey(keys);
  const [deployed, cols] = await r.hmget(key, 'featureSetVersion', 'columns');
  if (deployed === null || deployed === undefined || deployed === '' || deployed === fsv) return;
  const theirs = (cols ?? '').split(',').filter(Boolean);
  const adds = columns.filter((c) => !theirs.includes(c));
  const drops = theirs.filter((c) => !columns.includes(c));
  const cut = (l: string[]) => (l.length > 4 ? `${l.slice(0, 4).join(', ')} and ${l.length - 4} more` : l.join(', '));
  const how = [adds.length ? `adds ${cut(adds)}` : '', drops.length ? `drops ${cut(drops)}` : ''].filter(Boolean).join('; ') || 'same columns, other parameters or code';
  throw new FeatureSetMismatchError(
    `${key} says this deployment serves feature set ${deployed} (${theirs.length} columns), but ${who} runs ${fsv} (${columns.length} columns; ${how}): start it with the deployment's --factors, --only and --factor-param, or use another --ns`,
  );
}
