/**
 * The Open Inference Protocol's inference request (KServe V2 REST, `$inference_request`), parsed
 * and checked against a model's features. Pure: text in, rows of features out, and every fault an
 * InferRequestError whose message names the tensor, field or value at fault (the API answers it
 * as the protocol's `{ "error": "..." }`, 400).
 *
 * A request carries either the features or the symbols whose live features to use:
 * - `inputs`: one FP64/FP32 tensor named `input` of shape [N, n_features] (columns in the model's
 *   input order), or one tensor per feature named by its factor column, shape [N]. Data is flat
 *   (row-major) or nested as the shape; `null` is a missing value (JSON has no NaN).
 * - `parameters: { "symbols": [...] }` and no `inputs` (with `max_age_ms`, as /v1/features takes it).
 */
import { UserError } from '../../core/errors.ts';

/** A request the protocol or the model refuses: `status` is the HTTP status to answer with. */
export class InferRequestError extends UserError {
  constructor(
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export interface RequestInput {
  name: string;
  shape: number[];
  datatype: string;
  data: unknown[];
}

export interface InferRequest {
  /** Echoed in the response when given. */
  id?: string;
  inputs: RequestInput[] | null;
  /** `parameters.symbols`: evaluate on these symbols' live features. */
  symbols: string[] | null;
  /** Names of the output tensors asked for (all when null). */
  outputs: string[] | null;
  /** `parameters.max_age_ms`: live features older than this are stale (null: the server's --max-age-ms). */
  maxAgeMs: number | null;
}

/** The tensor of all features at once. */
export const MATRIX_INPUT = 'input';
/** Input datatypes accepted: FP32 values are taken as the decimals they are written as. */
const DATATYPES = ['FP64', 'FP32'];

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const bad = (why: string): never => {
  throw new InferRequestError(why);
};

/** Parses a request body's JSON into its parts, checking their JSON types. */
export function parseInferRequest(text: string, maxRows: number): InferRequest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return bad(`request body is not valid JSON (${(e as Error).message})`);
  }
  if (!isObject(raw)) return bad('request body must be a JSON object ({"inputs": [...]} or {"parameters": {"symbols": [...]}})');
  if (raw.id !== undefined && typeof raw.id !== 'string') bad(`id must be a string, got ${JSON.stringify(raw.id)}`);
  const params = raw.parameters;
  if (params !== undefined && !isObject(params)) bad('parameters must be an object');
  let symbols: string[] | null = null;
  const sym = (params as Record<string, unknown> | undefined)?.symbols;
  if (sym !== undefined) {
    if (!Array.isArray(sym) || sym.some((s) => typeof s !== 'string')) bad('parameters.symbols must be a list of symbol names');
    if ((sym as string[]).length > maxRows) bad(`too many rows: ${(sym as string[]).length} symbols, at most ${maxRows} per request`);
    symbols = sym as string[];
  }
  const maxAge = (params as Record<string, unknown> | undefined)?.max_age_ms;
  if (maxAge !== undefined && !(typeof maxAge === 'number' && Number.isSafeInteger(maxAge) && maxAge >= 0)) bad(`parameters.max_age_ms must be a whole number of milliseconds >= 0, got ${JSON.stringify(maxAge)}`);
  let inputs: RequestInput[] | null = null;
  if (raw.inputs !== undefined) {
    if (!Array.isArray(raw.inputs)) bad('inputs must be a list of tensors');
    inputs = (raw.inputs as unknown[]).map((t, i) => checkTensor(t, i));
  }
  if (inputs !== null && inputs.length > 0 && symbols !== null) bad('give either inputs (the features) or parameters.symbols (their live features), not both');
  if ((inputs === null || inputs.length === 0) && symbols === null) bad('no inputs: give the features as inputs, or parameters.symbols to use their live features');
  let outputs: string[] | null = null;
  if (raw.outputs !== undefined) {
    if (!Array.isArray(raw.outputs) || raw.outputs.some((o) => !isObject(o) || typeof o.name !== 'string')) bad('outputs must be a list of {"name": "..."}');
    outputs = (raw.outputs as { name: string }[]).map((o) => o.name);
  }
  return { id: raw.id as string | undefined, inputs: inputs !== null && inputs.length > 0 ? inputs : null, symbols, outputs, maxAgeMs: (maxAge as number | undefined) ?? null };
}

