/**
 * The ONNX model kind: a model from any trainer (PyTorch, scikit-learn, XGBoost, LightGBM exports)
 * evaluated by onnxruntime-node on the CPU, one row at a time, synchronously.
 *
 * Why the native binding and not `InferenceSession`: the public `run` is async (it defers the native
 * call with `setImmediate`), and the fold that calls a model is synchronous and pure. The native
 * session underneath (`onnxruntime-node/dist/binding`) runs synchronously; this module uses it the
 * way onnxruntime-node's own backend.js does (`initOrt`, `loadModel`, `run`), nothing more.
 *
 * Why these session options (`ONNX_SESSION_OPTIONS`), fixed for every model:
 * - one intra-op thread: onnxruntime splits a GEMM or a reduction into chunks per thread of its pool,
 *   whose size defaults to the machine's core count, so the order of the partial sums (and so the
 *   last bits of a value) would depend on the host; replay and live must give the same bits;
 * - one inter-op thread, sequential execution: no parallel scheduling of graph nodes, no extra
 *   threads competing with the fold (values do not depend on it, but nothing is gained for one row);
 * - graph optimizations fixed at `all`: the level decides which nodes get fused into which kernels,
 *   and a fused kernel can round differently; a fixed level gives the same values at every load.
 * What is not fixed by options: MLAS picks its kernels by CPU instruction set (AVX2, AVX-512, NEON),
 * so a value can differ in its last bits between two CPU types; compare runs on one kind of host.
 *
 * Evaluation in the fold always feeds shape [1, inputCount] (float32), so a row's value never
 * depends on how many rows were evaluated together (the test also compares batches of several sizes
 * with one-row evaluation). `evaluateOnnxBatch` exists for benchmarks and that test.
 */
import { createRequire } from 'node:module';
import { inspect } from 'node:util';
import { ModelError } from './errors.ts';

import type { ModelEvaluator } from './evaluator.ts';

export type { ModelEvaluator };

/** How to bind an ONNX graph to Lockstep's rows and outputs. */
export interface OnnxOptions {
  /** The graph input fed with the row; optional when the graph has exactly one input. */
  inputName?: string;
  /**
   * Our output name → ONNX output name, with an optional column for a `[batch, k]` output:
   * `"probabilities:1"`. Without a column the ONNX output must have one value per row.
   */
  outputs: Record<string, string>;
  /** Number of input features; the graph's input must be float32 `[batch or 1, inputCount]`. */
  inputCount: number;
  /** The model file, for messages. */
  file: string;
}

/** The session options every ONNX model is loaded with (see the module comment for why). */
export const ONNX_SESSION_OPTIONS = Object.freeze({
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
  executionProviders: ['cpu'],
  // errors reach us as exceptions (counted and turned into statuses); the native log would add
  // a multi-line stderr report per failing row
  logSeverityLevel: 4,
} as const);

interface ValueMetadata {
  name: string;
  isTensor: boolean;
  symbolicDimensions: string[];
  shape: number[];
  type: number;
}
interface TensorLike {
  readonly data: ArrayLike<number>;
  readonly dims: readonly number[];
}
interface NativeSession {
  loadModel(buffer: ArrayBuffer, byteOffset: number, byteLength: number, options: object): Promise<void>;
  readonly inputMetadata: ValueMetadata[];
  readonly outputMetadata: ValueMetadata[];
  run(feeds: Record<string, unknown>, fetches: Record<string, null>, options: object): Record<string, TensorLike>;
  dispose(): void;
}
interface Runtime {
  Session: new () => NativeSession;
  Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => unknown;
}

/** onnxruntime's element type codes (ONNX TensorProto.DataType) that we name in messages or accept. */
const TYPE_NAMES: Record<number, string> = { 1: 'float32', 2: 'uint8', 3: 'int8', 5: 'int16', 6: 'int32', 7: 'int64', 8: 'string', 9: 'bool', 10: 'float16', 11: 'float64' };
const FLOAT32 = 1;
const FLOAT64 = 11;
const RUN_OPTIONS = Object.freeze({ logSeverityLevel: 4 });

