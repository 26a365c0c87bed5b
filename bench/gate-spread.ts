/**
 * `lockstep bench gate-spread --runs N`: how much each gated figure moves on unchanged code.
 * Runs the quick gate N times, each in its own process as CI runs it (`lockstep bench --gate
 * --quick`), keeps every run's JSON under `<dir>/runs/`, then judges all the runs found there
 * against the current budgets and baseline and prints, per gated figure: min / median / max, the
 * spread (max ÷ min, as the gate checks it: a machine-scaled figure is first divided by its
 * peer's speed), the limit, how many runs pass, and how many would still breach if the figure were
 * 2× worse (whether the margin can catch a 2× slowdown at all).
 *
 * The runs are kept so that margins and baselines can be tuned against them without rerunning
 * (`--runs 0` only judges what is there); the load average beside each run is what the machine
 * was doing meanwhile (other sessions' tests), which is also what CI sees.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../core/errors.ts';
import { evaluateGate, fmtValue, parseBaseline, parseBudgets, worseBy, type Baseline, type Budgets, type GateMode } from './gate-check.ts';
import { extractFigures, FIGURES, type BenchResults, type Better } from './gate-figures.ts';
import { budgetsFor, type GateBench } from './gate.ts';

const HERE = fileURLToPath(new URL('.', import.meta.url));

/** One gate run as the spread reads it: its figures and the machine's load around it. */
export interface SpreadRun {
  name: string;
  values: Record<string, number | null>;
  wallSeconds: number | null;
  /** 1-minute load average when the run started and when it ended (null when not recorded). */
  loadBefore: number | null;
  loadAfter: number | null;
  /** A partial gate's benchmarks (`--only`); its other figures are not counted. */
  only?: readonly GateBench[];
}

