/**
 * Round-robin measurement for benchmarks that compare many tasks in one process: each round runs
 * every task once (one tinybench Bench per round), after a discarded warm-up round, so a burst of
 * load on a shared machine spreads over all tasks instead of skewing one.
 */
import { Bench } from 'tinybench';

export interface RoundTask {
  name: string;
  fn: () => void;
}

/**
 * Runs every task `iterations` times per round for `rounds` rounds, after one discarded warm-up
 * round; returns each task's samples in ms.
 */
export function roundRobin(tasks: readonly RoundTask[], rounds: number, iterations: number): Map<string, number[]> {
  const samples = new Map<string, number[]>(tasks.map((t) => [t.name, []]));
  for (let r = 0; r <= rounds; r++) {
    const bench = new Bench({ iterations, time: 0, warmup: false, retainSamples: true, throws: true });
    for (const t of tasks) bench.add(t.name, t.fn);
    bench.runSync();
    if (r === 0) continue; // warm-up round
    for (const task of bench.tasks) {
      const res = task.result;
      if (res.state !== 'completed') throw new Error(`bench task ${task.name} did not complete (${res.state})`);
      samples.get(task.name)!.push(...(res.latency.samples ?? [res.latency.mean]));
    }
  }
  return samples;
}
