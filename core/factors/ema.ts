import { emaPush, emaValue, initEma } from '../kernels/ewm.ts';
import { defineBarFactor } from './bar-factor.ts';

/**
 * Exponential moving average of 1-minute closes, TA-Lib convention (TA_EMA): k = 2/(n+1), the
 * first value (after n closes) is the SMA of the first n closes, then ema += (close - ema) * k.
 *
 * Warm-up: n closed bars. Reference: TA-Lib 0.6.0-dev via npm talib 1.1.6 on real 1-minute
 * closes (core/factors/reference/talib-reference.json), matched bit for bit.
 */
export const ema = defineBarFactor({
  name: (p) => `ema_${p.period}`,
  version: 1,
  description: 'EMA of 1-minute closes (TA-Lib convention, SMA seed)',
  params: { period: 12 },
  rules: { period: { kind: 'int', min: 1, max: 10_000 } },
  warmup: 'period closed 1-minute bars',
  init: (p) => initEma(p.period),
  onBar: (s, bars) => emaPush(s, bars.close),
  value: (s) => emaValue(s),
  kernels: [emaPush, emaValue],
});
