import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../../core/errors.ts';
import { ensureParent } from '../ensure-parent.ts';
import { type ArgsOf, CATALOG, DATE, list } from '../options.ts';

const builder = (y: Argv) =>
  y
    .option('catalog', CATALOG)
    .option('date', DATE)
    .option('out', { type: 'string', demandOption: true, describe: 'reference table: .parquet or .csv' })
    .option('symbols', { type: 'string', array: true, describe: 'only these symbols (as given to the replay)' })
    .option('from', { type: 'string', describe: 'start time HH:MM UTC (as given to the replay)' })
    .option('to', { type: 'string', describe: 'end time HH:MM UTC (as given to the replay)' })
    .option('cold', { type: 'boolean', describe: 'start the window cold, as replay --warmup 0 (default: warm from 00:00, as replay)' })
    .option('replay', { type: 'string', describe: "a replay factor table to restrict to the reference's columns and rows ..." })
    .option('replay-out', { type: 'string', describe: '... written here, ready for parity diff' })
    .option('verbose', { type: 'boolean', describe: 'print each SQL step and its time' })
    .example('$0 parity reference --catalog cat --date 2024-03-15 --out ref.parquet --replay replay.parquet --replay-out replay-ma.parquet', '')
    .example('$0 parity diff replay-ma.parquet ref.parquet --tolerance rel:1e-12', 'then hold the replay to it');

/** `lockstep parity reference`: the DuckDB SQL reference table, and the replay's table cut to match it. */
export const parityReferenceCommand: CommandModule<{}, ArgsOf<typeof builder>> = {
  command: 'reference',
  describe: 'an independent DuckDB SQL implementation of ma_5m/20m/60m and vwap_session, keyed like the replay, to diff against',
  builder,
  handler: async (a) => {
    const { writeReference, formatReferenceSummary, REFERENCE_COLUMNS } = await import('../../parity/cross-impl.ts');
    ensureParent(a.out);
    if ((a.replay === undefined) !== (a.replayOut === undefined)) throw new UsageError('--replay and --replay-out go together');
    const s = await writeReference({ catalog: a.catalog, date: a.date, out: a.out, symbols: list(a.symbols), from: a.from, to: a.to, cold: a.cold, log: a.verbose ? (m) => console.error(m) : undefined });
    console.log(formatReferenceSummary(s));
    if (a.replay !== undefined && a.replayOut !== undefined) {
      const { projectFactorTable } = await import('../../parity/project-table.ts');
      const po = a.replayOut;
      ensureParent(po);
      const p = await projectFactorTable(a.replay, REFERENCE_COLUMNS, po);
      console.log(`replay ${a.replay} projected on ${REFERENCE_COLUMNS.join(', ')}: ${p.rowsOut.toLocaleString('en-US')} of ${p.rowsIn.toLocaleString('en-US')} rows (${p.heartbeatRowsDropped.toLocaleString('en-US')} heartbeat rows where none of them changed) -> ${po}`);
      console.log(`next: lockstep parity diff ${po} ${a.out} --tolerance rel:1e-12`);
    }
  },
};
