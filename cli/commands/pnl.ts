import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../../core/errors.ts';
import type { ArgsOf } from '../options.ts';

const builder = (y: Argv) =>
  y
    .option('catalog', { type: 'string', demandOption: true, describe: 'catalog directory (`lockstep datasets generate` or an importer wrote it)' })
    .option('date', { type: 'string', demandOption: true, describe: 'the date to replay (YYYY-MM-DD)' })
    .option('fills', { type: 'string', demandOption: true, describe: 'fills (.parquet or .csv): fill_id, account, strategy, symbol, side, qty, price, fee, [order_id], ts_event, ts_recv' })
    .option('positions', { type: 'string', describe: 'start-of-day positions (.csv or .json): account, strategy, symbol, qty, avg_price, [mark_price]' })
    .option('instruments', { type: 'string', describe: 'instruments file (JSON: tick, lot, multiplier per symbol, default, fee_grid); default: tick 0.01, lot 1' })
    .option('limits', { type: 'string', describe: 'limits file (JSON: per-symbol position/notional, gross, daily loss, drawdown, order rate, actions)' })
    .option('mark', { choices: ['mid', 'last'] as const, default: 'mid' as const, describe: 'mark positions to the quote mid or the last trade price' })
    .option('out', { type: 'string', demandOption: true, describe: 'the PnL series to write (*.parquet: one row per book and the total per sampled second)' })
    .option('breaches', { type: 'string', describe: 'the limit breaches to write (*.parquet; default: OUT with .breaches.parquet)' })
    .option('every', { type: 'string', default: '1s', describe: 'sampling step in event time (e.g. 1s, 500ms, 1m)' })
    .option('var-rv', { type: 'number', default: 5, describe: 'VaR: the realized-volatility window N in minutes (rv_Nm)' })
    .option('var-horizon', { type: 'number', default: 60, describe: 'VaR: the horizon in minutes (σ scaled by √(h/N))' })
    .option('var-z', { type: 'number', default: 2.3263478740408408, describe: 'VaR: the normal quantile (2.326: 99% one-sided)' })
    .option('json', { type: 'boolean', default: false, describe: 'print the summary as JSON' })
    .example('$0 pnl --catalog out/demo/catalog --date 2024-03-15 --fills fills.csv --out out/pnl.parquet', 'the day\'s PnL per account/strategy, second by second');

/** `--every`: a positive duration with a unit (ns, us, ms, s, m). */
export function parseEvery(text: string): bigint {
  const m = /^(\d+)(ns|us|ms|s|m)$/.exec(text.trim());
  const mult: Record<string, bigint> = { ns: 1n, us: 1_000n, ms: 1_000_000n, s: 1_000_000_000n, m: 60_000_000_000n };
  if (!m || BigInt(m[1]) === 0n) throw new UsageError(`--every ${JSON.stringify(text)}: not a positive duration (like 1s, 500ms, 1m)`);
  return BigInt(m[1]) * mult[m[2]];
}

/** `lockstep pnl`: the PnL/risk ledger replayed over a catalog's date with a fills file. */
export const pnlCommand: CommandModule<{}, ArgsOf<typeof builder>> = {
  command: 'pnl',
  describe: 'replay a day\'s fills against the market: PnL, risk and limit breaches per account/strategy, sampled in event time',
  builder,
  handler: async (a) => {
    if (!/\.parquet$/i.test(a.out)) throw new UsageError(`--out ${a.out}: the PnL series is written as Parquet; name it *.parquet`);
    const breaches = a.breaches ?? a.out.replace(/\.parquet$/i, '.breaches.parquet');
    if (!/\.parquet$/i.test(breaches)) throw new UsageError(`--breaches ${breaches}: written as Parquet; name it *.parquet`);
    for (const [flag, v] of [['--var-rv', a['var-rv']], ['--var-horizon', a['var-horizon']], ['--var-z', a['var-z']]] as const) {
      if (!(v > 0) || !Number.isFinite(v)) throw new UsageError(`${flag} ${v}: must be a number > 0`);
    }
    if (!Number.isInteger(a['var-rv'])) throw new UsageError(`--var-rv ${a['var-rv']}: a whole number of minutes`);
    const every = parseEvery(a.every);
    const { runPnlReplay, formatPnlSummary } = await import('../../trading/pnl-replay.ts');
    for (const f of [a.out, breaches]) mkdirSync(dirname(resolve(f)), { recursive: true });
    const s = await runPnlReplay({
      catalog: a.catalog, date: a.date, fills: a.fills, positions: a.positions, instruments: a.instruments, limits: a.limits,
      mark: a.mark, out: a.out, breaches, every, varRvMinutes: a['var-rv'], varHorizonMinutes: a['var-horizon'], varZ: a['var-z'],
    });
    for (const d of s.duplicates) console.error(`error: ${d}`);
    for (const r of s.rejected) console.error(`error: fill ${JSON.stringify(r.fillId)} rejected (${r.reason}): ${r.detail}`);
    if (a.json) {
      console.log(JSON.stringify({ events: s.events, rows: s.rows, fills: s.fills, applied: s.applied, duplicates: s.duplicates.length, rejected: s.rejected.length, samples: s.samples,
        books: s.final.books.map((b) => ({ ...b, ts: String(b.ts) })), breaches: s.breaches.map((b) => ({ ...b, ts: String(b.ts) })), out: s.out, breaches_out: s.breachesOut }));
    } else console.log(formatPnlSummary(s));
  },
};
