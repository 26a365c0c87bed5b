import { timeWindowBuySum, timeWindowSellSum, type TimeWindow } from '../kernels/time-window.ts';
import { defineFactor, durationLabel } from '../factor.ts';
import { tradeFlow } from './flow-windows.ts';
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
  name: (p) => `volume_power_${durationLabel(p.seconds)}`,
  // 2: sum-only windows re-base on turnover only (sums may differ from v1 in the last bits)
  version: 2,
  description: '100 x buy volume / sell volume over the trailing window',
  params: { seconds: 60 },
  rules: { seconds: { kind: 'int', min: 1, max: 86_400 } },
  inputs: ['trade', 'heartbeat'],
  // the trailing window is the shared trade flow of that length (buy and sell sums of one ring)
  derive: (p) => ({ from: tradeFlow(p.seconds), when: 'fired' }),
  warmup: 'seller-initiated volume inside the window',
  init: () => ({}),
  update(_s, _ev, _p, flow: TimeWindow) {
    const sell = timeWindowSellSum(flow);
    return sell > 0 ? (100 * timeWindowBuySum(flow)) / sell : null;
  },
  source: [timeWindowBuySum, timeWindowSellSum],
});