function checkTensor(t: unknown, i: number): RequestInput {
  if (!isObject(t)) return bad(`inputs[${i}] must be a tensor object {name, shape, datatype, data}`);
  const name = t.name;
  if (typeof name !== 'string' || name === '') return bad(`inputs[${i}].name must be a non-empty string`);
  const shape = t.shape;
  if (!Array.isArray(shape) || shape.length === 0 || shape.some((d) => typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0)) {
    return bad(`input ${name}: shape must be a list of whole numbers >= 0, got ${JSON.stringify(shape)}`);
  }
  if (typeof t.datatype !== 'string' || !DATATYPES.includes(t.datatype)) bad(`input ${name}: datatype ${JSON.stringify(t.datatype)} is not accepted; features are ${DATATYPES.join(' or ')}`);
  if (!Array.isArray(t.data)) bad(`input ${name}: data must be a list of numbers`);
  return { name, shape: shape as number[], datatype: t.datatype as string, data: t.data as unknown[] };
}

/** The tensor's elements in row-major order (NaN for null), checked against its shape. */
function elements(t: RequestInput): Float64Array {
  const count = t.shape.reduce((a, b) => a * b, 1);
  // collected first (their number is bounded by the body's size), then held to the shape's count
  const out: number[] = [];
  // nested data follows the shape: at most shape.length levels, so the recursion is bounded
  const walk = (v: unknown, depth: number): void => {
    if (Array.isArray(v)) {
      if (depth >= t.shape.length) bad(`input ${t.name}: data is nested deeper than its shape ${JSON.stringify(t.shape)}`);
      for (const x of v) walk(x, depth + 1);
      return;
    }
    if (v !== null && (typeof v !== 'number' || !Number.isFinite(v))) bad(`input ${t.name}: element ${out.length} is ${JSON.stringify(v)}, not a number (null for a missing value)`);
    out.push(v === null ? NaN : (v as number));
  };
  for (const v of t.data) walk(v, 1);
  if (out.length !== count) bad(`input ${t.name}: shape ${JSON.stringify(t.shape)} holds ${count} elements but data has ${out.length}`);
  return Float64Array.from(out);
}

/**
 * The request's features as rows: `x` holds N rows of `features.length` values (row-major, NaN =
 * missing), in `features`' order. Accepts the matrix `input` [N, n] or one [N] tensor per feature.
 */
export function featureRows(inputs: readonly RequestInput[], features: readonly string[], model: string, maxRows: number): { rows: number; x: Float64Array } {
  const n = features.length;
  const takes = `${model} takes ${features.join(', ')} (one [N] tensor each, or one tensor "${MATRIX_INPUT}" of shape [N, ${n}])`;
  const tooMany = (rows: number) => bad(`too many rows: ${rows}, at most ${maxRows} per request`);
  if (inputs.some((t) => t.name === MATRIX_INPUT)) {
    if (inputs.length > 1) bad(`input "${MATRIX_INPUT}" holds every feature: give no other tensor (got ${inputs.map((t) => t.name).join(', ')})`);
    const t = inputs[0];
    if (t.shape.length !== 2 || t.shape[1] !== n) bad(`input "${MATRIX_INPUT}": shape ${JSON.stringify(t.shape)} must be [N, ${n}]: ${takes}`);
    if (t.shape[0] > maxRows) tooMany(t.shape[0]);
    return { rows: t.shape[0], x: elements(t) };
  }
  const seen = new Set<string>();
  for (const t of inputs) {
    if (!features.includes(t.name)) bad(`unknown feature ${JSON.stringify(t.name)}: ${takes}`);
    if (seen.has(t.name)) bad(`input ${t.name} is given twice`);
    seen.add(t.name);
  }
  const absent = features.filter((f) => !seen.has(f));
  if (absent.length > 0) bad(`missing input ${absent.join(', ')}: ${takes}`);
  const rows = inputs[0].shape[0];
  for (const t of inputs) {
    if (t.shape.length !== 1) bad(`input ${t.name}: shape ${JSON.stringify(t.shape)} must be [N] (one value per row)`);
    if (t.shape[0] !== rows) bad(`input ${t.name}: shape [${t.shape[0]}] differs from ${inputs[0].name}'s [${rows}]: every feature has one value per row`);
  }
  if (rows > maxRows) tooMany(rows);
  const x = new Float64Array(rows * n);
  for (const t of inputs) {
    const col = features.indexOf(t.name);
    const v = elements(t);
    for (let r = 0; r < rows; r++) x[r * n + col] = v[r];
  }
  return { rows, x };
}