export interface FigureSpread {
  id: string;
  name: string;
  unit: string;
  better: Better;
  /** Runs that measured the figure. */
  n: number;
  min: number;
  median: number;
  max: number;
  /**
   * max ÷ min of the figure as the gate checks it: divided (higher is better) or multiplied
   * (lower) by its peer's machine scale when it has one, so it is the spread the margin must hold.
   */
  checkedSpread: number;
  margin: number;
  /** The budget moved by the margin (null: no budget), and the range of baseline limits over runs. */
  budgetLimit: number | null;
  baselineLimits: [number, number] | null;
  /** Runs in which the figure passed, of `n`. */
  passes: number;
  /** Runs in which the figure made 2× worse would have breached, of `n` (the margin catches a 2× move). */
  caught2x: number;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** `value` made `k` times worse in the figure's direction. */
export const worsened = (value: number, k: number, better: Better): number => (better === 'lower' ? value * k : value / k);

/** The per-figure spread of `runs`, judged against `budgets` and `baseline` in `mode` (gated figures only). */
export function spreadOf(runs: readonly SpreadRun[], budgets: Budgets, baseline: Baseline, mode: GateMode): FigureSpread[] {
  const reports = runs.map((r) => evaluateGate(mode, r.values, budgetsFor(budgets, r.only), baseline));
  const out: FigureSpread[] = [];
  for (const spec of FIGURES) {
    const checks = reports.map((rep) => rep.figures.find((f) => f.id === spec.id)!).filter((c) => c.verdict !== 'info');
    if (checks.length === 0) continue;
    const measured = checks.filter((c) => c.value !== null && Number.isFinite(c.value));
    const vals = measured.map((c) => c.value!);
    const checked = measured.map((c) => (c.machineScale === null ? c.value! : spec.better === 'higher' ? c.value! / c.machineScale : c.value! * c.machineScale));
    const limits = measured.map((c) => c.baselineLimit).filter((x): x is number => x !== null);
    let caught2x = 0;
    for (let i = 0; i < measured.length; i++) {
      const c = measured[i];
      const v2 = worsened(c.value!, 2, spec.better);
      const overBudget = c.budgetLimit !== null && worseBy(v2, c.budgetLimit, spec.better) > 1;
      const overBaseline = c.baselineLimit !== null && worseBy(v2, c.baselineLimit, spec.better) > 1;
      if (overBudget || overBaseline) caught2x++;
    }
    out.push({
      id: spec.id,
      name: spec.name,
      unit: spec.unit,
      better: spec.better,
      n: checks.length,
      min: vals.length ? Math.min(...vals) : NaN,
      median: vals.length ? median(vals) : NaN,
      max: vals.length ? Math.max(...vals) : NaN,
      checkedSpread: checked.length ? Math.max(...checked) / Math.min(...checked) : NaN,
      margin: checks[0].margin ?? 0,
      budgetLimit: checks[0].budgetLimit,
      baselineLimits: limits.length ? [Math.min(...limits), Math.max(...limits)] : null,
      passes: checks.filter((c) => c.verdict === 'pass').length,
      caught2x,
    });
  }
  return out;
}

/** The spread as a markdown table, with the runs' load averages and wall times above it. */
export function renderSpread(runs: readonly SpreadRun[], spread: readonly FigureSpread[], allPassing: number): string {
  const load = (x: number | null) => (x === null ? '?' : x.toFixed(1));
  const walls = runs.map((r) => r.wallSeconds).filter((x): x is number => x !== null);
  const lines = [
    `${runs.length} quick gate runs on unchanged code${runs.some((r) => r.only) ? ` (partial runs: ${[...new Set(runs.map((r) => r.only?.join('+') ?? 'all'))].join(', ')})` : ''}; wall ${walls.length ? `${Math.round(Math.min(...walls))}-${Math.round(Math.max(...walls))} s (median ${Math.round(median(walls))} s)` : '?'}`,
    `1-min load average (start → end) per run: ${runs.map((r) => `${load(r.loadBefore)}→${load(r.loadAfter)}`).join(', ')}`,
    `every gated figure passed in ${allPassing} of ${runs.length} runs`,
    '',
    '| figure | min | median | max | spread (as checked) | margin | limit: budget / baseline | passes | 2× worse caught |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  const cmp = (b: Better) => (b === 'lower' ? '≤' : '≥');
  for (const f of spread) {
    const base = f.baselineLimits === null ? '—' : f.baselineLimits[0] === f.baselineLimits[1] ? fmtValue(f.baselineLimits[0], f.unit) : `${fmtValue(f.baselineLimits[0], f.unit)}–${fmtValue(f.baselineLimits[1], f.unit)}`;
    const limit = `${cmp(f.better)} ${f.budgetLimit === null ? '—' : fmtValue(f.budgetLimit, f.unit)} / ${base}`;
    const passes = f.passes === f.n ? `${f.passes}/${f.n}` : `**${f.passes}/${f.n}**`;
    lines.push(`| ${f.id} | ${fmtValue(f.min, f.unit)} | ${fmtValue(f.median, f.unit)} | ${fmtValue(f.max, f.unit)} | ${f.checkedSpread.toFixed(2)} | ${Math.round(f.margin * 100)}% | ${limit} | ${passes} | ${f.caught2x}/${f.n} |`);
  }
  return lines.join('\n');
}

/** Runs (of `runs`) in which every gated figure passed. */
export function runsAllPassing(runs: readonly SpreadRun[], budgets: Budgets, baseline: Baseline, mode: GateMode): number {
  return runs.filter((r) => evaluateGate(mode, r.values, budgetsFor(budgets, r.only), baseline).verdict === 'pass').length;
}

/** Reads every `<dir>/runs/*.json` gate output (with its `.meta.json` beside it when present). */
export function readRuns(dir: string): SpreadRun[] {
  const runsDir = join(dir, 'runs');
  if (!existsSync(runsDir)) return [];
  const files = readdirSync(runsDir).filter((f) => f.endsWith('.json') && !f.endsWith('.meta.json')).sort();
  return files.map((f) => {
    const out = JSON.parse(readFileSync(join(runsDir, f), 'utf8')) as { results: BenchResults; wallSeconds?: number; only?: GateBench[] };
    const metaFile = join(runsDir, f.replace(/\.json$/, '.meta.json'));
    const meta = existsSync(metaFile) ? (JSON.parse(readFileSync(metaFile, 'utf8')) as { loadBefore?: number; loadAfter?: number }) : {};
    // figures are extracted again from the stored results, so a figure added since is judged too
    return { name: f, values: extractFigures(out.results), wallSeconds: out.wallSeconds ?? null, loadBefore: meta.loadBefore ?? null, loadAfter: meta.loadAfter ?? null, ...(out.only ? { only: out.only } : {}) };
  });
}

export interface SpreadOptions {
  runs: number;
  dir: string;
  budgets?: string;
  baseline?: string;
  /** `--only` for each gate run (a partial gate: e.g. factors,wide). */
  only?: string;
  log?: (s: string) => void;
}

/** Runs `runs` more quick gates into `<dir>/runs/`, then judges every run there; returns the table. */
export async function runSpread(opts: SpreadOptions): Promise<{ table: string; spread: FigureSpread[]; runs: SpreadRun[] }> {
  if (!Number.isInteger(opts.runs) || opts.runs < 0) throw new UsageError(`--runs ${opts.runs}: give a whole number ≥ 0 (0 judges the runs already in --dir)`);
  const log = opts.log ?? ((s: string) => console.log(s));
  const dir = resolve(opts.dir);
  const budgetsFile = resolve(opts.budgets ?? join(HERE, 'budgets.json'));
  const baselineFile = resolve(opts.baseline ?? join(HERE, 'baseline.json'));
  const budgets = parseBudgets(JSON.parse(readFileSync(budgetsFile, 'utf8')), budgetsFile);
  const baseline = parseBaseline(JSON.parse(readFileSync(baselineFile, 'utf8')), baselineFile);
  const runsDir = join(dir, 'runs');
  mkdirSync(runsDir, { recursive: true });
  const bin = join(HERE, existsSync(join(HERE, '../bin/lockstep.js')) ? '..' : '../..', 'bin/lockstep.js');
  for (let i = 0; i < opts.runs; i++) {
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const json = join(runsDir, `${stamp}.json`);
    const loadBefore = loadavg()[0];
    log(`gate-spread: run ${i + 1}/${opts.runs} (load ${loadBefore.toFixed(1)}) → ${json}`);
    // the data dir is shared by the runs: the quick catalog is generated once
    const child = spawnSync(process.execPath, [bin, 'bench', '--gate', '--quick', '--dir', join(dir, 'work'), '--json', json, '--budgets', budgetsFile, '--baseline', baselineFile, ...(opts.only ? ['--only', opts.only] : [])], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 256 * 1024 * 1024 });
    writeFileSync(join(runsDir, `${stamp}.log`), `${child.stdout ?? ''}\n${child.stderr ?? ''}`);
    if (!existsSync(json)) {
      // a crashed run (not a breach: a breach still writes its JSON) is reported and skipped
      log(`gate-spread: run ${i + 1}/${opts.runs} wrote no JSON (exit ${child.status}): see ${join(runsDir, `${stamp}.log`)}`);
      continue;
    }
    writeFileSync(join(runsDir, `${stamp}.meta.json`), JSON.stringify({ loadBefore, loadAfter: loadavg()[0], exitCode: child.status }));
    log(`gate-spread: run ${i + 1}/${opts.runs}: ${(child.stdout ?? '').trim().split('\n').pop()}`);
  }
  const runs = readRuns(dir);
  if (runs.length === 0) throw new UsageError(`no gate runs in ${runsDir}: give --runs N`);
  const spread = spreadOf(runs, budgets, baseline, 'quick');
  const table = renderSpread(runs, spread, runsAllPassing(runs, budgets, baseline, 'quick'));
  log(table);
  return { table, spread, runs };
}
