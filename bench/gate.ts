/**
 * `lockstep bench --gate [--quick]`: the release gate. Runs the replay, live and factor
 * benchmarks, checks each top-level figure against `bench/budgets.json` and the committed
 * `bench/baseline.json` (see gate-check.ts for the margins), prints a markdown table, writes JSON
 * and returns exit status 1 on any breach.
 *
 * Modes:
 *  - full:  the benchmarks as `lockstep bench replay|live|factors` run them on the day preset
 *           (50 symbols, ~5 M events): replay ×3, live at 10k and 50k events/s for 10 s each,
 *           factors over the first 2 M events.
 *  - quick: for CI: a 10-symbol cut of the day preset (~1 M events, same generator and seed),
 *           replay ×3, live at 5k events/s for 5 s and a 100k-event backlog, factors over the
 *           first 200k events. About three minutes on 2 cores. Its figures are not comparable
 *           with full mode's (smaller data means start-up weighs more), hence budgets and
 *           baselines per mode.
 *
 * Both modes then run the training-set benchmark (a build every:1s with forward labels ÷ the
 * replay of the same dates; quick: 2 dates of the day preset cut to 10 symbols, ~2.1 M events;
 * full: the 5 dates `lockstep bench training-set --preset day` runs, ~25 M events) and the
 * historical-features one (historicalFeatures ÷ DuckDB's ASOF JOIN on the replay's factor table of
 * the mode's day: quick 200k entity rows against ~1.1 M factor rows, full 1 M against ~5.5 M).
 * Quick mode adds about a minute for the two, generating their data included. Last, the report
 * benchmark (bench/report-bench.ts): `lockstep report` on the mode's day replayed into a factor
 * table (quick ~1.1 M rows, full 5.47 M), against a raw decode of that table, and the page opened
 * in headless Chromium (about a minute and a half in quick mode on a loaded 2-core VM).
 *
 * Benchmarks run replay (child processes), then live (while this process's heap is still small:
 * GC pauses would be measured as read latency), then factors (holds its events in memory), then
 * training set (in process) and historical features (child processes).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, platform } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../core/errors.ts';
import type { AnyFactor } from '../core/factor.ts';
import { evaluateGate, gateExitCode, gateSummary, parseBaseline, parseBudgets, renderGateTable, updatedBaseline, type Baseline, type Budgets, type GateMode, type GateReport, type MachineInfo } from './gate-check.ts';
import { extractFigures, type BenchResults } from './gate-figures.ts';

const HERE = fileURLToPath(new URL('.', import.meta.url));
export const DEFAULT_BUDGETS = join(HERE, 'budgets.json');
export const DEFAULT_BASELINE = join(HERE, 'baseline.json');

const BENCH_DATE = '2024-03-15';
/** Quick mode's data: the day preset's generator and seed, cut to this many symbols. */
const QUICK_SYMBOLS = 10;
const QUICK_SEED = 42;

export interface GateOptions {
  quick: boolean;
  /** Working directory for generated data (quick mode uses `<dir>/quick`). */
  dir: string;
  /** Where to write the JSON report (default `<dir>/gate.json`). */
  json?: string;
  budgets?: string;
  baseline?: string;
  /** Write this run's figures as the mode's baseline (refused when a figure is over budget). */
  updateBaseline?: boolean;
  log?: (s: string) => void;
  /**
   * The 1,000-column factor set of examples/factors-1000.json, as the CLI loads it (bench/ may not
   * import cli/); without it the wide step is skipped and its gated figures breach as not measured.
   */
  wideFactors?: readonly AnyFactor[];
  /**
   * Run only these benchmarks (a partial gate, for the spread study and the slowdown check, where
   * a full quick gate on a loaded machine takes half an hour): the figures of the others are not
   * judged (shown as info), so a partial pass is never a release verdict. Default: all.
   */
  only?: readonly GateBench[];
}

/** The gate's benchmarks, as `--only` names them; each figure id starts with its benchmark's. */
export const GATE_BENCHES = ['replay', 'live', 'factors', 'wide', 'training', 'historical', 'report'] as const;
export type GateBench = (typeof GATE_BENCHES)[number];

/** Budgets with the figures of benchmarks not in `only` removed (they then show as info, unjudged). */
export function budgetsFor(b: Budgets, only: readonly GateBench[] | undefined): Budgets {
  if (!only) return b;
  const keep = (id: string) => (only as readonly string[]).includes(id.split('.')[0]);
  const modes = Object.fromEntries(Object.entries(b.modes).map(([m, mb]) => [m, { ...mb, figures: Object.fromEntries(Object.entries(mb.figures).filter(([id]) => keep(id))) }])) as Budgets['modes'];
  return { ...b, modes };
}

export interface GateRun {
  report: GateReport;
  exitCode: 0 | 1;
  /** The JSON written to `json`. */
  output: GateOutput;
}

