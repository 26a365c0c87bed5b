import { initTimeWindow, timeWindowAdvance, timeWindowCount, timeWindowPush, timeWindowSum } from '../kernels/time-window.ts';
import { defineFactor } from '../factor.ts';

/**
 * Traded volume (`stat: 'volume'`) or number of trades (`stat: 'count'`) over the trailing
 * `seconds` of event time; `volume_1m` and `trade_count_1m` in the default set.
 *
 * Warm-up: none after the first trade or heartbeat (0 is a real value: nothing traded). Heartbeats
 * advance the window. A late trade counts at the latest time seen (eviction in arrival order). Reference: a naive recomputation over the window (contract suite).
 */
export const tradeWindow = defineFactor({
  name: 'volume_1m',
  // 2: sum-only windows re-base on turnover only (sums may differ from v1 in the last bits)
  version: 2,
  description: 'Volume (or trade count) over the trailing window',
  params: { seconds: 60, stat: 'volume' },
  rules: { seconds: { kind: 'int', min: 1, max: 86_400 }, stat: { kind: 'string', oneOf: ['volume', 'count'] } },
  inputs: ['trade', 'heartbeat'],
  warmup: 'none',
  init: (p) => initTimeWindow(BigInt(p.seconds) * 1_000_000_000n, 64, false),
  update(w, ev, p) {
    if (ev.kind === 'trade') timeWindowPush(w, ev.tsEvent, ev.size);
    else timeWindowAdvance(w, ev.tsEvent);
    return p.stat === 'count' ? timeWindowCount(w) : timeWindowSum(w);
  },
  source: [timeWindowPush, timeWindowAdvance, timeWindowSum, timeWindowCount],
});
