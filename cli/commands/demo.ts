import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import type { ArgsOf } from '../options.ts';

const builder = (y: Argv) => y.option('dir', { type: 'string', default: 'out/demo', describe: 'where to put the sample catalog and the factor table' });

/** `lockstep demo`: generate the bundled sample day and replay it, the first thing a new user runs. */
export const demoCommand: CommandModule<{}, ArgsOf<typeof builder>> = {
  command: 'demo',
  describe: 'generate the bundled sample day and replay it (no server needed)',
  builder,
  handler: async (a) => {
    const catalog = resolve(a.dir, 'catalog');
    const out = resolve(a.dir, 'factors.parquet');
    const { generateDay } = await import('../../datasets/generate.ts');
    const { runReplay } = await import('../../replay/run-replay.ts');
    const { formatSummary } = await import('../../replay/summary.ts');
    console.log(`1/2 generating the bundled sample day (preset tiny, seed 7) into ${catalog}`);
    const g = await generateDay({ date: '2024-03-15', symbols: 5, seed: 7, preset: 'tiny', out: catalog });
    console.log(`    ${g.total.toLocaleString('en-US')} events in ${g.files.length} Parquet files`);
    console.log(`2/2 replaying 2024-03-15 through the default factor set`);
    mkdirSync(dirname(out), { recursive: true });
    const s = await runReplay({ catalog, date: '2024-03-15', out });
    console.log(formatSummary(s));
    console.log(`\nnext: lockstep datasets stats --catalog ${catalog}`);
    console.log(`      duckdb -c "select symbol, count(*), max(last_price) from '${out}' group by all"`);
  },
};
