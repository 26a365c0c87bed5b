/**
 * `lockstep bench gate-slowdown [--slow ema|rsi|macd|fold|kernels|both]`: the other side of the gate's spread (see
 * gate-spread.ts): a deliberate 2× slowdown must breach it. The production code has no slowdown
 * switch; this copies the repository (tracked and new files of the working tree, node_modules
 * linked) into a temp dir, patches one file of the copy to do its work twice, runs the quick gate
 * there against this checkout's budgets and baseline, and expects a breach.
 *
 * - ema:  core/kernels/ewm.ts `emaPush` also pushes every input into a shadow EMA(12) first: the
 *         kernel's arithmetic and state writes twice per update, its result unchanged.
 * - rsi:  core/kernels/rsi.ts `rsiPush` likewise through a shadow RSI(14).
 * - macd: core/kernels/macd.ts `macdPush` likewise through a shadow MACD(12,26,9).
 * - fold: core/fold.ts `applyEvent` also folds every event into a shadow fold state (same factor
 *         set, rows discarded) first: the whole fold and all its factors twice per event, outputs
 *         unchanged (replay, live, factors and training set all fold through it).
 *
 * Each run's JSON is kept in `--dir`; every run found there is judged again against the current
 * budgets and baseline (`--runs 0` only judges), so margins can be retuned without rerunning.
 * Exit 0 when the gate breached in every slowed run (it catches the slowdown), 1 when one passed.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../core/errors.ts';
import { evaluateGate, fmtValue, parseBaseline, parseBudgets } from './gate-check.ts';
import { extractFigures, type BenchResults } from './gate-figures.ts';
import { budgetsFor, type GateBench } from './gate.ts';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

export type Slowdown = 'ema' | 'rsi' | 'macd' | 'fold';

interface Patch {
  file: string;
  /** What the declaration to wrap looks like today; the patch refuses to run when it is gone. */
  find: RegExp;
  replace: string;
  append: string;
  /** The figures this slowdown should move first (printed beside the verdict). */
  expect: string[];
}

