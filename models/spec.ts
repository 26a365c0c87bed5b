/**
 * The model file: a versioned, declarative definition of a model (what it reads, what it writes,
 * when it runs and how it scores), parsed and checked here. Pure: no file reads (the caller passes
 * the text and names the file, so each error names it).
 *
 * ```json
 * { "lockstep_model": 1, "name": "momo", "version": 2, "kind": "logistic",
 *   "inputs": ["ret_1m", "rsi_14"], "trigger": "bar:1m", "missing": "null",
 *   "standardize": { "mean": [0, 50], "std": [0.001, 10] }, "clip": [-5, 5],
 *   "coef": [0.8, -0.3], "intercept": 0.05,
 *   "trained_on": { "feature_set": "9f0c…", "training_set": "train.parquet" } }
 * ```
 *
 * - `kind`: `linear` (writes `score` = intercept + coef·z), `logistic` (writes `score`, the log-odds,
 *   and `prob` = 1 / (1 + e^-score)), or `onnx` (writes the outputs its `onnx.outputs` names, from
 *   the graph in `onnx.file`, a path relative to the model file).
 * - `trigger`: `change` (whenever an input's value changes), `bar:DURATION` (once per bar of exchange
 *   time, at the first event of the next bar: a bar close, as the bar factors see it) or
 *   `every:DURATION` (once per interval of receive time).
 * - `missing`: `null` (any null or NaN input gives null outputs with status `missing`) or `mean`
 *   (a missing input takes its stored mean, i.e. 0 after standardisation; needs `standardize`).
 * - `standardize`: z = (x - mean) / std per input, then `clip` [lo, hi] on z when given.
 */
import { parseDuration } from '../features/spec.ts';
import { ModelError } from './errors.ts';

export const MODEL_KINDS = ['linear', 'logistic', 'onnx'] as const;
export type ModelKind = (typeof MODEL_KINDS)[number];

/** When a model is evaluated, in event time. */
export type Trigger = { kind: 'change' } | { kind: 'bar'; stepNs: bigint } | { kind: 'every'; stepNs: bigint };

export interface OnnxRef {
  /** The graph file, relative to the model file. */
  file: string;
  /** The graph's input name (its only input when omitted). */
  input?: string;
  /** Our output name → the graph's output name (`name` or `name:column` for one column of a matrix). */
  outputs: Record<string, string>;
}

export interface ModelSpec {
  name: string;
  version: number;
  kind: ModelKind;
  /** Factor columns read, in the order the model takes them. */
  inputs: readonly string[];
  /** Output names, in the order the model writes them (columns `<name>_<output>`). */
  outputs: readonly string[];
  trigger: Trigger;
  /** The trigger as written (`bar:1m`), for manifests and messages. */
  triggerText: string;
  missing: 'null' | 'mean';
  standardize: { mean: readonly number[]; std: readonly number[] } | null;
  clip: readonly [number, number] | null;
  coef: readonly number[] | null;
  intercept: number;
  onnx: OnnxRef | null;
  /** What it was trained on (lineage): the feature-set version, the training set, anything else given. */
  trainedOn: Record<string, unknown>;
}

const NAME_RE = /^[a-z][a-z0-9_]{0,40}$/;
const OUTPUT_RE = /^[a-z][a-z0-9_]{0,30}$/;

