/**
 * The 1,000-column factor set (examples/factors-1000.json, written by examples/wide-factors.mjs):
 * the committed file is the generator's output, it loads to exactly 1,000 columns, its bad-input
 * lines name the file and the field, and it runs in replay (real Parquet, each swept column equal
 * to the same factor replayed alone) and through live workers on a real redis-server (`parity run`:
 * 0 mismatched cells, the served latest values with their 1,000 fields equal), on a short window
 * of a two-symbol synthetic day.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../core/errors.ts';
import { createFactorSet } from '../core/fold.ts';
import { generateDay } from '../datasets/generate.ts';
import { readFactorTable } from '../replay/read-factor-table.ts';
import { loadFactorSetFile } from './factor-set-file.ts';

const ROOT = resolve(new URL('..', import.meta.url).pathname);
const WIDE = join(ROOT, 'examples/factors-1000.json');
const DATE = '2024-03-15';
let dir: string;

/** examples/wide-factors.mjs run as a researcher runs it. */
const generate = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'examples/wide-factors.mjs'), ...args], { encoding: 'utf8', cwd: dir });
const cli = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin/lockstep.js'), ...args], { encoding: 'utf8', cwd: dir });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lockstep-wide-'));
  await generateDay({ date: DATE, symbols: 2, seed: 5, preset: 'tiny', out: join(dir, 'cat') });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the 1,000-column set file', () => {
  it('is what examples/wide-factors.mjs writes, and loads to exactly 1,000 distinct columns', async () => {
    expect(readFileSync(WIDE, 'utf8')).toBe(generate().stdout);
    const loaded = await loadFactorSetFile(WIDE);
    const set = createFactorSet(loaded.factors);
    expect(set.columns).toHaveLength(1000);
    expect(new Set(set.columns).size).toBe(1000);
    // sweeps of the families: 2..500-bar averages, many trade-flow windows, all ten depth levels
    expect(set.columns).toEqual(expect.arrayContaining(['ma_2m', 'ma_500m', 'rv_500m', 'rsi_99', 'volume_120m', 'trade_count_5s', 'depth_imbalance_1', 'depth_imbalance_10', 'macd_3_13_5_signal', 'ma_60m_auto']));
    expect(set.compiled).toBe(true);
    expect(generate('--columns', '50', '--out', join(dir, 'small.json')).status).toBe(0);
    const small = createFactorSet((await loadFactorSetFile(join(dir, 'small.json'))).factors);
    expect(small.columns).toHaveLength(50);
    const bad = generate('--columns', 'many');
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim()).toBe('wide-factors: --columns many: give a positive whole number');
  });

  it('bad input: one line naming the file and the field, exit 2', async () => {
    const cases: [unknown, RegExp][] = [
      [{ factors: ['mid', { factor: 'ma_5m', params: { bars: 0 } }] }, /bad\.json, field factors\[1\]\.params\.bars: ma_5m must be >= 1 \(value 0\)/],
      [{ factors: [{ factor: 'ma_5m', params: { bars: 10_001 } }] }, /field factors\[0\]\.params\.bars: ma_5m must be <= 10000 \(value 10001\)/],
      [{ factors: [{ factor: 'ema_12', params: { period: 2.5 } }] }, /field factors\[0\]\.params\.period: ema_12 must be an integer \(value 2\.5\)/],
      [{ factors: [{ factor: 'ma_5m', params: { session: 'mars' } }] }, /field factors\[0\]\.params\.session: ma_5m must be one of all, .* \(value "mars"\)/],
      [{ factors: [{ factor: 'rsi_14', params: { bars: 3 } }] }, /field factors\[0\]\.params\.bars: rsi_14 has no parameter bars/],
      [{ factors: ['mid', 'ema_13'] }, /field factors\[1\]: no such factor .*\(value "ema_13"\)/],
      [{ factors: ['mid', 'spread', 'mid'] }, /bad\.json: factors\[2\] \(mid\) writes column mid, which factors\[0\] \(mid\) writes too/],
      [{ factors: [{ factor: 'ma_5m', params: { bars: 7 } }, { factor: 'ma_20m', params: { bars: 7 } }] }, /factors\[1\] \(ma_7m\) writes column ma_7m, which factors\[0\] \(ma_7m\) writes too/],
    ];
    for (const [doc, want] of cases) {
      const file = writeSet('bad.json', doc);
      await expect(loadFactorSetFile(file)).rejects.toThrow(want);
      // a user's mistake: UserError (exit 2, one line), never a stack trace
      await expect(loadFactorSetFile(file)).rejects.toBeInstanceOf(UserError);
    }
    // and through the real CLI: exit 2, the one line
    const r = cli('replay', '--catalog', join(dir, 'cat'), '--date', DATE, '--factors', writeSet('bad.json', cases[0][0]), '--out', join(dir, 'x.parquet'));
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
    expect(r.stderr).toMatch(cases[0][1]);
  }, 120_000);
});

