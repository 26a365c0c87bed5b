import type { Argv, CommandModule } from 'yargs';
import { type ArgsOf, jsonFlag, redisOptions } from '../options.ts';

const builder = (y: Argv) => redisOptions(y).option('json', jsonFlag('print the firing alerts as JSON'));

/** `lockstep alerts list`: the alerts firing now, as `alerts watch` last recorded them. */
export const alertsListCommand: CommandModule<{}, ArgsOf<typeof builder>> = {
  command: 'list',
  describe: 'the alerts firing now, as recorded by alerts watch',
  builder,
  handler: async (a) => {
    const { openRedis } = await import('../../live/redis-connect.ts');
    const { readFiringAlerts } = await import('../../live/alerts/index.ts');
    const r = await openRedis(a.redis, { name: 'lockstep-alerts' });
    try {
      const alerts = await readFiringAlerts(r, { ns: a.ns });
      if (a.json) console.log(JSON.stringify(alerts));
      else if (alerts.length === 0) console.log('no alerts firing (as recorded by lockstep alerts watch)');
      else for (const x of alerts) console.log(`${x.severity.toUpperCase().padEnd(8)} ${x.id.padEnd(16)} since ${new Date(x.since).toISOString()}  ${x.summary}`);
    } finally {
      r.disconnect();
    }
  },
};
