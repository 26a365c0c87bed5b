import type { Argv, CommandModule } from 'yargs';
import { defaultConsumer, WORKER_DEFAULTS } from '../../live/worker/defaults.ts';
import { type ArgsOf, deploymentOptions, FACTOR_PARAM, factorSet, list } from '../options.ts';

// the defaults are the library's own (live/worker/defaults.ts), so the CLI and LiveWorker agree
const builder = (y: Argv) =>
  deploymentOptions(y)
    .option('factor-param', FACTOR_PARAM)
    .option('owned', { type: 'string', array: true, describe: 'shards this worker owns (default all)' })
    .option('balance', { type: 'boolean', describe: 'hold a fair share of the shards, ceil(shards / workers present), and rebalance as --balance workers come and go (not with --owned)' })
    .conflicts('balance', 'owned')
    .option('group', { type: 'string', default: WORKER_DEFAULTS.group, describe: 'consumer group' })
    .option('consumer', { type: 'string', default: defaultConsumer(), describe: 'consumer name (reuse it when restarting a worker)' })
    .option('checkpoint-every', { type: 'number', default: WORKER_DEFAULTS.checkpointEvery, describe: 'save fold state every N events' })
    .option('checkpoint-ms', { type: 'number', default: WORKER_DEFAULTS.checkpointMs, describe: '... or every T ms' })
    .option('ttl', { type: 'number', default: WORKER_DEFAULTS.ttlSeconds, describe: 'expire latest-value keys after N s without update (0 = never)' })
    .option('lease-ms', { type: 'number', default: WORKER_DEFAULTS.leaseMs, describe: "shard lease: a crashed worker's shards are free again after this long" })
    .option('durable-replicas', { type: 'number', default: 0, describe: 'go on after a commit only once N replicas have it (WAIT): a failover loses no acknowledged input (0: off)' })
    .option('exit-when-idle', { type: 'number', describe: 'exit after N ms without input (tests, batch catch-up)' });

/** `lockstep live`: one live worker, until SIGTERM/SIGINT or `--exit-when-idle`. */
export const liveCommand: CommandModule<{}, ArgsOf<typeof builder>> = {
  command: 'live',
  describe: 'run a live worker: consume shards, compute factors, serve the latest values',
  builder,
  handler: async (a) => {
    const { LiveWorker } = await import('../../live/worker/index.ts');
    const w = new LiveWorker({
      redis: a.redis,
      factors: await factorSet(a),
      ns: a.ns,
      shards: a.shards,
      owned: list(a.owned)?.map(Number),
      balance: a.balance === true,
      group: a.group,
      consumer: a.consumer,
      checkpointEvery: a.checkpointEvery,
      checkpointMs: a.checkpointMs,
      ttlSeconds: a.ttl,
      leaseMs: a.leaseMs,
      durableReplicas: a.durableReplicas,
      log: (m) => console.error(`[${new Date().toISOString()}] ${a.consumer}: ${m}`),
    });
    const stop = () => w.stop();
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    await w.start();
    console.error(`[${new Date().toISOString()}] ${a.consumer}: running shards ${w.heldShards().join(',')}${a.balance === true ? ' (balancing: the share follows the workers present)' : ''}`);
    await w.run({ idleStopMs: a.exitWhenIdle });
    await w.close();
    const h = w.health();
    console.log(`stopped: applied ${h.applied} events, ${h.commits} commits, ${h.deadLettered} dead letters`);
  },
};
