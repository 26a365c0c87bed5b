import type { Argv, CommandModule } from 'yargs';
import type { ArgsOf } from '../options.ts';

const builder = (y: Argv) =>
  y
    .option('date', { type: 'string', demandOption: true, describe: 'YYYY-MM-DD' })
    .option('symbols', { type: 'number', describe: 'number of symbols (default per preset)' })
    .option('seed', { type: 'number', default: 1, describe: 'PRNG seed: same arguments give byte-identical files' })
    .option('preset', { choices: ['tiny', 'day', 'big'] as const, default: 'tiny' as const, describe: 'tiny ~50k events, day ~5M, big ~50M' })
    .option('out', { type: 'string', demandOption: true, describe: 'catalog root to write' });

/** `lockstep datasets generate`: a deterministic synthetic market day. */
export const datasetsGenerateCommand: CommandModule<{}, ArgsOf<typeof builder>> = {
  command: 'generate',
  describe: 'write a deterministic synthetic market day',
  builder,
  handler: async (a) => {
    const { generateDay } = await import('../../datasets/generate.ts');
    const { PRESETS } = await import('../../datasets/presets.ts');
    const t0 = performance.now();
    const r = await generateDay({ date: a.date, symbols: a.symbols ?? PRESETS[a.preset].symbols, seed: a.seed, preset: a.preset, out: a.out });
    const secs = (performance.now() - t0) / 1000;
    console.log(`generated ${r.total.toLocaleString('en-US')} events in ${r.files.length} files under ${a.out} (${secs.toFixed(1)} s)`);
    console.log(Object.entries(r.events).map(([k, n]) => `  ${k}: ${Number(n).toLocaleString('en-US')}`).join('\n'));
  },
};
