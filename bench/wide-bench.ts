/**
 * `lockstep bench wide`: what a 1,000-column factor set (examples/factors-1000.json, parameter
 * sweeps of the built-in families) costs against the default set, and what reading 1,000 features
 * of a symbol costs against Redis's own HMGET, each with its peer measured in the same run.
 *
 * - Fold: full passes of `applyEvent` over the same in-memory events (the `bench factors` day,
 *   merged once, decode and merge not in the figures), each on a fresh fold state, round-robin: the
 *   default set and the wide set, with a no-op sink (the fold alone) and with a sink that copies
 *   every row into a column buffer (what any writer must at least do with 1,000 values a row).
 *   Goal: wide ≤ 5× default ns/event.
 * - Read: latest values of one symbol laid out as a worker writes them (a field per column plus
 *   the packed `_row`) on a private redis-server; `getOnlineFeatures` for all 1,000 features over
 *   the lean connection, against a raw HMGET of the same 1,000 fields, pipelined on the same lean
 *   connection and through ioredis. Goal: client p99 ≤ 2× the raw HMGET's.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MarketEvent } from '../core/events.ts';
import type { AnyFactor } from '../core/factor.ts';
import { applyEvent, createFactorSet, initFold, type FactorSet, type RowSink } from '../core/fold.ts';
import { DEFAULT_FACTORS } from '../core/registry.ts';
import { ensureCatalog, loadEvents, type BenchPreset } from './factor-bench.ts';
import { percentiles } from './live-bench.ts';
import { roundRobin } from './round-robin.ts';

/** The wide set the bench runs (examples/factors-1000.json; the CLI loads it, bench/ may not import cli/). */
export const WIDE_SET_FILE = fileURLToPath(new URL('../examples/factors-1000.json', import.meta.url));

export interface WideFoldFigure {
  set: 'default' | 'wide';
  columns: number;
  sink: 'none' | 'copy';
  /** Median and fastest ns per event over the measured passes. */
  nsPerEvent: number;
  minNsPerEvent: number;
}

export interface WideReadFigure {
  name: string;
  p50Ms: number;
  p99Ms: number;
  n: number;
}

export interface WideBenchResult {
  preset: BenchPreset;
  events: number;
  rows: { default: number; wide: number };
  fold: WideFoldFigure[];
  /** Wide / default median ns per event: with the no-op sink, and with the copying sink. */
  foldRatio: number;
  copyRatio: number;
  reads: WideReadFigure[];
  /** Client p99 / the faster raw HMGET's p99. */
  readRatio: number;
  goals: { foldRatio: number; readRatio: number };
  node: string;
}

const GOALS = { foldRatio: 5, readRatio: 2 };

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** One fold pass on a fresh state; returns the rows emitted (a liveness check). */
function foldPass(set: FactorSet, events: readonly MarketEvent[], sink: RowSink): number {
  const st = initFold();
  for (let i = 0; i < events.length; i++) applyEvent(set, st, events[i], sink);
  return st.stats.rows;
}

/** A sink that copies each row's values into one reused Float64Array column block (NaN for null). */
function copySink(columns: number): RowSink {
  const block = new Float64Array(columns * 1024);
  let row = 0;
  return (_ev, _sym, values) => {
    const base = (row++ & 1023) * columns;
    for (let c = 0; c < columns; c++) {
      const v = values[c];
      block[base + c] = v === null ? NaN : v;
    }
  };
}

