/**
 * Sum, mean and variance of a sliding multiset of values, maintained by adding and removing terms.
 * This is the arithmetic shared by the count window (rolling-sum.ts) and the event-time window
 * (time-window.ts); they own the storage and call `momentsRebase` with it.
 *
 * Drift protection, because a trading day pushes millions of terms through one accumulator:
 * - every accumulator is Neumaier-compensated (Neumaier 1974), so add/remove of large terms leaves
 *   almost nothing behind when they leave the window;
 * - the variance uses sums of (x - k), shifted by a reference k near the window mean (the
 *   "shifted data" algorithm), because Σx² - (Σx)²/n cancels catastrophically for values like
 *   1e9 + noise;
 * - the owner re-bases periodically (recomputes every sum from the stored values with k = current
 *   mean), which also removes any residue a NaN or an overflow left behind, and re-bases early when
 *   `momentsNeedRebase` sees the mean has wandered far from k relative to the spread.
 */

export interface WindowMoments {
  /** False: only the sum is kept (d1/d2 stay 0 and the variance is null), for windows that never read it. */
  variance: boolean;
  /** Number of terms in the window. */
  n: number;
  /** Σx, Neumaier pair (sum, compensation). */
  sum: number;
  sumC: number;
  /** Shift for the variance sums. */
  k: number;
  /** Σ(x - k), Neumaier pair. */
  d1: number;
  d1C: number;
  /** Σ(x - k)², Neumaier pair. */
  d2: number;
  d2C: number;
}

/**
 * Cancellation budget: re-base when (Σd)²/n exceeds this many times the centred sum of squares,
 * i.e. when the variance would lose more than ~log2(1024) = 10 of its 53 bits.
 */
const CANCEL_LIMIT = 1024;

/**
 * Empty moments (n = 0, shift 0). `variance: false` keeps the sum only: a third of the work per
 * add and remove, for sums and counts (volume, trade counts).
 */
export function initMoments(variance = true): WindowMoments {
  return { variance, n: 0, sum: 0, sumC: 0, k: 0, d1: 0, d1C: 0, d2: 0, d2C: 0 };
}

// One Neumaier step per accumulator, written out: returning a (sum, c) pair would allocate.
// Σx alone: sum-only moments take only this, and skip computing the variance terms (the callers'
// x - k and its square) as well as their steps.
function sumStep(m: WindowMoments, x: number): void {
  const s = m.sum;
  const t = s + x;
  m.sumC += Math.abs(s) >= Math.abs(x) ? s - t + x : x - t + s;
  m.sum = t;
}

// Σx, Σ(x - k) and Σ(x - k)², for moments that keep the variance.
function step(m: WindowMoments, x: number, d: number, d2: number): void {
  sumStep(m, x);
  let s = m.d1;
  let t = s + d;
  m.d1C += Math.abs(s) >= Math.abs(d) ? s - t + d : d - t + s;
  m.d1 = t;
  s = m.d2;
  t = s + d2;
  m.d2C += Math.abs(s) >= Math.abs(d2) ? s - t + d2 : d2 - t + s;
  m.d2 = t;
}

/** Adds one term. */
export function momentsAdd(m: WindowMoments, x: number): void {
  m.n++;
  if (!m.variance) {
    sumStep(m, x);
    return;
  }
  const d = x - m.k;
  step(m, x, d, d * d);
}

/** Removes a term previously added (same value, same k: k changes only in `momentsRebase`). */
export function momentsRemove(m: WindowMoments, x: number): void {
  m.n--;
  if (m.n === 0) {
    // An empty window is exactly zero: drop whatever residue the pairs still carry.
    m.sum = m.sumC = m.d1 = m.d1C = m.d2 = m.d2C = 0;
    return;
  }
  if (!m.variance) {
    sumStep(m, -x);
    return;
  }
  // Same rounding of (x - k) as when the term was added: k only changes in a re-base.
  const d = x - m.k;
  step(m, -x, -d, -(d * d));
}

/**
 * Starts a re-base: zeroes every sum and sets the shift to the current mean (0 when empty). The
 * owner then re-adds every stored value, oldest first, with `momentsAdd`.
 */
export function momentsRebase(m: WindowMoments): void {
  m.k = m.n > 0 ? (m.sum + m.sumC) / m.n : 0;
  if (!Number.isFinite(m.k)) m.k = 0;
  m.n = 0;
  m.sum = m.sumC = m.d1 = m.d1C = m.d2 = m.d2C = 0;
}

/** True when the mean has drifted so far from the shift that the variance would lose > 10 bits. */
export function momentsNeedRebase(m: WindowMoments): boolean {
  if (m.n < 2 || !m.variance) return false;
  const s1 = m.d1 + m.d1C;
  const s2 = m.d2 + m.d2C;
  // (s1²/n) / (s2 - s1²/n) > L  <=>  s1²·(1 + L) > L·n·s2, without a division.
  return s1 * s1 * (1 + CANCEL_LIMIT) > CANCEL_LIMIT * m.n * s2;
}

/** Σx over the window (0 when empty). */
export function momentsSum(m: WindowMoments): number {
  return m.sum + m.sumC;
}

/** Mean over the window; null when empty. */
export function momentsMean(m: WindowMoments): number | null {
  return m.n === 0 ? null : (m.sum + m.sumC) / m.n;
}

/**
 * Variance with `ddof` delta degrees of freedom (1 = sample, 0 = population); null when
 * n <= ddof. Never negative.
 */
export function momentsVariance(m: WindowMoments, ddof: number): number | null {
  const n = m.n;
  if (n <= ddof || !m.variance) return null;
  const s1 = m.d1 + m.d1C;
  const v = (m.d2 + m.d2C - (s1 * s1) / n) / (n - ddof);
  return v > 0 ? v : 0;
}
