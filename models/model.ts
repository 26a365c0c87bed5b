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

  // the linear kinds: standardise, clip and sum in one pass, compiled once per model (linearKernel)
  // with the same operations in the same order as linear.ts `evaluate` over the same z: the same bits
  const runLinear = lin === undefined ? null : linearKernel(lin.coef, lin.intercept, lin.logistic, mean, std, spec.clip, impute, m);

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

  const runAt = runLinear ?? runAny;
  return {
    spec,
    run: (raw, out) => runAt(raw, identity, out),
    runAt,
  };
}

type Kernel = (src: Float64Array, map: Int32Array, out: Float64Array) => ModelStatus;

/**
 * A number as JavaScript source that evaluates to the same bits: Number#toString is the shortest
 * text that reads back to the same double (ECMAScript Number::toString), and -0 needs its sign.
 */
function literal(x: number): string {
  if (typeof x !== 'number') throw new TypeError(`not a number: ${String(x)}`);
  return Object.is(x, -0) ? '-0' : Number.isNaN(x) ? 'NaN' : x === Infinity ? 'Infinity' : x === -Infinity ? '-Infinity' : String(x);
}

/**
 * The linear kinds' evaluation as a function compiled for one model: the weights, means, standard
 * deviations, clip bounds and the missing-value policy are constants in its code and the loop over
 * the inputs is unrolled, so V8 keeps no typed-array loads, bounds checks or policy branches per
 * input (bench/models-bench.ts: the stage ran ~6 ns, ~15%, faster than the closure over typed
 * arrays it replaces). Same operations in the same order as that closure, so the same bits
 * (model.test.ts checks it against the evaluator's `evaluate`): the divide stays a divide, and an
 * absent clip bound is left out (v < -Infinity and v > Infinity are false for every v, NaN too).
 * Only numbers reach the source text (`literal`), never a name or other text of the model file.
 */
function linearKernel(coef: Float64Array, intercept: number, logistic: boolean, mean: Float64Array | null, std: Float64Array | null, clip: readonly [number, number] | null, impute: boolean, m: number): Kernel {
  const n = coef.length;
  const fail = (status: number) => `{ out.fill(NaN, 0, ${m}); return ${status}; }`;
  const lines = [`let s = ${literal(intercept)};`, 'let v = 0;'];
  for (let i = 0; i < n; i++) {
    lines.push(`v = src[map[${i}]];`);
    // v - v is 0 for a finite v, NaN for NaN and ±Infinity
    lines.push(`if (v - v !== 0) ${impute ? `v = ${literal(mean![i])};` : fail(MODEL_STATUS.missing)}`);
    if (mean !== null) lines.push(`v = (v - ${literal(mean[i])}) / ${literal(std![i])};`);
    if (clip !== null) lines.push(`v = v < ${literal(clip[0])} ? ${literal(clip[0])} : v > ${literal(clip[1])} ? ${literal(clip[1])} : v;`);
    lines.push(`s += ${literal(coef[i])} * v;`);
  }
  // a finite score gives a finite probability (1 / (1 + e^-s) is in [0, 1]), so the score alone
  // decides whether the outputs are usable
  lines.push(`if (s - s !== 0) ${fail(MODEL_STATUS.error)}`, 'out[0] = s;');
  if (logistic) lines.push('out[1] = 1 / (1 + exp(-s));');
  lines.push(`return ${MODEL_STATUS.ok};`);
  // Math.exp passed in: the kernel's code reads nothing global
  return new Function('exp', `return function linearKernel(src, map, out) {\n${lines.join('\n')}\n};`)(Math.exp) as Kernel;
}
