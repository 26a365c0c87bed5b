/**
 * Interleaved measurement of ours against a peer: many short rounds, each running every task once
 * on the same inputs in a seeded random order, each task timed on its own. A ratio is then taken
 * per round (both sides measured within a few ms of each other, at the same machine speed) and the
 * gate reads the median of those per-round ratios.
 *
 * Why: measured in separate blocks (round-robin passes of tens of ms to a second each), ours and
 * the peer ran at different machine speeds on a shared VM whose speed drifts, and the EMA ratio
 * read 1.58–5.80× on unchanged code (issue 20 item 6). Within one round the drift is nil; a round
 * hit by GC is one outlier among hundreds, which the median ignores.
 *
 * Each task is timed in CPU time (process.cpuUsage, user + system, µs resolution), not wall time:
 * at load 14 on 2 cores a 0.5 ms loop read 0.5 ms of CPU and up to 20 ms of wall when the
 * scheduler preempted it, and the longer side of a pair (the peer's) is preempted more often,
 * which biased wall-clock ratios. The process's other threads (V8's compiler and GC helpers) are
 * counted too; they are busy in the warm-up rounds, which are discarded.
 */
import { rngFor, uniform } from '../datasets/prng.ts';

export interface ChunkTask {
  name: string;
  /** Does the task's work for round `round` (a chunk of a few ms) and returns the units done (updates, events). */
  run: (round: number) => number;
}

export interface Interleaved {
  /** ns per unit of each task, per measured round, in round order. */
  ns: Map<string, number[]>;
  rounds: number;
}

function shuffle<T>(xs: T[], rng: ReturnType<typeof rngFor>): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(uniform(rng) * (i + 1));
    [xs[i], xs[j]] = [xs[j], xs[i]];
  }
  return xs;
}

/**
 * Runs `warmup` discarded rounds then `rounds` measured ones; each round runs every task once in a
 * seeded random order (so neither side always runs first, after the other's cache and GC state).
 */
export function interleave(tasks: readonly ChunkTask[], rounds: number, opts: { warmup?: number; seed?: number } = {}): Interleaved {
  const warmup = opts.warmup ?? 10;
  const rng = rngFor(opts.seed ?? 42, 11);
  const ns = new Map<string, number[]>(tasks.map((t) => [t.name, []]));
  const order = [...tasks];
  for (let r = 0; r < warmup + rounds; r++) {
    for (const t of shuffle(order, rng)) {
      const t0 = process.cpuUsage();
      const units = t.run(r);
      const d = process.cpuUsage(t0);
      if (r >= warmup) ns.get(t.name)!.push(((d.user + d.system) * 1e3) / units);
    }
  }
  return { ns, rounds };
}

/** The median of xs (NaN when empty). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Median over rounds of num[r] ÷ den[r]: the ratio of two tasks measured side by side. */
export function medianRatio(num: readonly number[], den: readonly number[]): number {
  const n = Math.min(num.length, den.length);
  const r: number[] = [];
  for (let i = 0; i < n; i++) if (den[i] > 0) r.push(num[i] / den[i]);
  return median(r);
}

/** The spread of per-round ratios: the quartiles of num[r] ÷ den[r] (how steady the median is). */
export function ratioQuartiles(num: readonly number[], den: readonly number[]): [number, number] {
  const n = Math.min(num.length, den.length);
  const r: number[] = [];
  for (let i = 0; i < n; i++) if (den[i] > 0) r.push(num[i] / den[i]);
  r.sort((a, b) => a - b);
  return r.length ? [r[Math.floor((r.length - 1) / 4)], r[Math.ceil((3 * (r.length - 1)) / 4)]] : [NaN, NaN];
}
