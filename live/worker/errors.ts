/** The live worker's errors: the one it cannot retry, and the one a shard recovers from. */
import { LockstepError } from '../../core/errors.ts';

/** Not retried: the worker must stop (lost lease, refused commit, incompatible checkpoint). */
export class FatalWorkerError extends LockstepError {}

/** The shard's checkpoint is not where this worker left it: recover the shard from it. */
export class ShardDivergedError extends LockstepError {
  constructor(
    readonly shard: number,
    message: string,
  ) {
    super(message);
  }
}
