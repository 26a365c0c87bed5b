import { initRollingSum, rollingFull, rollingPush, rollingSum } from '../kernels/rolling-sum.ts';
import { defineBarFactor } from './bar-factor.ts';

/**
 * Realized volatility over the last `bars` 1-minute log returns: sqrt(Σ r²) (not annualised).
 *
 * Warm-up: bars + 1 closed bars. Drift-free rolling sum (kernels/rolling-sum.ts); a sum that
 * rounds below zero is clamped to 0 before the square root.
 * Reference: the definition, recomputed naively from the same bars in the contract suite.
 */
export const realizedVol = defineBarFactor({
  name: (p) => `rv_${p.bars}m`,
  version: 1,
  description: 'sqrt of the sum of squared 1-minute log returns over the last N minutes',
  params: { bars: 5 },
  rules: { bars: { kind: 'int', min: 1, max: 10_000 } },
  warmup: 'N + 1 closed 1-minute bars',
  init: (p) => ({ prev: NaN, sq: initRollingSum(p.bars) }),
  onBar(s, bars) {
    if (!Number.isNaN(s.prev)) {
      const r = Math.log(bars.close / s.prev);
      rollingPush(s.sq, r * r);
    }
    s.prev = bars.close;
  },
  value: (s) => (rollingFull(s.sq) ? Math.sqrt(Math.max(0, rollingSum(s.sq))) : null),
  kernels: [rollingPush, rollingSum, rollingFull],
});
