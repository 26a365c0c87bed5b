/**
 * Target weights in the parity run: with a weights config, the live weights driver (the real CLI)
 * follows the workers and its rebalances equal the replay's bit for bit, the certificate naming the
 * config, its columns, the counts and both sides' hashes; with a perturbed config on the live side
 * (`lockstep parity run --inject-weights-skew`, the real CLI) the difference is caught: verdict
 * skew, exit code 1, the first differing weight named. With `--weights-control` the run switches the
 * kill switch on and off for one symbol and posts a request while the live side runs, and still
 * certifies parity with the replay given the driver's log. The comparison itself is checked without
 * Redis on records that differ in one bit (-0 against +0), in the set of rebalances, or not at all.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDay } from '../datasets/generate.ts';
import type { Certificate } from './run-parity.ts';
import { runParity } from './run-parity.ts';
import { certifyWeights, rebalancesHash, type ComparedRebalance } from './weights-parity.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const DATE = '2024-03-15';
const CONFIG = {
  signal: 'return_1m',
  method: 'rank',
  construction: 'dollar-neutral',
  max_weight: 0.35,
  vol: { column: 'rv_5m', inverse: true, target: 0.001 },
  turnover_limit: 0.6,
  rebalance: 'every:5m',
  session: 'us-equity',
  stale_after: '90s',
};
let dir = '';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lockstep-weights-parity-'));
  await generateDay({ date: DATE, symbols: 4, seed: 31, preset: 'tiny', out: join(dir, 'cat') });
  writeFileSync(join(dir, 'w.json'), JSON.stringify(CONFIG));
  // the deliberate difference: a tighter per-name cap on the live side only
  writeFileSync(join(dir, 'w-skew.json'), JSON.stringify({ ...CONFIG, max_weight: 0.3 }));
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('parity run with target weights', () => {
  it('two workers: every rebalance of the live driver equals the replay, bit for bit, and the certificate names the weights', async () => {
    const cert = await runParity({ catalog: join(dir, 'cat'), date: DATE, workers: 2, weights: { config: join(dir, 'w.json') }, certificate: join(dir, 'cert.json') });
    const w = cert.weights!;
    expect(cert.diff.mismatchedCells, JSON.stringify({ factors: cert.diff.factorsWithMismatches, first: cert.diff.firstDivergencePerSymbol.slice(0, 2), onlyInA: cert.diff.onlyInA, onlyInB: cert.diff.onlyInB, rows: cert.diff.rowsA, weights: w })).toBe(0);
    expect(w.verdict, JSON.stringify(w.firstMismatch)).toBe('parity');
    expect(cert.verdict).toBe('parity');
    expect(w.rebalances).toEqual({ replay: 78, live: 78, matched: 78, mismatched: 0, onlyInReplay: 0, onlyInLive: 0 });
    expect(w.outputs.liveHash).toBe(w.outputs.replayHash);
    expect(w.outputs.replayFileSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(w.firstMismatch).toBeUndefined();
    const onDisk = JSON.parse(readFileSync(join(dir, 'cert.json'), 'utf8')) as Certificate;
    expect(onDisk.weights!.config).toEqual({ path: join(dir, 'w.json'), sha256: expect.stringMatching(/^[0-9a-f]{64}$/), signal: 'return_1m', method: 'rank', construction: 'dollar-neutral', rebalance: 'every:5m', columns: ['return_1m', 'rv_5m'] });
  }, 480_000);

  it('a perturbed config on the live side is caught by the real CLI: skew, exit 1, the first differing weight named', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'bin/lockstep.js'), 'parity', 'run', '--catalog', join(dir, 'cat'), '--date', DATE, '--weights', join(dir, 'w.json'), '--inject-weights-skew', join(dir, 'w-skew.json'), '--certificate', join(dir, 'skew.json')], { encoding: 'utf8', cwd: ROOT });
    expect(r.status, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/^SKEW: .* 0 mismatched cells/m);
    expect(r.stdout).toMatch(/^weights: \d+ of 78 rebalances equal bit for bit, [1-9]\d* differ, 0 only in replay, 0 only in live; first: t=\d+ SYM\d+ weight replay \S+ live \S+$/m);
    const cert = JSON.parse(readFileSync(join(dir, 'skew.json'), 'utf8')) as Certificate;
    // the factor tables agree: only the weights differ
    expect(cert.diff.mismatchedCells).toBe(0);
    expect(cert.verdict).toBe('skew');
    expect(cert.weights!.verdict).toBe('skew');
    expect(cert.weights!.injectedSkew).toEqual({ liveConfig: join(dir, 'w-skew.json'), sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(cert.weights!.outputs.liveHash).not.toBe(cert.weights!.outputs.replayHash);
    expect(cert.weights!.firstMismatch!.field).toBe('weight');
  }, 480_000);

  it('--weights-control (the real CLI): a kill on then off for one symbol and a request posted while the live side runs, and live equals the replay from the log', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'bin/lockstep.js'), 'parity', 'run', '--catalog', join(dir, 'cat'), '--date', DATE, '--workers', '2', '--weights', join(dir, 'w.json'), '--weights-control', '--certificate', join(dir, 'control.json')], { encoding: 'utf8', cwd: ROOT });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/B: kill switch on for SYM\d+, logged by the weights driver at \d+/);
    expect(r.stdout).toMatch(/^weights control: SYM\d+ killed in [1-9]\d* rebalances, 1 requested; log: 2 kill changes, 1 requests$/m);
    const cert = JSON.parse(readFileSync(join(dir, 'control.json'), 'utf8')) as Certificate;
    const w = cert.weights!;
    expect(w.verdict, JSON.stringify(w.firstMismatch)).toBe('parity');
    expect(cert.verdict).toBe('parity');
    expect(w.inputs).toEqual({ requests: 1, kills: 2 });
    // the grid's 78 and the request's one, each equal bit for bit
    expect(w.rebalances).toEqual({ replay: 79, live: 79, matched: 79, mismatched: 0, onlyInReplay: 0, onlyInLive: 0 });
    expect(w.outputs.liveHash).toBe(w.outputs.replayHash);
    const c = w.control!;
    // mid-day, in order: on, the request, off
    expect(BigInt(c.killOn)).toBeLessThan(BigInt(c.request));
    expect(BigInt(c.request)).toBeLessThanOrEqual(BigInt(c.killOff));
    // half the day killed (42 of 79 in one run; a floor: where the cuts fall depends on the feed's batches)
    expect(c.killedRebalances).toBeGreaterThan(5);
    expect(c.requestRebalances).toBe(1);
  }, 480_000);

  it('refuses --inject-weights-skew without --weights, and --weights with --live-from, in one line', () => {
    const cli = (...a: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin/lockstep.js'), 'parity', 'run', '--catalog', join(dir, 'cat'), '--date', DATE, ...a], { encoding: 'utf8', cwd: ROOT });
    const a = cli('--inject-weights-skew', join(dir, 'w-skew.json'));
    expect(a.status).toBe(2);
    expect(a.stderr.trim().split('\n')).toHaveLength(1);
    expect(a.stderr).toMatch(/--inject-weights-skew changes the live side of --weights/);
    const b = cli('--weights', join(dir, 'w.json'), '--live-from', '15:00');
    expect(b.status).toBe(2);
    expect(b.stderr.trim().split('\n')).toHaveLength(1);
    expect(b.stderr).toMatch(/--weights certifies the whole day/);
    const c = cli('--weights-control');
    expect([c.status, c.stderr.trim()]).toEqual([2, 'lockstep: --weights-control acts on the live side of --weights: give --weights CONFIG too']);
  });

  it('the comparison: one bit (-0 against +0), a missing or doubled rebalance, a trigger each make a skew; equal records are parity', () => {
    const rec = (t: bigint, w: number[]): ComparedRebalance => ({ t, trigger: 'every', symbols: ['A', 'B'], weights: w, signal: [0.5, null], excluded: [null, 'no-signal'] });
    const replay = { records: [rec(1n, [0.25, 0]), rec(2n, [-0.25, 0])], sha256: 'x' };
    const o = { config: join(dir, 'w.json') };
    const same = certifyWeights(o, replay, [rec(1n, [0.25, 0]), rec(2n, [-0.25, 0])]);
    expect(same.verdict).toBe('parity');
    expect(same.outputs.liveHash).toBe(same.outputs.replayHash);
    expect(same.inputs).toEqual({ requests: 0, kills: 0 });
    // the live drivers' control log, which the replay side took: counted in the certificate
    const logged = certifyWeights(o, { ...replay, control: [{ kind: 'request', ts: 1n }, { kind: 'kill', ts: 1n, symbol: 'A', mode: 'halt' }, { kind: 'kill', ts: 2n, symbol: null, mode: 'off' }] }, replay.records);
    expect(logged.inputs).toEqual({ requests: 1, kills: 2 });
    const bit = certifyWeights(o, replay, [rec(1n, [0.25, -0]), rec(2n, [-0.25, 0])]);
    expect(bit.verdict).toBe('skew');
    expect(bit.firstMismatch).toEqual({ t: '1', symbol: 'B', field: 'weight', replay: '0', live: '-0' });
    expect(rebalancesHash([rec(1n, [0.25, -0])])).not.toBe(rebalancesHash([rec(1n, [0.25, 0])]));
    const missing = certifyWeights(o, replay, [rec(1n, [0.25, 0])]);
    expect(missing.rebalances).toMatchObject({ onlyInReplay: 1, matched: 1 });
    expect(missing.verdict).toBe('skew');
    const twice = certifyWeights(o, replay, [rec(1n, [0.25, 0]), rec(2n, [-0.25, 0]), rec(2n, [-0.25, 0])]);
    expect(twice.verdict).toBe('skew');
    const trig = certifyWeights(o, replay, [rec(1n, [0.25, 0]), { ...rec(2n, [-0.25, 0]), trigger: 'request' }]);
    expect(trig.firstMismatch).toMatchObject({ t: '2', field: 'trigger' });
    expect(certifyWeights(o, { records: [], sha256: 'x' }, []).verdict).toBe('skew');
  });
});