export interface GateOutput extends GateReport {
  summary: string;
  startedAt: string;
  wallSeconds: number;
  stepSeconds: Record<string, number>;
  machine: MachineInfo;
  settings: Record<string, unknown>;
  /**
   * 1-minute load average at the start and the end of the run: at ~30 on 2 cores (other work)
   * unchanged code breached 17 of 30 figures; read a verdict with it.
   */
  loadAverage: { start: number; end: number };
  /** Benchmarks that threw, with the message (their figures are unmeasured: breaches). */
  failedSteps?: Record<string, string>;
  /** The benchmarks run when partial (`--only`); absent for the whole gate. */
  only?: readonly GateBench[];
  budgetsFile: string;
  baselineFile: string;
  baselineRecordedAt: string | null;
  baselineUpdated: boolean;
  results: BenchResults;
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UsageError(`cannot read ${path}: ${(e as Error).message}`);
  }
}

export function machineInfo(): MachineInfo {
  return { node: process.version, cpu: cpus()[0]?.model ?? 'unknown', cores: availableParallelism(), platform: platform() };
}

/** The quick mode's catalog, generated once into the layout the benchmarks expect (`<dir>/catalog-day/.complete`). */
async function ensureQuickCatalog(dir: string, log: (s: string) => void): Promise<number> {
  const catalog = join(dir, 'catalog-day');
  const marker = join(catalog, '.complete');
  if (existsSync(marker)) {
    const m = JSON.parse(readFileSync(marker, 'utf8')) as { events: number; symbols?: number; seed?: number };
    if (m.symbols === QUICK_SYMBOLS && m.seed === QUICK_SEED) return m.events;
  }
  // anything else there (a 50-symbol day, a half-written one) is not the quick data; the
  // historical benchmark's factor table and entities were made from it (bench/historical-bench.ts)
  rmSync(catalog, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const f of readdirSync(dir, { withFileTypes: true }).filter((e) => e.isFile() && e.name.startsWith('historical-'))) rmSync(join(dir, f.name), { force: true });
  const { generateDay } = await import('../datasets/generate.ts');
  log(`generating the quick catalog (day preset, ${QUICK_SYMBOLS} symbols, seed ${QUICK_SEED}) into ${catalog} (once)`);
  const g = await generateDay({ date: BENCH_DATE, symbols: QUICK_SYMBOLS, seed: QUICK_SEED, preset: 'day', out: catalog, partBy: { buckets: 4 } });
  writeFileSync(marker, JSON.stringify({ events: g.total, symbols: QUICK_SYMBOLS, seed: QUICK_SEED }));
  return g.total;
}