/** Parses and checks a model file's text; every fault is a ModelError naming `file` and the field. */
export function parseModelSpec(text: string, file: string): ModelSpec {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ModelError(file, `not a model file: not valid JSON (${(e as Error).message})`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ModelError(file, 'not a model file: expected a JSON object');
  const o = raw as Record<string, unknown>;
  const bad = (field: string, why: string): never => {
    throw new ModelError(file, `field ${field}: ${why}`);
  };
  if (o.lockstep_model !== 1) bad('lockstep_model', `must be 1 (got ${JSON.stringify(o.lockstep_model)})`);
  const name = o.name;
  if (typeof name !== 'string' || !NAME_RE.test(name)) bad('name', `${JSON.stringify(name)} must be lower case letters, digits and _ (starting with a letter)`);
  const version = o.version;
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) bad('version', `${JSON.stringify(version)} must be a whole number ≥ 1`);
  const kind = o.kind as ModelKind;
  if (!MODEL_KINDS.includes(kind)) bad('kind', `${JSON.stringify(o.kind)} must be one of ${MODEL_KINDS.join(', ')}`);
  const inputs = o.inputs;
  if (!Array.isArray(inputs) || inputs.length === 0 || inputs.some((c) => typeof c !== 'string' || c === '')) bad('inputs', 'must be a non-empty list of factor column names');
  const ins = inputs as string[];
  const dup = ins.find((c, i) => ins.indexOf(c) !== i);
  if (dup !== undefined) bad('inputs', `${dup} is listed twice`);
  const n = ins.length;
  const nums = (field: string, v: unknown, len: number, positive = false): number[] => {
    if (!Array.isArray(v) || v.length !== len) return bad(field, `must be a list of ${len} numbers (one per input)`);
    v.forEach((x, i) => {
      if (typeof x !== 'number' || !Number.isFinite(x)) bad(`${field}[${i}]`, `${JSON.stringify(x)} is not a finite number`);
      if (positive && !(x > 0)) bad(`${field}[${i}]`, `${x} must be > 0`);
    });
    return v as number[];
  };
  let standardize: ModelSpec['standardize'] = null;
  if (o.standardize !== undefined) {
    const st = o.standardize as Record<string, unknown>;
    if (st === null || typeof st !== 'object') bad('standardize', 'must be { "mean": [...], "std": [...] }');
    standardize = { mean: nums('standardize.mean', st.mean, n), std: nums('standardize.std', st.std, n, true) };
  }
  let clip: ModelSpec['clip'] = null;
  if (o.clip !== undefined) {
    const c = nums('clip', o.clip, 2);
    if (!(c[0] < c[1])) bad('clip', `[${c[0]}, ${c[1]}] must be [low, high] with low < high`);
    clip = [c[0], c[1]];
  }
  const missing = (o.missing ?? 'null') as ModelSpec['missing'];
  if (missing !== 'null' && missing !== 'mean') bad('missing', `${JSON.stringify(o.missing)} must be "null" or "mean"`);
  if (missing === 'mean' && standardize === null) bad('missing', '"mean" needs standardize.mean (the value a missing input takes)');
  const triggerText = o.trigger ?? 'change';
  if (typeof triggerText !== 'string') return bad('trigger', `${JSON.stringify(triggerText)} must be "change", "bar:DURATION" or "every:DURATION"`);
  const trigger = parseTrigger(triggerText, (why) => bad('trigger', why));
  let coef: number[] | null = null;
  let intercept = 0;
  let onnx: OnnxRef | null = null;
  let outputs: string[];
  if (kind === 'onnx') {
    const r = o.onnx as Record<string, unknown> | undefined;
    if (r === undefined || r === null || typeof r !== 'object') return bad('onnx', 'an onnx model needs { "file": "...", "outputs": { "score": "output_name" } }');
    if (typeof r.file !== 'string' || r.file === '') bad('onnx.file', 'must name the graph file (relative to the model file)');
    if (r.input !== undefined && typeof r.input !== 'string') bad('onnx.input', 'must be the graph input name');
    const outs = r.outputs as Record<string, unknown>;
    if (outs === null || typeof outs !== 'object' || Object.keys(outs).length === 0) bad('onnx.outputs', 'must map output names to graph outputs, e.g. { "score": "y" }');
    for (const [k, v] of Object.entries(outs)) {
      if (!OUTPUT_RE.test(k)) bad(`onnx.outputs.${k}`, 'output names are lower case letters, digits and _');
      if (typeof v !== 'string' || v === '') bad(`onnx.outputs.${k}`, 'must name a graph output');
    }
    onnx = { file: r.file as string, input: r.input as string | undefined, outputs: outs as Record<string, string> };
    outputs = Object.keys(outs);
  } else {
    coef = nums('coef', o.coef, n);
    if (o.intercept !== undefined && (typeof o.intercept !== 'number' || !Number.isFinite(o.intercept))) bad('intercept', `${JSON.stringify(o.intercept)} is not a finite number`);
    intercept = (o.intercept as number | undefined) ?? 0;
    outputs = kind === 'linear' ? ['score'] : ['score', 'prob'];
  }
  const trainedOn = o.trained_on === undefined ? {} : (o.trained_on as Record<string, unknown>);
  if (trainedOn === null || typeof trainedOn !== 'object' || Array.isArray(trainedOn)) bad('trained_on', 'must be an object');
  return { name: name as string, version: version as number, kind, inputs: ins, outputs, trigger, triggerText, missing, standardize, clip, coef, intercept, onnx, trainedOn };
}

/** `change`, `bar:1m`, `every:5s`. */
export function parseTrigger(text: string, fail: (why: string) => never): Trigger {
  if (text === 'change') return { kind: 'change' };
  const m = /^(bar|every):(.+)$/.exec(text);
  if (!m) return fail(`${JSON.stringify(text)} must be "change", "bar:DURATION" or "every:DURATION" (e.g. bar:1m, every:5s)`);
  let stepNs: bigint;
  try {
    stepNs = parseDuration(m[2], m[1]);
  } catch {
    return fail(`${JSON.stringify(text)}: ${JSON.stringify(m[2])} is not a duration (e.g. 1m, 5s)`);
  }
  return { kind: m[1] as 'bar' | 'every', stepNs };
}
