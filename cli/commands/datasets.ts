import type { CommandModule } from 'yargs';
import { datasetsGenerateCommand } from './datasets-generate.ts';
import { datasetsImportCommand } from './datasets-import.ts';
import { datasetsStatsCommand } from './datasets-stats.ts';

/** `lockstep datasets`: generate, stats and import, each in its own module. */
export const datasetsCommand: CommandModule = {
  command: 'datasets',
  describe: 'create, import and inspect catalogs',
  builder: (y) =>
    y.command(datasetsGenerateCommand).command(datasetsStatsCommand).command(datasetsImportCommand).demandCommand(1, 'choose a datasets command: generate, stats or import'),
  // never runs: demandCommand sends a bare `lockstep datasets` to the usage error
  handler: () => {},
};
