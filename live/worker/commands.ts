/**
 * The worker's Lua commands (commit-script.ts), declared once on its write client and typed here,
 * so nothing else casts the client to reach them.
 */
import { COMMIT_BATCH_LUA, PRESENCE_LUA, RELEASE_LEASE_LUA, RENEW_LEASE_LUA } from '../commit-script.ts';
import type { RedisClient } from '../redis-connect.ts';

export interface LockstepCommands {
  /** COMMIT_BATCH_LUA: `numKeys`, the keys, then the arguments; one result per shard (1, 0 or an error text). */
  lockstepCommit(numKeys: number, ...keysAndArgs: (string | Buffer)[]): Promise<(number | string)[]>;
  /** RENEW_LEASE_LUA: 1 when the lease is still this token's (and is extended). */
  lockstepRenew(key: string, token: string, ms: number): Promise<number>;
  /** RELEASE_LEASE_LUA: deletes the lease if it is this token's. */
  lockstepRelease(key: string, token: string): Promise<number>;
  /** PRESENCE_LUA: announces the token in the workers set; returns how many workers are present. */
  lockstepPresence(key: string, token: string, ms: number): Promise<number>;
}

/** The worker's write client: ioredis with the Lua commands. */
export type WorkerRedis = RedisClient & LockstepCommands;

/** Declares the Lua commands on `client` (which it returns, typed). */
export function defineLockstepCommands(client: RedisClient): WorkerRedis {
  // defineCommand runs EVALSHA and falls back to EVAL on NOSCRIPT, per node (Cluster-safe, and
  // safe after a Redis restart empties the script cache)
  client.defineCommand('lockstepCommit', { lua: COMMIT_BATCH_LUA });
  client.defineCommand('lockstepRenew', { numberOfKeys: 1, lua: RENEW_LEASE_LUA });
  client.defineCommand('lockstepRelease', { numberOfKeys: 1, lua: RELEASE_LEASE_LUA });
  client.defineCommand('lockstepPresence', { numberOfKeys: 1, lua: PRESENCE_LUA });
  return client as WorkerRedis;
}
