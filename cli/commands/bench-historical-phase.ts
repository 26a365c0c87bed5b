import type { Argv, CommandModule } from 'yargs';
import type { ArgsOf } from '../options.ts';

// demandOption on the positional only tells the types what `<phase>` already enforces
const builder = (y: Argv) =>
  y
    .positional('phase', { choices: ['lockstep', 'duckdb', 'duckdb-plain'] as const, demandOption: true, describe: 'lockstep: historicalFeatures; duckdb: ASOF JOIN with the tie rule; duckdb-plain: ASOF JOIN as is' })
    .option('entities', { type: 'string', demandOption: true, describe: 'entity rows (symbol, ts as int64 ns), Parquet' })
    .option('factors', { type: 'string', demandOption: true, describe: 'factor table with int64 ns times, Parquet' });

/**
 * `lockstep bench-historical-phase <phase>` (hidden): one side of `bench historical` in a fresh
 * process, so its time and peak RSS are its own. Prints one JSON line.
 */
export const benchHistoricalPhaseCommand: CommandModule<{}, ArgsOf<typeof builder>> = {
  command: 'bench-historical-phase <phase>',
  describe: false,
  builder,
  handler: async (a) => {
    const { runHistoricalPhase } = await import('../../bench/historical-bench.ts');
    console.log(JSON.stringify(await runHistoricalPhase(a.phase, a.entities, a.factors)));
  },
};
