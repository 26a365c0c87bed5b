import { initRsi, rsiPush, rsiValue } from '../kernels/rsi.ts';
import { defineBarFactor } from './bar-factor.ts';

/**
 * Relative strength index of 1-minute closes with Wilder smoothing, TA-Lib convention (TA_RSI,
 * unstable period 0): first value after `period` changes, 100·gain/(gain+loss), 0 when flat.
 *
 * Warm-up: period + 1 closed bars. Reference: TA-Lib via npm talib 1.1.6
 * (core/factors/reference/talib-reference.json), matched bit for bit.
 */
export const rsi = defineBarFactor({
  name: (p) => `rsi_${p.period}`,
  version: 1,
  description: 'RSI of 1-minute closes (Wilder, TA-Lib convention)',
  params: { period: 14 },
  rules: { period: { kind: 'int', min: 2, max: 10_000 } },
  warmup: 'period + 1 closed 1-minute bars',
  init: (p) => initRsi(p.period),
  onBar: (s, bars) => rsiPush(s, bars.close),
  value: (s) => rsiValue(s),
  kernels: [rsiPush, rsiValue],
});
