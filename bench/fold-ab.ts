/**
 * A/B of the fold against an earlier commit, in one process: `node --import tsx bench/fold-ab.ts
 * <git-ref> [rounds] [kinds] [processes]`, kinds a comma-separated filter (e.g. `book` or
 * `trade,heartbeat`; `all` for every kind) to time one path of the fold alone.
 *
 * On a shared VM the same code measures ±30% from one process to the next, far more than most
 * changes to the fold; alternating the two versions over the same in-memory events, round by
 * round, exposes both to the same machine weather. The ref's `core/` is extracted with `git
 * archive` into out/fold-ab/<ref>/ and imported beside the working tree's; each round runs a pass
 * of each version (whole default set, fresh fold state) and the outputs are checked equal.
 * Prints each side's median ns/event and the median of the per-round new ÷ old ratios.
 *
 * The JIT's inlining decisions differ from one process to the next (which functions fit the
 * budget depends on when each got hot), and the same pair of folds measured 0.96 in one process
 * and 1.07 in the next. With `processes` > 1 the comparison runs in that many child processes, one
 * after the other, and the median of their ratios is printed last.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { MarketEvent } from '../core/events.ts';
import * as current from '../core/fold.ts';
import { DEFAULT_FACTORS } from '../core/registry.ts';
import { EventMerge } from '../replay/merge.ts';
import { openSelection } from '../replay/run-replay.ts';

type FoldModule = typeof current;

const [ref, roundsArg, kindsArg, processesArg] = process.argv.slice(2);
if (!ref) throw new Error('usage: node --import tsx bench/fold-ab.ts <git-ref> [rounds] [kinds] [processes]');
const kinds = kindsArg && kindsArg !== 'all' ? new Set(kindsArg.split(',')) : null;
const processes = Number(processesArg ?? 1);
if (processes > 1) {
  const ratios: number[] = [];
  for (let p = 0; p < processes; p++) {
    const out = execFileSync(process.execPath, [...process.execArgv, import.meta.filename, ref, roundsArg ?? '9', kindsArg ?? 'all', '1'], { encoding: 'utf8' });
    const m = /median of per-round ratios: ([0-9.]+)/.exec(out);
    if (!m) throw new Error(`child process printed no ratio:\n${out}`);
    ratios.push(Number(m[1]));
    console.log(`process ${p + 1}: new ÷ old ${m[1]}`);
  }
  const sorted = [...ratios].sort((a, b) => a - b);
  console.log(`new ÷ old, median over ${processes} processes: ${sorted[processes >> 1].toFixed(3)} (range ${sorted[0].toFixed(3)}–${sorted[processes - 1].toFixed(3)})`);
  process.exit(0);
}
const rounds = Number(roundsArg ?? 9);
const root = resolve(import.meta.dirname, '..');
const catalog = join(root, 'out/bench/catalog-day');
if (!existsSync(join(catalog, '.complete'))) throw new Error(`no bench catalog at ${catalog}: run \`npx lockstep bench factors\` once first`);

const sha = execFileSync('git', ['rev-parse', '--short', ref], { cwd: root, encoding: 'utf8' }).trim();
const dir = join(root, 'out/fold-ab', sha);
if (!existsSync(join(dir, 'core/fold.ts'))) {
  mkdirSync(dir, { recursive: true });
  execFileSync('sh', ['-c', `git archive ${sha} core | tar -x -C ${JSON.stringify(dir)}`], { cwd: root });
}
const old = (await import(pathToFileURL(join(dir, 'core/fold.ts')).href)) as FoldModule;
const oldFactors = ((await import(pathToFileURL(join(dir, 'core/registry.ts')).href)) as { DEFAULT_FACTORS: typeof DEFAULT_FACTORS }).DEFAULT_FACTORS;

const opened = await openSelection({ catalog, date: '2024-03-15' });
const events: MarketEvent[] = [];
try {
  const merge = new EventMerge(opened.cursors);
  for (let ev = merge.next(); ev !== null && events.length < 2_000_000; ev = merge.next()) if (kinds === null || kinds.has(ev.kind)) events.push(ev);
} finally {
  await opened.close();
}

const sides = [
  { name: `old ${sha}`, fold: old, set: old.createFactorSet(oldFactors), ms: [] as number[], digest: 0 },
  { name: 'new (working tree)', fold: current, set: current.createFactorSet(DEFAULT_FACTORS), ms: [] as number[], digest: 0 },
];
for (let r = 0; r < rounds; r++) {
  for (const side of sides) {
    let digest = 0;
    let row = 0;
    // a cheap digest (one column per row, rotating through all of them), so the two must agree
    // without the sink costing more than the fold
    const sink = (_e: MarketEvent, _s: string, values: readonly (number | null)[]) => {
      const v = values[row++ % values.length];
      if (v !== null) digest = (digest + v) % 1e12;
    };
    const st = side.fold.initFold();
    const t = performance.now();
    for (let i = 0; i < events.length; i++) side.fold.applyEvent(side.set as never, st, events[i], sink);
    side.ms.push(performance.now() - t);
    side.digest = digest;
  }
  if (!Object.is(sides[0].digest, sides[1].digest)) throw new Error(`outputs differ: digest ${sides[0].digest} vs ${sides[1].digest}`);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const ns = (ms: number) => (ms * 1e6) / events.length;
for (const side of sides) console.log(`${side.name.padEnd(20)} median ${ns(median(side.ms)).toFixed(1)} ns/event  runs ${side.ms.map((m) => ns(m).toFixed(0)).join(' ')}`);
console.log(`new ÷ old, median of per-round ratios: ${median(sides[1].ms.map((m, i) => m / sides[0].ms[i])).toFixed(3)} (${events.length.toLocaleString('en-US')} events, ${rounds} rounds)`);
