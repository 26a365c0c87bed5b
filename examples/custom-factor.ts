// A factor of your own (the quoted spread in basis points of the mid), replayed with the default set.
// Usage: custom-factor <catalog> <YYYY-MM-DD> <out.parquet>   (a catalog: lockstep datasets generate)
import { DEFAULT_FACTORS, defineFactor } from 'lockstep';
import { readFactorTable, runReplay } from 'lockstep/replay';

const spreadBps = defineFactor({
  name: 'spread_bps',
  version: 1,
  description: 'Quoted spread in basis points of the mid',
  params: {},
  rules: {},
  inputs: ['quote'],
  warmup: 'none',
  init: () => null,
  update: (_state, ev) => (ev.kind === 'quote' && ev.bidPx > 0 && ev.askPx >= ev.bidPx ? ((ev.askPx - ev.bidPx) / ((ev.askPx + ev.bidPx) / 2)) * 1e4 : null),
});

const [catalog, date, out] = process.argv.slice(2);
const summary = await runReplay({ catalog, date, out, factors: [...DEFAULT_FACTORS, spreadBps] });
const table = await readFactorTable(out);
const spreads = table.values.spread_bps.filter((v) => v !== null);
console.log(`${summary.events} events -> ${summary.rows} rows in ${out}`);
console.log(`spread_bps: ${spreads.length} values, mean ${(spreads.reduce((a, b) => a + b, 0) / spreads.length).toFixed(2)} bps`);
