import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../../core/errors.ts';
import { WORKER_DEFAULTS } from '../../live/worker/defaults.ts';
import { type ArgsOf, deploymentOptions, type ParsedArgs } from '../options.ts';

// the thresholds' defaults live in live/alerts/thresholds.ts (resolveThresholds); the descriptions repeat them
const builder = (y: Argv) =>
  deploymentOptions(y)
    .option('group', { type: 'string', default: WORKER_DEFAULTS.group, describe: "the workers' consumer group" })
    .option('interval-ms', { type: 'number', default: 1000, describe: 'time between checks' })
    .option('lag-entries', { type: 'number', describe: 'lag warning: more inputs than this waiting on a shard (default 10000)' })
    .option('lag-entries-critical', { type: 'number', describe: 'lag critical (default 5x --lag-entries, else 50000)' })
    .option('lag-ms', { type: 'number', describe: 'lag warning: the oldest unprocessed input is older than this (default 1000)' })
    .option('lag-ms-critical', { type: 'number', describe: 'lag critical (default 5x --lag-ms, else 5000)' })
    .option('stale-ms', { type: 'number', describe: 'stale: a worker holds the shard, inputs arrive, but no output for this long (default 5000)' })
    .option('dead-letter-window-ms', { type: 'number', describe: 'dead-letters: fires while the newest dead letter is younger than this (default 60000)' });

type WatchArgs = ParsedArgs<typeof builder>;

/** The alert thresholds given on the command line, defaults filled in; invalid ones are a usage error. */
async function thresholds(a: WatchArgs) {
  const { resolveThresholds } = await import('../../live/alerts/index.ts');
  const given = {
    lagEntries: a.lagEntries,
    lagEntriesCritical: a.lagEntriesCritical,
    lagMs: a.lagMs,
    lagMsCritical: a.lagMsCritical,
    staleMs: a.staleMs,
    deadLetterWindowMs: a.deadLetterWindowMs,
  };
  try {
    return resolveThresholds(given, (k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
}

/** `lockstep alerts watch`: the one process that evaluates the alerts and records their transitions. */
export const alertsWatchCommand: CommandModule<{}, ArgsOf<typeof builder>> = {
  command: 'watch',
  describe: 'check the deployment every --interval-ms and record each transition in <ns>:alerts and <ns>:alerts:state; prints them as JSON lines',
  builder,
  handler: async (a) => {
    const { openRedis } = await import('../../live/redis-connect.ts');
    const { AlertWatcher } = await import('../../live/alerts/index.ts');
    const { shards, intervalMs } = a;
    if (!Number.isInteger(shards) || shards < 1) throw new UsageError(`--shards ${a.shards}: must be an integer >= 1`);
    if (!Number.isFinite(intervalMs) || intervalMs < 10) throw new UsageError(`--interval-ms ${a.intervalMs}: must be a number >= 10`);
    const limits = await thresholds(a);
    const r = await openRedis(a.redis, { name: 'lockstep-alerts' });
    const w = new AlertWatcher(r, {
      keys: { ns: a.ns, shards },
      thresholds: limits,
      intervalMs,
      group: a.group,
      onTransition: (t) => console.log(JSON.stringify(t)),
      onError: (e) => console.error(`lockstep alerts: ${e.message}`),
    });
    console.error(`watching ${shards} shard(s) of "${a.ns}" every ${intervalMs} ms; transitions as JSON lines on stdout, Ctrl-C to stop`);
    w.start();
    await new Promise<void>((resolve) => {
      process.once('SIGTERM', resolve);
      process.once('SIGINT', resolve);
    });
    await w.stop();
    r.disconnect();
  },
};
