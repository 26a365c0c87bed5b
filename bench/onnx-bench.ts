/**
 * `lockstep bench onnx`: the per-row cost of an ONNX model in the fold (`evaluate`, one row, fixed
 * shape [1, n], synchronous) against onnxruntime-node's own per-row cost for the same model and
 * batch: its public `InferenceSession.run` with a [1, n] tensor, awaited row by row (the peer; the
 * goal is ours ≤ 2× its cost). Also shown, measured in the same run: the raw native `run` we call
 * (the floor of any wrapper) and our batch API at 64 rows (what a fixed shape gives up).
 *
 * Every side uses the same committed model (models/fixtures/), the same session options
 * (`ONNX_SESSION_OPTIONS`: one thread), the same rows and a reused input tensor; each round times
 * every side in turn (so drift of the machine hits all alike) and the figure is the median round.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { evaluateOnnxBatch, loadOnnxEvaluator, ONNX_SESSION_OPTIONS } from '../models/onnx.ts';

const MODELS = [
  { file: 'mlp.onnx', what: 'PyTorch MLP 6→16→16→1' },
  { file: 'trees.onnx', what: 'sklearn GBR, 20 trees of depth 3' },
] as const;
const INPUTS = 6;
const BATCH = 64;

/** One side's figures: ns per row in each round and their median. */
export interface OnnxSide {
  nsPerRow: number;
  runs: number[];
}

export interface OnnxModelResult {
  model: string;
  what: string;
  ours: OnnxSide;
  peer: OnnxSide;
  native: OnnxSide;
  batch: OnnxSide;
  /** ours / peer per row (goal ≤ 2). */
  ratio: number;
  /** ours / the raw native run: our wrapper's own overhead. */
  overNative: number;
  /** Whether ours and the peer gave the same bits on every row. */
  sameValues: boolean;
}

export interface OnnxBenchResult {
  node: string;
  rows: number;
  rounds: number;
  batch: number;
  models: OnnxModelResult[];
}

interface PublicSession {
  run(feeds: Record<string, unknown>): Promise<Record<string, { data: ArrayLike<number> }>>;
  release(): Promise<void>;
}
interface PublicOrt {
  InferenceSession: { create(bytes: Uint8Array, options: object): Promise<PublicSession> };
  Tensor: new (type: 'float32', data: Float32Array, dims: number[]) => unknown;
}
interface NativeOrt {
  binding: { InferenceSession: new () => { loadModel(b: ArrayBuffer, o: number, l: number, opts: object): Promise<void>; run(f: object, fe: object, o: object): Record<string, { data: ArrayLike<number> }>; dispose(): void } };
  initOrt(): void;
}

