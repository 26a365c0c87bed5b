/**
 * The kernel ratios the gate checks (ours ÷ trading-signals for EMA, RSI, MACD), measured in a
 * fresh child process whose V8 flags make the measure the same from one process to the next.
 *
 * Why a child (issue 20 item 6): in the bench's own process, V8 compiled our loop or the peer's
 * 2–4× slower in some processes (on-stack replacement and concurrent compilation finish at
 * timing-dependent points), so on unchanged code the EMA ratio read 0.57–3.27× and no margin
 * could tell it apart from a 2× slower kernel. Two modes, each interleaving ours and the peer's in
 * short rounds (bench/interleave.ts, CPU time, median of per-round ratios):
 *
 * - `jit`: `--no-concurrent-recompilation --no-use-osr`: optimised code compiled on the main
 *   thread, at function entry only, so every process compiles the same code from the same
 *   feedback. Ten processes at load 1–12 read EMA 1.28–1.37× (default flags in the same hour:
 *   0.63–2.69×). Production-like speed, but a kernel doing its work twice barely moves it: the
 *   second update's dependency chain runs beside the first (superscalar), ours EMA 4.6 → 5.5 ns.
 * - `interp`: `--jitless`: the bytecode interpreter only, whose cost follows the work done, so a
 *   kernel doing twice the work reads ~1.6× slower (EMA ratio 1.36–1.50× → 0.91–0.93×). It says
 *   nothing of how well V8 compiles the kernel; the `jit` figures and the in-process table do.
 *
 * Usage (the factor bench spawns it): node [flags] bench/factor-bench-kernels.ts <mode>; prints
 * one line of JSON (a KernelRun).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { PeerFigure } from './factor-bench.ts';
import { PEER_CHUNK, peerChecksum, peerTasks, randomWalk } from './factor-peer.ts';
import { interleave, median, medianRatio, ratioQuartiles, type Interleaved } from './interleave.ts';

export type KernelMode = 'jit' | 'interp';

export interface KernelModeSpec {
  flags: readonly string[];
  rounds: number;
  /** Length of the seeded walk the chunks are cut from (the final-value check folds all of it). */
  prices: number;
  /** Prices per round per indicator: ~0.3–3 ms for each side in that mode. */
  chunks: Record<keyof typeof PEER_CHUNK, number>;
}

export const KERNEL_MODES: Record<KernelMode, KernelModeSpec> = {
  jit: { flags: ['--no-concurrent-recompilation', '--no-use-osr'], rounds: 300, prices: 1_000_000, chunks: PEER_CHUNK },
  // the interpreter runs ~20–30× slower: chunks a tenth of the jit's (EMA ~1–1.5 ms a side), and a
  // shorter walk (the final-value check over 1 M prices alone took ~3 s of CPU interpreted)
  interp: { flags: ['--jitless'], rounds: 150, prices: 200_000, chunks: { 'EMA(12)': 10_000, 'RSI(14)': 1_000, 'MACD(12,26,9)': 2_000 } },
};

export interface KernelRun {
  mode: KernelMode;
  flags: readonly string[];
  rounds: number;
  peer: PeerFigure[];
  /** The child's CPU time, seconds (start-up included). */
  cpuSeconds: number;
}

const INDICATORS = ['EMA(12)', 'RSI(14)', 'MACD(12,26,9)'] as const;

/** Per-indicator figures from an interleaved run of peerTasks (ours ÷ peer per round, median). */
export function peerFigures(run: Interleaved, finals: Record<string, [number, number]>, chunks: Record<keyof typeof PEER_CHUNK, number>, prices: number): PeerFigure[] {
  const nsOf = (name: string) => run.ns.get(name) ?? [];
  return INDICATORS.map((indicator) => {
    const ours = nsOf(`ours ${indicator}`);
    const theirs = nsOf(`peer ${indicator}`);
    const [a, b] = finals[indicator];
    const nullCheck = nsOf(`ours ${indicator}, null check per output`);
    return {
      indicator,
      oursNs: median(ours),
      peerNs: median(theirs),
      ratio: medianRatio(theirs, ours),
      ratioQuartiles: ratioQuartiles(theirs, ours),
      chunk: Math.min(chunks[indicator], prices),
      finalAbsDiff: Math.abs(a - b),
      ...(nullCheck.length ? { oursPerOutputNullNs: median(nullCheck) } : {}),
    };
  });
}

/** The child's work: one interleaved run of the kernel loops in this process (whatever its flags). */
export function runKernels(mode: KernelMode, opts: { rounds?: number; prices?: number } = {}): KernelRun {
  const spec = KERNEL_MODES[mode];
  const t0 = process.cpuUsage();
  const n = opts.prices ?? spec.prices;
  const prices = randomWalk(n);
  const { tasks, finals } = peerTasks(prices, spec.chunks);
  // the MACD variant reading each output through its own null check is shown by the in-process
  // table; it is not a gated figure, so the child does not spend rounds on it
  const gated = tasks.filter((t) => !t.name.includes('null check'));
  const run = interleave(gated, opts.rounds ?? spec.rounds, { seed: 42 });
  if (!Number.isFinite(peerChecksum())) throw new Error('kernel loops produced a non-finite checksum');
  const peer = peerFigures(run, finals, spec.chunks, n);
  const d = process.cpuUsage(t0);
  return { mode, flags: spec.flags, rounds: run.rounds, peer, cpuSeconds: (d.user + d.system) / 1e6 };
}

const HERE_FILE = fileURLToPath(import.meta.url);
// run from source (tsx) or from the compiled dist/ (plain node); the child must be started the same way
const FROM_SOURCE = import.meta.url.endsWith('.ts');

/** Runs `mode` in a fresh child process with the mode's V8 flags; throws with the child's stderr when it fails. */
export function measureKernels(mode: KernelMode, opts: { rounds?: number; prices?: number } = {}): KernelRun {
  const spec = KERNEL_MODES[mode];
  const entry = FROM_SOURCE ? ['--import', import.meta.resolve('tsx'), HERE_FILE] : [HERE_FILE];
  const args = [...spec.flags, ...entry, mode, String(opts.rounds ?? spec.rounds), String(opts.prices ?? spec.prices)];
  const child = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 16 << 20 });
  const line = (child.stdout ?? '').trim().split('\n').pop() ?? '';
  if (child.status !== 0 || !line.startsWith('{')) {
    throw new Error(`kernel child (${mode}, node ${spec.flags.join(' ')}) exited ${child.status ?? child.signal}: ${(child.stderr ?? '').trim().split('\n').slice(-3).join(' / ')}`);
  }
  return JSON.parse(line) as KernelRun;
}

if (process.argv[1] !== undefined && process.argv[1] === HERE_FILE) {
  const mode = process.argv[2];
  if (mode !== 'jit' && mode !== 'interp') {
    console.error(`usage: node bench/factor-bench-kernels.ts jit|interp [rounds] [prices] (got ${JSON.stringify(mode)})`);
    process.exit(2);
  }
  const rounds = process.argv[3] ? Number(process.argv[3]) : undefined;
  const prices = process.argv[4] ? Number(process.argv[4]) : undefined;
  console.log(JSON.stringify(runKernels(mode, { rounds, prices })));
}
