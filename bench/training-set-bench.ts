/**
 * `lockstep bench training-set`: a multi-day point-in-time build (every:1s, forward labels) against
 * the replay's own events/s on the same days, measured in the same run. The goal is a ratio of at
 * least 0.8: sampling and labels must cost little beside the fold.
 *
 * Both sides run in this process, one after the other, on a catalog of `days` generated days
 * (made once and reused): the replay side replays each date (`runReplay`, its factor table
 * written as usual); the training-set side builds one file over the same dates with --jobs 1
 * (each date warmed up by folding the date before it, as the command does by default). Events/s
 * is the dates' own events over wall time on both sides; the warm-up folding is part of the
 * training set's cost, not of its event count.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export interface TrainingSetBenchResult {
  preset: string;
  symbols?: number;
  dates: string[];
  events: number;
  replay: { seconds: number; eventsPerSec: number; rows: number };
  trainingSet: { seconds: number; eventsPerSec: number; rows: number; sample: string; labels: string };
  ratio: number;
}

const DATES = ['2024-03-11', '2024-03-12', '2024-03-13', '2024-03-14', '2024-03-15'];

/**
 * Runs the benchmark. `symbols` overrides the preset's symbol count (the release gate's quick mode
 * uses the day preset cut to 10 symbols, as its replay data); such a catalog gets its own folder.
 */
export async function benchTrainingSet(opts: { preset: 'tiny' | 'day' | 'big'; dir: string; json?: string; days?: number; symbols?: number }): Promise<TrainingSetBenchResult> {
  const dates = DATES.slice(0, opts.days ?? 5);
  const dir = resolve(opts.dir);
  const symbols = opts.symbols ?? (opts.preset === 'tiny' ? 5 : 50);
  const defaultSymbols = symbols === (opts.preset === 'tiny' ? 5 : 50);
  const catalog = join(dir, `catalog-${opts.preset}${defaultSymbols ? '' : `-${symbols}sym`}-${dates.length}d`);
  mkdirSync(dir, { recursive: true });
  const { generateDay } = await import('../datasets/generate.ts');
  for (const date of dates) {
    const marker = join(catalog, `.complete-${date}`);
    if (existsSync(marker)) continue;
    console.log(`generating ${date} (preset ${opts.preset}) into ${catalog} (once; reused by later runs)`);
    const g = await generateDay({ date, symbols, seed: 42, preset: opts.preset, out: catalog, partBy: { buckets: 4 } });
    writeFileSync(marker, JSON.stringify({ events: g.total }));
  }
  const { runReplay } = await import('../replay/run-replay.ts');
  const { buildTrainingSet } = await import('../features/training-set.ts');
  let events = 0;
  let replayRows = 0;
  const t0 = performance.now();
  for (const date of dates) {
    const s = await runReplay({ catalog, date, out: join(dir, 'ts-bench-replay.parquet'), progress: false });
    events += s.events;
    replayRows += s.rows;
  }
  const replaySec = (performance.now() - t0) / 1000;
  console.log(`  replay of ${dates.length} dates: ${events.toLocaleString('en-US')} events in ${replaySec.toFixed(1)} s`);
  const sample = 'every:1s';
  const labels = 'fwd_return:5m,fwd_vol:5m';
  const t1 = performance.now();
  const r = await buildTrainingSet({
    catalog,
    dates,
    range: true,
    sample: { kind: 'every', stepNs: 1_000_000_000n },
    labels,
    haltGapNs: 300_000_000_000n,
    out: join(dir, 'ts-bench.parquet'),
  });
  const tsSec = (performance.now() - t1) / 1000;
  const rows = r.files.reduce((a, f) => a + f.rows, 0);
  console.log(`  training set of ${dates.length} dates: ${rows.toLocaleString('en-US')} rows in ${tsSec.toFixed(1)} s`);
  const out: TrainingSetBenchResult = {
    preset: opts.preset,
    symbols,
    dates,
    events,
    replay: { seconds: replaySec, eventsPerSec: events / replaySec, rows: replayRows },
    trainingSet: { seconds: tsSec, eventsPerSec: events / tsSec, rows, sample, labels },
    ratio: replaySec / tsSec,
  };
  console.log(formatTrainingSetBench(out));
  if (opts.json) writeFileSync(opts.json, JSON.stringify(out, null, 2));
  return out;
}

export function formatTrainingSetBench(r: TrainingSetBenchResult): string {
  return [
    `\ntraining-set benchmark, preset ${r.preset}${r.symbols === undefined ? '' : ` (${r.symbols} symbols)`}, ${r.dates.length} dates (${r.dates[0]}..${r.dates.at(-1)}), ${r.events.toLocaleString('en-US')} events`,
    '| run | events/s | time | rows written |',
    '|---|---|---|---|',
    `| replay, each date (peer) | ${(r.replay.eventsPerSec / 1e6).toFixed(3)} M/s | ${r.replay.seconds.toFixed(1)} s | ${r.replay.rows.toLocaleString('en-US')} |`,
    `| training set ${r.trainingSet.sample}, ${r.trainingSet.labels} | ${(r.trainingSet.eventsPerSec / 1e6).toFixed(3)} M/s | ${r.trainingSet.seconds.toFixed(1)} s | ${r.trainingSet.rows.toLocaleString('en-US')} |`,
    `training set / replay: ${r.ratio.toFixed(2)}x (goal >= 0.8x)`,
  ].join('\n');
}