let runtime: Runtime | undefined;

/** Loads the native binding once, lazily: importing this module must not need onnxruntime. */
function ort(): Runtime {
  if (runtime) return runtime;
  const require = createRequire(import.meta.url);
  const b = require('onnxruntime-node/dist/binding') as { binding: { InferenceSession: Runtime['Session'] }; initOrt: () => void };
  const { Tensor } = require('onnxruntime-node') as { Tensor: Runtime['Tensor'] };
  b.initOrt();
  runtime = { Session: b.binding.InferenceSession, Tensor };
  return runtime;
}

/** First line of an onnxruntime message (its messages span lines; ours are one line). */
function firstLine(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.split('\n', 1)[0].trim();
}

/**
 * Why `loadModel` failed. Without an EP-context callback the native load is synchronous and its
 * promise is already settled when it returns; a settled promise's reason is only readable
 * synchronously through `util.inspect`, which is what we use (falling back to a generic cause).
 */
function loadFailure(p: Promise<void>): string {
  const shown = inspect(p, { depth: 0 });
  if (shown.includes('<pending>')) return 'onnxruntime loaded it asynchronously (this onnxruntime-node version is not supported)';
  const m = /<rejected>\s*(?:\w*Error:\s*)?([^\n]*)/.exec(shown);
  return m && m[1] ? m[1].trim() : 'onnxruntime could not load it';
}

function dimsText(m: ValueMetadata): string {
  return `[${m.shape.map((d, i) => (d >= 0 ? String(d) : m.symbolicDimensions[i] || '?')).join(', ')}]`;
}

function typeText(m: ValueMetadata): string {
  return m.isTensor ? (TYPE_NAMES[m.type] ?? `type ${m.type}`) : 'a non-tensor value';
}

interface OutputBinding {
  ours: string;
  onnx: string;
  col: number;
  /** Values per row of the ONNX output; -1 until known (a symbolic column dimension). */
  cols: number;
}

/** Checks the graph's input against the options; returns the input's name and whether batches > 1 fit. */
function bindInput(session: NativeSession, opts: OnnxOptions): { name: string; batchable: boolean } {
  const inputs = session.inputMetadata;
  const names = inputs.map((m) => JSON.stringify(m.name)).join(', ');
  let meta: ValueMetadata | undefined;
  if (opts.inputName !== undefined) {
    meta = inputs.find((m) => m.name === opts.inputName);
    if (!meta) throw new ModelError(opts.file, `input ${JSON.stringify(opts.inputName)} is not in the graph (inputs: ${names})`);
  } else if (inputs.length === 1) {
    meta = inputs[0];
  } else {
    throw new ModelError(opts.file, `the graph has ${inputs.length} inputs (${names}); say which one takes the features`);
  }
  if (inputs.length > 1) throw new ModelError(opts.file, `the graph has ${inputs.length} inputs (${names}); only models with one input (the feature row) are supported`);
  const at = `input ${JSON.stringify(meta.name)}`;
  if (!meta.isTensor || meta.type !== FLOAT32) throw new ModelError(opts.file, `${at} is ${typeText(meta)}, expected float32`);
  const [batch, width] = meta.shape;
  if (meta.shape.length !== 2 || (batch >= 0 && batch !== 1) || (width >= 0 && width !== opts.inputCount)) {
    throw new ModelError(opts.file, `${at} has shape ${dimsText(meta)}, expected [batch or 1, ${opts.inputCount}] (${opts.inputCount} features)`);
  }
  return { name: meta.name, batchable: batch < 0 };
}

