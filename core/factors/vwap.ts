import { compensatedAdd, compensatedClear, compensatedValue, initCompensatedSum } from '../kernels/compensated-sum.ts';
import { SESSION_PARAMS, sessionAt, unresolvedAsDefault, type SessionParam } from '../kernels/market-sessions.ts';
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
 *   (DST-aware, Monday-Friday, NYSE holidays closed, 13:00 on early closes). Trades outside those
 *   hours are not counted; before the day's open (and all day on a holiday) the value is null,
 *   after the close it holds the day's VWAP. A late trade (from an earlier New York day) is not
 *   counted.
 * - `fx-ny17` (column `vwap_session_fx_ny17`): the FX day rolling at 17:00 New York time, closed
 *   from Friday 17:00 to Sunday 17:00 (null then); otherwise as `us-equity`.
 * - `auto` (column `vwap_session_auto`): the symbol's session from the factor set's session table
 *   (core/fold.ts `createFactorSet(..., { sessions })`, filled from the catalog's sessions.json);
 *   `utc` for a symbol the table does not list.
 *
 * Version 2: the `us-equity` holiday calendar, the FX weekend, `auto`; `utc` is unchanged.
 * Warm-up: one trade (in session). Reference: for `utc`, DuckDB `sum(price*size) OVER (PARTITION
 * BY symbol, day ORDER BY ts_recv, seq) / sum(size) OVER (...)` over the same Parquet
 * (datasets/reference-sql.test.ts); for the other sessions, hand-computed CLI cases
 * (datasets/import-policy.test.ts, datasets/sessions.test.ts) and the tz database
 * (core/kernels/market-sessions.test.ts).
 */
export const sessionVwap = defineFactor({
  name: (p) => (p.session === 'utc' ? 'vwap_session' : `vwap_session_${String(p.session).replace(/-/g, '_')}`),
  version: 2,
  description: 'Volume-weighted average trade price since the session start (UTC day by default)',
  params: { session: 'utc' as SessionParam },
  rules: { session: { kind: 'string', oneOf: SESSION_PARAMS } },
  inputs: ['trade'],
  warmup: 'one trade',
  // the fold hands `auto` factors the symbol's session here (fold.ts); `auto` left unresolved is utc
  init: (p) => ({
    kind: unresolvedAsDefault(p.session),
    dayEnd: -1n,
    pv: initCompensatedSum(),
    v: initCompensatedSum(),
    b: { dayStart: 0n, dayEnd: -1n, open: 0n, close: 0n },
    sumsFor: -1n,
  }),
  update(s, ev) {
    if (ev.kind !== 'trade') return null;
    const t = ev.tsEvent;
    if (s.kind !== 'utc') {
      const b = s.b;
      // bounds are recomputed once per span (a New York day, an FX day; that allocates); a late
      // trade (from an earlier span) keeps the current one and is not counted
      if (t >= b.dayEnd) sessionAt(s.kind, t, b);
      if (t >= b.dayStart && t >= b.open && t < b.close) {
        if (s.sumsFor !== b.open) {
          s.sumsFor = b.open;
          compensatedClear(s.pv);
          compensatedClear(s.v);
        }
        compensatedAdd(s.pv, ev.price * ev.size);
        compensatedAdd(s.v, ev.size);
      }
      // no trade in this span's session yet (before the open, or no session in it): null
      if (s.sumsFor !== b.open) return null;
      const w = compensatedValue(s.v);
      return w > 0 ? compensatedValue(s.pv) / w : null;
    }
    if (t >= s.dayEnd) {
      s.dayEnd = (t / DAY_NS + 1n) * DAY_NS;
      compensatedClear(s.pv);
      compensatedClear(s.v);
    }
    compensatedAdd(s.pv, ev.price * ev.size);
    compensatedAdd(s.v, ev.size);
    const v = compensatedValue(s.v);
    return v > 0 ? compensatedValue(s.pv) / v : null;
  },
  source: [compensatedAdd, compensatedValue, compensatedClear, sessionAt, unresolvedAsDefault],
});