describe('the 1,000-column set runs', () => {
  it('in replay: 1,000 columns in the Parquet, each swept column equal to its factor replayed alone', async () => {
    const window = ['--catalog', join(dir, 'cat'), '--date', DATE, '--from', '13:00', '--to', '14:00'];
    expect(cli('replay', ...window, '--factors', WIDE, '--out', join(dir, 'wide.parquet')).status).toBe(0);
    const alone = writeSet('alone.json', { factors: [{ factor: 'ma_5m', params: { bars: 7 } }, { factor: 'volume_1m', params: { seconds: 45 } }, { factor: 'depth_imbalance_5', params: { levels: 3 } }, { factor: 'rv_5m', params: { bars: 10, session: 'auto' } }] });
    expect(cli('replay', ...window, '--factors', alone, '--out', join(dir, 'alone.parquet')).status).toBe(0);
    const wide = await readFactorTable(join(dir, 'wide.parquet'));
    const one = await readFactorTable(join(dir, 'alone.parquet'));
    expect(Object.keys(wide.values)).toHaveLength(1000);
    // rows differ (the wide set changes at more heartbeats): compare at the rows of the events both have
    const key = (t: typeof wide, i: number) => `${t.symbol[i]}|${t.source[i]}|${t.seq[i]}`;
    const at = new Map<string, number>();
    const n = wide.values.ma_7m.length;
    for (let i = 0; i < n; i++) at.set(key(wide, i), i);
    let compared = 0;
    for (let i = 0; i < one.values.ma_7m.length; i++) {
      const j = at.get(key(one, i));
      if (j === undefined) continue;
      for (const c of ['ma_7m', 'volume_45s', 'depth_imbalance_3', 'rv_10m_auto']) expect(wide.values[c][j], `${c} row ${i}`).toBe(one.values[c][i]);
      compared++;
    }
    expect(compared).toBeGreaterThan(1000);
    for (const c of ['ma_7m', 'volume_45s', 'depth_imbalance_3', 'rv_10m_auto']) expect(one.values[c].some((v) => v !== null), c).toBe(true);
  }, 120_000);

  it('through live workers and Redis: parity run with 0 mismatched cells and equal served latest values', () => {
    const r = cli('parity', 'run', '--catalog', join(dir, 'cat'), '--date', DATE, '--factors', WIDE, '--symbols', 'SYM000', '--from', '14:00', '--to', '14:15', '--certificate', join(dir, 'cert.json'));
    expect(r.status, r.stderr + r.stdout).toBe(0);
    expect(r.stdout + r.stderr).toMatch(/PARITY: [\d,]+ rows, 0 mismatched cells, 0 only in replay, 0 only in live; served latest values: 0 of 1 symbols differ/);
    const cert = JSON.parse(readFileSync(join(dir, 'cert.json'), 'utf8')) as { code: { factors: unknown[] } };
    expect(cert.code.factors).toHaveLength(wideFactors);
  }, 180_000);
});

let wideFactors = 0;
beforeAll(async () => {
  wideFactors = (await loadFactorSetFile(WIDE)).factors.length;
});

function writeSet(name: string, doc: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(doc));
  return file;
}
