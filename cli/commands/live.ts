import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../../core/errors.ts';
import { defaultConsumer, WORKER_DEFAULTS } from '../../live/worker/defaults.ts';
import { type ArgsOf, deploymentOptions, factorSet, factorSetOptions, list } from '../options.ts';

// the defaults are the library's own (live/worker/defaults.ts), so the CLI and LiveWorker agree
const builder = (y: Argv) =>
  factorSetOptions(deploymentOptions(y))
    .option('sessions', { type: 'string', describe: "each symbol's market session: a catalog (its sessions.json) or such a file; default: the table the feed recorded in <ns>:meta" })
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
    .option('exit-when-idle', { type: 'number', describe: 'exit after N ms without input (tests, batch catch-up)' })
    .option('metrics-port', { type: 'number', describe: "serve this worker's Prometheus metrics at http://HOST:N/metrics (0: any free port; default off)" })
    .option('metrics-host', { type: 'string', default: '127.0.0.1', describe: 'interface of the metrics server (0.0.0.0: every interface)' })
    .option('warm-from', { type: 'string', describe: "warm start: a shard with no checkpoint yet starts from this catalog's fold state up to the first event of its input stream (a worker started mid-session serves what one running since the open would)" })
    .option('warm-symbols', { type: 'string', array: true, describe: "with --warm-from: fold only these symbols (the feed's --symbols; default every symbol of the shard)" })
    .option('registry', { type: 'string', describe: "run the models of this registry folder after the factors (their signal columns join the feature set), following the live deployment log <ns>:models:log (lockstep models deploy --redis)" })
    .option('status-every-ms', { type: 'number', default: 30_000, describe: 'a one-line status on stderr every N ms when stderr is not a terminal (0: never)' });

/** `lockstep live`: one live worker, until SIGTERM/SIGINT or `--exit-when-idle`. */
export const liveCommand: CommandModule<{}, ArgsOf<typeof builder>> = {
  command: 'live',
  describe: 'run a live worker: consume shards, compute factors, serve the latest values',
  builder,
  handler: async (a) => {
    if (a.warmSymbols !== undefined && a.warmFrom === undefined) throw new UsageError('--warm-symbols needs --warm-from CATALOG');
    if (a.warmFrom !== undefined) {
      // a missing catalog is one line now, not a worker dying at its first shard
      const { listCatalog } = await import('../../replay/catalog.ts');
      listCatalog(a.warmFrom);
    }
    if (!Number.isInteger(a.durableReplicas) || a.durableReplicas < 0) throw new UsageError(`--durable-replicas must be a whole number >= 0, got ${a.durableReplicas}`);
    const { LiveWorker } = await import('../../live/worker/index.ts');
    const { checkFeatureSet, checkShardCount, recordedSessions } = await import('../../live/shard-meta.ts');
    const { openRedis } = await import('../../live/redis-connect.ts');
    const { createFactorSet } = await import('../../core/fold.ts');
    const { featureSetVersion } = await import('../../core/registry.ts');
    const factors = await factorSet(a);
    const sessions = a.sessions === undefined ? undefined : (await import('../../replay/catalog.ts')).loadSessionTable(a.sessions);
    // checked before the worker starts, so a wrong count or set is one line naming both (the worker checks again)
    // retried while Redis fails over (a Cluster master dying as the worker starts)
    const { retryTransient } = await import('../../live/redis-errors.ts');
    await retryTransient(async () => {
      const r = await openRedis(a.redis, { name: 'lockstep-check' });
      try {
        await checkShardCount(r, { ns: a.ns, shards: a.shards }, 'the worker');
        // the version counts the session table when a factor reads it: the one given, else the recorded one
        const table = sessions ?? (await recordedSessions(r, { ns: a.ns, shards: a.shards }));
        // with --registry the models' slots are part of the set (a bad registry is one line here)
        const stages = a.registry === undefined ? [] : (await import('../../models/load.ts')).loadModelStages(a.registry, createFactorSet(factors, { sessions: table }).columns, []).stages;
        await checkFeatureSet(r, { ns: a.ns, shards: a.shards }, featureSetVersion(factors, table, stages), createFactorSet(factors, { sessions: table, stages }).columns, 'this worker');
      } finally {
        r.disconnect();
      }
    }, 60_000);
    const w = new LiveWorker({
      redis: a.redis,
      factors,
      sessions,
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
      warmFrom: a.warmFrom,
      warmSymbols: list(a.warmSymbols),
      registry: a.registry,
      log: (m) => console.error(`[${new Date().toISOString()}] ${a.consumer}: ${m}`),
    });
    const stop = () => w.stop();
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    await w.start();
    console.error(`[${new Date().toISOString()}] ${a.consumer}: running shards ${w.heldShards().join(',')}${a.balance === true ? ' (balancing: the share follows the workers present)' : ''}`);
    const { startReporting } = await import('../../live/worker/metrics-server.ts');
    const log = (m: string) => console.error(`[${new Date().toISOString()}] ${a.consumer}: ${m}`);
    const reporting = await startReporting(w, { metricsPort: a.metricsPort, metricsHost: a.metricsHost, statusEveryMs: process.stderr.isTTY ? 0 : a.statusEveryMs, consumer: a.consumer, log });
    if (reporting.port !== null) log(`metrics at http://${a.metricsHost}:${reporting.port}/metrics`);
    try {
      await w.run({ idleStopMs: a.exitWhenIdle });
    } finally {
      await reporting.close();
    }
    await w.close();
    const h = w.health();
    console.log(`stopped: applied ${h.applied} events, ${h.commits} commits, ${h.deadLettered} dead letters, ${h.duplicates} duplicates dropped`);
  },
};
