/** The end-to-end parity run: replay vs a real Redis with live worker processes, certified. */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_FACTORS, withFactorParams } from '../core/registry.ts';
import { generateDay } from '../datasets/generate.ts';
import { openRedis } from '../live/redis-connect.ts';
import { RedisHarness } from '../live/redis-harness.ts';
import { runReplay } from '../replay/run-replay.ts';
import { loadTable } from './load-table.ts';
import { runParity, tableHash, type Certificate } from './run-parity.ts';

const DATE = '2024-03-15';
const ROOT = new URL('..', import.meta.url).pathname;
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

  it('catches an injected skew (the live side runs ma_5m over 6 bars, which names it ma_6m)', async () => {
    const cert = await runParity({ catalog: join(dir, 'cat'), date: DATE, liveFactorParams: ['ma_5m.bars=6'] });
    expect(cert.verdict).toBe('skew');
    expect(cert.scenario.injectedSkew?.liveFactorParams).toEqual(['ma_5m.bars=6']);
    expect(cert.scenario.injectedSkew?.liveFeatureSetVersion).not.toBe(cert.code.featureSetVersion);
    // the live side's column says what it holds: the replay's ma_5m has no counterpart, and no
    // shared column differs
    expect([cert.diff.columnsOnlyInA, cert.diff.columnsOnlyInB]).toEqual([['ma_5m'], ['ma_6m']]);
    expect(cert.diff.factorsWithMismatches).toEqual([]);
    expect(cert.diff.onlyInA + cert.diff.onlyInB).toBe(0);
    // Redis serves ma_6m, not the replay's ma_5m, for every symbol
    expect(cert.servedLatest).toEqual({ symbols: 3, mismatched: 3 });
    // what the live side computed, found independently: a replay of the skewed set, bit for bit
    const skewedOut = join(dir, 'skewed.parquet');
    const cleanOut = join(dir, 'clean.parquet');
    await runReplay({ catalog: join(dir, 'cat'), date: DATE, out: cleanOut, progress: false });
    await runReplay({ catalog: join(dir, 'cat'), date: DATE, out: skewedOut, factors: withFactorParams(DEFAULT_FACTORS, ['ma_5m.bars=6']), progress: false });
    const [A, B] = [await loadTable(cleanOut), await loadTable(skewedOut)];
    expect(B.seq.length).toBe(A.seq.length);
    expect(cert.outputs.replayTableHash).toBe(tableHash(A));
    expect(cert.outputs.liveTableHash).toBe(tableHash(B));
    expect(B.values.ma_6m.some((v, i) => v !== A.values.ma_5m[i])).toBe(true);
  });
});

/** `lockstep parity run` as a child process: exit code and stderr. */
function parityCli(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [join(ROOT, 'bin/lockstep.js'), 'parity', 'run', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.once('exit', (code) => resolve({ code, out, err }));
  });
}

describe('parity run --redis URL (the CLI)', () => {
  it("deletes the run's namespace when done, keeps it with --keep", async () => {
    // the demo catalog (lockstep demo: preset tiny, 5 symbols, seed 7), one hour of it
    const cat = join(dir, 'demo');
    await generateDay({ date: DATE, symbols: 5, seed: 7, preset: 'tiny', out: cat });
    const redis = await RedisHarness.start();
    const r = await openRedis(redis.url);
    try {
      const args = ['--catalog', cat, '--date', DATE, '--from', '14:30', '--to', '15:30', '--redis', redis.url];
      const nsOf = (err: string) => /namespace (parity-[0-9a-z]+)/.exec(err)?.[1];
      const run = await parityCli(args);
      expect(run.code, run.err).toBe(0);
      expect(run.out).toMatch(/^PARITY/);
      const ns = nsOf(run.err);
      expect(ns).toBeDefined();
      expect(await r.keys(`${ns}:*`)).toEqual([]);
      expect(await r.dbsize()).toBe(0);
      const kept = await parityCli([...args, '--keep']);
      expect(kept.code, kept.err).toBe(0);
      const keptNs = nsOf(kept.err);
      expect(keptNs).toBeDefined();
      expect(keptNs).not.toBe(ns);
      expect((await r.keys(`${keptNs}:*`)).length).toBeGreaterThan(5);
    } finally {
      r.disconnect();
      await redis.close();
    }
  });
});
