/**
 * Linear and logistic scoring: score = intercept + Σ coef_i · z_i over the standardised inputs, and
 * for logistic also prob = 1 / (1 + e^-score). Plain float64 arithmetic in input order, so the
 * same inputs give the same bits everywhere. (model.ts runs the same sum fused into its
 * standardisation loop, through `linear`; `evaluate` is the reference and the path for batches.)
 */
import type { ModelEvaluator } from './evaluator.ts';
import type { ModelSpec } from './spec.ts';

export function linearEvaluator(spec: ModelSpec): ModelEvaluator {
  const coef = Float64Array.from(spec.coef!);
  const intercept = spec.intercept;
  const n = coef.length;
  const logistic = spec.kind === 'logistic';
  return {
    inputCount: n,
    outputs: spec.outputs,
    linear: { coef, intercept, logistic },
    evaluate(x, out) {
      let s = intercept;
      for (let i = 0; i < n; i++) s += coef[i] * x[i];
      out[0] = s;
      if (logistic) out[1] = 1 / (1 + Math.exp(-s));
    },
  };
}
