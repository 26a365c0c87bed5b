/**
 * `lockstep bench models`: the cost of a model slot per symbol update, through the stage exactly as
 * the fold runs it (deployment state, change trigger, missing-value check, standardisation, clip,
 * score, status and version columns), for linear and logistic models. Its peer, measured in the
 * same run over the same rows: a bare dot product of the same inputs written to the same row, the
 * floor any scoring must pay. Goal (issue 17): ≤ 50 ns per update for a linear model.
 */
import { writeFileSync } from 'node:fs';
import type { TradeEvent } from '../core/events.ts';
import { linearEvaluator } from '../models/linear.ts';
import { runnableModel } from '../models/model.ts';
import { parseModelSpec } from '../models/spec.ts';
import { createSlotStage, type SlotState } from '../models/stage.ts';

export interface ModelsBenchOptions {
  /** Inputs per model (default 4). */
  inputs?: number;
  symbols?: number;
  /** Updates per timed run (default 2,000,000). */
  updates?: number;
  runs?: number;
  json?: string;
}

export interface ModelsBenchRow {
  kind: 'linear' | 'logistic';
  /** Median ns (CPU time) per symbol update through the stage. */
  stageNs: number;
  /** Median ns per update of the bare dot product (the floor). */
  peerNs: number;
  /** Median ns of the model alone (missing check, standardise, clip, score, output check), no slot. */
  runNs: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * The process's CPU time in ns (user + system). Timed by CPU time, not wall time: on a shared,
 * loaded machine the wall time of a loop counts the time it waited for a core (the medians rose
 * 3-6x between runs of unchanged code at load 20+), which says nothing about the code; both sides
 * are timed the same way, so the ratio stays a same-run comparison. Includes V8's helper threads
 * (GC), which both sides pay for their allocations.
 */
const cpuNs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
};

/** Runs the benchmark and prints one line per kind with its peer. */
export async function benchModels(o: ModelsBenchOptions = {}): Promise<ModelsBenchRow[]> {
  const p = o.inputs ?? 4;
  const nSym = o.symbols ?? 256;
  const updates = o.updates ?? 2_000_000;
  const runs = o.runs ?? 7;
  const names = Array.from({ length: p }, (_, i) => `f${i}`);
  const coef = Array.from({ length: p }, (_, i) => (i % 2 ? -0.3 : 0.5) / (i + 1));
  // distinct inputs on every update, so the change trigger fires each time (the costly path)
  const K = 4096;
  const data = new Float64Array(K * p);
  let s = 12345;
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = s / 4294967296 - 0.5;
  }
  const ev: TradeEvent = { kind: 'trade', tsEvent: 1n, tsRecv: 1n, symbol: 'S', seq: 1n, price: 1, size: 1, side: 1 };
  const rows: ModelsBenchRow[] = [];
  for (const kind of ['linear', 'logistic'] as const) {
    const spec = parseModelSpec(JSON.stringify({ lockstep_model: 1, name: 'bench', version: 1, kind, inputs: names, standardize: { mean: names.map(() => 0), std: names.map(() => 0.3) }, clip: [-5, 5], coef, intercept: 0.01 }), 'bench.json');
    const runnable = runnableModel(spec, linearEvaluator(spec));
    const stage = createSlotStage('bench', [runnable], [{ at: 0n, slot: 'bench', action: 'deploy', version: 1, mode: 'live' }]);
    const width = p + stage.columns.length;
    // a pool of rows holding distinct inputs: the loops read them in place, as the fold hands a
    // stage the symbol's row (writing inputs per update would time the harness, not the model)
    const pool = Array.from({ length: K }, (_, r) => {
      const row = new Array<number | null>(width).fill(null);
      for (let i = 0; i < p; i++) row[i] = data[r * p + i];
      return row;
    });
    const states: SlotState[] = Array.from({ length: nSym }, (_, i) => stage.init(`SYM${i}`));
    const inputIx = names.map((_, i) => i);
    const c = Float64Array.from(coef);
    const runStage = (): number => {
      const t0 = cpuNs();
      for (let u = 0; u < updates; u++) {
        stage.update(states[u % nSym], pool[u & (K - 1)], inputIx, p, ev);
      }
      return (cpuNs() - t0) / updates;
    };
    const runPeer = (): number => {
      const t0 = cpuNs();
      for (let u = 0; u < updates; u++) {
        const row = pool[u & (K - 1)];
        let acc = 0.01;
        for (let i = 0; i < p; i++) acc += c[i] * (row[i] as number);
        row[p] = acc;
      }
      return (cpuNs() - t0) / updates;
    };
    const raw = new Float64Array(p);
    const out = new Float64Array(2);
    const runModel = (): number => {
      const t0 = cpuNs();
      let sink = 0;
      for (let u = 0; u < updates; u++) {
        const row = pool[u & (K - 1)];
        for (let i = 0; i < p; i++) raw[i] = row[i] as number;
        sink += runnable.run(raw, out);
      }
      if (sink < 0) console.log(sink);
      return (cpuNs() - t0) / updates;
    };
    // warm-up: both loops optimised before timing; then interleaved runs so load hits both alike
    runStage();
    runPeer();
    runModel();
    const st: number[] = [];
    const pe: number[] = [];
    const rn: number[] = [];
    for (let r = 0; r < runs; r++) {
      st.push(runStage());
      pe.push(runPeer());
      rn.push(runModel());
    }
    rows.push({ kind, stageNs: median(st), peerNs: median(pe), runNs: median(rn) });
  }
  console.log(`models bench: ${p} inputs, ${nSym} symbols, ${updates.toLocaleString('en-US')} updates per run, median of ${runs} (interleaved), ns of CPU time`);
  for (const r of rows) {
    console.log(`  ${r.kind.padEnd(8)}  stage ${r.stageNs.toFixed(1).padStart(6)} ns/update   model alone ${r.runNs.toFixed(1).padStart(6)} ns   peer (bare dot product) ${r.peerNs.toFixed(1).padStart(6)} ns   stage/peer ${(r.stageNs / r.peerNs).toFixed(2)}x${r.kind === 'linear' ? `   goal <= 50 ns: ${r.stageNs <= 50 ? 'met' : 'NOT met'}` : ''}`);
  }
  if (o.json) writeFileSync(o.json, JSON.stringify({ inputs: p, symbols: nSym, updates, runs, rows }, null, 2) + '\n');
  return rows;
}
