/** The live worker's errors: the one it cannot retry, and the ones a shard recovers from. */
import { LockstepError, UserError } from '../../core/errors.ts';

/**
 * Not retried: the worker must stop (another worker holds its shard, commit refused, incompatible
 * checkpoint, Redis lost its data). An operating condition with its reason, not a bug: the CLI
 * prints it as one line and exits 2.
 */
export class FatalWorkerError extends UserError {}

/** The shard's checkpoint is not where this worker left it: recover the shard from it. */
export class ShardDivergedError extends LockstepError {
  constructor(
    readonly shard: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Leases of this run expired with no other worker holding them (Redis was frozen or down, or the
 * worker stalled, past leaseMs): the worker takes them again if still free and recovers the
 * `stale` shards (their in-memory work since the last commit is dropped) from their checkpoints.
 */
export class LeaseExpiredError extends LockstepError {
  constructor(
    /** Shards whose lease this run no longer holds. */
    readonly lost: readonly number[],
    /** Shards whose in-memory state must be dropped and recovered (`lost`, and any whose commit was cut short). */
    readonly stale: readonly number[] = lost,
  ) {
    super(`lease of shard(s) ${lost.join(',')} expired`);
  }
}

/**
 * Redis lost the deployment's data (FLUSHALL, or a restart without persistence): the input
 * streams, consumer group and checkpoints are gone. The worker stops (exit 2 from the CLI) rather
 * than start the day over silently; see docs/live-operations.md, "Redis lost its data".
 */
export class RedisDataLostError extends FatalWorkerError {}
