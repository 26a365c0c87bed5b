import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../../core/errors.ts';
import type { ArgsOf } from '../options.ts';

const builder = (y: Argv) =>
  y
    .positional('table', { type: 'string', demandOption: true, describe: 'a factor table (.parquet): a replay output, a training set (adds its IC table), or any table with symbol, source, seq, ts_recv and numeric factor columns' })
    .option('out', { type: 'string', demandOption: true, describe: 'the HTML file to write (self-contained: opens offline)' })
    .option('symbols', { type: 'string', describe: 'symbols to chart, comma-separated (default: the busiest four)' })
    .option('max-charts', { type: 'number', default: 4, describe: 'how many symbols to chart when --symbols is not given' })
    .option('ic-min-symbols', { type: 'number', default: 5, describe: 'training sets: the fewest symbols with both values at a sample time for its rank IC to count' })
    .option('title', { type: 'string', describe: 'the page title (default: "Factor report: FILE")' });

/** `lockstep report`: a factor table as one HTML page with charts, coverage and distributions. */
export const reportCommand: CommandModule<{}, ArgsOf<typeof builder>> = {
  command: 'report <table>',
  describe: 'write a factor table as one self-contained HTML page: charts per symbol, each column\'s coverage and distribution',
  builder,
  handler: async (a) => {
    if (!Number.isInteger(a['ic-min-symbols']) || a['ic-min-symbols'] < 2) throw new UsageError(`--ic-min-symbols: ${a['ic-min-symbols']} is not an integer >= 2 (a correlation needs two pairs)`);
    const { writeReport } = await import('../../report/report.ts');
    const symbols = a.symbols?.split(',').map((s) => s.trim()).filter(Boolean);
    const r = await writeReport({ input: a.table, out: a.out, symbols, maxCharts: a['max-charts'], icMinSymbols: a['ic-min-symbols'], title: a.title });
    console.log(`wrote ${a.out}: ${r.rows.toLocaleString('en-US')} rows, ${r.symbols} symbols, ${r.charts} charted, ${(r.bytes / 1024).toFixed(0)} KB`);
  },
};
