import type { Argv, CommandModule } from 'yargs';
import { type ArgsOf, CATALOG } from '../options.ts';

// demandOption on the positional only tells the types what `<phase>` already enforces
const builder = (y: Argv) =>
  y
    .positional('phase', { choices: ['raw', 'merge', 'replay', 'encode', 'replay-arrow'] as const, demandOption: true, describe: 'raw: read the files; merge: merge them into one stream; replay: the whole replay (replay-arrow: writing Arrow IPC); encode: only the Parquet encoding of --out' })
    .option('catalog', CATALOG)
    .option('out', { type: 'string', demandOption: true, describe: 'factor table: phase replay writes it, phase encode reads it' });

/**
 * `lockstep bench-phase <phase>` (hidden): one phase of the replay pipeline in a fresh process, so
 * `bench replay` measures each phase's time and memory alone. Prints one JSON line.
 */
export const benchPhaseCommand: CommandModule<{}, ArgsOf<typeof builder>> = {
  command: 'bench-phase <phase>',
  describe: false,
  builder,
  handler: async (a) => {
    const { runPhase } = await import('../../bench/replay-bench.ts');
    console.log(JSON.stringify(await runPhase(a.phase, a.catalog, a.out)));
  },
};
