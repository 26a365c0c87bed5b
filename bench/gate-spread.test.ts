/**
 * The spread study's arithmetic over made-up gate runs, and the slowdown patches against today's
 * sources (no benchmark runs here: `lockstep bench gate-spread` and `gate-slowdown` do that).
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Baseline, Budgets } from './gate-check.ts';
import { applyPatch, PATCHES, type Slowdown } from './gate-slowdown.ts';
import { budgetsFor } from './gate.ts';
import { median, readRuns, renderSpread, runsAllPassing, spreadOf, worsened, type SpreadRun } from './gate-spread.ts';

const ROOT = resolve(new URL('..', import.meta.url).pathname);
const dir = mkdtempSync(join(tmpdir(), 'lockstep-spread-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const machine = { node: 'v20', cpu: 'x', cores: 2, platform: 'linux' };
const run = (name: string, values: Record<string, number | null>): SpreadRun => ({ name, values, wallSeconds: 200, loadBefore: 3, loadAfter: 5 });

describe('spreadOf', () => {
  const budgets: Budgets = {
    goals: {},
    modes: {
      quick: { margin: 0.5, figures: { 'factors.ema_ratio': { budget: 2, margin: 0.6 }, 'factors.whole_set_ns': { margin: 0.5 } } },
      full: { margin: 1, figures: {} },
    },
  };
  const baseline: Baseline = { modes: { quick: { recordedAt: 't', machine, figures: { 'factors.ema_ratio': 5, 'factors.whole_set_ns': 300, 'factors.peer_rate': 2e6 } } } };
  // EMA ratio 4..6 around its baseline 5 (limit 5 / 1.6 = 3.125); the whole set's ns move with the peer
  const runs = [
    run('a', { 'factors.ema_ratio': 4, 'factors.whole_set_ns': 300, 'factors.peer_rate': 2e6 }),
    run('b', { 'factors.ema_ratio': 5, 'factors.whole_set_ns': 600, 'factors.peer_rate': 1e6 }),
    run('c', { 'factors.ema_ratio': 6, 'factors.whole_set_ns': 330, 'factors.peer_rate': 2e6 }),
    run('d', { 'factors.ema_ratio': 3, 'factors.whole_set_ns': null, 'factors.peer_rate': 2e6 }),
  ];
  const s = spreadOf(runs, budgets, baseline, 'quick');
  const ema = s.find((f) => f.id === 'factors.ema_ratio')!;
  const ns = s.find((f) => f.id === 'factors.whole_set_ns')!;

  it('lists the gated figures only, with min, median, max and passes', () => {
    expect(s.map((f) => f.id)).toEqual(['factors.ema_ratio', 'factors.whole_set_ns']);
    expect([ema.n, ema.min, ema.median, ema.max, ema.passes]).toEqual([4, 3, 4.5, 6, 3]);
    expect(ema.checkedSpread).toBe(2);
    expect(ema.budgetLimit).toBeCloseTo(1.25);
    expect(ema.baselineLimits![0]).toBeCloseTo(3.125);
  });

  it('counts the runs in which a 2x worse figure would breach', () => {
    // 4 / 2 = 2, 5 / 2, 3 / 2 under 3.125: caught; 6 / 2 = 3 under it too
    expect(ema.caught2x).toBe(4);
    const loose = spreadOf(runs, { ...budgets, modes: { ...budgets.modes, quick: { margin: 0.5, figures: { 'factors.ema_ratio': { margin: 1.5 } } } } }, baseline, 'quick')[0];
    // limit 5 / 2.5 = 2: 6 / 2 = 3 and 5 / 2 = 2.5 pass, 4 / 2 = 2 is not below it, 3 / 2 is
    expect(loose.caught2x).toBe(1);
  });

  it('judges a machine-scaled figure as checked: its spread is divided by the peer speed', () => {
    // 600 ns at half the peer speed is 300 ns at baseline speed: checked values 300, 300, 330
    expect(ns.n).toBe(4);
    expect(ns.max).toBe(600);
    expect(ns.checkedSpread).toBeCloseTo(1.1, 12);
    expect(ns.passes).toBe(3); // the unmeasured run breaches
    expect(ns.baselineLimits).toEqual([450, 900]);
  });

  it('counts runs with every figure passing and renders one row per figure', () => {
    expect(runsAllPassing(runs, budgets, baseline, 'quick')).toBe(3); // d breaches on both
    const t = renderSpread(runs, s, 3).split('\n');
    expect(t[0]).toMatch(/^4 quick gate runs .* wall 200-200 s/);
    expect(t[1]).toMatch(/3\.0→5\.0/);
    expect(t[2]).toBe('every gated figure passed in 3 of 4 runs');
    expect(t.find((l) => l.startsWith('| factors.ema_ratio'))).toMatch(/\| 3\.00× \| 4\.50× \| 6\.00× \| 2\.00 \| 60% \| ≥ 1\.25× \/ 3\.13× \| \*\*3\/4\*\* \| 4\/4 \|/);
  });

  it('a partial run (--only) counts only the figures of the benchmarks it ran', () => {
    const partial = { ...run('p', { 'factors.ema_ratio': 5, 'factors.peer_rate': 2e6 }), only: ['replay' as const] };
    const p = spreadOf([partial], budgets, baseline, 'quick');
    expect(p).toEqual([]);
    expect(Object.keys(budgetsFor(budgets, ['factors']).modes.quick.figures)).toEqual(['factors.ema_ratio', 'factors.whole_set_ns']);
    expect(Object.keys(budgetsFor(budgets, ['wide', 'replay']).modes.quick.figures)).toEqual([]);
    expect(budgetsFor(budgets, undefined)).toBe(budgets);
  });

  it('helpers', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(worsened(10, 2, 'lower')).toBe(20);
    expect(worsened(10, 2, 'higher')).toBe(5);
  });
});

describe('readRuns', () => {
  it('extracts the figures again from each stored gate JSON and reads the load beside it', () => {
    const runs = join(dir, 'spread', 'runs');
    mkdirSync(runs, { recursive: true });
    const results = { factors: { wholeSet: { nsPerEvent: 400, minNsPerEvent: 380, runs: [400] }, emptyFold: { nsPerEvent: 100, minNsPerEvent: 90, runs: [100] }, foldVsPeer: { wholeNsPerEvent: 390, emptyNsPerEvent: 95, wholeRatio: 1.4, emptyRatio: 0.35 }, peer: [] } };
    writeFileSync(join(runs, '1.json'), JSON.stringify({ results, wallSeconds: 321 }));
    writeFileSync(join(runs, '1.meta.json'), JSON.stringify({ loadBefore: 7.5, loadAfter: 9 }));
    writeFileSync(join(runs, '1.log'), 'not json');
    const r = readRuns(join(dir, 'spread'));
    expect(r).toHaveLength(1);
    expect(r[0]).toMatchObject({ name: '1.json', wallSeconds: 321, loadBefore: 7.5, loadAfter: 9 });
    expect(r[0].values['factors.whole_set_ns']).toBe(390); // the interleaved rounds' median
    expect(r[0].values['factors.whole_set_vs_peer']).toBe(1.4);
    expect(r[0].values['replay.replay_rate']).toBeNull();
    expect(readRuns(join(dir, 'nothing'))).toEqual([]);
  });
});

describe('gate-slowdown patches', () => {
  for (const which of Object.keys(PATCHES) as Slowdown[]) {
    it(`${which}: still finds its declaration in today's ${PATCHES[which].file} and wraps it to run twice`, () => {
      const copy = join(dir, `copy-${which}`);
      const file = PATCHES[which].file;
      mkdirSync(dirname(join(copy, file)), { recursive: true });
      cpSync(join(ROOT, file), join(copy, file));
      applyPatch(copy, which);
      const src = readFileSync(join(copy, file), 'utf8');
      const name = { ema: 'emaPush', rsi: 'rsiPush', macd: 'macdPush', fold: 'applyEvent' }[which];
      // one exported wrapper, the original renamed, called twice by it
      expect(src.match(new RegExp(`export function ${name}\\(`, 'g'))).toHaveLength(1);
      expect(src.match(new RegExp(`${name}Once\\(`, 'g'))).toHaveLength(3);
      expect(() => applyPatch(copy, which)).toThrow(/already patched/);
    });
  }
});