/** Fold figures: default vs wide set, no-op vs copying sink, round-robin over `runs` rounds. */
export function measureFold(events: readonly MarketEvent[], wide: FactorSet, runs: number): { fold: WideFoldFigure[]; rows: { default: number; wide: number } } {
  const def = createFactorSet(DEFAULT_FACTORS);
  const sets = { default: def, wide };
  const noop: RowSink = () => {};
  const rows = { default: foldPass(def, events, noop), wide: foldPass(wide, events, noop) };
  const tasks = (['default', 'wide'] as const).flatMap((name) => {
    const set = sets[name];
    const copy = copySink(set.columns.length);
    return [
      { name: `${name} none`, fn: () => void foldPass(set, events, noop) },
      { name: `${name} copy`, fn: () => void foldPass(set, events, copy) },
    ];
  });
  const ms = roundRobin(tasks, runs, 1);
  const fold: WideFoldFigure[] = (['default', 'wide'] as const).flatMap((name) =>
    (['none', 'copy'] as const).map((sink) => {
      const ns = ms.get(`${name} ${sink}`)!.map((x) => (x * 1e6) / events.length);
      return { set: name, columns: sets[name].columns.length, sink, nsPerEvent: median(ns), minNsPerEvent: Math.min(...ns) };
    }),
  );
  return { fold, rows };
}

async function timeReads(name: string, n: number, warmup: number, fn: () => Promise<unknown>): Promise<WideReadFigure> {
  for (let i = 0; i < warmup; i++) await fn();
  const xs: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    xs.push(performance.now() - t);
  }
  const p = percentiles(xs);
  return { name, p50Ms: p.p50, p99Ms: p.p99, n };
}

/**
 * Read figures on a private redis-server: 1 symbol × every column of `columns`, the client against
 * raw HMGETs of the same fields, interleaved in blocks so load from other work hits all alike.
 */
export async function measureReads(columns: readonly string[], n: number): Promise<WideReadFigure[]> {
  const { RedisHarness } = await import('../live/redis-harness.ts');
  const { getOnlineFeatures } = await import('../live/client.ts');
  const { latestKey, metaKey } = await import('../live/keys.ts');
  const { openRedis } = await import('../live/redis-connect.ts');
  const { RowReader } = await import('../live/row-reader.ts');
  const redis = await RedisHarness.start();
  const keys = { ns: 'benchwide', shards: 4 };
  const r = await openRedis(redis.url, { name: 'bench-wide' });
  const lean = new RowReader(redis.url);
  try {
    // laid out as a worker writes it (live/commit-script.ts): meta fields, a field per column, `_row`
    const at = String(Date.now());
    const vals = columns.map((_, i) => String(100 + i / 7));
    await r.hset(metaKey(keys), 'columns', columns.join(','), 'featureSetVersion', 'x', 'shards', String(keys.shards));
    const fields: string[] = ['_in', '1-0', '_te', '1', '_tr', '1', '_seq', '1', '_src', 'trade', '_at', at, '_fsv', 'x'];
    columns.forEach((c, i) => fields.push(c, vals[i]));
    fields.push('_row', `1|1|1|trade|${at}|x|${vals.join(',')}`);
    const key = latestKey(keys, 'SYM000');
    await r.hset(key, ...fields);
    const q = { symbols: ['SYM000'], features: columns, maxAgeMs: 3_600_000 };
    const check = await getOnlineFeatures(lean, keys, q);
    if (Object.keys(check[0].features).length !== columns.length || check[0].features[columns[columns.length - 1]].status !== 'present') throw new Error('wide bench: the client did not read every feature');
    const tasks: [string, () => Promise<unknown>][] = [
      [`client 1 symbol x ${columns.length} features`, () => getOnlineFeatures(lean, keys, q)],
      [`raw HMGET 1 x ${columns.length} (peer, lean connection)`, () => lean.hmget(key, ...columns)],
      [`raw HMGET 1 x ${columns.length} (peer, ioredis pipeline)`, () => r.pipeline().hmget(key, ...columns).exec()],
    ];
    const blocks = 5;
    const acc = new Map<string, WideReadFigure[]>();
    for (let b = 0; b < blocks; b++) {
      for (const [name, fn] of tasks) {
        const f = await timeReads(name, Math.ceil(n / blocks), b === 0 ? 1000 : 100, fn);
        acc.set(name, [...(acc.get(name) ?? []), f]);
      }
    }
    // per task: the median block's p50 and p99 (a block hit by a burst of load does not decide)
    return tasks.map(([name]) => {
      const fs = acc.get(name)!;
      return { name, p50Ms: median(fs.map((f) => f.p50Ms)), p99Ms: median(fs.map((f) => f.p99Ms)), n: fs.reduce((a, f) => a + f.n, 0) };
    });
  } finally {
    lean.disconnect();
    r.disconnect();
    await redis.stop();
  }
}

