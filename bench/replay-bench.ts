/**
 * `lockstep bench replay`: how fast history becomes factor rows, measured end to end on a
 * generated day, with the raw parquet-wasm decode speed of the same files measured in the same run
 * as the denominator (so the ratio, not the absolute number, is what compares across machines).
 *
 * Phases, each in its own child process so peak RSS is per phase:
 *  - raw:    parquet-wasm decode of every row group of the selected files (rows/s)
 *  - merge:  read + decode into events + k-way merge, no factors (events/s)
 *  - replay: the full replay with the default factor set and Parquet output (events/s)
 * Each phase runs `repeat` times; the median is reported.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export type Phase = 'raw' | 'merge' | 'replay';

export interface PhaseResult {
  phase: Phase;
  events: number;
  seconds: number;
  perSec: number;
  maxRssMb: number;
}

const BENCH_DATE = '2024-03-15';
const HERE = fileURLToPath(new URL('.', import.meta.url));

/** Runs one phase in this process and returns its figures (called in the child). */
export async function runPhase(phase: Phase, catalog: string, out: string): Promise<PhaseResult> {
  const { openSelection, runReplay } = await import('../replay/run-replay.ts');
  const t0 = performance.now();
  let events = 0;
  if (phase === 'raw') {
    const { selectReplayFiles } = await import('../replay/run-replay.ts');
    const { openParquet } = await import('../replay/parquet-io.ts');
    for (const f of await selectReplayFiles({ catalog, date: BENCH_DATE })) {
      const src = await openParquet(f.path);
      for (let g = 0; g < src.numRowGroups; g++) events += src.readRowGroup(g).numRows;
    }
  } else if (phase === 'merge') {
    const { EventMerge } = await import('../replay/merge.ts');
    const opened = await openSelection({ catalog, date: BENCH_DATE });
    const m = new EventMerge(opened.cursors);
    while (m.next() !== null) events++;
    await opened.close();
  } else {
    const s = await runReplay({ catalog, date: BENCH_DATE, out, progress: false });
    events = s.events;
  }
  const seconds = (performance.now() - t0) / 1000;
  return { phase, events, seconds, perSec: events / seconds, maxRssMb: process.resourceUsage().maxRSS / 1024 };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export interface ReplayBenchResult {
  preset: string;
  events: number;
  raw: PhaseResult;
  merge: PhaseResult;
  replay: PhaseResult;
  /** merge events/s ÷ raw rows/s, replay events/s ÷ raw rows/s */
  ratios: { mergeVsRaw: number; replayVsRaw: number };
}

export async function benchReplay(opts: { preset: 'tiny' | 'day' | 'big'; dir: string; json?: string; repeat?: number }): Promise<ReplayBenchResult> {
  const dir = resolve(opts.dir);
  const catalog = join(dir, `catalog-${opts.preset}`);
  const marker = join(catalog, '.complete');
  mkdirSync(dir, { recursive: true });
  if (!existsSync(marker)) {
    const { generateDay } = await import('../datasets/generate.ts');
    console.log(`generating the ${opts.preset} preset into ${catalog} (once; reused by later runs)`);
    // 4 files per kind (symbols hashed into buckets), like a vendor's per-day-per-schema files;
    // one file per symbol (the generator's default) gives the same output, ~400 files to merge
    const g = await generateDay({ date: BENCH_DATE, symbols: opts.preset === 'tiny' ? 5 : 50, seed: 42, preset: opts.preset, out: catalog, partBy: { buckets: 4 } });
    writeFileSync(marker, JSON.stringify({ events: g.total }));
  }
  const repeat = opts.repeat ?? 3;
  const results: Record<Phase, PhaseResult[]> = { raw: [], merge: [], replay: [] };
  for (let r = 0; r < repeat; r++) {
    for (const phase of ['raw', 'merge', 'replay'] as Phase[]) {
      const child = spawnSync(process.execPath, [join(HERE, '../bin/lockstep.js'), 'bench-phase', phase, '--catalog', catalog, '--out', join(dir, 'replay-out.parquet')], { encoding: 'utf8' });
      if (child.status !== 0) throw new Error(`bench phase ${phase} failed: ${child.stderr}`);
      const res = JSON.parse(child.stdout.trim().split('\n').pop()!) as PhaseResult;
      results[phase].push(res);
      console.log(`  run ${r + 1}/${repeat} ${phase.padEnd(6)} ${(res.perSec / 1e6).toFixed(2)} M/s  (${res.events.toLocaleString('en-US')} in ${res.seconds.toFixed(2)} s, peak RSS ${res.maxRssMb.toFixed(0)} MB)`);
    }
  }
  const pick = (p: Phase): PhaseResult => {
    const m = median(results[p].map((x) => x.perSec));
    const chosen = results[p].find((x) => x.perSec === m)!;
    return { ...chosen, maxRssMb: Math.max(...results[p].map((x) => x.maxRssMb)) };
  };
  const raw = pick('raw');
  const merge = pick('merge');
  const replay = pick('replay');
  const out: ReplayBenchResult = {
    preset: opts.preset,
    events: replay.events,
    raw,
    merge,
    replay,
    ratios: { mergeVsRaw: merge.perSec / raw.perSec, replayVsRaw: replay.perSec / raw.perSec },
  };
  console.log(formatReplayBench(out));
  if (opts.json) writeFileSync(opts.json, JSON.stringify(out, null, 2));
  return out;
}

export function formatReplayBench(r: ReplayBenchResult): string {
  const row = (name: string, p: PhaseResult, ratio: string) =>
    `| ${name} | ${(p.perSec / 1e6).toFixed(2)} M/s | ${p.seconds.toFixed(2)} s | ${p.maxRssMb.toFixed(0)} MB | ${ratio} |`;
  return [
    `\nreplay benchmark, preset ${r.preset}, ${r.events.toLocaleString('en-US')} events (median of runs)`,
    '| phase | rate | time | peak RSS | vs raw parquet-wasm decode |',
    '|---|---|---|---|---|',
    row('raw parquet-wasm decode (peer)', r.raw, '1.00'),
    row('read + merge (events)', r.merge, r.ratios.mergeVsRaw.toFixed(2)),
    row('full replay + Parquet output', r.replay, r.ratios.replayVsRaw.toFixed(2)),
  ].join('\n');
}

export function readBenchJson(path: string): ReplayBenchResult {
  return JSON.parse(readFileSync(path, 'utf8')) as ReplayBenchResult;
}
