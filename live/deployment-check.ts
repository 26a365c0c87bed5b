/**
 * Checks a command's `--shards` against the deployment's `<ns>:meta` before it starts, so a wrong
 * count is one line naming both numbers (the feed and the worker check it again themselves).
 */
import { UsageError } from '../core/errors.ts';
import { metaKey, type KeyLayout } from './keys.ts';
import { openRedis } from './redis-connect.ts';

/** Throws a UsageError when `<ns>:meta` records another shard count than `keys.shards`. */
export async function checkShardCount(url: string, keys: KeyLayout, flag = '--shards'): Promise<void> {
  const r = await openRedis(url, { name: 'lockstep-check' });
  try {
    const meta = await r.hget(metaKey(keys), 'shards');
    if (meta !== null && Number(meta) !== keys.shards) {
      throw new UsageError(`${metaKey(keys)} says ${meta} shards; this command was started with ${flag} ${keys.shards} (use ${flag} ${meta}, or another --ns)`);
    }
  } finally {
    r.disconnect();
  }
}