/** Deterministic rows at the features' scales (the same LCG as the model test). */
function makeRows(count: number): Float64Array[] {
  let s = 17;
  const u = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const scale = [[-0.003, 0.003], [5, 95], [-0.15, 0.15], [0.003, 0.03], [-1, 1], [0, 1]];
  return Array.from({ length: count }, () => Float64Array.from(scale, ([lo, hi]) => lo + (hi - lo) * u()));
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const side = (runs: number[]): OnnxSide => ({ nsPerRow: median(runs), runs });

/** Runs the benchmark: `rows` rows per side per round, `rounds` rounds, after a warm-up. */
export async function benchOnnx(opts: { json?: string; rows?: number; rounds?: number } = {}): Promise<OnnxBenchResult> {
  const rowCount = opts.rows ?? 20_000;
  const rounds = opts.rounds ?? 7;
  const require = createRequire(import.meta.url);
  const pub = require('onnxruntime-node') as PublicOrt;
  const nat = require('onnxruntime-node/dist/binding') as NativeOrt;
  nat.initOrt();
  const pool = makeRows(1024);
  const pool32 = pool.map((r) => Float32Array.from(r));
  const flat = new Float64Array(BATCH * INPUTS);
  const results: OnnxModelResult[] = [];
  for (const m of MODELS) {
    const bytes = new Uint8Array(readFileSync(new URL(`../models/fixtures/${m.file}`, import.meta.url)));
    const ours = loadOnnxEvaluator(bytes, { file: m.file, inputCount: INPUTS, outputs: { alpha: 'alpha_bps' } });
    const peer = await pub.InferenceSession.create(bytes, { ...ONNX_SESSION_OPTIONS });
    const native = new nat.binding.InferenceSession();
    await native.loadModel(bytes.buffer, bytes.byteOffset, bytes.byteLength, { ...ONNX_SESSION_OPTIONS });
    const buf = new Float32Array(INPUTS);
    const tensor = new pub.Tensor('float32', buf, [1, INPUTS]);
    const out = new Float64Array(1);
    const batchOut = new Float64Array(BATCH);
    const fetches = { alpha_bps: null };
    const runOpts = {};

    const timeOurs = (n: number): number => {
      let acc = 0;
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < n; i++) {
        ours.evaluate(pool[i & 1023], out);
        acc += out[0];
      }
      return Number(process.hrtime.bigint() - t0) / n + (acc === 0.5 ? 1e-9 : 0);
    };
    const timePeer = async (n: number): Promise<number> => {
      let acc = 0;
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < n; i++) {
        buf.set(pool32[i & 1023]);
        const r = await peer.run({ x: tensor });
        acc += r.alpha_bps.data[0];
      }
      return Number(process.hrtime.bigint() - t0) / n + (acc === 0.5 ? 1e-9 : 0);
    };
    const timeNative = (n: number): number => {
      let acc = 0;
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < n; i++) {
        buf.set(pool32[i & 1023]);
        acc += native.run({ x: tensor }, fetches, runOpts).alpha_bps.data[0];
      }
      return Number(process.hrtime.bigint() - t0) / n + (acc === 0.5 ? 1e-9 : 0);
    };
    const timeBatch = (n: number): number => {
      const batches = Math.max(1, Math.round(n / BATCH));
      let acc = 0;
      const t0 = process.hrtime.bigint();
      for (let b = 0; b < batches; b++) {
        for (let r = 0; r < BATCH; r++) flat.set(pool[(b * BATCH + r) & 1023], r * INPUTS);
        evaluateOnnxBatch(ours, flat, batchOut);
        acc += batchOut[0];
      }
      return Number(process.hrtime.bigint() - t0) / (batches * BATCH) + (acc === 0.5 ? 1e-9 : 0);
    };

    // the same bits from ours and the peer on every row of the pool (same model, same options)
    let sameValues = true;
    for (let i = 0; i < pool.length; i++) {
      ours.evaluate(pool[i], out);
      buf.set(pool32[i]);
      const r = await peer.run({ x: tensor });
      if (!Object.is(out[0], r.alpha_bps.data[0])) sameValues = false;
    }
    const warm = Math.min(2000, rowCount);
    timeOurs(warm);
    await timePeer(warm);
    timeNative(warm);
    timeBatch(warm);
    const runs = { ours: [] as number[], peer: [] as number[], native: [] as number[], batch: [] as number[] };
    for (let k = 0; k < rounds; k++) {
      runs.ours.push(timeOurs(rowCount));
      runs.peer.push(await timePeer(rowCount));
      runs.native.push(timeNative(rowCount));
      runs.batch.push(timeBatch(rowCount));
    }
    const r: OnnxModelResult = {
      model: m.file,
      what: m.what,
      ours: side(runs.ours),
      peer: side(runs.peer),
      native: side(runs.native),
      batch: side(runs.batch),
      ratio: median(runs.ours) / median(runs.peer),
      overNative: median(runs.ours) / median(runs.native),
      sameValues,
    };
    results.push(r);
    ours.dispose();
    native.dispose();
    await peer.release();
  }
  const result: OnnxBenchResult = { node: process.version, rows: rowCount, rounds, batch: BATCH, models: results };
  console.log(formatOnnxBench(result));
  if (opts.json) writeFileSync(opts.json, JSON.stringify(result, null, 2));
  return result;
}

const us = (ns: number) => (ns / 1000).toFixed(2);

/** The result as markdown: per model, each side's µs per row (median, and every round), and the ratios. */
export function formatOnnxBench(r: OnnxBenchResult): string {
  const lines = [`\nonnx benchmark: ${r.rows.toLocaleString('en-US')} rows per side per round, median of ${r.rounds} rounds (node ${r.node}, onnxruntime on 1 thread)`];
  for (const m of r.models) {
    lines.push(
      '',
      `${m.model} (${m.what})`,
      '| path | µs/row (median) | rounds | vs peer |',
      '|---|---|---|---|',
      `| ours: evaluate(), [1, n], synchronous | ${us(m.ours.nsPerRow)} | ${m.ours.runs.map(us).join(' ')} | ${m.ratio.toFixed(2)}× |`,
      `| peer: InferenceSession.run, [1, n], awaited | ${us(m.peer.nsPerRow)} | ${m.peer.runs.map(us).join(' ')} | 1.00 |`,
      `| native binding run, [1, n] (floor) | ${us(m.native.nsPerRow)} | ${m.native.runs.map(us).join(' ')} | ${(m.native.nsPerRow / m.peer.nsPerRow).toFixed(2)}× |`,
      `| ours: evaluateOnnxBatch, [${r.batch}, n], per row | ${us(m.batch.nsPerRow)} | ${m.batch.runs.map(us).join(' ')} | ${(m.batch.nsPerRow / m.peer.nsPerRow).toFixed(2)}× |`,
      `ours / peer: ${m.ratio.toFixed(2)}× (goal ≤ 2×: ${m.ratio <= 2 ? 'PASS' : 'MISS'}); ours / native run: ${m.overNative.toFixed(2)}×; same bits as the peer on 1,024 rows: ${m.sameValues ? 'yes' : 'NO'}`,
    );
  }
  return lines.join('\n');
}
