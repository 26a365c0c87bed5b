import type { FundamentalEvent } from '../events.ts';
import { defineFactor } from '../factor.ts';

/**
 * Real-time valuation ratios: last trade price over the latest fundamentals that were public at
 * that instant. `per` = price / trailing-12-month EPS; `pbr` = price / book value per share.
 *
 * Point in time: a fundamentals event is applied only once the event being processed has
 * ts_event >= its announcement time (ts_event of the fundamentals row); until then the previous
 * quarter stays in force. Because replay and live both deliver fundamentals in ts_recv order,
 * numbers announced after a trade can never reach that trade's row.
 * Policy: null until both a trade and a fundamental are known; null when the denominator is
 * unknown (NaN), zero or negative (a negative P/E is not a valuation signal; report it separately).
 * Reference: AAPL around real SEC earnings announcements (datasets/valuation-aapl.test.ts): the old
 * quarter before the announcement instant, the new one from that instant on.
 */
function valuationFactor(name: string, description: string, pick: (f: FundamentalEvent) => number) {
  return defineFactor({
    name,
    version: 1,
    description,
    params: {},
    rules: {},
    inputs: ['trade', 'fundamental'],
    warmup: 'one trade and one fundamentals announcement',
    init: () => ({ price: NaN, denom: NaN, pending: NaN, pendingAt: -1n }),
    update(s, ev) {
      if (ev.kind === 'fundamental') {
        // an announcement dated after the current clock waits until time reaches it
        s.pending = pick(ev);
        s.pendingAt = ev.tsEvent;
      } else if (ev.kind === 'trade') {
        s.price = ev.price;
      }
      if (s.pendingAt >= 0n && ev.tsEvent >= s.pendingAt) {
        s.denom = s.pending;
        s.pendingAt = -1n;
      }
      const price = s.price;
      const denom = s.denom;
      return denom > 0 && price === price ? price / denom : null;
    },
    source: [pick],
  });
}

export const per = valuationFactor('per', 'Price / trailing-12-month EPS, point in time', (f) => f.epsTtm);
export const pbr = valuationFactor('pbr', 'Price / book value per share, point in time', (f) => f.bookValuePerShare);
