import type { Argv, CommandModule } from 'yargs';
import { type ArgsOf, daySelection, daySelectionOptions, deploymentOptions } from '../options.ts';

const builder = (y: Argv) =>
  deploymentOptions(daySelectionOptions(y)).option('duplicate', {
    type: 'number',
    describe: 'fault injection: publish this fraction of events twice, 1-50 events later (a producer retry)',
  });

/** `lockstep feed`: a catalog day into the input streams, as an exchange adapter would publish it. */
export const feedCommand: CommandModule<{}, ArgsOf<typeof builder>> = {
  command: 'feed',
  describe: 'play a catalog day into Redis Streams (what an exchange adapter would publish)',
  builder,
  handler: async (a) => {
    const { runFeed } = await import('../../live/feed.ts');
    const { checkShardCount } = await import('../../live/deployment-check.ts');
    await checkShardCount(a.redis, { ns: a.ns, shards: a.shards });
    const s = await runFeed({ ...(await daySelection(a)), redis: a.redis, ns: a.ns, shards: a.shards, duplicate: a.duplicate });
    const dup = s.duplicated > 0 ? ` (${s.duplicated.toLocaleString('en-US')} events published twice)` : '';
    console.log(`fed ${s.events.toLocaleString('en-US')} events as ${s.entries.toLocaleString('en-US')} stream entries into ${a.shards} shards in ${(s.wallMs / 1000).toFixed(2)} s${dup}`);
  },
};
