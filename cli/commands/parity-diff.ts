import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../../core/errors.ts';
import { type ArgsOf, list, type ParsedArgs } from '../options.ts';

const TABLE = 'Parquet factor table, Arrow IPC (.arrow/.arrows/.feather/.ipc), CSV, or redis://host:port/?ns=ls&shards=N (live capture; rediss:// and redis+sentinel://host:port/master/?ns=... too)';

// demandOption on a positional only tells the types what `<a> <b>` already enforces
const builder = (y: Argv) =>
  y
    .positional('a', { type: 'string', demandOption: true, describe: TABLE })
    .positional('b', { type: 'string', demandOption: true, describe: 'the table to compare with a, in any of the same forms' })
    .option('keys', { type: 'string', default: 'symbol,source,seq', describe: 'columns that identify a row; other than the default (the input event, walked in replay order), rows are walked in the order of these columns: list them as the tables are sorted, e.g. ts_event,symbol' })
    .option('columns', { type: 'string', array: true, describe: 'compare only these value columns, e.g. a reference table with a few factors' })
    .option('tolerance', { type: 'string', default: 'exact', describe: 'exact | ulp:N | abs:X | rel:X' })
    .option('factor-tolerance', { type: 'string', array: true, describe: 'per factor, e.g. ma_5m=rel:1e-12' })
    .option('json', { type: 'string', describe: 'write the machine report here' })
    .option('report', { type: 'string', describe: 'write a self-contained HTML report here' });

type DiffArgs = ParsedArgs<typeof builder>;

/** `--keys`, `--tolerance` and `--factor-tolerance` parsed; a bad one is a usage error. */
async function diffSettings(a: DiffArgs) {
  const { parseTolerance } = await import('../../parity/diff.ts');
  const { parseKeys, isIdentityKeys } = await import('../../core/row-key.ts');
  try {
    const keys = parseKeys(a.keys);
    const tolerance = parseTolerance(a.tolerance);
    const factorTolerance: Record<string, ReturnType<typeof parseTolerance>> = Object.create(null); // keys are column names: no prototype to collide with
    for (const ft of list(a.factorTolerance) ?? []) {
      const [name, t] = ft.split('=');
      if (!name || !t) throw new Error(`--factor-tolerance ${JSON.stringify(ft)}: use name=exact|ulp:N|abs:X|rel:X`);
      factorTolerance[name] = parseTolerance(t);
    }
    return { keys: isIdentityKeys(keys) ? undefined : keys, tolerance, factorTolerance };
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
}

/** `lockstep parity diff A B`: exit 0 on parity, 1 on skew, 2 on bad input. */
export const parityDiffCommand: CommandModule<{}, ArgsOf<typeof builder>> = {
  command: 'diff <a> <b>',
  describe: 'cell-by-cell diff; exit 0 on parity, 1 on skew, 2 on bad input',
  builder,
  handler: async (a) => {
    const { formatDiff, htmlReport } = await import('../../parity/diff.ts');
    const { openRowSource } = await import('../../parity/row-source.ts');
    const { diffSources, formatStats } = await import('../../parity/stream-diff.ts');
    const { keys, tolerance, factorTolerance } = await diffSettings(a);
    // streamed: both tables are read a batch at a time, whatever their size
    const t0 = performance.now();
    const columns = list(a.columns);
    const A = await openRowSource(a.a, { keys });
    const B = await openRowSource(a.b, { keys }).catch(async (e) => {
      await A.close();
      throw e;
    });
    let report, stats;
    try {
      const unknown = (columns ?? []).filter((c) => !A.factorColumns.includes(c) && !B.factorColumns.includes(c));
      if (unknown.length) throw new UsageError(`--columns: ${unknown.join(', ')} in neither table (value columns of A: ${A.factorColumns.join(', ') || '-'})`);
      ({ report, stats } = await diffSources(A, B, { tolerance, factorTolerance, keys, columns }));
    } finally {
      await A.close();
      await B.close();
    }
    console.log(formatDiff(report));
    console.error(formatStats(stats, (performance.now() - t0) / 1000, report.rowsA + report.rowsB));
    const { writeFileSync } = await import('node:fs');
    if (a.json) writeFileSync(a.json, JSON.stringify(report, null, 2));
    if (a.report) writeFileSync(a.report, htmlReport(report, a.a, a.b));
    if (report.verdict !== 'parity') process.exitCode = 1;
  },
};