/** Runs the benchmarks of the mode, checks the figures and writes the report; never calls process.exit. */
export async function runGate(opts: GateOptions): Promise<GateRun> {
  const log = opts.log ?? ((s: string) => console.log(s));
  const mode: GateMode = opts.quick ? 'quick' : 'full';
  const budgetsFile = resolve(opts.budgets ?? DEFAULT_BUDGETS);
  const baselineFile = resolve(opts.baseline ?? DEFAULT_BASELINE);
  // both files are checked before minutes of benchmarking, so a typo fails at once
  if (opts.only && opts.updateBaseline) throw new UsageError('--update-baseline needs the whole gate: drop --only');
  const budgets = budgetsFor(parseBudgets(readJson(budgetsFile), budgetsFile), opts.only);
  const runs = (b: GateBench) => !opts.only || opts.only.includes(b);
  let baseline: Baseline = { modes: {} };
  if (existsSync(baselineFile)) baseline = parseBaseline(readJson(baselineFile), baselineFile);
  else if (!opts.updateBaseline) throw new UsageError(`no baseline at ${baselineFile}; record one with --update-baseline`);

  const root = resolve(opts.dir);
  const dir = opts.quick ? join(root, 'quick') : root;
  const jsonPath = resolve(opts.json ?? join(root, 'gate.json'));
  const startedAt = new Date().toISOString();
  const loadStart = loadavg()[0];
  const t0 = performance.now();
  const steps: Record<string, number> = {};
  const failed: Record<string, string> = {};
  // a benchmark that throws (a 1,000-field read timing out at load 30 did) leaves its figures
  // unmeasured, which breaches them, and the rest of the gate still runs and is recorded
  const step = async <T>(name: string, fn: () => Promise<T>): Promise<T | undefined> => {
    const t = performance.now();
    log(`\n== gate (${mode}): ${name}`);
    let r: T | undefined;
    try {
      r = await fn();
    } catch (e) {
      failed[name] = (e as Error).message;
      log(`== gate (${mode}): ${name} FAILED: ${(e as Error).message}`);
    }
    steps[name] = (performance.now() - t) / 1000;
    log(`== gate (${mode}): ${name} took ${steps[name].toFixed(1)} s`);
    return r;
  };

  const settings = opts.quick
    ? { data: `day preset, ${QUICK_SYMBOLS} symbols, seed ${QUICK_SEED}`, replay: { repeat: 3 }, live: { seconds: 5, rates: [5_000], drainEvents: 100_000 }, factors: { events: 200_000 }, wide: { events: 200_000, runs: 5, reads: 5_000 }, trainingSet: { preset: 'day' as const, symbols: QUICK_SYMBOLS, days: 2 }, historical: { entities: 200_000 }, report: { repeat: 3, opens: 5 } }
    : { data: 'day preset, 50 symbols, seed 42', replay: { repeat: 3 }, live: { seconds: 10, rates: [10_000, 50_000], drainEvents: 300_000 }, factors: { events: 2_000_000 }, wide: { events: 500_000, runs: 5, reads: 10_000 }, trainingSet: { preset: 'day' as const, symbols: 50, days: 5 }, historical: { entities: 1_000_000 }, report: { repeat: 3, opens: 5 } };
  if (opts.quick) await step('data', () => ensureQuickCatalog(dir, log));

  const { benchReplay } = await import('./replay-bench.ts');
  const { benchLive } = await import('./live-bench.ts');
  const { benchFactors } = await import('./factor-bench.ts');
  const { benchTrainingSet } = await import('./training-set-bench.ts');
  const { benchHistorical } = await import('./historical-bench.ts');
  const { benchWide } = await import('./wide-bench.ts');
  const { benchReport } = await import('./report-bench.ts');
  const results: BenchResults = {};
  // arrow: the same replay writing Arrow IPC, a phase of its own beside the Parquet one
  if (runs('replay')) results.replay = await step('replay', () => benchReplay({ preset: 'day', dir, repeat: settings.replay.repeat, arrow: true }));
  if (runs('live')) results.live = await step('live', () => benchLive({ dir, seconds: settings.live.seconds, rates: settings.live.rates, drainEvents: settings.live.drainEvents }));
  if (runs('factors')) results.factors = await step('factors', () => benchFactors({ preset: 'day', dir, events: settings.factors.events }));
  const wideFactors = opts.wideFactors;
  if (runs('wide')) {
    if (wideFactors) results.wide = await step('wide (1,000 factors)', () => benchWide({ factors: wideFactors, preset: 'day', dir, ...settings.wide }));
    else log('\n== gate: no wide factor set given: the 1,000-factor figures are not measured');
  }
  if (runs('training')) results.trainingSet = await step('training set', () => benchTrainingSet({ dir, ...settings.trainingSet }));
  if (runs('historical')) results.historical = await step('historical features', () => benchHistorical({ dir, entities: settings.historical.entities }));
  // the mode's day replayed once into its own factor table, reported by the CLI and opened in Chromium
  if (runs('report')) results.report = await step('report', () => benchReport({ preset: 'day', dir, ...settings.report }));

  const values = extractFigures(results);
  const report = evaluateGate(mode, values, budgets, baseline);
  let exitCode = gateExitCode(report);
  let baselineUpdated = false;
  if (opts.updateBaseline) {
    // a deliberate update accepts a move against the old baseline, never a figure over budget
    const againstBudgets = evaluateGate(mode, values, budgets, { modes: {} });
    exitCode = gateExitCode(againstBudgets);
    if (exitCode === 0) {
      writeFileSync(baselineFile, `${JSON.stringify(updatedBaseline(baseline, mode, values, startedAt, machineInfo()), null, 2)}\n`);
      baselineUpdated = true;
    }
  }
  const wallSeconds = (performance.now() - t0) / 1000;
  const summary = `${opts.only ? `PARTIAL (only ${opts.only.join(', ')}): ` : ''}${gateSummary(report)}`;
  const output: GateOutput = {
    ...report,
    summary,
    startedAt,
    wallSeconds,
    loadAverage: { start: loadStart, end: loadavg()[0] },
    stepSeconds: steps,
    machine: machineInfo(),
    settings,
    ...(opts.only ? { only: opts.only } : {}),
    ...(Object.keys(failed).length ? { failedSteps: failed } : {}),
    budgetsFile,
    baselineFile,
    baselineRecordedAt: baseline.modes[mode]?.recordedAt ?? null,
    baselineUpdated,
    results,
  };
  mkdirSync(dirname(jsonPath), { recursive: true });
  writeFileSync(jsonPath, JSON.stringify(output, null, 2));

  const base = baseline.modes[mode];
  log(`\n## release gate (${mode}): ${settings.data}; live at ${settings.live.rates.map((x) => `${x / 1000}k`).join(' and ')} events/s for ${settings.live.seconds} s`);
  log(`baseline: ${base ? `${base.recordedAt} on ${base.machine.cpu} (${base.machine.cores} cores, node ${base.machine.node})` : 'none for this mode'}; budgets: ${budgetsFile}`);
  log(`margin: a figure breaches when it is worse than its budget or its baseline by more than the margin (ratio column = value ÷ baseline; "machine × s": that baseline is checked scaled by its same-run peer\'s speed now ÷ at baseline)\n`);
  log(renderGateTable(report));
  log('');
  if (opts.updateBaseline) log(baselineUpdated ? `baseline for ${mode} written to ${baselineFile}` : `baseline NOT written: a figure is over budget`);
  for (const [name, msg] of Object.entries(failed)) log(`benchmark ${name} failed: ${msg}`);
  log(`${summary}; ${wallSeconds.toFixed(0)} s; load average ${output.loadAverage.start.toFixed(1)} → ${output.loadAverage.end.toFixed(1)} on ${availableParallelism()} cores; JSON ${jsonPath}`);
  return { report, exitCode, output };
}
