/**
 * The cross-sectional math of one rebalance: signal → scores → raw weights → legs at the gross
 * leverage → per-name cap → book volatility target → turnover limit. Pure and deterministic: every
 * sum runs over the symbols in one fixed order (code-unit order of their names), so the same
 * inputs give the same float64 bits on every machine and path.
 *
 * Steps, for the n eligible symbols with signal x_i and realized volatility σ_i:
 *
 * 1. **Scores.** `rank`: r_i is x_i's rank among the n (1..n, ties share their average rank), and
 *    s_i = r_i − (n+1)/2, the demeaned rank (the rank portfolio of Asness, Moskowitz & Pedersen,
 *    "Value and Momentum Everywhere", J. Finance 2013, eq. 1). `zscore`: s_i = clip((x_i − μ)/σ_x,
 *    ±c) with μ and σ_x the cross-sectional mean and population standard deviation (Grinold &
 *    Kahn, "Active Portfolio Management", 2nd ed., ch. 14: standardised scores; winsorised at c).
 *    A constant signal (σ_x = 0) or n < 2 scores every name 0: no view, no position.
 * 2. **Inverse volatility** (optional): a_i = s_i / σ_i, so each name contributes about the same
 *    risk per unit of score (Moskowitz, Ooi & Pedersen, "Time Series Momentum", J. Financial
 *    Economics 2012, §4: positions scaled by 1/σ_i).
 * 3. **Construction.** `long-only`: the positive part of a_i, scaled to sum to the gross cap G
 *    (the book holds the names scoring above the cross-sectional mean). `dollar-neutral`: the
 *    positive parts scaled to G/2 and the negative parts to −G/2, so Σw = 0 and Σ|w| = G. With
 *    an empty leg the book is flat (a one-sided dollar-neutral book does not exist); when the cap
 *    keeps one leg below G/2, the other is scaled down to match it.
 * 4. **Per-name cap** |w_i| ≤ m, by water-filling within each leg: names over the cap are held
 *    at m and the rest rescaled to keep the leg's total, until none exceeds m (w_i = min(m, λ|a_i|)
 *    with λ fixed by the leg's total); when every name is at the cap the leg holds less than asked
 *    (n·m < G).
 * 5. **Book volatility target** (optional, target τ): the book's volatility under zero
 *    correlation, σ_p = sqrt(Σ w_i² σ_i²), and the whole book scaled by
 *    k = min(τ/σ_p, G/Σ|w|, m/max|w|) (MOP 2012's 40%/σ scaling applied to the book, never
 *    breaking the gross or per-name caps; k may exceed 1 only while those caps leave room).
 *    Units: τ is in the unit of the volatility column (per-interval, not annualised).
 * 6. **Turnover limit** L against the previous weights w⁰ (0 for a name never held): with
 *    T = Σ|w_i − w⁰_i| over every name held before or now, if T > L the trade is scaled back to
 *    w = w⁰ + (L/T)(w − w⁰), the L1 change scaled to the limit (a convex combination of two
 *    books within the caps, so the result keeps every cap, Σw = 0 and w ≥ 0). An excluded
 *    name's target is 0: it is sold down at the limit's pace, not at once.
 */

/** Code-unit order: the one symbol order everywhere (locale-free, so every machine agrees). */
export const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** What one rebalance is asked to build (the numeric part of WeightsConfig). */
export interface BookSpec {
  method: 'rank' | 'zscore';
  zClip: number;
  construction: 'long-only' | 'dollar-neutral';
  maxWeight: number;
  grossLeverage: number;
  volInverse: boolean;
  volTarget: number | null;
  turnoverLimit: number | null;
}

/** Figures of one rebalance, beside the weights. */
export interface BookStats {
  gross: number;
  net: number;
  /** Σ|w − w_prev| after the turnover limit. */
  turnover: number;
  /** The book volatility scale k of step 5 (1 without a target). */
  volScale: number;
}

/**
 * Target weights into `out` for symbols 0..n-1 (in the fixed symbol order). `eligible[i]` = 1
 * when symbol i may hold a new position (its signal, and σ_i when volatility is used, are finite,
 * σ_i > 0); the others' target is 0. `prev` holds the previous weights (0 where none).
 */
export function targetWeights(spec: BookSpec, signal: Float64Array, vol: Float64Array | null, eligible: Uint8Array, prev: Float64Array, out: Float64Array): BookStats {
  const n = out.length;
  out.fill(0);
  const idx: number[] = [];
  for (let i = 0; i < n; i++) if (eligible[i] === 1) idx.push(i);
  const s = spec.method === 'rank' ? rankScores(signal, idx) : zScores(signal, idx, spec.zClip);
  const a = new Float64Array(n);
  for (let j = 0; j < idx.length; j++) a[idx[j]] = spec.volInverse && vol ? s[j] / vol[idx[j]] : s[j];
  const G = spec.grossLeverage;
  if (spec.construction === 'long-only') fillLeg(a, 1, G, spec.maxWeight, out);
  else if (hasSign(a, 1) && hasSign(a, -1)) {
    fillLeg(a, 1, G / 2, spec.maxWeight, out);
    fillLeg(a, -1, G / 2, spec.maxWeight, out);
    balanceLegs(out);
  }
  let volScale = 1;
  if (spec.volTarget !== null && vol) volScale = scaleToVolTarget(out, vol, spec.volTarget, G, spec.maxWeight);
  let turnover = l1Change(out, prev);
  if (spec.turnoverLimit !== null && turnover > spec.turnoverLimit) {
    const f = spec.turnoverLimit / turnover;
    for (let i = 0; i < n; i++) out[i] = prev[i] + f * (out[i] - prev[i]);
    turnover = l1Change(out, prev);
  }
  let gross = 0;
  let net = 0;
  for (let i = 0; i < n; i++) {
    gross += Math.abs(out[i]);
    net += out[i];
  }
  return { gross, net, turnover, volScale };
}

