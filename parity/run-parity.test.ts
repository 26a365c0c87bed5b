/** The end-to-end parity run: replay vs a real Redis with live worker processes, certified. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_FACTORS, withFactorParams } from '../core/registry.ts';
import { generateDay } from '../datasets/generate.ts';
import { readFactorTable } from '../replay/read-factor-table.ts';
import { runReplay } from '../replay/run-replay.ts';
import { runParity, type Certificate } from './run-parity.ts';

const DATE = '2024-03-15';
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lockstep-parity-run-test-'));
  await generateDay({ date: DATE, symbols: 3, seed: 21, preset: 'tiny', out: join(dir, 'cat') });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('parity run', () => {
  it('clean: one worker certifies with zero mismatched cells and a complete certificate', async () => {
    const cert = await runParity({ catalog: join(dir, 'cat'), date: DATE, certificate: join(dir, 'clean.json') });
    expect(cert.verdict).toBe('parity');
    expect(cert.diff.mismatchedCells).toBe(0);
    expect(cert.diff.onlyInA + cert.diff.onlyInB).toBe(0);
    expect(cert.outputs.liveTableHash).toBe(cert.outputs.replayTableHash);
    const onDisk = JSON.parse(readFileSync(join(dir, 'clean.json'), 'utf8')) as Certificate;
    expect(onDisk.inputs.length).toBeGreaterThan(5);
    expect(onDisk.inputs.every((f) => /^[0-9a-f]{64}$/.test(f.sha256))).toBe(true);
    expect(onDisk.code.factors.map((f) => f.name)).toContain('macd');
    expect(onDisk.code.featureSetVersion).toMatch(/^[0-9a-f]{16}$/);
    expect(onDisk.servedLatest).toEqual({ symbols: 3, mismatched: 0 });
  });

  it('a feed paced at 5000x real time (the day has duplicated and late deliveries) certifies the same table', async () => {
    const clean = JSON.parse(readFileSync(join(dir, 'clean.json'), 'utf8')) as Certificate;
    const cert = await runParity({ catalog: join(dir, 'cat'), date: DATE, speed: 5000 });
    expect(cert.verdict).toBe('parity');
    expect(cert.scenario.feedSpeed).toBe('5000x');
    expect(cert.outputs.liveTableHash).toBe(clean.outputs.replayTableHash);
  });

  it('three workers with two SIGKILLs mid-run certify the same table', async () => {
    const clean = JSON.parse(readFileSync(join(dir, 'clean.json'), 'utf8')) as Certificate;
    const cert = await runParity({ catalog: join(dir, 'cat'), date: DATE, workers: 3, killN: 2 });
    expect(cert.verdict).toBe('parity');
    expect(cert.scenario).toMatchObject({ workers: 3, chaos: 'kill:2' });
    expect(cert.outputs.liveTableHash).toBe(clean.outputs.replayTableHash);
  });

  it('duplicated deliveries (5% of events published twice by the feed) certify the same table', async () => {
    const clean = JSON.parse(readFileSync(join(dir, 'clean.json'), 'utf8')) as Certificate;
    const cert = await runParity({ catalog: join(dir, 'cat'), date: DATE, duplicate: 0.05 });
    expect(cert.verdict).toBe('parity');
    expect(cert.scenario.chaos).toBe('dup:0.05');
    expect(cert.scenario.duplicatedEvents).toBeGreaterThan(100);
    expect(cert.outputs.liveTableHash).toBe(clean.outputs.replayTableHash);
  });

  it('catches an injected skew (the live side runs ma_5m over 6 bars) and pinpoints the first divergent event', async () => {
    const cert = await runParity({ catalog: join(dir, 'cat'), date: DATE, liveFactorParams: ['ma_5m.bars=6'] });
    expect(cert.verdict).toBe('skew');
    expect(cert.scenario.injectedSkew?.liveFactorParams).toEqual(['ma_5m.bars=6']);
    expect(cert.diff.factorsWithMismatches).toEqual(['ma_5m']);
    expect(cert.diff.onlyInA + cert.diff.onlyInB).toBe(0);
    // the first divergent row of each symbol, found independently: the default replay against a
    // replay that runs the skewed set, scanned row by row
    const skewedOut = join(dir, 'skewed.parquet');
    const cleanOut = join(dir, 'clean.parquet');
    await runReplay({ catalog: join(dir, 'cat'), date: DATE, out: cleanOut, progress: false });
    await runReplay({ catalog: join(dir, 'cat'), date: DATE, out: skewedOut, factors: withFactorParams(DEFAULT_FACTORS, ['ma_5m.bars=6']), progress: false });
    const [A, B] = [await readFactorTable(cleanOut), await readFactorTable(skewedOut)];
    expect(B.seq.length).toBe(A.seq.length);
    const expected = new Map<string, { source: string; seq: string; a: number | null; b: number | null }>();
    for (let i = 0; i < A.seq.length; i++) {
      const [x, y] = [A.values.ma_5m[i], B.values.ma_5m[i]];
      if (x !== y && !expected.has(A.symbol[i])) expected.set(A.symbol[i], { source: A.source[i], seq: A.seq[i].toString(), a: x, b: y });
    }
    expect(expected.size).toBeGreaterThan(0);
    const got = Object.fromEntries(cert.diff.firstDivergencePerSymbol.map((d) => [d.symbol, { source: d.source, seq: d.seq, a: d.a, b: d.b }]));
    expect(got).toEqual(Object.fromEntries(expected));
  });
});
