import { initRollingSum, rollingFull, rollingMean, rollingPush } from '../kernels/rolling-sum.ts';
import { defineBarFactor } from './bar-factor.ts';

/**
 * Simple moving average of the last `bars` 1-minute closes (5, 20, 60 in the default set: the
 * 5/20/60-minute averages; minutes without trades have no bar and are not counted).
 *
 * Warm-up: `bars` closed bars (null before). Drift-free over a long day: the rolling sum is
 * compensated and periodically re-based (kernels/rolling-sum.ts).
 * Reference: DuckDB `avg(close) OVER (ROWS BETWEEN n-1 PRECEDING AND CURRENT ROW)` over bars from
 * the same Parquet (datasets/reference-sql.test.ts), and a naive recomputation (contract suite).
 */
export const movingAverage = defineBarFactor({
  name: (p) => `ma_${p.bars}m`,
  version: 1,
  description: 'Mean of the last N 1-minute closes',
  params: { bars: 5 },
  rules: { bars: { kind: 'int', min: 1, max: 10_000 } },
  warmup: 'N closed 1-minute bars',
  init: (p) => initRollingSum(p.bars),
  onBar: (s, bars) => rollingPush(s, bars.close),
  value: (s) => (rollingFull(s) ? rollingMean(s) : null),
  kernels: [rollingPush, rollingMean, rollingFull],
});