/** Demeaned ranks r_i − (n+1)/2 of `x` over `idx` (ties: average rank; order of `idx` kept). */
export function rankScores(x: Float64Array, idx: readonly number[]): Float64Array {
  const n = idx.length;
  const order = Array.from({ length: n }, (_, j) => j);
  // ties broken by position (symbol order) so the sort is total, whatever the engine's algorithm
  order.sort((p, q) => x[idx[p]] - x[idx[q]] || p - q);
  const out = new Float64Array(n);
  const mid = (n + 1) / 2;
  for (let lo = 0; lo < n; ) {
    let hi = lo + 1;
    while (hi < n && x[idx[order[hi]]] === x[idx[order[lo]]]) hi++;
    // ranks lo+1..hi share their mean (lo+1+hi)/2
    const r = (lo + 1 + hi) / 2 - mid;
    for (let k = lo; k < hi; k++) out[order[k]] = r;
    lo = hi;
  }
  return out;
}

/** Clipped cross-sectional z-scores of `x` over `idx` (population σ; all 0 when σ = 0 or n < 2). */
export function zScores(x: Float64Array, idx: readonly number[], clip: number): Float64Array {
  const n = idx.length;
  const out = new Float64Array(n);
  if (n < 2) return out;
  let sum = 0;
  for (let j = 0; j < n; j++) sum += x[idx[j]];
  const mean = sum / n;
  // two passes: the textbook one-pass formula loses precision when |mean| >> σ
  let ss = 0;
  for (let j = 0; j < n; j++) {
    const d = x[idx[j]] - mean;
    ss += d * d;
  }
  const sd = Math.sqrt(ss / n);
  if (!(sd > 0)) return out;
  for (let j = 0; j < n; j++) {
    const z = (x[idx[j]] - mean) / sd;
    out[j] = z > clip ? clip : z < -clip ? -clip : z;
  }
  return out;
}

const hasSign = (a: Float64Array, sign: 1 | -1): boolean => {
  for (let i = 0; i < a.length; i++) if (a[i] * sign > 0) return true;
  return false;
};

/**
 * Writes into `out` one leg: the names with `sign`·a_i > 0, weights proportional to |a_i|,
 * summing to `total` in absolute value, each at most `cap` (water-filling, step 4).
 */
export function fillLeg(a: Float64Array, sign: 1 | -1, total: number, cap: number, out: Float64Array): void {
  // capped[i]: 1 once name i is held at the cap. Each pass caps every name that λ·v would put over
  // it, λ from the names not yet capped; λ only grows as names are capped, so a capped name stays
  // capped and the passes end (in practice after a few) at the unique water-filling solution.
  // Sums are recomputed each pass, never by subtraction: one name dwarfing the rest would cancel.
  const n = a.length;
  const capped = new Uint8Array(n);
  let k = 0;
  let lambda = 0;
  for (;;) {
    let sumA = 0;
    for (let i = 0; i < n; i++) if (capped[i] === 0 && a[i] * sign > 0) sumA += a[i] * sign;
    const left = total - k * cap;
    if (!(left > 0)) {
      lambda = 0; // the capped names already hold the whole leg
      break;
    }
    if (!(sumA > 0)) break;
    lambda = left / sumA;
    let more = 0;
    for (let i = 0; i < n; i++) {
      if (capped[i] === 0 && a[i] * sign > 0 && lambda * a[i] * sign > cap) {
        capped[i] = 1;
        more++;
      }
    }
    if (more === 0) break;
    k += more;
  }
  for (let i = 0; i < n; i++) {
    const v = a[i] * sign;
    if (!(v > 0)) continue;
    // min(): the rounding of λ·v must not cross the cap
    out[i] = capped[i] === 1 ? sign * cap : sign * Math.min(cap, lambda * v);
  }
}

/**
 * Scales the larger leg down to the smaller one's size, so Σw = 0 also when the cap kept one leg
 * short of G/2 (few names on that side); scaling down keeps every cap.
 */
function balanceLegs(w: Float64Array): void {
  let long = 0;
  let short = 0;
  for (let i = 0; i < w.length; i++) {
    if (w[i] > 0) long += w[i];
    else short -= w[i];
  }
  if (long === short) return;
  const sign = long > short ? 1 : -1;
  const f = Math.min(long, short) / Math.max(long, short);
  for (let i = 0; i < w.length; i++) if (w[i] * sign > 0) w[i] *= f;
}

/** Scales `w` to the volatility target (step 5); returns the factor k. */
export function scaleToVolTarget(w: Float64Array, vol: Float64Array, target: number, gross: number, cap: number): number {
  let v2 = 0;
  let g = 0;
  let max = 0;
  for (let i = 0; i < w.length; i++) {
    if (w[i] === 0) continue;
    v2 += w[i] * w[i] * vol[i] * vol[i];
    g += Math.abs(w[i]);
    max = Math.max(max, Math.abs(w[i]));
  }
  if (!(v2 > 0)) return 1;
  const k = Math.min(target / Math.sqrt(v2), gross / g, cap / max);
  for (let i = 0; i < w.length; i++) w[i] *= k;
  return k;
}

/** Σ|w_i − p_i|. */
export function l1Change(w: Float64Array, p: Float64Array): number {
  let t = 0;
  for (let i = 0; i < w.length; i++) t += Math.abs(w[i] - p[i]);
  return t;
}
