/**
 * An alert raised by a component other than the watcher (a worker that met a late models-log
 * entry, the models watcher that rolled a canary back): recorded as a firing transition in
 * `<ns>:alerts` and `<ns>:alerts:state`, so `lockstep alerts list` and `alerts follow` show it.
 */
import type { RedisClient } from '../redis-connect.ts';
import type { Alert } from './model.ts';
import { transitionWrites } from './store.ts';

/** Records `alert` as firing now. */
export async function raiseAlert(redis: unknown, keys: { ns: string }, alert: Alert, now = Date.now()): Promise<void> {
  const r = redis as RedisClient;
  for (const m of transitionWrites(r, keys, [{ ...alert, state: 'firing', since: now, at: now }], null, 10_000)) await m.exec();
}
