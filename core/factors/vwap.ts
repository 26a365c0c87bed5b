import { compensatedAdd, compensatedClear, compensatedValue, initCompensatedSum } from '../kernels/compensated-sum.ts';
import { defineFactor } from '../factor.ts';

const DAY_NS = 86_400_000_000_000n;

/**
 * Session VWAP: Σ price·size / Σ size over the trades of the session so far. A session is a UTC
 * calendar day of ts_event (US equity hours and a crypto day both fit inside one); the sums reset
 * on the first trade of a new day. Both sums are Neumaier-compensated, so a day of millions of
 * trades does not drift.
 *
 * Warm-up: one trade. Late trades (ts_event in an earlier day than the session) are counted in the
 * current session. Reference: DuckDB `sum(price*size) OVER (PARTITION BY symbol, day ORDER BY
 * ts_recv, seq) / sum(size) OVER (...)` over the same Parquet (datasets/reference-sql.test.ts).
 */
export const sessionVwap = defineFactor({
  name: 'vwap_session',
  version: 1,
  description: 'Volume-weighted average trade price since the start of the UTC day',
  params: {},
  rules: {},
  inputs: ['trade'],
  warmup: 'one trade',
  init: () => ({ dayEnd: -1n, pv: initCompensatedSum(), v: initCompensatedSum() }),
  update(s, ev) {
    if (ev.kind !== 'trade') return null;
    if (ev.tsEvent >= s.dayEnd) {
      s.dayEnd = (ev.tsEvent / DAY_NS + 1n) * DAY_NS;
      compensatedClear(s.pv);
      compensatedClear(s.v);
    }
    compensatedAdd(s.pv, ev.price * ev.size);
    compensatedAdd(s.v, ev.size);
    const v = compensatedValue(s.v);
    return v > 0 ? compensatedValue(s.pv) / v : null;
  },
  source: [compensatedAdd, compensatedValue, compensatedClear],
});
