import { initMacd, macdHist, macdLine, macdPush, macdSignal } from '../kernels/macd.ts';
import { defineBarFactor } from './bar-factor.ts';

/**
 * MACD(12, 26, 9) of 1-minute closes, TA-Lib convention (TA_MACD): both EMAs start at index
 * slow-1 (the fast one seeded from the mean of the closes just before), so the first line, signal
 * and histogram come out together at index 33. Columns: `macd` (line), `macd_signal`, `macd_hist`
 * (`macd_8_21_5`, `macd_8_21_5_signal`, ... with other parameters).
 *
 * Warm-up: slow + signal - 1 closed bars (34 with the defaults). Reference: TA-Lib via npm talib
 * 1.1.6 (core/factors/reference/talib-reference.json), matched bit for bit.
 */
export const macd = defineBarFactor({
  // MACD(12, 26, 9) is plain `macd`; any other setting spells out all three
  name: (p) => (p.fast === 12 && p.slow === 26 && p.signal === 9 ? 'macd' : `macd_${p.fast}_${p.slow}_${p.signal}`),
  version: 1,
  description: 'MACD line, signal and histogram of 1-minute closes (TA-Lib convention)',
  params: { fast: 12, slow: 26, signal: 9 },
  rules: { fast: { kind: 'int', min: 2, max: 10_000 }, slow: { kind: 'int', min: 2, max: 10_000 }, signal: { kind: 'int', min: 1, max: 10_000 } },
  warmup: 'slow + signal - 1 closed 1-minute bars',
  init: (p) => initMacd(p.fast, p.slow, p.signal),
  onBar: (s, bars) => macdPush(s, bars.close),
  value: (s) => macdLine(s),
  extras: { signal: (s) => macdSignal(s), hist: (s) => macdHist(s) },
  kernels: [macdPush, macdLine, macdSignal, macdHist],
});