/** Parses and checks each requested output against the graph's outputs. */
function bindOutputs(session: NativeSession, opts: OnnxOptions): OutputBinding[] {
  const available = session.outputMetadata;
  const names = available.map((m) => JSON.stringify(m.name)).join(', ');
  const entries = Object.entries(opts.outputs);
  if (entries.length === 0) throw new ModelError(opts.file, 'no outputs requested');
  return entries.map(([ours, spec]) => {
    const m = /^(.*?)(?::(\d+))?$/.exec(spec) as RegExpExecArray;
    const onnx = m[1];
    const col = m[2] === undefined ? -1 : Number(m[2]);
    const meta = available.find((o) => o.name === onnx);
    const at = `output ${ours} (${JSON.stringify(spec)})`;
    if (!meta) throw new ModelError(opts.file, `${at}: no output ${JSON.stringify(onnx)} in the graph (outputs: ${names})`);
    if (!meta.isTensor || (meta.type !== FLOAT32 && meta.type !== FLOAT64)) throw new ModelError(opts.file, `${at} is ${typeText(meta)}, expected float32 or float64`);
    const rank = meta.shape.length;
    if (rank !== 1 && rank !== 2) throw new ModelError(opts.file, `${at} has shape ${dimsText(meta)}, expected [batch] or [batch, k]`);
    const cols = rank === 1 ? 1 : meta.shape[1];
    if (cols === 0) throw new ModelError(opts.file, `${at} has shape ${dimsText(meta)}, with no values per row`);
    if (col < 0 && cols !== 1) throw new ModelError(opts.file, `${at} has shape ${dimsText(meta)}; name a column, e.g. "${onnx}:0"`);
    if (cols >= 0 && col >= cols) throw new ModelError(opts.file, `${at}: column ${col} is out of range for shape ${dimsText(meta)}`);
    return { ours, onnx, col: Math.max(col, 0), cols };
  });
}

/**
 * A loaded ONNX model (an I/O adapter around the native session, hence a class). Not shared between
 * threads; `dispose` frees the native session.
 */
export class OnnxEvaluator implements ModelEvaluator {
  readonly outputs: readonly string[];
  private readonly row: Float32Array;
  private readonly rowTensor: unknown;
  private readonly fetches: Record<string, null> = {};

  /** @internal use `loadOnnxEvaluator`. */
  constructor(
    private readonly session: NativeSession,
    readonly inputCount: number,
    readonly file: string,
    private readonly inputName: string,
    private readonly batchable: boolean,
    private readonly bindings: readonly OutputBinding[],
    // the model bytes stay referenced as long as the session (the native load may not copy them)
    private readonly bytes: Uint8Array,
  ) {
    this.outputs = bindings.map((b) => b.ours);
    for (const b of bindings) this.fetches[b.onnx] = null;
    this.row = new Float32Array(inputCount);
    // one tensor over one buffer, refilled per row: the native run reads the data at each call
    this.rowTensor = new (ort().Tensor)('float32', this.row, [1, inputCount]);
  }

  /** {@inheritDoc ModelEvaluator.evaluate} Inputs are rounded to float32, the graph's input type. */
  evaluate(x: Float64Array, out: Float64Array): void {
    const n = this.inputCount;
    if (x.length !== n || out.length !== this.bindings.length) throw new ModelError(this.file, `evaluate: got ${x.length} inputs and ${out.length} outputs, expected ${n} and ${this.bindings.length}`);
    for (let i = 0; i < n; i++) {
      const v = x[i];
      if (!Number.isFinite(v)) throw new ModelError(this.file, `input ${i} is ${v}; a row must be finite`);
      this.row[i] = v;
    }
    this.collect(this.run(this.rowTensor), 1, out);
  }

  /**
   * Evaluates `rows.length / inputCount` rows in one native run of shape [n, inputCount] into `out`
   * (row-major, `outputs.length` values per row). A graph with a fixed batch of 1 is run row by row.
   */
  evaluateBatch(rows: Float64Array, out: Float64Array): void {
    const n = this.inputCount;
    const count = rows.length / n;
    if (!Number.isInteger(count) || out.length !== count * this.bindings.length) throw new ModelError(this.file, `evaluateBatch: ${rows.length} inputs and ${out.length} outputs do not make whole rows of ${n} and ${this.bindings.length}`);
    if (!this.batchable) {
      for (let r = 0; r < count; r++) this.evaluate(rows.subarray(r * n, (r + 1) * n), out.subarray(r * this.bindings.length, (r + 1) * this.bindings.length));
      return;
    }
    for (let i = 0; i < rows.length; i++) if (!Number.isFinite(rows[i])) throw new ModelError(this.file, `row ${Math.floor(i / n)} input ${i % n} is ${rows[i]}; a row must be finite`);
    const tensor = new (ort().Tensor)('float32', Float32Array.from(rows), [count, n]);
    this.collect(this.run(tensor), count, out);
  }

