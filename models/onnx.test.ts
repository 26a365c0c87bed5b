/**
 * The ONNX model kind against real onnxruntime-node and the committed real models
 * (models/fixtures/, made by scripts/make-models.py): each model agrees with an independent
 * TypeScript evaluation of its JSON weights and with the numpy / scikit-learn reference rows; one
 * row at a time equals batches of any size; and each bad model or bad output gives a ModelError
 * that names the file and the cause.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LockstepError, UserError } from '../core/errors.ts';
import { ModelError } from './errors.ts';
import { evaluateOnnxBatch, loadOnnxEvaluator, type OnnxEvaluator } from './onnx.ts';

const FIXTURES = new URL('./fixtures/', import.meta.url);
const bytes = (name: string) => new Uint8Array(readFileSync(new URL(name, FIXTURES)));
const json = <T>(name: string): T => JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8')) as T;

interface Layer { in: number; out: number; activation: 'tanh' | 'relu' | 'none'; weight: number[]; bias: number[] }
interface Tree { feature: number[]; threshold: number[]; left: number[]; right: number[]; leaf: boolean[]; weight: number[] }
interface Reference { features: string[]; rows: number[][]; mlp: { numpy: number[]; torch: number[] }; trees: { sklearn: number[] } }

const MLP = json<{ features: string[]; layers: Layer[] }>('mlp.weights.json');
const TREES = json<{ features: string[]; base: number; trees: Tree[] }>('trees.weights.json');
const REF = json<Reference>('reference.json');
const N = REF.features.length;
const f = Math.fround;
const U = 2 ** -24; // float32 unit roundoff
/**
 * Absolute error allowed for onnxruntime's Tanh against Math.tanh (MLAS evaluates it with a
 * rational approximation, not correctly rounded): 2^-21 is 8 float32 ulps of a value near 1.
 */
const TANH_ERR = 2 ** -21;

/**
 * The MLP in float32 arithmetic emulated with Math.fround (each product and partial sum rounded, in
 * index order), plus a forward error bound that any float32 evaluation of the same weights meets.
 *
 * Why a bound and not bit equality: MLAS's SGEMM sums in its own blocked order with fused
 * multiply-adds, and its Tanh is an approximation, so its last bits legitimately differ from any
 * order we pick. For a k-term dot product, any summation order in float32 has error at most
 * γ = k·u·Σ|w·h| (u = 2^-24; standard bound, Higham §3.1); two evaluations differ by at most twice
 * that, plus the propagation of earlier layers' differences through |W|, plus Tanh's error.
 */
function mlpReference(x: readonly number[]): { y: number; bound: number } {
  let h = x.map(f);
  let err = h.map(() => 0);
  for (const L of MLP.layers) {
    const next: number[] = [];
    const nextErr: number[] = [];
    for (let o = 0; o < L.out; o++) {
      let acc = 0;
      let mag = Math.abs(L.bias[o]);
      let prop = 0;
      for (let i = 0; i < L.in; i++) {
        const w = L.weight[o * L.in + i];
        acc = f(acc + f(w * h[i]));
        mag += Math.abs(w * h[i]);
        prop += Math.abs(w) * err[i];
      }
      acc = f(acc + L.bias[o]);
      let e = prop + 2 * (L.in + 1) * U * mag;
      if (L.activation === 'tanh') {
        acc = f(Math.tanh(acc));
        e += TANH_ERR; // tanh is 1-Lipschitz, so the input's error carries over, plus its own
      } else if (L.activation === 'relu') {
        acc = Math.max(acc, 0); // 1-Lipschitz, exact
      }
      next.push(acc);
      nextErr.push(e);
    }
    h = next;
    err = nextErr;
  }
  return { y: h[0], bound: err[0] };
}

