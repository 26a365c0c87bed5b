/**
 * Online mean and variance by Welford's method (B. P. Welford, "Note on a method for calculating
 * corrected sums of squares and products", Technometrics 4(3), 1962), with the matching removal
 * step for windows (West 1979 form). Numerically stable for a growing set; for long sliding
 * windows prefer rolling-sum.ts / time-window.ts, which re-base exactly to stop drift.
 */

export interface Welford {
  n: number;
  mean: number;
  /** Σ (x - mean)² over the current set. */
  m2: number;
}

/** An empty set. Warm-up: mean needs 1 value, sample variance 2. */
export function initWelford(): Welford {
  return { n: 0, mean: 0, m2: 0 };
}

/** Adds x. */
export function welfordAdd(s: Welford, x: number): void {
  const n = ++s.n;
  const d = x - s.mean;
  s.mean += d / n;
  s.m2 += d * (x - s.mean);
}

/** Removes x, which must have been added before; removing the last value resets exactly. */
export function welfordRemove(s: Welford, x: number): void {
  if (s.n <= 1) {
    s.n = 0;
    s.mean = 0;
    s.m2 = 0;
    return;
  }
  const n = --s.n;
  const d = x - s.mean;
  s.mean -= d / n;
  s.m2 -= d * (x - s.mean);
  if (s.m2 < 0) s.m2 = 0;
}

/** Mean; null when empty. */
export function welfordMean(s: Welford): number | null {
  return s.n > 0 ? s.mean : null;
}

/** Variance with `ddof` (default 1, sample); null while n <= ddof. */
export function welfordVariance(s: Welford, ddof = 1): number | null {
  return s.n > ddof ? s.m2 / (s.n - ddof) : null;
}

/** Number of values in the set. */
export function welfordCount(s: Welford): number {
  return s.n;
}
