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
  return {
    spec,
    run(raw, out) {
      for (let i = 0; i < n; i++) {
        let v = raw[i];
        if (v !== v || v === Infinity || v === -Infinity) {
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
        if (v !== v || v === Infinity || v === -Infinity) {
          out.fill(NaN, 0, m);
          return MODEL_STATUS.error;
        }
      }
      return MODEL_STATUS.ok;
    },
  };
}
