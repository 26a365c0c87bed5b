import { compensatedAdd, compensatedClear, compensatedValue, initCompensatedSum } from '../kernels/compensated-sum.ts';
import { SESSION_KINDS, sessionAt, type SessionKind } from '../kernels/market-sessions.ts';
import { defineFactor } from '../factor.ts';

const DAY_NS = 86_400_000_000_000n;

/**
 * Session VWAP: Σ price·size / Σ size over the trades of the session so far. Both sums are
 * Neumaier-compensated, so a day of millions of trades does not drift. The `session` parameter
 * (core/kernels/market-sessions.ts) says what a session is:
 *
 * - `utc` (default, column `vwap_session`): a UTC calendar day of ts_event; the sums reset on the
 *   first trade of a new day. Late trades (ts_event in an earlier day than the session) are counted
 *   in the current session. Note: on US equities this includes pre-market trades from 04:00 ET.
 * - `us-equity` (column `vwap_session_us_equity`): regular hours 09:30-16:00 America/New_York
 *   (DST-aware, Monday-Friday, no holiday calendar). Trades outside those hours are not counted;
 *   before the day's open the value is null, after the close it holds the day's VWAP. A late
 *   trade (from an earlier New York day) is not counted.
 * - `fx-ny17` (column `vwap_session_fx_ny17`): the FX day rolling at 17:00 New York time;
 *   otherwise as `utc`.
 *
 * Warm-up: one trade (in session). Reference: for `utc`, DuckDB `sum(price*size) OVER (PARTITION
 * BY symbol, day ORDER BY ts_recv, seq) / sum(size) OVER (...)` over the same Parquet
 * (datasets/reference-sql.test.ts); for the other sessions, hand-computed CLI cases
 * (datasets/import-policy.test.ts).
 */
export const sessionVwap = defineFactor({
  name: (p) => (p.session === 'utc' ? 'vwap_session' : `vwap_session_${String(p.session).replace(/-/g, '_')}`),
  version: 1,
  description: 'Volume-weighted average trade price since the session start (UTC day by default)',
  params: { session: 'utc' as SessionKind },
  rules: { session: { kind: 'string', oneOf: SESSION_KINDS } },
  inputs: ['trade'],
  warmup: 'one trade',
  init: () => ({ dayEnd: -1n, pv: initCompensatedSum(), v: initCompensatedSum(), b: { dayStart: 0n, dayEnd: -1n, open: 0n, close: 0n }, sumsFor: -1n }),
  update(s, ev, p) {
    if (ev.kind !== 'trade') return null;
    const t = ev.tsEvent;
    if (p.session === 'us-equity') {
      const b = s.b;
      // bounds are recomputed once per New York day (that allocates); a late trade (from an
      // earlier day) keeps the current day and is not counted
      if (t >= b.dayEnd) sessionAt('us-equity', t, b);
      if (t >= b.dayStart && t >= b.open && t < b.close) {
        if (s.sumsFor !== b.open) {
          s.sumsFor = b.open;
          compensatedClear(s.pv);
          compensatedClear(s.v);
        }
        compensatedAdd(s.pv, ev.price * ev.size);
        compensatedAdd(s.v, ev.size);
      }
      // no trade in this day's session yet (before the open, or none today): null
      if (s.sumsFor !== b.open) return null;
      const w = compensatedValue(s.v);
      return w > 0 ? compensatedValue(s.pv) / w : null;
    }
    if (t >= s.dayEnd) {
      if (p.session === 'utc') s.dayEnd = (t / DAY_NS + 1n) * DAY_NS;
      else {
        sessionAt('fx-ny17', t, s.b);
        s.dayEnd = s.b.close;
      }
      compensatedClear(s.pv);
      compensatedClear(s.v);
    }
    compensatedAdd(s.pv, ev.price * ev.size);
    compensatedAdd(s.v, ev.size);
    const v = compensatedValue(s.v);
    return v > 0 ? compensatedValue(s.pv) / v : null;
  },
  source: [compensatedAdd, compensatedValue, compensatedClear, sessionAt],
});
