/**
 * Fitting linear and logistic models on standardised features, deterministically (fixed iteration
 * order, no randomness, a direct solver), so the same training set gives the same coefficients,
 * bit for bit, on any machine with IEEE float64.
 *
 * - Linear: ridge regression by the normal equations, (ZᵀZ + λI) w = Zᵀy with the intercept
 *   unpenalised; the same objective as scikit-learn's `Ridge(alpha=λ)` on standardised inputs.
 * - Logistic: Newton's method (IRLS) on Σ log-loss + λ/2 ‖w‖² (intercept unpenalised); the same
 *   objective as scikit-learn's `LogisticRegression(C=1/λ)` on standardised inputs.
 */
import { ModelError } from './errors.ts';

/** Rows as a flat matrix: x[i * p + j] is feature j of row i. */
export interface Design {
  x: Float64Array;
  y: Float64Array;
  n: number;
  p: number;
}

export interface Fitted {
  mean: number[];
  std: number[];
  coef: number[];
  intercept: number;
  /** Newton iterations (logistic; 1 for linear). */
  iterations: number;
}

/** Per-feature mean and population standard deviation (ddof 0); a constant feature is refused. */
export function standardisation(d: Design, names: readonly string[], where: string): { mean: number[]; std: number[] } {
  const mean = new Array<number>(d.p).fill(0);
  const std = new Array<number>(d.p).fill(0);
  for (let i = 0; i < d.n; i++) for (let j = 0; j < d.p; j++) mean[j] += d.x[i * d.p + j];
  for (let j = 0; j < d.p; j++) mean[j] /= d.n;
  for (let i = 0; i < d.n; i++) for (let j = 0; j < d.p; j++) std[j] += (d.x[i * d.p + j] - mean[j]) ** 2;
  for (let j = 0; j < d.p; j++) {
    std[j] = Math.sqrt(std[j] / d.n);
    if (!(std[j] > 0)) throw new ModelError(where, `feature ${names[j]} is constant over the ${d.n} training rows (std 0): it cannot be standardised; leave it out`);
  }
  return { mean, std };
}

/** The design with an intercept column first, inputs standardised: z[i * (p+1) + 0] = 1. */
function standardised(d: Design, mean: readonly number[], std: readonly number[]): Float64Array {
  const q = d.p + 1;
  const z = new Float64Array(d.n * q);
  for (let i = 0; i < d.n; i++) {
    z[i * q] = 1;
    for (let j = 0; j < d.p; j++) z[i * q + j + 1] = (d.x[i * d.p + j] - mean[j]) / std[j];
  }
  return z;
}

/** Solves A w = b (A q×q, symmetric positive definite here) by Gaussian elimination with partial pivoting. */
export function solve(a: Float64Array, b: Float64Array, q: number): Float64Array {
  const m = Float64Array.from(a);
  const r = Float64Array.from(b);
  for (let c = 0; c < q; c++) {
    let piv = c;
    for (let i = c + 1; i < q; i++) if (Math.abs(m[i * q + c]) > Math.abs(m[piv * q + c])) piv = i;
    if (!(Math.abs(m[piv * q + c]) > 1e-300)) throw new ModelError('fit', 'the normal equations are singular (collinear features with --l2 0): add --l2 or drop a feature');
    if (piv !== c) {
      for (let k = 0; k < q; k++) [m[c * q + k], m[piv * q + k]] = [m[piv * q + k], m[c * q + k]];
      [r[c], r[piv]] = [r[piv], r[c]];
    }
    for (let i = c + 1; i < q; i++) {
      const f = m[i * q + c] / m[c * q + c];
      if (f === 0) continue;
      for (let k = c; k < q; k++) m[i * q + k] -= f * m[c * q + k];
      r[i] -= f * r[c];
    }
  }
  const w = new Float64Array(q);
  for (let c = q - 1; c >= 0; c--) {
    let s = r[c];
    for (let k = c + 1; k < q; k++) s -= m[c * q + k] * w[k];
    w[c] = s / m[c * q + c];
  }
  return w;
}

/** Ridge regression of y on the standardised features. */
export function fitLinear(d: Design, l2: number, names: readonly string[], where: string): Fitted {
  const { mean, std } = standardisation(d, names, where);
  const z = standardised(d, mean, std);
  const q = d.p + 1;
  const a = new Float64Array(q * q);
  const b = new Float64Array(q);
  for (let i = 0; i < d.n; i++) {
    const o = i * q;
    for (let j = 0; j < q; j++) {
      b[j] += z[o + j] * d.y[i];
      for (let k = 0; k < q; k++) a[j * q + k] += z[o + j] * z[o + k];
    }
  }
  for (let j = 1; j < q; j++) a[j * q + j] += l2;
  const w = solve(a, b, q);
  return { mean, std, intercept: w[0], coef: Array.from(w.subarray(1)), iterations: 1 };
}

/**
 * Logistic regression of y ∈ {0, 1} by Newton's method from w = 0; stops when no coefficient moves
 * by more than 1e-12 (relative) or after 100 steps. With λ = 0 and separable classes the optimum is
 * at infinity: the fit is refused rather than returning huge coefficients.
 */
export function fitLogistic(d: Design, l2: number, names: readonly string[], where: string): Fitted {
  const { mean, std } = standardisation(d, names, where);
  const z = standardised(d, mean, std);
  const q = d.p + 1;
  let w = new Float64Array(q);
  let it = 0;
  for (; it < 100; it++) {
    const h = new Float64Array(q * q);
    const g = new Float64Array(q);
    for (let i = 0; i < d.n; i++) {
      const o = i * q;
      let s = 0;
      for (let j = 0; j < q; j++) s += z[o + j] * w[j];
      const p = 1 / (1 + Math.exp(-s));
      const r = d.y[i] - p;
      const v = p * (1 - p);
      for (let j = 0; j < q; j++) {
        g[j] += z[o + j] * r;
        for (let k = 0; k < q; k++) h[j * q + k] += v * z[o + j] * z[o + k];
      }
    }
    for (let j = 1; j < q; j++) {
      g[j] -= l2 * w[j];
      h[j * q + j] += l2;
    }
    const step = solve(h, g, q);
    let moved = 0;
    const next = new Float64Array(q);
    for (let j = 0; j < q; j++) {
      next[j] = w[j] + step[j];
      moved = Math.max(moved, Math.abs(step[j]) / Math.max(1, Math.abs(next[j])));
    }
    w = next;
    if (!w.every(Number.isFinite) || Math.abs(w.reduce((m, x) => Math.max(m, Math.abs(x)), 0)) > 1e6) {
      throw new ModelError(where, 'the logistic fit diverges (the classes are separable by these features): add --l2 (e.g. 1)');
    }
    if (moved < 1e-12) break;
  }
  return { mean, std, intercept: w[0], coef: Array.from(w.subarray(1)), iterations: it + 1 };
}
