/**
 * A model ready to run in the fold: its spec, its evaluator, and the preprocessing every kind
 * shares (missing-value policy, standardisation, clipping), applied to the inputs read off the row.
 */
import type { ModelEvaluator } from './evaluator.ts';
import type { ModelSpec } from './spec.ts';

/** Status of a model's outputs in a row (`<slot>_status`): why a signal is null, or that it is not. */
export const MODEL_STATUS = { ok: 0, missing: 1, error: 2, undeployed: 3 } as const;
export type ModelStatus = (typeof MODEL_STATUS)[keyof typeof MODEL_STATUS];

export interface RunnableModel {
  readonly spec: ModelSpec;
  /** Standardises `raw` (NaN = missing) into the evaluator's input and evaluates; returns the status. */
  run(raw: Float64Array, out: Float64Array): ModelStatus;
  /**
   * `run` on the inputs `src[map[0]], src[map[1]], …`: the fold's path, reading a slot's gathered
   * inputs in place (no copy per version). Same operations in the same order as `run`.
   */
  runAt(src: Float64Array, map: Int32Array, out: Float64Array): ModelStatus;
}

export function runnableModel(spec: ModelSpec, evaluator: ModelEvaluator): RunnableModel {
  const n = spec.inputs.length;
  const z = new Float64Array(n);
  const mean = spec.standardize ? Float64Array.from(spec.standardize.mean) : null;
  const std = spec.standardize ? Float64Array.from(spec.standardize.std) : null;
  const lo = spec.clip ? spec.clip[0] : -Infinity;
  const hi = spec.clip ? spec.clip[1] : Infinity;
  const impute = spec.missing === 'mean';
  const m = spec.outputs.length;
  const identity = Int32Array.from({ length: n }, (_, i) => i);
  const lin = evaluator.linear;

  // the linear kinds: standardise, clip and sum in one pass (linear.ts `evaluate` does the same
  // sum over the same z in the same order, so the bits are the same)
  const runLinear = (coef: Float64Array, intercept: number, logistic: boolean) =>
    (src: Float64Array, map: Int32Array, out: Float64Array): ModelStatus => {
      let s = intercept;
      for (let i = 0; i < n; i++) {
        let v = src[map[i]];
        // v - v is 0 for a finite v, NaN for NaN and ±Infinity
        if (v - v !== 0) {
          if (!impute) {
            out.fill(NaN, 0, m);
            return MODEL_STATUS.missing;
          }
          v = mean![i];
        }
        if (mean !== null) v = (v - mean[i]) / std![i];
        s += coef[i] * (v < lo ? lo : v > hi ? hi : v);
      }
      // a finite score gives a finite probability (1 / (1 + e^-s) is in [0, 1]), so the score
      // alone decides whether the outputs are usable
      if (s - s !== 0) {
        out.fill(NaN, 0, m);
        return MODEL_STATUS.error;
      }
      out[0] = s;
      if (logistic) out[1] = 1 / (1 + Math.exp(-s));
      return MODEL_STATUS.ok;
    };

  const runAny = (src: Float64Array, map: Int32Array, out: Float64Array): ModelStatus => {
    for (let i = 0; i < n; i++) {
      let v = src[map[i]];
      if (v - v !== 0) {
        if (!impute) {
          out.fill(NaN, 0, m);
          return MODEL_STATUS.missing;
        }
        v = mean![i];
      }
      if (mean !== null) v = (v - mean[i]) / std![i];
      z[i] = v < lo ? lo : v > hi ? hi : v;
    }
    try {
      evaluator.evaluate(z, out);
    } catch {
      out.fill(NaN, 0, m);
      return MODEL_STATUS.error;
    }
    for (let k = 0; k < m; k++) {
      const v = out[k];
      if (v - v !== 0) {
        out.fill(NaN, 0, m);
        return MODEL_STATUS.error;
      }
    }
    return MODEL_STATUS.ok;
  };

  const runAt = lin !== undefined ? runLinear(lin.coef, lin.intercept, lin.logistic) : runAny;
  return {
    spec,
    run: (raw, out) => runAt(raw, identity, out),
    runAt,
  };
}
