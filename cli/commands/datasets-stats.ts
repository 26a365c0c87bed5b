import type { Argv, CommandModule } from 'yargs';
import { type ArgsOf, CATALOG, jsonFlag } from '../options.ts';

const builder = (y: Argv) => y.option('catalog', CATALOG).option('json', jsonFlag('print the statistics as JSON'));

/** `lockstep datasets stats`: what a catalog holds. */
export const datasetsStatsCommand: CommandModule<{}, ArgsOf<typeof builder>> = {
  command: 'stats',
  describe: 'events per kind, symbol and date, and the time span',
  builder,
  handler: async (a) => {
    const { catalogStats, formatStats } = await import('../../datasets/stats.ts');
    const s = await catalogStats(a.catalog);
    console.log(a.json ? JSON.stringify(s) : formatStats(s));
  },
};