/**
 * Runs the wide benchmark with `factors` (the set of WIDE_SET_FILE, as the CLI loads it), prints
 * its table, and writes the result as JSON to `opts.json` when given.
 */
export async function benchWide(opts: { factors: readonly AnyFactor[]; preset: BenchPreset; dir: string; json?: string; events?: number; runs?: number; reads?: number; quiet?: boolean }): Promise<WideBenchResult> {
  const log = opts.quiet ? () => {} : (s: string) => console.log(s);
  const wide = createFactorSet(opts.factors);
  const catalog = await ensureCatalog(resolve(opts.dir), opts.preset, log);
  const { events } = await loadEvents(catalog, opts.events ?? 500_000);
  log(`fold: default set (${DEFAULT_FACTORS.length} factors) vs ${WIDE_SET_FILE} (${wide.columns.length} columns) over ${events.length.toLocaleString('en-US')} events, ${opts.runs ?? 5} rounds`);
  const { fold, rows } = measureFold(events, wide, Math.max(3, opts.runs ?? 5));
  const at = (set: string, sink: string) => fold.find((f) => f.set === set && f.sink === sink)!.nsPerEvent;
  log(`reads: 1 symbol x ${wide.columns.length} features on a private redis-server`);
  const reads = await measureReads(wide.columns, opts.reads ?? 10_000);
  const readRatio = reads[0].p99Ms / Math.min(reads[1].p99Ms, reads[2].p99Ms);
  const result: WideBenchResult = {
    preset: opts.preset,
    events: events.length,
    rows,
    fold,
    foldRatio: at('wide', 'none') / at('default', 'none'),
    copyRatio: at('wide', 'copy') / at('default', 'copy'),
    reads,
    readRatio,
    goals: GOALS,
    node: process.version,
  };
  log(formatWide(result));
  if (opts.json) writeFileSync(opts.json, JSON.stringify(result, null, 2));
  return result;
}

/** The result as a table with the ratios against their goals. */
export function formatWide(r: WideBenchResult): string {
  const f = (x: number, d = 0) => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  const lines = [`fold, ${f(r.events)} events (rows: default ${f(r.rows.default)}, wide ${f(r.rows.wide)})`, '  set       columns  sink   ns/event (median)  min'];
  for (const x of r.fold) lines.push(`  ${x.set.padEnd(8)}  ${String(x.columns).padStart(7)}  ${x.sink.padEnd(5)}  ${f(x.nsPerEvent).padStart(17)}  ${f(x.minNsPerEvent)}`);
  const ok = (v: number, goal: number) => (v <= goal ? 'meets' : 'MISSES');
  lines.push(`  wide / default: ${f(r.foldRatio, 2)}x with no sink, ${f(r.copyRatio, 2)}x copying rows (goal <= ${r.goals.foldRatio}x: ${ok(r.foldRatio, r.goals.foldRatio)})`);
  lines.push('reads', '  what                                              p50 ms   p99 ms');
  for (const x of r.reads) lines.push(`  ${x.name.padEnd(48)}  ${f(x.p50Ms, 3).padStart(6)}  ${f(x.p99Ms, 3).padStart(7)}`);
  lines.push(`  client p99 / faster raw HMGET p99: ${f(r.readRatio, 2)}x (goal <= ${r.goals.readRatio}x: ${ok(r.readRatio, r.goals.readRatio)})`);
  return lines.join('\n');
}
