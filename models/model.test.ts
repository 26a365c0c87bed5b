/**
 * The linear kinds run fused (standardise, clip and sum in one pass: model.ts) in the fold; the
 * evaluator's own `evaluate` is the reference. Both must give the same bits and the same status on
 * any inputs, missing and non-finite ones included, and `runAt` must read through its index map.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { linearEvaluator } from './linear.ts';
import { runnableModel } from './model.ts';
import { parseModelSpec } from './spec.ts';

// weights, means and bounds as a model file can give them (finite, -0 included): the compiled
// kernel (model.ts linearKernel) writes each into its code as text, which must read back exactly
const weight = fc.oneof(fc.double({ min: -3, max: 3, noNaN: true }), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom(0, -0, 0.1, 1 / 3, 5e-324, -Number.MAX_VALUE));
const value = fc.oneof(fc.double(), fc.double({ min: -4, max: 4, noNaN: true }), fc.constantFrom(0, -0, NaN, Infinity, -Infinity, 1e308));

describe('fused linear evaluation', () => {
  it('gives the same bits and status as the evaluator it fuses', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('linear', 'logistic'),
        fc.integer({ min: 1, max: 6 }),
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        fc.array(fc.array(value, { minLength: 6, maxLength: 6 }), { minLength: 1, maxLength: 20 }),
        fc.array(weight, { minLength: 7, maxLength: 7 }),
        fc.array(fc.double({ min: 1e-6, max: 1e6, noNaN: true }), { minLength: 6, maxLength: 6 }),
        fc.tuple(weight, fc.double({ min: 0, max: 8, noNaN: true })),
        (kind, n, std, clip, mean, rows, w, sd, [lo, width]) => {
          const inputs = Array.from({ length: n }, (_, i) => `f${i}`);
          const parsed = parseModelSpec(JSON.stringify({
            lockstep_model: 1, name: 'm', version: 1, kind, inputs, coef: w.slice(0, n), intercept: w[6],
            ...(std || mean ? { standardize: { mean: w.slice(1, n + 1), std: sd.slice(0, n) } } : {}),
            ...(clip && lo + width > lo ? { clip: [lo, lo + width] } : {}), missing: mean ? 'mean' : 'null',
          }), 'm.json');
          // the numbers themselves, not their JSON text (JSON.stringify writes -0 as 0; a model
          // file's "-0" parses to -0)
          const spec = { ...parsed, coef: w.slice(0, n), intercept: w[6], ...(parsed.standardize ? { standardize: { mean: w.slice(1, n + 1), std: parsed.standardize.std } } : {}) };
          const ev = linearEvaluator(spec);
          const fused = runnableModel(spec, ev);
          // the same evaluator without its weights exposed: the generic path through `evaluate`
          const reference = runnableModel(spec, { inputCount: ev.inputCount, outputs: ev.outputs, evaluate: ev.evaluate });
          // runAt reads input i at src[map[i]]: here the row reversed
          const map = Int32Array.from(inputs.map((_, i) => 5 - i));
          for (const r of rows) {
            const a = new Float64Array(2).fill(7);
            const b = new Float64Array(2).fill(7);
            const sa = fused.runAt(Float64Array.from(r), map, a);
            const sb = reference.run(Float64Array.from(inputs.map((_, i) => r[5 - i])), b);
            expect(sa).toBe(sb);
            for (let k = 0; k < spec.outputs.length; k++) expect(Object.is(a[k], b[k]), `${kind} output ${k}: ${a[k]} vs ${b[k]}`).toBe(true);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});
