/**
 * Wilder's smoothing (J. Welles Wilder, "New Concepts in Technical Trading Systems", 1978), in the
 * arithmetic of TA-Lib's TA_RSI (ta_RSI.c): the first value is the simple average of the first n
 * inputs (summed left to right, divided by n); afterwards `avg *= n - 1; avg += x; avg /= n`,
 * i.e. (prev·(n-1) + x) / n, in that order so that results agree with TA-Lib to the bit. Used by
 * RSI (rsi.ts) and usable for ATR/ADX-style averages.
 */

export interface Wilder {
  n: number;
  /** Inputs seen, capped at n once the seed is formed. */
  count: number;
  /** While warming up: the running sum; afterwards the smoothed average. */
  value: number;
}

/** A Wilder average over `n` (an integer >= 1) periods. */
export function initWilder(n: number): Wilder {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`Wilder period ${n} must be an integer >= 1`);
  return { n, count: 0, value: 0 };
}

/** Feeds one input. */
export function wilderPush(s: Wilder, x: number): void {
  if (s.count >= s.n) {
    let v = s.value * (s.n - 1);
    v += x;
    s.value = v / s.n;
    return;
  }
  s.value += x;
  if (++s.count === s.n) s.value /= s.n;
}

/** The smoothed average; null until n inputs have been seen. */
export function wilderValue(s: Wilder): number | null {
  return s.count >= s.n ? s.value : null;
}
