/**
 * Exponentially weighted means.
 *
 * (a) `Ema`: the count-based EMA of TA-Lib's TA_EMA (ta_EMA.c, TA_INT_EMA) with the default
 *     compatibility setting: k = 2 / (n + 1); the first value is the simple average of the first n
 *     inputs (summed left to right, then divided by n); each later input x gives
 *     `prev = ((x - prev) * k) + prev`, the exact expression order TA-Lib uses, so values agree
 *     with TA-Lib to the bit.
 * (b) `DecayedEwm`: a time-decayed sum and mean for irregular event times with a half-life in
 *     nanoseconds: between events everything decays by 2^(-dt / halfLife).
 */

export interface Ema {
  n: number;
  /** Smoothing factor, TA-Lib PER_TO_K: 2 / (n + 1). */
  k: number;
  /** Inputs seen, capped at n once the seed is formed. */
  count: number;
  /** While warming up: the running sum of inputs; afterwards the EMA. */
  value: number;
}

/** An EMA over `n` (an integer >= 1) periods. */
export function initEma(n: number): Ema {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`EMA period ${n} must be an integer >= 1`);
  return { n, k: 2.0 / (n + 1), count: 0, value: 0 };
}

/** Feeds one input (TA-Lib TA_EMA arithmetic, see the file comment). */
export function emaPush(s: Ema, x: number): void {
  if (s.count >= s.n) {
    s.value = (x - s.value) * s.k + s.value;
    return;
  }
  s.value += x;
  if (++s.count === s.n) s.value /= s.n;
}

/**
 * Current EMA; null during warm-up (the first n - 1 inputs), matching TA-Lib's lookback of n - 1:
 * the value after input index n - 1 is TA-Lib's first output.
 */
export function emaValue(s: Ema): number | null {
  return s.count >= s.n ? s.value : null;
}

/** True once the seed average has been formed. */
export function emaReady(s: Ema): boolean {
  return s.count >= s.n;
}

/** Time-decayed exponentially weighted sum and mean. */
export interface DecayedEwm {
  halfLifeNs: number;
  /** Event time of the last decay, epoch ns; meaningless until `started`. */
  lastT: bigint;
  started: boolean;
  /** Σ x_i · 2^(-(now - t_i) / halfLife). */
  sum: number;
  /** Σ 2^(-(now - t_i) / halfLife): the decayed count of inputs. */
  weight: number;
}

/** An empty decayed accumulator with a half-life of `halfLifeNs` (> 0) nanoseconds. */
export function initDecayedEwm(halfLifeNs: number): DecayedEwm {
  if (!(halfLifeNs > 0) || !Number.isFinite(halfLifeNs)) {
    throw new RangeError(`half-life ${halfLifeNs} ns must be a finite number > 0`);
  }
  return { halfLifeNs, lastT: 0n, started: false, sum: 0, weight: 0 };
}

/**
 * Decays the accumulator to event time `t`. dt is computed exactly in bigint and converted to a
 * number once. A time earlier than the last one is treated as the same instant (no growth back in
 * time), so late events are added undecayed at the current time.
 */
export function decayTo(s: DecayedEwm, t: bigint): void {
  if (!s.started) {
    s.started = true;
    s.lastT = t;
    return;
  }
  if (t <= s.lastT) return;
  const dt = Number(t - s.lastT);
  s.lastT = t;
  // Math.pow is deterministic for a given V8 build; replay and live share the runtime.
  const f = Math.pow(2, -dt / s.halfLifeNs);
  s.sum *= f;
  s.weight *= f;
}

/** Decays to `t`, then adds `x` with weight 1. */
export function decayedAdd(s: DecayedEwm, t: bigint, x: number): void {
  decayTo(s, t);
  s.sum += x;
  s.weight += 1;
}

/** Decayed sum as of the last decay time (0 before any input), e.g. a decayed sentiment score. */
export function decayedSum(s: DecayedEwm): number {
  return s.sum;
}

/** Decayed count of inputs as of the last decay time, e.g. a decayed mention count. */
export function decayedWeight(s: DecayedEwm): number {
  return s.weight;
}

/** Weighted mean Σw·x / Σw; null before the first input (or once the weight underflows to 0). */
export function decayedMean(s: DecayedEwm): number | null {
  return s.weight > 0 ? s.sum / s.weight : null;
}
