import type { Argv, CommandModule } from 'yargs';
import { type ArgsOf, redisOptions } from '../options.ts';

const builder = (y: Argv) =>
  redisOptions(y).option('from', { type: 'string', default: '$', describe: '$: from now on; 0: every kept transition first; or a stream ID' });

/** `lockstep alerts follow`: the transitions as JSON lines, as they are recorded. */
export const alertsFollowCommand: CommandModule<{}, ArgsOf<typeof builder>> = {
  command: 'follow',
  describe: 'print alert transitions as JSON lines as they are recorded (Ctrl-C to stop)',
  builder,
  handler: async (a) => {
    const { openRedis } = await import('../../live/redis-connect.ts');
    const { followAlerts } = await import('../../live/alerts/index.ts');
    const r = await openRedis(a.redis, { name: 'lockstep-alerts-follow' });
    const stop = new AbortController();
    process.once('SIGTERM', () => stop.abort());
    process.once('SIGINT', () => stop.abort());
    // `lockstep alerts follow | head`: a closed pipe ends it quietly
    process.stdout.on('error', (e: NodeJS.ErrnoException) => (e.code === 'EPIPE' ? stop.abort() : console.error(`lockstep: ${e.message}`)));
    try {
      const entries = followAlerts(r, { ns: a.ns }, a.from, { signal: stop.signal, onError: (e) => console.error(`lockstep alerts: ${e.message}; reading again in 1 s`) });
      for await (const e of entries) console.log(JSON.stringify(e));
    } finally {
      r.disconnect();
    }
  },
};
