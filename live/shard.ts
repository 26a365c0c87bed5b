/** Symbol → shard lives in core (the model layer's late deployments need it too); re-exported here for the live side. */
export { shardOf } from '../core/shard.ts';
