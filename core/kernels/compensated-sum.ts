/**
 * Neumaier-compensated running sum (Neumaier 1974, "Rundungsfehleranalyse einiger Verfahren zur
 * Summation endlicher Summen"; an improvement of Kahan summation that also holds when a term is
 * larger than the running sum). For long accumulations such as a session's Σ price·size or Σ size,
 * where a plain `+=` loses the low bits of every small term added to a large total.
 *
 * State is two numbers; adding never allocates.
 */

export interface CompensatedSum {
  /** Running (rounded) sum. */
  s: number;
  /** Accumulated rounding error of `s`; the value is s + c. */
  c: number;
}

/** A zero sum. */
export function initCompensatedSum(): CompensatedSum {
  return { s: 0, c: 0 };
}

/** Adds `x` (subtract by adding -x: negation is exact). */
export function compensatedAdd(acc: CompensatedSum, x: number): void {
  const s = acc.s;
  const t = s + x;
  // The branch picks the operand whose low bits were lost in t (Neumaier's fix to Kahan).
  acc.c += Math.abs(s) >= Math.abs(x) ? s - t + x : x - t + s;
  acc.s = t;
}

/** The compensated total. */
export function compensatedValue(acc: CompensatedSum): number {
  return acc.s + acc.c;
}

/** Resets to zero. */
export function compensatedClear(acc: CompensatedSum): void {
  acc.s = 0;
  acc.c = 0;
}
