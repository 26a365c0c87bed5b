import type { Argv, CommandModule } from 'yargs';
import { ensureParent } from '../ensure-parent.ts';
import { type ArgsOf, factorSet, factorSetOptions, jsonFlag, rangeSelection, rangeSelectionOptions, stagesFor } from '../options.ts';

const builder = (y: Argv) =>
  factorSetOptions(rangeSelectionOptions(y))
    .option('out', { type: 'string', demandOption: true, describe: 'output factor table: FILE.parquet, or FILE.arrow for Arrow IPC (Feather v2)' })
    .option('compression', { type: 'string', describe: 'Arrow IPC body compression of an .arrow --out: none (default) or lz4' })
    .option('emit', { type: 'string', describe: 'which rows: rows (default, one per event), every:DURATION (latest values per symbol at each step), bars:DURATION (per symbol and closed interval) or changes' })
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
    .example('$0 replay --catalog cat --date 2024-03-15 --out f.arrow --compression lz4', 'Arrow IPC out, for pyarrow, polars or DuckDB')
    .example('$0 replay --catalog cat --date 2024-03-15 --emit every:1s --out s.parquet', 'one row per symbol and second (latest values)')
    .example('$0 replay --catalog cat --date 2024-03-15 --factors my-factors.ts --only mid,spread_bps --out f.parquet', 'your own factors, and only those columns');

/** `lockstep replay`: one catalog day (or several, as one stream) through the factor set into a Parquet factor table. */
export const replayCommand: CommandModule<{}, ArgsOf<typeof builder>> = {
  command: 'replay',
  describe: 'replay a catalog day (or several, as one stream) through the factor set and write the factor table',
  builder,
  handler: async (a) => {
    const { runReplay } = await import('../../replay/run-replay.ts');
    const { formatSummary } = await import('../../replay/summary.ts');
    const { checkOutput } = await import('../../replay/output-format.ts');
    const { parseEmit } = await import('../../replay/emit.ts');
    const arrowCompression = checkOutput(a.out, a.compression);
    const emit = a.emit !== undefined ? parseEmit(a.emit) : undefined;
    ensureParent(a.out);
    const s = await runReplay({
      ...(await rangeSelection(a)),
      out: a.out,
      arrowCompression,
      emit,
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