  /** Frees the native session; the evaluator must not be used afterwards. */
  dispose(): void {
    this.session.dispose();
  }

  private run(tensor: unknown): Record<string, TensorLike> {
    try {
      return this.session.run({ [this.inputName]: tensor }, this.fetches, RUN_OPTIONS);
    } catch (e) {
      throw new ModelError(this.file, `evaluation failed: ${firstLine(e)}`, { cause: e });
    }
  }

  /** Copies each bound output of `count` rows into `out`, refusing a wrong size or a non-finite value. */
  private collect(result: Record<string, TensorLike>, count: number, out: Float64Array): void {
    const k = this.bindings.length;
    for (let j = 0; j < k; j++) {
      const b = this.bindings[j];
      const data = result[b.onnx].data;
      const cols = data.length / count;
      if (!Number.isInteger(cols) || b.col >= cols || (b.cols >= 0 && cols !== b.cols)) {
        throw new ModelError(this.file, `output ${b.ours} ("${b.onnx}") returned ${data.length} values for ${count} row(s); expected ${b.cols >= 0 ? b.cols : `more than ${b.col}`} per row`);
      }
      for (let r = 0; r < count; r++) {
        const v = data[r * cols + b.col];
        if (!Number.isFinite(v)) throw new ModelError(this.file, `output ${b.ours} ("${b.onnx}") is ${v}${count > 1 ? ` at row ${r}` : ''}`);
        out[r * k + j] = v;
      }
    }
  }
}

/**
 * Loads an ONNX model from its bytes with `ONNX_SESSION_OPTIONS` and checks it against `opts`:
 * a loadable graph, the input (float32 `[batch or 1, inputCount]`), and each requested output
 * (float32/float64, `[batch]` or `[batch, k]` with a column). Throws `ModelError` naming
 * `opts.file` and the cause. Synchronous: the native load of an in-memory model does not wait.
 */
export function loadOnnxEvaluator(bytes: Uint8Array, opts: OnnxOptions): OnnxEvaluator {
  if (!Number.isInteger(opts.inputCount) || opts.inputCount <= 0) throw new ModelError(opts.file, `inputCount ${opts.inputCount}: give a positive whole number of features`);
  if (bytes.length === 0) throw new ModelError(opts.file, 'the file is empty, not an ONNX model');
  const own = bytes.slice(); // our copy: the caller may reuse its buffer
  const session = new (ort().Session)();
  const loading = session.loadModel(own.buffer, own.byteOffset, own.byteLength, ONNX_SESSION_OPTIONS);
  loading.catch(() => {}); // read synchronously below; never an unhandled rejection
  try {
    void session.inputMetadata; // throws "Session is not initialized." when the load failed
  } catch {
    throw new ModelError(opts.file, `not a loadable ONNX model: ${loadFailure(loading)}`);
  }
  try {
    const input = bindInput(session, opts);
    const bindings = bindOutputs(session, opts);
    return new OnnxEvaluator(session, opts.inputCount, opts.file, input.name, input.batchable, bindings, own);
  } catch (e) {
    session.dispose();
    throw e;
  }
}

/**
 * Evaluates a batch of rows (row-major `rows`, `inputCount` values each) into `out` (`outputs.length`
 * values per row) in one native run of shape [n, inputCount]. For benchmarks and the batch-size
 * test; the fold evaluates one row at a time (`evaluate`), so its values never depend on batching.
 */
export function evaluateOnnxBatch(model: OnnxEvaluator, rows: Float64Array, out: Float64Array): void {
  model.evaluateBatch(rows, out);
}
