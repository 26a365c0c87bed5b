/**
 * `lockstep bench replay`: how fast history becomes factor rows, measured end to end on a
 * generated day, with the raw parquet-wasm decode speed of the same files measured in the same run
 * as the denominator (so the ratio, not the absolute number, is what compares across machines).
 *
 * Phases, each in its own child process so peak RSS is per phase:
 *  - raw:    parquet-wasm decode of every row group of the selected files (rows/s)
 *  - merge:  read + decode into column batches (validated, order-checked) + k-way merge yielding
 *            (batch, row) positions, no event objects and no factors (events/s)
 *  - replay: the full replay with the default factor set and Parquet output (events/s)
 *  - replay-arrow: the same replay writing Arrow IPC (`--out FILE.arrow`, uncompressed) instead
 *            (events/s; with `arrow: true`, what `lockstep bench replay` asks for)
 *  - encode: parquet-wasm encoding the factor table that replay wrote (rows/s, the second peer):
 *            each row group is decoded untimed, then only `writeParquet` with the replay writer's
 *            own properties is timed, on one thread. The replay writes one row per output row of
 *            the fold (5 keys + 36 factors), so this is the ceiling of any replay that writes its
 *            table through parquet-wasm, whatever the rest of the pipeline costs.
 * Each phase runs `repeat` times; the median is reported.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FROM_SOURCE } from '../replay/worker-thread.ts';

export type Phase = 'raw' | 'merge' | 'replay' | 'encode' | 'replay-arrow';

export interface PhaseResult {
  phase: Phase;
  events: number;
  seconds: number;
  perSec: number;
  maxRssMb: number;
  /** replay: factor-table rows written; encode: rows encoded (= events for the other phases). */
  rows?: number;
}

const BENCH_DATE = '2024-03-15';

const HERE = fileURLToPath(new URL('.', import.meta.url));

/** Runs one phase in this process and returns its figures (called in the child). */
export async function runPhase(phase: Phase, catalog: string, out: string): Promise<PhaseResult> {
  const { openSelection, runReplay } = await import('../replay/run-replay.ts');
  const t0 = performance.now();
  let events = 0;
  let rows: number | undefined;
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
    // positions in core's order, as the merge yields them: column batches, no event objects
    while (m.nextRow()) events++;
    await opened.close();
  } else if (phase === 'replay' || phase === 'replay-arrow') {
    const s = await runReplay({ catalog, date: BENCH_DATE, out: phase === 'replay' ? out : out.replace(/\.parquet$/, '') + '.arrow', progress: false });
    events = s.events;
    rows = s.rows;
  } else {
    return encodePhase(out);
  }
  const seconds = (performance.now() - t0) / 1000;
  return { phase, events, seconds, perSec: events / seconds, maxRssMb: process.resourceUsage().maxRSS / 1024, rows: rows ?? events };
}

/** The `encode` peer: parquet-wasm writing the replay's own factor table, timed encode only. */
async function encodePhase(table: string): Promise<PhaseResult> {
  const { openParquet, writerProperties, READ_BATCH_SIZE } = await import('../replay/parquet-io.ts');
  const { factorTableSpecs, KEY_COLUMNS } = await import('../replay/factor-table-sink.ts');
  const { createRequire } = await import('node:module');
  const pq = createRequire(import.meta.url)('parquet-wasm/node') as typeof import('parquet-wasm/node');
  if (!existsSync(table)) throw new Error(`${table} is missing: the encode phase reads the table the replay phase wrote`);
  const bytes = readFileSync(table);
  const src = await openParquet(table);
  const keys = new Set(KEY_COLUMNS.map((c) => c.name));
  const specs = factorTableSpecs(src.columns.map((c) => c.name).filter((n) => !keys.has(n)));
  let rows = 0;
  let ms = 0;
  for (let g = 0; g < src.numRowGroups; g++) {
    const ipc = pq.readParquet(bytes, { rowGroups: [g], batchSize: READ_BATCH_SIZE }).intoIPCStream();
    const wasmTable = pq.Table.fromIPCStream(ipc);
    // the replay writer's properties (parquet-writer-worker.ts via ParquetStreamWriter and FactorTableSink)
    const props = writerProperties(specs, { compression: 'snappy', dictionary: 'strings', rowGroupSize: src.rowGroupRows[g], statisticsColumns: [...keys] });
    const t = performance.now();
    const n = src.rowGroupRows[g];
    pq.writeParquet(wasmTable, props);
    ms += performance.now() - t;
    rows += n;
  }
  const seconds = ms / 1000;
  return { phase: 'encode', events: rows, rows, seconds, perSec: rows / seconds, maxRssMb: process.resourceUsage().maxRSS / 1024 };
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
  /** The second peer: parquet-wasm encoding the replay's factor table alone (absent in older results). */
  encode?: PhaseResult;
  /** The same replay writing Arrow IPC instead of Parquet (absent unless asked for). */
  replayArrow?: PhaseResult;
  /**
   * merge events/s ÷ raw rows/s, replay events/s ÷ raw rows/s; replayRowsVsEncode: the replay's
   * output rows/s ÷ the encode peer's rows/s (how close the whole replay is to its writer's ceiling)
   */
  ratios: { mergeVsRaw: number; replayVsRaw: number; replayRowsVsEncode?: number; replayArrowVsRaw?: number };
}

