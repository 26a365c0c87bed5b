// A training set (written by lockstep training-set) in a script: more features joined point in time, a look through arquero.
// Usage: research-training-set <train.parquet> <factors.parquet>   (both on the sample day: see the README, "Research")
import * as aq from 'arquero';
import { historicalFeatures, toArquero } from 'lockstep/research';

const [train, factors] = process.argv.slice(2);

// the training set's rows are (symbol, ts) entities: add two features of the replay's table as of each ts
const dt = toArquero(await historicalFeatures(train, factors, { features: ['quote_imbalance', 'ema_12'] }));
console.log(`${dt.numRows()} rows, columns: ${dt.columnNames().join(' ')}`);

// a label is null where its horizon runs past the data or across a halt, never filled
const bySymbol = dt
  .groupby('symbol')
  .rollup({ rows: aq.op.count(), labelled: aq.op.valid('fwd_ret_mid_5m'), up: (d: { fwd_ret_mid_5m: number }) => aq.op.sum(d.fwd_ret_mid_5m > 0 ? 1 : 0), corr: aq.op.corr('quote_imbalance', 'fwd_ret_mid_5m') })
  .orderby('symbol');
for (const r of bySymbol.objects() as { symbol: string; rows: number; labelled: number; up: number; corr: number }[]) {
  console.log(`${r.symbol}: ${r.rows} rows, fwd_ret_mid_5m in ${r.labelled} (${r.up} up), corr(quote_imbalance, fwd_ret_mid_5m) ${r.corr.toFixed(3)}`);
}

// ready for a model: every feature and label present (a warming-up feature is null, never a guess)
const cols = ['mid', 'rsi_14', 'vwap_session', 'quote_imbalance', 'ema_12', 'fwd_ret_mid_5m', 'fwd_vol_mid_5m'];
const ready = dt.filter(aq.escape((d: Record<string, unknown>) => cols.every((c) => d[c] !== null && d[c] !== undefined)));
console.log(`model-ready: ${ready.numRows()} of ${dt.numRows()} rows`);
const first = ready.object(0) as Record<string, string | bigint | number>;
console.log(`first: ${first.symbol} ts ${first.ts} as of ${first.asof_ts_recv}  ${cols.map((c) => `${c} ${(first[c] as number).toPrecision(6)}`).join('  ')}`);
