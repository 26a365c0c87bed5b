import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { defineDerivation } from './derivation.ts';
import type { MarketEvent } from './events.ts';
import { KINDS } from './events.ts';
import { defineFactor, withParams, type AnyFactor } from './factor.ts';
import { streamArbitrary } from '../testing/contract-streams.ts';
import { CHUNK_FACTORS, runnerSource } from './fold-compile.ts';
import { applyEvent, createFactorSet, initFold } from './fold.ts';
import { DEFAULT_FACTORS } from './registry.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Rows as exact text (Object.is-faithful: -0 and NaN spelled out) plus the fold's counters. */
function rowsOf(events: readonly MarketEvent[], factors: readonly AnyFactor[], compile: boolean): string[] {
  const set = createFactorSet(factors, { compile });
  const st = initFold();
  const rows: string[] = [];
  const cell = (v: number | null) => (v === null ? 'null' : Object.is(v, -0) ? '-0' : String(v));
  for (const ev of events) {
    const verdict = applyEvent(set, st, ev, (e, sym, values) => rows.push(`${sym}/${e.kind}/${e.seq}:${values.map(cell).join(',')}`));
    rows.push(verdict);
  }
  rows.push(JSON.stringify(st.stats));
  return rows;
}

// All three reader modes, a heartbeat-driven derivation and extras, beside the default set.
const everyOther = defineDerivation<{ n: number }>({
  name: 'every_other', inputs: ['trade', 'heartbeat'], init: () => ({ n: 0 }), source: [],
  update: (d, e) => ++d.n % 2 === 0 || (e.kind === 'heartbeat' && d.n % 3 === 0),
});
const counter = (name: string, when: 'fired' | 'always' | 'fired-or-market') =>
  defineFactor({
    name, version: 1, description: name, params: {}, rules: {}, inputs: ['trade', 'heartbeat'], warmup: 'none',
    derive: { from: everyOther, when }, init: () => ({ n: 0, fired: 0 }),
    update: (s, _e, _p, _d, fired) => { s.fired += fired ? 1 : 0; return ++s.n; },
    extras: { fired: (s) => s.fired, parity: (s) => (s.n % 2 === 0 ? -0 : null) },
  });
const MODES = [counter('c_fired', 'fired'), counter('c_always', 'always'), counter('c_market', 'fired-or-market')];

describe('compiled fold runners', () => {
  it('give the interpreted fold’s rows, verdicts and counters on random streams (default set)', () => {
    fc.assert(
      fc.property(streamArbitrary(), (events) => {
        expect(rowsOf(events, DEFAULT_FACTORS, true)).toEqual(rowsOf(events, DEFAULT_FACTORS, false));
      }),
      { seed: 20261129, numRuns: 60 },
    );
  });

  it('give the interpreted fold’s rows with fired / always / fired-or-market readers and extras', () => {
    fc.assert(
      fc.property(streamArbitrary(120), (events) => {
        const factors = [...MODES, ...DEFAULT_FACTORS.slice(0, 3)];
        const compiled = rowsOf(events, factors, true);
        expect(compiled).toEqual(rowsOf(events, factors, false));
      }),
      { seed: 7, numRuns: 60 },
    );
  });

  it('cut a wide set into chunk functions and still give the interpreted fold’s rows', () => {
    // every reader mode past CHUNK_FACTORS, beside sweeps of the default families
    const modes = (['fired', 'always', 'fired-or-market'] as const).flatMap((when) => Array.from({ length: CHUNK_FACTORS + 3 }, (_, i) => counter(`c_${when.replace(/-/g, '_')}_${i}`, when)));
    const sweep = DEFAULT_FACTORS.flatMap((f) => {
      if ('bars' in f.params && f.name !== 'price_collar') return [2, 3, 7, 11].filter((b) => b !== f.params.bars).map((bars) => withParams(f, { bars }));
      if ('seconds' in f.params) return [7, 30, 90].map((seconds) => withParams(f, { seconds }));
      return [f];
    });
    const factors = [...modes, ...new Map(sweep.map((f) => [f.name, f])).values()];
    const set = createFactorSet(factors);
    const all = KINDS.map((_, ki) => runnerSource(set, ki)).join('\n');
    expect(all).toMatch(/function C0\(/);
    expect(all).not.toMatch(/['"`]/);
    fc.assert(
      fc.property(streamArbitrary(), (events) => {
        expect(rowsOf(events, factors, true)).toEqual(rowsOf(events, factors, false));
      }),
      { seed: 20261207, numRuns: 25 },
    );
  });

  it('call each factor from its own site, once per kind it reads, and hold no data in the source', () => {
    const set = createFactorSet(DEFAULT_FACTORS);
    const all = KINDS.map((_, ki) => runnerSource(set, ki)).join('\n');
    expect(all).not.toMatch(/['"`]/);
    for (const [i, f] of DEFAULT_FACTORS.entries()) {
      const sites = all.match(new RegExp(`\\bU${i}\\(`, 'g'))?.length ?? 0;
      expect(sites, f.name).toBe(f.inputs.length);
    }
  });

  describe('where code generation is disabled', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'lockstep-nocodegen-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('the CLI replay falls back to the interpreted fold and writes the same bytes', () => {
      const cli = (nodeArgs: string[], args: string[]) =>
        execFileSync(process.execPath, [...nodeArgs, 'bin/lockstep.js', ...args], { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      const catalog = path.join(dir, 'catalog');
      cli([], ['datasets', 'generate', '--date', '2024-03-15', '--symbols', '3', '--seed', '5', '--preset', 'tiny', '--out', catalog]);
      const replay = (nodeArgs: string[], out: string) => {
        cli(nodeArgs, ['replay', '--catalog', catalog, '--date', '2024-03-15', '--out', out]);
        return readFileSync(out);
      };
      const probe = `import('./core/registry.ts').then((m) => console.log(m.defaultFactorSet().compiled))`;
      const compiledWith = (nodeArgs: string[]) =>
        execFileSync(process.execPath, [...nodeArgs, '--import', 'tsx', '--input-type=module', '-e', probe], { cwd: repoRoot, encoding: 'utf8' }).trim();
      expect(compiledWith([])).toBe('true');
      expect(compiledWith(['--disallow-code-generation-from-strings'])).toBe('false');
      const a = replay([], path.join(dir, 'a.parquet'));
      const b = replay(['--disallow-code-generation-from-strings'], path.join(dir, 'b.parquet'));
      expect(b.length).toBeGreaterThan(1000);
      expect(b.equals(a)).toBe(true);
    });
  });
});