/**
 * The tree ensemble walked exactly: float32 input against float32 thresholds (BRANCH_LEQ: x <= t
 * goes left), leaf weights summed in float32 in tree order, then the base value added, as
 * onnxruntime's TreeEnsembleRegressor (SUM) accumulates on one thread. Also returns the bound
 * against a float64 evaluation (scikit-learn's): each of the trees + 1 float32 roundings of the
 * sum and of the weights costs at most u times the running magnitude.
 */
function treesReference(x: readonly number[]): { y: number; bound: number } {
  const xf = x.map(f);
  let acc = 0;
  let mag = Math.abs(TREES.base);
  for (const t of TREES.trees) {
    let n = 0;
    while (!t.leaf[n]) n = xf[t.feature[n]] <= t.threshold[n] ? t.left[n] : t.right[n];
    acc = f(acc + t.weight[n]);
    mag += Math.abs(t.weight[n]);
  }
  return { y: f(acc + TREES.base), bound: 2 * (TREES.trees.length + 2) * U * mag };
}

function load(name: string, opts: Partial<Parameters<typeof loadOnnxEvaluator>[1]> = {}): OnnxEvaluator {
  return loadOnnxEvaluator(bytes(name), { file: `models/fixtures/${name}`, inputCount: N, outputs: { alpha: 'alpha_bps' }, ...opts });
}

function one(ev: OnnxEvaluator, x: readonly number[]): number {
  const out = new Float64Array(ev.outputs.length);
  ev.evaluate(Float64Array.from(x), out);
  return out[0];
}

/** Deterministic rows at the features' scales (an LCG, so the test needs no randomness). */
function rows(count: number): number[][] {
  let s = 17;
  const u = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const scale = [[-0.003, 0.003], [5, 95], [-0.15, 0.15], [0.003, 0.03], [-1, 1], [0, 1]];
  return Array.from({ length: count }, () => scale.map(([lo, hi]) => lo + (hi - lo) * u()));
}

const MODELS = [
  { name: 'mlp.onnx', reference: mlpReference, exact: false },
  { name: 'trees.onnx', reference: treesReference, exact: true },
] as const;

describe('committed models through onnxruntime-node', () => {
  it('the fixtures match their reference file: the same features, six of them', () => {
    expect(MLP.features).toEqual(REF.features);
    expect(TREES.features).toEqual(REF.features);
    expect(REF.rows.every((r) => r.length === N)).toBe(true);
  });

  it('mlp.onnx equals the float32 TypeScript MLP within its error bound, and numpy and torch too', () => {
    const ev = load('mlp.onnx');
    let worst = 0;
    for (const [i, x] of [...REF.rows, ...rows(200)].entries()) {
      const got = one(ev, x);
      const { y, bound } = mlpReference(x);
      expect(Math.abs(got - y), `row ${i}: ${got} vs ${y}`).toBeLessThanOrEqual(bound);
      worst = Math.max(worst, Math.abs(got - y) / bound);
      if (i < REF.rows.length) {
        expect(Math.abs(got - REF.mlp.numpy[i]), `numpy row ${i}`).toBeLessThanOrEqual(bound);
        expect(Math.abs(got - REF.mlp.torch[i]), `torch row ${i}`).toBeLessThanOrEqual(bound);
      }
    }
    // the bound is a worst case; in practice the two agree far closer (6e-3 of it when written)
    expect(worst).toBeLessThan(0.1);
    ev.dispose();
  });

  it('trees.onnx equals the exact TypeScript tree walk bit for bit, and scikit-learn within float32 rounding', () => {
    const ev = load('trees.onnx');
    for (const [i, x] of [...REF.rows, ...rows(500)].entries()) {
      const got = one(ev, x);
      const { y, bound } = treesReference(x);
      expect(got, `row ${i}`).toBe(y);
      if (i < REF.rows.length) expect(Math.abs(got - REF.trees.sklearn[i]), `sklearn row ${i}`).toBeLessThanOrEqual(bound);
    }
    ev.dispose();
  });

  for (const m of MODELS) {
    it(`${m.name}: one row at a time equals batches of 1, 2, 3, 7, 16 and 64 rows, bit for bit`, () => {
      const ev = load(m.name);
      const data = rows(64);
      const single = data.map((x) => one(ev, x));
      for (const size of [1, 2, 3, 7, 16, 64]) {
        const got: number[] = [];
        for (let start = 0; start < data.length; start += size) {
          const chunk = data.slice(start, start + size);
          const out = new Float64Array(chunk.length);
          evaluateOnnxBatch(ev, Float64Array.from(chunk.flat()), out);
          got.push(...out);
        }
        expect(got, `batch size ${size}`).toEqual(single);
      }
      ev.dispose();
    });
  }

  it('a row evaluated again, after others, gives the same bits (no state between rows)', () => {
    for (const m of MODELS) {
      const ev = load(m.name);
      const data = rows(20);
      const first = data.map((x) => one(ev, x));
      const again = [...data].reverse().map((x) => one(ev, x)).reverse();
      expect(again).toEqual(first);
      ev.dispose();
    }
  });
});

