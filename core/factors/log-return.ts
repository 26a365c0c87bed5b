import { defineBarFactor } from './bar-factor.ts';

/**
 * 1-minute log return: ln(close_t / close_{t-1}) of the last two closed 1-minute bars (bars with
 * no trade do not exist, so across an empty minute the return spans the gap).
 *
 * Warm-up: two closed bars. Bad events: prices are validated > 0 upstream, so the log is finite.
 * Reference: the definition, recomputed naively in the contract suite from the same bars.
 */
export const logReturn1m = defineBarFactor({
  name: 'return_1m',
  version: 1,
  description: 'Log return between the last two 1-minute closes',
  params: {},
  rules: {},
  warmup: 'two closed 1-minute bars',
  init: () => ({ prev: NaN, ret: NaN }),
  onBar(s, bars) {
    if (!Number.isNaN(s.prev)) s.ret = Math.log(bars.close / s.prev);
    s.prev = bars.close;
  },
  value: (s) => (Number.isNaN(s.ret) ? null : s.ret),
});
