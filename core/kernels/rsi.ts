/**
 * Relative Strength Index exactly as TA-Lib's TA_RSI (ta_RSI.c, default compatibility, no unstable
 * period): for each close after the first, the change d = close - prevClose is a gain (d >= 0,
 * including 0) or a loss (-d when d < 0); average gain and loss are Wilder-smoothed (wilder.ts),
 * seeded by the simple average of the first n changes; RSI = 100 · (avgGain / (avgGain + avgLoss)),
 * TA-Lib's equivalent of 100 - 100/(1 + RS). When avgGain + avgLoss is within ±TA_EPSILON of zero
 * (flat prices) TA-Lib outputs 0, and so does this kernel.
 *
 * Warm-up: n + 1 closes (the first value belongs to input index n, TA-Lib's lookback).
 */
import { initWilder, wilderPush, type Wilder } from './wilder.ts';

/**
 * TA-Lib's TA_IS_ZERO band. TA-Lib C 0.6.x (ta_utility.h, TA_EPSILON) uses 1e-14; 0.4.0 used 1e-8.
 * The committed reference values (core/factors/reference) were made with 0.6.0-dev.
 */
export const TA_EPSILON = 1e-14;

export interface Rsi {
  /** Closes seen. */
  count: number;
  prevClose: number;
  gain: Wilder;
  loss: Wilder;
  zeroEps: number;
}

/** An RSI over `n` (an integer >= 2, TA-Lib's range) changes. */
export function initRsi(n: number, zeroEps = TA_EPSILON): Rsi {
  if (!Number.isInteger(n) || n < 2) throw new RangeError(`RSI period ${n} must be an integer >= 2`);
  return { count: 0, prevClose: NaN, gain: initWilder(n), loss: initWilder(n), zeroEps };
}

/** Feeds one close. */
export function rsiPush(s: Rsi, close: number): void {
  if (s.count++ > 0) {
    const d = close - s.prevClose;
    if (d < 0) {
      wilderPush(s.gain, 0);
      wilderPush(s.loss, -d);
    } else {
      wilderPush(s.gain, d);
      wilderPush(s.loss, 0);
    }
  }
  s.prevClose = close;
}

/** RSI in [0, 100]; null during warm-up (fewer than n + 1 closes). */
export function rsiValue(s: Rsi): number | null {
  const g = s.gain;
  if (g.count < g.n) return null;
  const sum = g.value + s.loss.value;
  if (-s.zeroEps < sum && sum < s.zeroEps) return 0;
  return 100.0 * (g.value / sum);
}
