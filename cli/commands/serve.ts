import type { Argv, CommandModule } from 'yargs';
import { type ArgsOf, deploymentOptions, list } from '../options.ts';
import { dashboardOptions } from '../../dashboard/options.ts';

const builder = (y: Argv) =>
  dashboardOptions(deploymentOptions(y, 'use a read-only ACL user (see README)')
    .option('host', { type: 'string', default: '127.0.0.1', describe: 'interface to listen on (0.0.0.0: every interface)' })
    .option('port', { type: 'number', default: 8080, describe: 'TCP port to listen on (0: any free port)' })
    .option('max-age-ms', { type: 'number', default: 5000, describe: 'values older than this are reported stale' })
    .option('command-timeout-ms', { type: 'number', default: 500, describe: 'a Redis read slower than this fails the request (503)' })
    .option('registry', { type: 'string', describe: 'a model registry folder: also answer the Open Inference Protocol (KServe V2: /v2/models/NAME/infer) for its models' }));

/** `lockstep serve`: the HTTP read API, until SIGTERM/SIGINT. */
export const serveCommand: CommandModule<{}, ArgsOf<typeof builder>> = {
  command: 'serve',
  describe: 'HTTP read API over the latest values (GET /v1/features, /healthz, /metrics)',
  builder,
  handler: async (a) => {
    const { openFeatureSource } = await import('../../live/row-reader.ts');
    const { startApi } = await import('../../live/http-api.ts');
    const { checkShardCount } = await import('../../live/shard-meta.ts');
    const redis = await openFeatureSource(a.redis, { name: 'lockstep-api', commandTimeoutMs: a.commandTimeoutMs });
    const keys = { ns: a.ns, shards: a.shards };
    // a wrong --shards would hash symbols onto other shards' keys and serve `missing`, healthy
    await checkShardCount(redis, keys, 'serve').catch((e: unknown) => {
      redis.disconnect();
      throw e;
    });
    const extensions = [];
    if (a.registry !== undefined) {
      const { inferenceApi } = await import('../../live/inference/inference-api.ts');
      extensions.push(inferenceApi({ registry: a.registry, source: redis, keys, maxAgeMs: a.maxAgeMs }));
    }
    const dashArgs = { redis: a.redis, keys, maxAgeMs: a.maxAgeMs, operatorTokenFile: a.operatorTokenFile, operatorRedis: a.operatorRedis, symbols: list(a.dashboardSymbols), parityCertificate: a.parityCertificate };
    const dash = a.dashboard ? await (await import('../../dashboard/index.ts')).startDashboard(redis, dashArgs).catch((e: unknown) => (redis.disconnect(), Promise.reject(e))) : undefined;
    const api = await startApi(redis, { keys, host: a.host, port: a.port, maxAgeMs: a.maxAgeMs, extensions, dashboard: dash?.handle }).catch((e: unknown) => (dash?.close(), Promise.reject(e)));
    console.log(`serving http://${a.host}:${api.port}/v1/features?symbols=...&features=...  (/healthz, /metrics${a.registry !== undefined ? ', /v2/models/NAME/infer' : ''})`);
    if (dash) console.log(`dashboard http://${a.host}:${api.port}/dashboard`);
    await new Promise<void>((resolve) => {
      process.once('SIGTERM', resolve);
      process.once('SIGINT', resolve);
    });
    dash?.close();
    await api.close();
    redis.disconnect();
  },
};
