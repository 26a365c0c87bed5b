/**
 * Redis's refusals (a reply error such as `NOPERM`, `WRONGTYPE`, `READONLY`, `OOM`) as the user's
 * problem: one line naming the command and what Redis said, never the command's arguments (a
 * Lua script, a value). Loads nothing: the CLI calls it on its error path only.
 */
import { UserError } from '../core/errors.ts';

/** Redis refused a command for a reason the operator must fix (rights, key type, replica, memory). */
export class RedisRefusedError extends UserError {}

/** Reply-error codes that are the deployment's problem, not a bug in Lockstep. */
const USER_CODES: Record<string, string> = {
  NOPERM: 'the Redis user lacks the rights for this command or key (see the ACLs in docs/live-operations.md)',
  NOAUTH: 'Redis wants a user and password: put them in the URL (redis://user:pass@host:port)',
  WRONGPASS: 'wrong user or password in the Redis URL',
  WRONGTYPE: 'a key of this namespace holds another type than Lockstep expects (another application using the same --ns?)',
  READONLY: 'this Redis node is a read-only replica: point --redis at the primary',
  OOM: 'Redis is out of memory (maxmemory)',
  MISCONF: 'Redis cannot persist to disk and refuses writes (see its log)',
};

/**
 * The `UserError` for a Redis reply error whose code is the user's to fix, or undefined (a bug,
 * or not a Redis reply error). ioredis's reply errors carry `command: {name, args}`.
 */
export function redisUserError(e: unknown): UserError | undefined {
  if (!(e instanceof Error) || e instanceof UserError) return undefined;
  const code = /^([A-Z]+) /.exec(e.message)?.[1];
  if (code === undefined || !(code in USER_CODES) || !/ReplyError/.test(`${e.name} ${e.constructor.name}`)) return undefined;
  const command = (e as { command?: { name?: unknown } }).command?.name;
  const msg = e.message.split('\n')[0];
  return new RedisRefusedError(`Redis refused ${typeof command === 'string' ? `'${command}'` : 'a command'}: ${msg}; ${USER_CODES[code]}`, { cause: e });
}

/**
 * Errors of a Redis that is frozen, restarting, unreachable or failing over: worth a retry. On
 * Cluster a master failover shows as MOVED churn ("Too many Cluster redirections": ioredis follows
 * MOVED to the dead master until its replica is promoted), CLUSTERDOWN, a closed connection, or a
 * cluster not ready yet (redis-connect.ts). ioredis's MaxRetriesPerRequestError says "Reached the
 * max retries per request limit".
 */
const TRANSIENT = /timed out|Too many Cluster redirections|Connection is closed|isn't writeable|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENOTCONN|max retries per request|^LOADING|^BUSY|^TRYAGAIN|^CLUSTERDOWN|^MASTERDOWN|^READONLY|Failed to refresh slots cache|None of startup nodes is available|Cluster isn't ready|did not become ready/i;

/** True for a Redis error worth retrying (see TRANSIENT above). */
export function isTransientRedisError(e: unknown): boolean {
  return e instanceof Error && TRANSIENT.test(e.message);
}

/**
 * A transient error of a Redis that was reached (a failover under way), not of one that cannot be
 * reached at all: a wrong address or a Redis that is down still fails a start at once.
 */
export function isFailoverError(e: unknown): boolean {
  return isTransientRedisError(e) && !(/^cannot connect to Redis/.test((e as Error).message) && !/did not become ready/.test((e as Error).message));
}

/**
 * Runs `fn`, retrying it while it fails with a failover error (`isFailoverError`), for up to
 * `forMs` (then the last error is thrown); any other error is thrown at once.
 */
export async function retryTransient<T>(fn: () => Promise<T>, forMs: number, onRetry?: (e: Error) => void): Promise<T> {
  const deadline = Date.now() + forMs;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (!isFailoverError(e) || Date.now() > deadline) throw e;
      onRetry?.(e as Error);
      await new Promise((r) => setTimeout(r, Math.min(100 * 2 ** Math.min(attempt, 4), 1000)));
    }
  }
}
