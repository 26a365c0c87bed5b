import { timeWindowCount, timeWindowSum, type TimeWindow } from '../kernels/time-window.ts';
import { defineFactor, durationLabel } from '../factor.ts';
import { tradeFlow } from './flow-windows.ts';
/**
 * Traded volume (`stat: 'volume'`) or number of trades (`stat: 'count'`) over the trailing
 * `seconds` of event time. Named after both: `volume_1m`, `trade_count_1m`, `volume_5m`, `volume_90s`.
 *
 * Warm-up: none after the first trade or heartbeat (0 is a real value: nothing traded). Heartbeats
 * advance the window. A late trade counts at the latest time seen (eviction in arrival order). Reference: a naive recomputation over the window (contract suite).
 */
export const tradeWindow = defineFactor({
  name: (p) => `${p.stat === 'count' ? 'trade_count' : 'volume'}_${durationLabel(p.seconds)}`,
  // 2: sum-only windows re-base on turnover only (sums may differ from v1 in the last bits)
  version: 2,
  description: 'Volume (or trade count) over the trailing window',
  params: { seconds: 60, stat: 'volume' },
  rules: { seconds: { kind: 'int', min: 1, max: 86_400 }, stat: { kind: 'string', oneOf: ['volume', 'count'] } },
  inputs: ['trade', 'heartbeat'],
  // the trailing window is the shared trade flow of that length
  derive: (p) => ({ from: tradeFlow(p.seconds), when: 'fired' }),
  warmup: 'none',
  init: () => ({}),
  update: (_s, _ev, p, flow: TimeWindow) => (p.stat === 'count' ? timeWindowCount(flow) : timeWindowSum(flow)),
  source: [timeWindowSum, timeWindowCount],
});