export async function benchReplay(opts: { preset: 'tiny' | 'day' | 'big'; dir: string; json?: string; repeat?: number; arrow?: boolean }): Promise<ReplayBenchResult> {
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
  const results: Record<Phase, PhaseResult[]> = { raw: [], merge: [], replay: [], encode: [], 'replay-arrow': [] };
  const phases: Phase[] = ['raw', 'merge', 'replay', 'encode', ...(opts.arrow ? (['replay-arrow'] as const) : [])];
  for (let r = 0; r < repeat; r++) {
    for (const phase of phases) {
      const child = spawnSync(process.execPath, [join(HERE, FROM_SOURCE ? '..' : '../..', 'bin/lockstep.js'), 'bench-phase', phase, '--catalog', catalog, '--out', join(dir, 'replay-out.parquet')], { encoding: 'utf8' });
      if (child.status !== 0) throw new Error(`bench phase ${phase} failed: ${child.stderr}`);
      const res = JSON.parse(child.stdout.trim().split('\n').pop()!) as PhaseResult;
      results[phase].push(res);
      console.log(`  run ${r + 1}/${repeat} ${phase.padEnd(12)} ${(res.perSec / 1e6).toFixed(2)} M/s  (${res.events.toLocaleString('en-US')} in ${res.seconds.toFixed(2)} s, peak RSS ${res.maxRssMb.toFixed(0)} MB)`);
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
  const encode = pick('encode');
  const replayArrow = opts.arrow ? pick('replay-arrow') : undefined;
  const out: ReplayBenchResult = {
    preset: opts.preset,
    events: replay.events,
    raw,
    merge,
    replay,
    encode,
    ...(replayArrow ? { replayArrow } : {}),
    ratios: {
      mergeVsRaw: merge.perSec / raw.perSec,
      replayVsRaw: replay.perSec / raw.perSec,
      replayRowsVsEncode: (replay.rows ?? replay.events) / replay.seconds / encode.perSec,
      ...(replayArrow ? { replayArrowVsRaw: replayArrow.perSec / raw.perSec } : {}),
    },
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
    row('read + merge (positions)', r.merge, r.ratios.mergeVsRaw.toFixed(2)),
    row('full replay + Parquet output', r.replay, r.ratios.replayVsRaw.toFixed(2)),
    ...(r.replayArrow ? [row('full replay + Arrow IPC output', r.replayArrow, r.ratios.replayArrowVsRaw!.toFixed(2))] : []),
    ...(r.encode === undefined
      ? []
      : [
          '',
          `the replay wrote ${(r.replay.rows ?? r.replay.events).toLocaleString('en-US')} factor-table rows (${((r.replay.rows ?? r.replay.events) / r.replay.seconds / 1e6).toFixed(2)} M rows/s);`,
          `parquet-wasm alone encodes that table at ${(r.encode.perSec / 1e6).toFixed(2)} M rows/s on one thread (second peer, encode only, same writer properties):`,
          `the whole replay runs at ${r.ratios.replayRowsVsEncode!.toFixed(2)}× its writer's ceiling`,
        ]),
  ].join('\n');
}

export function readBenchJson(path: string): ReplayBenchResult {
  return JSON.parse(readFileSync(path, 'utf8')) as ReplayBenchResult;
}
