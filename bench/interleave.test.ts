/** The interleaved measurement's arithmetic and order (bench/interleave.ts), on real loops. */
import { describe, expect, it } from 'vitest';
import { interleave, median, medianRatio, ratioQuartiles, type ChunkTask } from './interleave.ts';

let sink = 0;
/** A loop of `n` square roots per unit-count `units`: CPU work that cannot be optimised away. */
const work = (name: string, n: number, order: string[]): ChunkTask => ({
  name,
  run: (round) => {
    order.push(`${round}:${name}`);
    let a = 0;
    for (let i = 0; i < n; i++) a += Math.sqrt(i + round);
    sink += a;
    return 1000;
  },
});

describe('medianRatio, ratioQuartiles', () => {
  it('takes the ratio per round, then the median: one slow round does not move it', () => {
    const num = [2, 4, 6, 8, 100];
    const den = [1, 2, 3, 4, 1];
    expect(medianRatio(num, den)).toBe(2);
    expect(median(num) / median(den)).toBe(3); // a ratio of medians mixes rounds: the slow one moved it
    expect(medianRatio([2, 4, 6], [1, 2, 30])).toBe(2);
    expect(ratioQuartiles(num, den)).toEqual([2, 2]);
    expect(ratioQuartiles([1, 2, 3, 4, 5], [1, 1, 1, 1, 1])).toEqual([2, 4]);
    expect(medianRatio([1, 2], [0, 0])).toBeNaN();
  });
});

describe('interleave', () => {
  it('runs every task once per round, warm-up rounds discarded, in an order that varies with a fixed seed', () => {
    const order: string[] = [];
    const tasks = ['a', 'b', 'c'].map((x) => work(x, 1000, order));
    const r = interleave(tasks, 30, { warmup: 5, seed: 7 });
    expect(order).toHaveLength(35 * 3);
    for (let round = 0; round < 35; round++) expect(order.slice(round * 3, round * 3 + 3).map((x) => x.split(':')[0])).toEqual([`${round}`, `${round}`, `${round}`]);
    for (const t of ['a', 'b', 'c']) expect(r.ns.get(t)).toHaveLength(30);
    const firsts = new Set(order.filter((_, i) => i % 3 === 0).map((x) => x.split(':')[1]));
    expect(firsts.size).toBe(3); // each task ran first in some round
    const again: string[] = [];
    interleave(['a', 'b', 'c'].map((x) => work(x, 1000, again)), 30, { warmup: 5, seed: 7 });
    expect(again).toEqual(order);
  });

  it('reads a task doing twice the work at about twice the CPU time of its partner', () => {
    const order: string[] = [];
    // ~0.5 ms and ~1 ms of CPU per round: both far above process.cpuUsage's 1 µs resolution
    const r = interleave([work('once', 200_000, order), work('twice', 400_000, order)], 60);
    const ratio = medianRatio(r.ns.get('twice')!, r.ns.get('once')!);
    expect(ratio).toBeGreaterThan(1.5);
    expect(ratio).toBeLessThan(2.7);
    expect(Number.isFinite(sink)).toBe(true);
  });
});