export const PATCHES: Record<Slowdown, Patch> = {
  ema: {
    file: 'core/kernels/ewm.ts',
    find: /export function emaPush\(s: Ema, x: number\): void \{/,
    replace: 'function emaPushOnce(s: Ema, x: number): void {',
    append: [
      '',
      '// gate-slowdown: the kernel does its work twice (a shadow EMA takes every input first)',
      'const slowdownShadow = initEma(12);',
      'export function emaPush(s: Ema, x: number): void {',
      '  emaPushOnce(slowdownShadow, x);',
      '  emaPushOnce(s, x);',
      '}',
      '',
    ].join('\n'),
    expect: ['factors.ema_interp_ratio', 'factors.ema_ratio', 'factors.macd_ratio'],
  },
  rsi: {
    file: 'core/kernels/rsi.ts',
    find: /export function rsiPush\(s: Rsi, close: number\): void \{/,
    replace: 'function rsiPushOnce(s: Rsi, close: number): void {',
    append: [
      '',
      '// gate-slowdown: the kernel does its work twice (a shadow RSI takes every input first)',
      'const slowdownShadow = initRsi(14);',
      'export function rsiPush(s: Rsi, close: number): void {',
      '  rsiPushOnce(slowdownShadow, close);',
      '  rsiPushOnce(s, close);',
      '}',
      '',
    ].join('\n'),
    expect: ['factors.rsi_interp_ratio', 'factors.rsi_ratio'],
  },
  macd: {
    file: 'core/kernels/macd.ts',
    find: /export function macdPush\(s: Macd, x: number\): void \{/,
    replace: 'function macdPushOnce(s: Macd, x: number): void {',
    append: [
      '',
      '// gate-slowdown: the kernel does its work twice (a shadow MACD takes every input first)',
      'const slowdownShadow = initMacd(12, 26, 9);',
      'export function macdPush(s: Macd, x: number): void {',
      '  macdPushOnce(slowdownShadow, x);',
      '  macdPushOnce(s, x);',
      '}',
      '',
    ].join('\n'),
    expect: ['factors.macd_interp_ratio', 'factors.macd_ratio'],
  },
  fold: {
    file: 'core/fold.ts',
    find: /export function applyEvent\(set: FactorSet, st: FoldState, ev: MarketEvent, sink: RowSink\): SeqVerdict \{/,
    replace: 'function applyEventOnce(set: FactorSet, st: FoldState, ev: MarketEvent, sink: RowSink): SeqVerdict {',
    append: [
      '',
      '// gate-slowdown: the fold does its work twice (a shadow state folds every event first)',
      'const slowdownShadows = new WeakMap<FoldState, FoldState>();',
      'const slowdownNoRows: RowSink = () => {};',
      'export function applyEvent(set: FactorSet, st: FoldState, ev: MarketEvent, sink: RowSink): SeqVerdict {',
      '  let shadow = slowdownShadows.get(st);',
      '  if (shadow === undefined) {',
      '    shadow = initFold();',
      '    slowdownShadows.set(st, shadow);',
      '  }',
      '  applyEventOnce(set, shadow, ev, slowdownNoRows);',
      '  return applyEventOnce(set, st, ev, sink);',
      '}',
      '',
    ].join('\n'),
    expect: ['factors.whole_set_vs_peer', 'factors.fold_vs_peer', 'factors.whole_set_ns', 'factors.fold_ns', 'replay.replay_vs_raw', 'wide.fold_ns'],
  },
};

/** Copies the working tree's tracked and new (not ignored) files to `dest`, node_modules linked. */
export function copyRepo(dest: string): void {
  const ls = spawnSync('git', ['-C', ROOT, 'ls-files', '-z', '--cached', '--others', '--exclude-standard'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (ls.status !== 0) throw new Error(`git ls-files failed in ${ROOT}: ${ls.stderr}`);
  for (const f of ls.stdout.split('\0').filter(Boolean)) {
    const from = join(ROOT, f);
    if (!existsSync(from)) continue; // deleted in the working tree
    mkdirSync(dirname(join(dest, f)), { recursive: true });
    cpSync(from, join(dest, f), { dereference: false });
  }
  symlinkSync(realpathSync(join(ROOT, 'node_modules')), join(dest, 'node_modules'));
}

/** Applies a slowdown to the copy at `dest`; throws when the declaration it wraps is not there. */
export function applyPatch(dest: string, which: Slowdown): void {
  const p = PATCHES[which];
  const file = join(dest, p.file);
  const src = readFileSync(file, 'utf8');
  if (src.includes('// gate-slowdown:')) throw new Error(`gate-slowdown ${which}: ${p.file} is already patched`);
  if (!p.find.test(src)) throw new Error(`gate-slowdown ${which}: ${p.file} no longer declares ${p.find.source}; update bench/gate-slowdown.ts`);
  writeFileSync(file, src.replace(p.find, p.replace) + p.append);
}

export interface SlowdownOptions {
  slow: string;
  runs: number;
  dir: string;
  budgets?: string;
  baseline?: string;
  /** `--only` for each gate run (a partial gate: e.g. factors,wide). */
  only?: string;
  log?: (s: string) => void;
}

export interface SlowdownRun {
  slow: Slowdown;
  /** Figures that breached, judged against the current budgets and baseline. */
  breaches: string[];
  /** The figures the slowdown should move first, each with its value, limit and verdict. */
  expected: string[];
  json: string;
}

/** Judges every `<dir>/(ema|rsi|macd|fold)-*.json` gate output against the budgets and baseline given. */
export function judgeSlowdownRuns(dir: string, budgetsFile: string, baselineFile: string): SlowdownRun[] {
  const budgets = parseBudgets(JSON.parse(readFileSync(budgetsFile, 'utf8')), budgetsFile);
  const baseline = parseBaseline(JSON.parse(readFileSync(baselineFile, 'utf8')), baselineFile);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /^(ema|rsi|macd|fold)-.*\.json$/.test(f))
    .sort()
    .map((f) => {
      const slow = f.split('-')[0] as Slowdown;
      const out = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { results: BenchResults; only?: GateBench[] };
      const report = evaluateGate('quick', extractFigures(out.results), budgetsFor(budgets, out.only), baseline);
      const fig = (id: string) => report.figures.find((x) => x.id === id)!;
      return {
        slow,
        json: join(dir, f),
        breaches: report.figures.filter((x) => x.verdict === 'breach').map((x) => x.id),
        expected: PATCHES[slow].expect.filter((id) => fig(id).verdict !== 'info').map((id) => {
          const c = fig(id);
          return `${id} ${fmtValue(c.value, c.unit)} (limit ${fmtValue(c.baselineLimit ?? c.budgetLimit, c.unit)}): ${c.verdict}`;
        }),
      };
    });
}

/** Runs the quick gate on each patched copy, then judges every slowed run in dir; exitCode 0 when all breached. */
export async function runSlowdown(opts: SlowdownOptions): Promise<{ runs: SlowdownRun[]; exitCode: 0 | 1 }> {
  const log = opts.log ?? ((s: string) => console.log(s));
  const which: Slowdown[] = opts.slow === 'both' ? ['ema', 'fold'] : opts.slow === 'kernels' ? ['ema', 'rsi', 'macd'] : Object.hasOwn(PATCHES, opts.slow) ? [opts.slow as Slowdown] : [];
  if (which.length === 0) throw new UsageError(`--slow ${JSON.stringify(opts.slow)}: use ema, rsi, macd, fold, kernels (ema, rsi and macd) or both (ema and fold)`);
  if (!Number.isInteger(opts.runs) || opts.runs < 0) throw new UsageError(`--runs ${opts.runs}: give a whole number ≥ 0 (0 judges the runs already in --dir)`);
  const dir = resolve(opts.dir);
  mkdirSync(dir, { recursive: true });
  const budgets = resolve(opts.budgets ?? join(ROOT, 'bench/budgets.json'));
  const baseline = resolve(opts.baseline ?? join(ROOT, 'bench/baseline.json'));
  for (const slow of opts.runs === 0 ? [] : which) {
    const copy = mkdtempSync(join(tmpdir(), `lockstep-slow-${slow}-`));
    try {
      copyRepo(copy);
      applyPatch(copy, slow);
      log(`gate-slowdown: ${slow}: patched ${PATCHES[slow].file} in ${copy} to do its work twice`);
      for (let i = 0; i < opts.runs; i++) {
        const json = join(dir, `${slow}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
        // the copy's own CLI (its patched core), this checkout's budgets and baseline; data in dir
        const child = spawnSync(process.execPath, [join(copy, 'bin/lockstep.js'), 'bench', '--gate', '--quick', '--dir', join(dir, 'work'), '--json', json, '--budgets', budgets, '--baseline', baseline, ...(opts.only ? ['--only', opts.only] : [])], { cwd: copy, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
        writeFileSync(json.replace(/\.json$/, '.log'), `${child.stdout ?? ''}\n${child.stderr ?? ''}`);
        if (!existsSync(json)) throw new Error(`gate-slowdown ${slow}: the gate wrote no JSON (exit ${child.status}): see ${json.replace(/\.json$/, '.log')}`);
        log(`gate-slowdown: ${slow} run ${i + 1}/${opts.runs}: gate exit ${child.status}: ${(child.stdout ?? '').trim().split('\n').pop()}`);
      }
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  }
  const runs = judgeSlowdownRuns(dir, budgets, baseline).filter((r) => which.includes(r.slow));
  if (runs.length === 0) throw new UsageError(`no slowed gate runs in ${dir}: give --runs N`);
  for (const r of runs) {
    log(`${r.slow} (${r.json}): ${r.breaches.length ? `BREACH on ${r.breaches.join(', ')}` : 'PASS (not caught)'}`);
    for (const e of r.expected) log(`  ${e}`);
  }
  const missed = runs.filter((r) => r.breaches.length === 0);
  log(missed.length === 0 ? `gate-slowdown: the gate breached in all ${runs.length} slowed runs` : `gate-slowdown: the gate PASSED ${missed.length} of ${runs.length} slowed runs (${missed.map((r) => r.slow).join(', ')}): it would not catch that slowdown`);
  return { runs, exitCode: missed.length === 0 ? 0 : 1 };
}
