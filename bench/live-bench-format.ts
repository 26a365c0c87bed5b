/** `lockstep bench live`'s printed table. */
import type { LiveBenchResult, Percentiles, RateRun } from './live-bench.ts';
import type { RunLoad } from './live-load.ts';

const cores = (x: number | null) => (x === null ? '?' : x.toFixed(2));

/** A run's load in one line: CPU per party in cores, run queue, Redis's longest stalls. */
export function loadLine(l: RunLoad | undefined, consumer = 'worker'): string {
  if (l === undefined) return 'load not measured';
  const rq = l.runQueue === null ? '' : `, run queue mean ${l.runQueue.mean.toFixed(1)} max ${l.runQueue.max}`;
  return `CPU (cores) ${consumer} ${cores(l.cpu.worker)} redis ${cores(l.cpu.redis)} bench ${cores(l.cpu.bench)}${rq}; Redis latency monitor: O(1) commands stalled up to ${l.redisStallMs.fastCommand} ms, scripts up to ${l.redisStallMs.command} ms`;
}

export function formatLiveBench(r: LiveBenchResult): string {
  const lines = [
    '\nlive benchmark (Redis, feeder and one worker on this machine); tick → served as seen by a subscriber, and by Redis\'s clock (output entry ID - input entry ID, +1 ms: an upper bound)',
    '| input rate | achieved | subscriber p50 | p99 | p999 | Redis clock p50 | p99 | p999 |',
    '|---|---|---|---|---|---|---|---|',
  ];
  const red = (p: Percentiles | undefined, k: 'p50' | 'p99' | 'p999') => (p === undefined ? '—' : `≤ ${p[k]} ms`);
  const row = (label: string, target: number, x: RateRun | LiveBenchResult['rates'][number]) =>
    `| ${target.toLocaleString('en-US')}/s${label} | ${Math.round(x.achieved).toLocaleString('en-US')}/s | ${x.latencyMs.p50.toFixed(2)} ms | ${x.latencyMs.p99.toFixed(2)} ms | ${x.latencyMs.p999.toFixed(2)} ms | ${red(x.latencyRedisMs, 'p50')} | ${red(x.latencyRedisMs, 'p99')} | ${red(x.latencyRedisMs, 'p999')} |`;
  for (const x of r.rates) {
    if (x.peer !== undefined) lines.push(row(', echo relay (peer)', x.target, x.peer));
    lines.push(row(x.peer !== undefined ? ', worker' : '', x.target, x));
  }
  if (r.rates.some((x) => x.peer !== undefined)) {
    lines.push('', 'worker ÷ echo relay, the same events at the same rate (the relay reads, writes one output entry and acks; it computes nothing: the floor this machine gives):');
    for (const x of r.rates) if (x.peer !== undefined) lines.push(`- ${x.target.toLocaleString('en-US')}/s: p50 ${(x.latencyMs.p50 / x.peer.latencyMs.p50).toFixed(2)}×, p99 ${(x.latencyMs.p99 / x.peer.latencyMs.p99).toFixed(2)}×, p999 ${(x.latencyMs.p999 / x.peer.latencyMs.p999).toFixed(2)}×`);
  }
  if (r.rates.some((x) => x.load !== undefined)) {
    lines.push('', 'while each run fed (a tail on a shared box is mostly scheduling: see RunLoad in bench/live-bench.ts):');
    for (const x of r.rates) {
      if (x.peer !== undefined) lines.push(`- ${x.target.toLocaleString('en-US')}/s, echo relay: ${loadLine(x.peer.load, 'relay')}`);
      lines.push(`- ${x.target.toLocaleString('en-US')}/s${x.peer !== undefined ? ', worker' : ''}: ${loadLine(x.load)}`);
    }
  }
  const after = r.sustainable.perSecAfterStartup === undefined ? '' : `; ${Math.round(r.sustainable.perSecAfterStartup).toLocaleString('en-US')} events/s after ${r.sustainable.startupSeconds!.toFixed(2)} s of start-up`;
  lines.push('', `sustainable rate, one worker: ${Math.round(r.sustainable.perSec).toLocaleString('en-US')} events/s (${r.sustainable.events.toLocaleString('en-US')} events drained in ${r.sustainable.seconds.toFixed(2)} s, start-up included${after})`, '');
  if (r.reads.length === 0) return lines.join('\n');
  const peer = r.reads[0];
  lines.push('| read | p50 | p99 | p99 vs raw HMGET | timed / warm-up reads |', '|---|---|---|---|---|');
  for (const x of r.reads) lines.push(`| ${x.name} | ${x.p50Ms.toFixed(3)} ms | ${x.p99Ms.toFixed(3)} ms | ${(x.p99Ms / peer.p99Ms).toFixed(1)}x | ${x.n} / ${x.warmup ?? '?'} |`);
  return lines.join('\n');
}
