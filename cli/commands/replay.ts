import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../../core/errors.ts';
import { ensureParent } from '../ensure-parent.ts';
import { type ArgsOf, factorSet, factorSetOptions, jsonFlag, rangeSelection, rangeSelectionOptions, stagesFor } from '../options.ts';

const builder = (y: Argv) =>
  factorSetOptions(rangeSelectionOptions(y))
    .option('out', { type: 'string', demandOption: true, describe: 'output Parquet file' })
    .option('stop-after', { type: 'number', describe: 'stop after N merged events (with --checkpoint, to resume later)' })
    .option('checkpoint', { type: 'string', describe: 'where --stop-after writes the fold state' })
    .option('resume', { type: 'string', describe: 'continue from a checkpoint written by --stop-after' })
    .option('registry', { type: 'string', describe: "a model registry (lockstep models): its models' signal columns follow the factors, per its deployment log" })
    .option('json', jsonFlag('print the summary as JSON'))
    .example('$0 replay --catalog out/demo/catalog --date 2024-03-15 --out out/f.parquet', 'replay a whole day')
    .example('$0 replay --catalog cat --date 2024-08-09 --symbols BTCUSDT --from 00:00 --to 00:05 --speed 10 --out f.parquet', 'five minutes at 10x real time')
    .example('$0 replay --catalog cat --date 2024-03-15 --from 14:30 --to 15:00 --out w.parquet', 'a window, warmed up from 00:00: its rows equal the full-day replay\'s')
    .example('$0 replay --catalog cat --dates 2024-08-08..2024-08-09 --out two.parquet', 'two days as one stream: state carries overnight')
    .example('$0 replay --catalog cat --date 2024-08-09 --warmup 1d --out d2.parquet', 'one day, entered with the state of the day before')
    .example('$0 replay --catalog cat --date 2024-03-15 --factors my-factors.ts --only mid,spread_bps --out f.parquet', 'your own factors, and only those columns');

/** `lockstep replay`: one catalog day (or several, as one stream) through the factor set into a Parquet factor table. */
export const replayCommand: CommandModule<{}, ArgsOf<typeof builder>> = {
  command: 'replay',
  describe: 'replay a catalog day (or several, as one stream) through the factor set and write the factor table',
  builder,
  handler: async (a) => {
    const { runReplay } = await import('../../replay/run-replay.ts');
    const { formatSummary } = await import('../../replay/summary.ts');
    // the output is always Parquet: a .csv or .json name would hold bytes its name lies about
    if (!/\.parquet$/i.test(a.out)) throw new UsageError(`--out ${a.out}: the factor table is written as Parquet; name it *.parquet`);
    ensureParent(a.out);
    const s = await runReplay({
      ...(await rangeSelection(a)),
      out: a.out,
      stopAfter: a.stopAfter,
      checkpoint: a.checkpoint,
      resume: a.resume,
      factors: await factorSet(a),
      ...(a.registry !== undefined ? { models: await stagesFor(a.registry) } : {}),
    });
    if (a.json) console.log(JSON.stringify(s, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)));
    else console.log(formatSummary(s));
  },
};