describe('bad models and bad values', () => {
  const fails = (fn: () => unknown): ModelError => {
    try {
      fn();
    } catch (e) {
      expect(e).toBeInstanceOf(ModelError);
      expect(e).toBeInstanceOf(UserError);
      expect(e).toBeInstanceOf(LockstepError);
      expect((e as ModelError).exitCode).toBe(2);
      expect((e as Error).message).not.toContain('\n');
      return e as ModelError;
    }
    throw new Error('expected a ModelError');
  };
  const opts = { file: 'bad.onnx', inputCount: N, outputs: { alpha: 'alpha_bps' } };

  it('corrupt, truncated or empty bytes: not a loadable ONNX model, with onnxruntime\'s cause', () => {
    expect(fails(() => loadOnnxEvaluator(new TextEncoder().encode('not a model'), opts)).message).toMatch(/^bad\.onnx: not a loadable ONNX model: .*protobuf parsing failed/);
    expect(fails(() => loadOnnxEvaluator(bytes('mlp.onnx').subarray(0, 1000), opts)).message).toMatch(/^bad\.onnx: not a loadable ONNX model: /);
    expect(fails(() => loadOnnxEvaluator(new Uint8Array(0), opts)).message).toBe('bad.onnx: the file is empty, not an ONNX model');
  });

  it('an input name not in the graph, a wrong width, a non-float input', () => {
    expect(fails(() => load('mlp.onnx', { inputName: 'features' })).message).toBe('models/fixtures/mlp.onnx: input "features" is not in the graph (inputs: "x")');
    expect(fails(() => load('mlp.onnx', { inputCount: 5 })).message).toBe('models/fixtures/mlp.onnx: input "x" has shape [batch, 6], expected [batch or 1, 5] (5 features)');
    expect(fails(() => load('int-input.onnx', { outputs: { a: 'y:0' } })).message).toBe('models/fixtures/int-input.onnx: input "x" is int64, expected float32');
    expect(fails(() => load('mlp.onnx', { inputCount: 0 })).message).toMatch(/inputCount 0: give a positive whole number/);
  });

  it('a graph with a second input is refused, with or without an input name', () => {
    expect(fails(() => load('two-inputs.onnx', { outputs: { a: 'y:0' } })).message).toBe('models/fixtures/two-inputs.onnx: the graph has 2 inputs ("x", "mask"); say which one takes the features');
    expect(fails(() => load('two-inputs.onnx', { inputName: 'x', outputs: { a: 'y:0' } })).message).toBe('models/fixtures/two-inputs.onnx: the graph has 2 inputs ("x", "mask"); only models with one input (the feature row) are supported');
  });

  it('a graph with a fixed batch of 1 loads; its batch API runs row by row', () => {
    const ev = load('fixed-batch.onnx', { outputs: { a: 'y:0', f: 'y:5' } });
    const out = new Float64Array(6);
    evaluateOnnxBatch(ev, Float64Array.from([1, 0, 0, 0, 0, 0.1, 3, 0, 0, 0, 0, 0.25, -2, 0, 0, 0, 0, 8]), out);
    expect([...out]).toEqual([2, f(0.1) * 2, 6, 0.5, -4, 16]);
    ev.dispose();
  });

  it('an unknown output, a multi-column output without a column, a column out of range', () => {
    expect(fails(() => load('mlp.onnx', { outputs: { prob: 'probability' } })).message).toBe('models/fixtures/mlp.onnx: output prob ("probability"): no output "probability" in the graph (outputs: "alpha_bps")');
    expect(fails(() => load('nan.onnx', { outputs: { a: 'y' } })).message).toBe('models/fixtures/nan.onnx: output a ("y") has shape [batch, 6]; name a column, e.g. "y:0"');
    expect(fails(() => load('mlp.onnx', { outputs: { a: 'alpha_bps:1' } })).message).toBe('models/fixtures/mlp.onnx: output a ("alpha_bps:1"): column 1 is out of range for shape [batch, 1]');
    expect(fails(() => load('mlp.onnx', { outputs: {} })).message).toBe('models/fixtures/mlp.onnx: no outputs requested');
  });

  it('a NaN or -Inf output at run time is a ModelError naming the output; the next row evaluates fine', () => {
    const ev = load('nan.onnx', { outputs: { first: 'y:0', last: 'y:5' } });
    expect(ev.outputs).toEqual(['first', 'last']);
    const out = new Float64Array(2);
    ev.evaluate(Float64Array.from([1, 2, 3, 4, 5, Math.E]), out);
    expect(out[0]).toBe(0);
    expect(out[1]).toBeCloseTo(1, 6);
    expect(fails(() => ev.evaluate(Float64Array.from([-1, 2, 3, 4, 5, 6]), out)).message).toBe('models/fixtures/nan.onnx: output first ("y") is NaN');
    expect(fails(() => ev.evaluate(Float64Array.from([1, 2, 3, 4, 5, 0]), out)).message).toBe('models/fixtures/nan.onnx: output last ("y") is -Infinity');
    expect(fails(() => evaluateOnnxBatch(ev, Float64Array.from([1, 1, 1, 1, 1, 1, -1, 1, 1, 1, 1, 1]), new Float64Array(4))).message).toBe('models/fixtures/nan.onnx: output first ("y") is NaN at row 1');
    ev.evaluate(Float64Array.from([1, 1, 1, 1, 1, 1]), out);
    expect([...out]).toEqual([0, 0]);
    ev.dispose();
  });

  it('a session that throws at run time is a ModelError with onnxruntime\'s first line; the evaluator stays usable', () => {
    const ev = load('throw.onnx', { outputs: { y: 'y:0' } });
    const out = new Float64Array(1);
    expect(fails(() => ev.evaluate(Float64Array.from([1, 2, 3, 4, 5, 6]), out)).message).toMatch(/^models\/fixtures\/throw\.onnx: evaluation failed: .*Reshape/);
    const mlp = load('mlp.onnx');
    expect(Number.isFinite(one(mlp, REF.rows[0]))).toBe(true);
    expect(fails(() => ev.evaluate(Float64Array.from([1, 2, 3, 4, 5, 6]), out)).message).toMatch(/evaluation failed/);
    ev.dispose();
    mlp.dispose();
  });

  it('a non-finite or wrong-length input row is refused before the model runs', () => {
    const ev = load('mlp.onnx');
    expect(fails(() => ev.evaluate(Float64Array.from([0, 50, 0, 0.01, NaN, 0.5]), new Float64Array(1))).message).toBe('models/fixtures/mlp.onnx: input 4 is NaN; a row must be finite');
    expect(fails(() => ev.evaluate(new Float64Array(5), new Float64Array(1))).message).toMatch(/got 5 inputs and 1 outputs, expected 6 and 1/);
    ev.dispose();
  });
});
