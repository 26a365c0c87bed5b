import { initTimeWindow, timeWindowAdvance, timeWindowPush, timeWindowSum } from '../kernels/time-window.ts';
import { defineFactor } from '../factor.ts';

/**
 * Volume power: 100 × buyer-initiated volume / seller-initiated volume over the trailing
 * `seconds` of event time (60 and 300 in the default set). Trades with unknown aggressor (side 0,
 * e.g. TAQ) count on neither side.
 *
 * Warm-up: null until the window holds seller-initiated volume (the ratio is undefined with no
 * sells). Heartbeats advance the window, so the value decays to null in a quiet market instead of
 * freezing. A late trade (ts_event earlier than the latest seen) counts at the latest time seen, so
 * it stays in the window a little longer than its own time would keep it. Reference: a naive recomputation over the window (contract suite).
 */
export const volumePower = defineFactor({
  name: 'volume_power_1m',
  // 2: sum-only windows re-base on turnover only (sums may differ from v1 in the last bits)
  version: 2,
  description: '100 x buy volume / sell volume over the trailing window',
  params: { seconds: 60 },
  rules: { seconds: { kind: 'int', min: 1, max: 86_400 } },
  inputs: ['trade', 'heartbeat'],
  warmup: 'seller-initiated volume inside the window',
  init: (p) => ({ buy: initTimeWindow(BigInt(p.seconds) * 1_000_000_000n, 64, false), sell: initTimeWindow(BigInt(p.seconds) * 1_000_000_000n, 64, false) }),
  update(s, ev) {
    if (ev.kind === 'trade') {
      timeWindowPush(s.buy, ev.tsEvent, ev.side === 1 ? ev.size : 0);
      timeWindowPush(s.sell, ev.tsEvent, ev.side === -1 ? ev.size : 0);
    } else {
      timeWindowAdvance(s.buy, ev.tsEvent);
      timeWindowAdvance(s.sell, ev.tsEvent);
    }
    const sell = timeWindowSum(s.sell);
    return sell > 0 ? (100 * timeWindowSum(s.buy)) / sell : null;
  },
  source: [timeWindowPush, timeWindowAdvance, timeWindowSum],
});
