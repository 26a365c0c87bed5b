import type { Argv, CommandModule } from 'yargs';
import { type ArgsOf, deploymentOptions } from '../options.ts';

const builder = (y: Argv) =>
  deploymentOptions(y, 'use a read-only ACL user (see README)')
    .option('host', { type: 'string', default: '127.0.0.1', describe: 'interface to listen on (0.0.0.0: every interface)' })
    .option('port', { type: 'number', default: 8080, describe: 'TCP port to listen on (0: any free port)' })
    .option('max-age-ms', { type: 'number', default: 5000, describe: 'values older than this are reported stale' })
    .option('command-timeout-ms', { type: 'number', default: 500, describe: 'a Redis read slower than this fails the request (503)' });

/** `lockstep serve`: the HTTP read API, until SIGTERM/SIGINT. */
export const serveCommand: CommandModule<{}, ArgsOf<typeof builder>> = {
  command: 'serve',
  describe: 'HTTP read API over the latest values (GET /v1/features, /healthz, /metrics)',
  builder,
  handler: async (a) => {
    const { openFeatureSource } = await import('../../live/row-reader.ts');
    const { startApi } = await import('../../live/http-api.ts');
    const redis = await openFeatureSource(a.redis, { name: 'lockstep-api', commandTimeoutMs: a.commandTimeoutMs });
    const api = await startApi(redis, { keys: { ns: a.ns, shards: a.shards }, host: a.host, port: a.port, maxAgeMs: a.maxAgeMs });
    console.log(`serving http://${a.host}:${api.port}/v1/features?symbols=...&features=...  (/healthz, /metrics)`);
    await new Promise<void>((resolve) => {
      process.once('SIGTERM', resolve);
      process.once('SIGINT', resolve);
    });
    await api.close();
    redis.disconnect();
  },
};
