/**
 * `lockstep models register|deploy|promote|rollback|status` and `lockstep replay --registry`, through
 * the real CLI on a generated day: bad input is one line and exit 2; a replay's signal columns equal
 * the spec's math applied by hand to the output's own factor columns, and the version columns
 * switch at the logged instants exactly.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_FACTORS, featureSetVersion } from '../core/registry.ts';
import { readTrainingSet } from '../features/table-io.ts';
import { readCatalogSessions } from '../replay/catalog.ts';
import { readLineage } from '../replay/lineage.ts';
import { inCanary } from './deployment.ts';
import { slotColumns } from './stage.ts';

const ROOT = resolve(new URL('..', import.meta.url).pathname);
const cli = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin/lockstep.js'), ...args], { encoding: 'utf8', cwd: ROOT });
const DATE = '2024-03-11';
const H = 3_600_000_000_000n;
const DAY = BigInt(Date.parse(`${DATE}T00:00:00Z`)) * 1_000_000n;
// the generated day trades 13:30-20:00 UTC: live at the open, a canary at 10:00 New York (14:00
// UTC), rolled back at 11:00 New York (15:00 UTC)
const OPEN = DAY + 27n * (H / 2n);
const CANARY = DAY + 14n * H;
const ROLLBACK = DAY + 15n * H;
const INPUTS = ['return_1m', 'quote_imbalance', 'rsi_14'];
let dir: string;
let cat: string;
let reg: string;
let fsv: string;

const model = (version: number, coef: number[], extra: Record<string, unknown> = {}) => ({
  lockstep_model: 1, name: 'momo', version, kind: 'logistic', inputs: INPUTS,
  standardize: { mean: [0, 0, 50], std: [0.001, 0.5, 10] }, clip: [-4, 4], coef, intercept: 0.05,
  trained_on: { feature_set: fsv }, ...extra,
});
const V1 = [0.8, -0.4, 0.2];
const V2 = [-0.3, 0.6, 0.1];
const write = (name: string, body: unknown) => {
  const p = join(dir, name);
  writeFileSync(p, typeof body === 'string' ? body : JSON.stringify(body));
  return p;
};
/** A refusal: exit 2, one line on stderr, matching `re`. */
const refused = (r: ReturnType<typeof cli>, re: RegExp) => {
  expect(r.status, r.stdout + r.stderr).toBe(2);
  expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
  expect(r.stderr).toMatch(re);
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lockstep-models-'));
  cat = join(dir, 'cat');
  reg = join(dir, 'reg');
  const g = cli('datasets', 'generate', '--date', DATE, '--symbols', '4', '--out', cat);
  expect(g.status, g.stderr).toBe(0);
  // the version `models register` checks against: the default factors over this catalog's sessions
  fsv = featureSetVersion(DEFAULT_FACTORS, readCatalogSessions(cat));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('lockstep models', () => {
  it('register checks the file, its inputs and its feature set, and prints one line with the hash', () => {
    const r = cli('models', 'register', write('m1.json', model(1, V1)), '--registry', reg, '--catalog', cat);
    expect(r.status, r.stderr).toBe(0);
    const hash = createHash('sha256').update(readFileSync(join(dir, 'm1.json'))).digest('hex');
    expect(r.stdout.trim()).toBe(`registered momo@1 (sha256 ${hash.slice(0, 16)})`);
    expect(cli('models', 'register', join(dir, 'm1.json'), '--registry', reg, '--catalog', cat).stdout).toMatch(/^already registered momo@1/);
    expect(cli('models', 'register', write('m2.json', model(2, V2)), '--registry', reg, '--catalog', cat).status).toBe(0);

    refused(cli('models', 'register', write('bad.json', '{"lockstep_model": 1, "name": "momo",'), '--registry', reg, '--catalog', cat), /bad\.json: not a model file: not valid JSON/);
    refused(cli('models', 'register', write('col.json', model(3, V1, { inputs: ['return_1m', 'no_such_factor', 'rsi_14'] })), '--registry', reg, '--catalog', cat), /col\.json: field inputs: no_such_factor is not a column of the feature set/);
    const other = write('other.json', model(4, V1, { trained_on: { feature_set: '0123456789abcdef' } }));
    refused(cli('models', 'register', other, '--registry', reg, '--catalog', cat), new RegExp(`other\\.json: field trained_on\\.feature_set: momo@4 was trained on feature set 0123456789abcdef, the current feature set is ${fsv}`));
    refused(cli('models', 'register', write('coef.json', model(5, [1, 2])), '--registry', reg), /coef\.json: field coef: must be a list of 3 numbers/);
    // other content under a taken version is refused too
    refused(cli('models', 'register', write('m1b.json', model(1, V2)), '--registry', reg, '--catalog', cat), /momo@1 is already registered with other content/);
  });

  it('deploy, promote and rollback append checked changes; bad ones are one line, exit 2', () => {
    const ok = (...a: string[]) => {
      const r = cli('models', ...a, '--registry', reg);
      expect(r.status, r.stderr).toBe(0);
      return r.stdout.trim();
    };
    expect(ok('deploy', 'momo@1', '--mode', 'live', '--at', `${DATE}T13:30:00Z`)).toBe(`deployed momo@1 live at ${DATE}T13:30:00.000000000Z: incumbent v1`);
    refused(cli('models', 'deploy', 'momo@9', '--mode', 'live', '--at', `${DATE}T13:40:00Z`, '--registry', reg), /momo@9 is not registered \(versions: 1, 2\)/);
    refused(cli('models', 'deploy', 'nope@1', '--mode', 'live', '--at', `${DATE}T13:40:00Z`, '--registry', reg), /nope is not registered here/);
    refused(cli('models', 'deploy', 'momo@2', '--mode', 'canary:150%', '--at', `${DATE}T13:40:00Z`, '--registry', reg), /--mode canary:150%: canary share 150 must be a percentage in \(0, 100\]/);
    refused(cli('models', 'deploy', 'momo@2', '--mode', 'canary:50%', '--at', '10:00', '--registry', reg), /--at "10:00": a time of day needs --date/);
    refused(cli('models', 'promote', 'momo', '--at', '13:45', '--date', DATE, '--registry', reg), /momo has no candidate \(shadow or canary\) to promote/);
    expect(ok('deploy', 'momo@2', '--mode', 'canary:50%', '--at', '14:00', '--date', DATE, '--reason', 'new features')).toMatch(/incumbent v1, candidate v2 \(canary 50%\)$/);
    refused(cli('models', 'rollback', 'momo', '--at', '13:59:59', '--date', DATE, '--registry', reg), /deployments\.jsonl: --at 2024-03-11T13:59:59\.000000000Z is before the last change \(deploy momo at 2024-03-11T14:00:00\.000000000Z\)/);
    expect(ok('rollback', 'momo', '--at', String(ROLLBACK), '--reason', 'divergence')).toMatch(/rolled back momo at 2024-03-11T15:00:00.000000000Z: incumbent v1$/);
    const log = readFileSync(join(reg, 'deployments.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(log.map((e) => [e.action, e.version ?? null, e.at])).toEqual([['deploy', 1, String(OPEN)], ['deploy', 2, String(CANARY)], ['rollback', null, String(ROLLBACK)]]);

    const st = cli('models', 'status', '--registry', reg, '--at', `${DATE}T14:30:00Z`);
    expect(st.status, st.stderr).toBe(0);
    expect(st.stdout).toContain('momo (2 versions, 3 changes logged)');
    expect(st.stdout).toMatch(new RegExp(`v1  logistic  sha256 [0-9a-f]{12}  trained on feature set ${fsv}`));
    expect(st.stdout).toContain('at 2024-03-11T14:30:00.000000000Z: incumbent v1, candidate v2 (canary 50%)');
    expect(cli('models', 'status', '--registry', reg).stdout).toContain('at the end of the log (2024-03-11T15:00:00.000000000Z): incumbent v1');
  });

  it('replay --registry: signals are the spec applied to the row, versions switch at the logged instants', async () => {
    const out = join(dir, 'r.parquet');
    const r = cli('replay', '--catalog', cat, '--date', DATE, '--registry', reg, '--out', out);
    expect(r.status, r.stderr).toBe(0);
    const t = await readTrainingSet(out);
    const cols = slotColumns('momo', ['score', 'prob']);
    expect(t.columns.slice(-cols.length)).toEqual(cols);
    const coef = { 1: V1, 2: V2 } as Record<number, number[]>;
    const mean = [0, 0, 50];
    const std = [0.001, 0.5, 10];
    const score = (v: number, x: number[]) => {
      let s = 0.05;
      for (let i = 0; i < 3; i++) s += coef[v][i] * Math.min(4, Math.max(-4, (x[i] - mean[i]) / std[i]));
      return s;
    };
    const symbols = [...new Set(t.rows.map((row) => row.symbol as string))];
    const canary = symbols.filter((s) => inCanary('momo', s, 50));
    expect(canary.length).toBeGreaterThan(0);
    expect(canary.length).toBeLessThan(symbols.length);
    let checked = 0;
    for (const row of t.rows) {
      const ts = row.ts_recv as bigint;
      if (ts < OPEN) {
        // before the open (fundamentals published earlier): nothing deployed yet, the slot has not run
        expect(cols.map((c) => row[c])).toEqual(cols.map(() => null));
        continue;
      }
      const inWindow = ts >= CANARY && ts < ROLLBACK;
      const isCanary = canary.includes(row.symbol as string);
      const served = inWindow && isCanary ? 2 : 1;
      const unserved = inWindow ? (isCanary ? 1 : 2) : null;
      expect([row.momo_version, row.momo_unserved_version]).toEqual([served, unserved]);
      const x = INPUTS.map((c) => row[c] as number | null);
      // the unserved side's own status: none deployed outside the canary's window
      const missing = x.some((v) => v === null || !Number.isFinite(v));
      expect(row.momo_unserved_status).toBe(unserved === null ? 3 : missing ? 1 : 0);
      if (missing) {
        expect([row.momo_score, row.momo_prob, row.momo_status]).toEqual([null, null, 1]);
        continue;
      }
      const s = score(served, x as number[]);
      expect([row.momo_score, row.momo_prob, row.momo_status]).toEqual([s, 1 / (1 + Math.exp(-s)), 0]);
      expect(row.momo_score_unserved).toBe(unserved === null ? null : score(unserved, x as number[]));
      checked++;
    }
    expect(checked).toBeGreaterThan(1000);
    // every symbol switches on its first row at or after each instant
    for (const sym of symbols) {
      const mine = t.rows.filter((row) => row.symbol === sym);
      const first = (at: bigint) => mine.find((row) => (row.ts_recv as bigint) >= at)!;
      expect(first(OPEN).momo_version).toBe(1);
      expect(first(CANARY).momo_unserved_version).not.toBeNull();
      expect(first(ROLLBACK).momo_unserved_version).toBeNull();
      // and the row before each instant is still the old assignment
      const last = (at: bigint) => [...mine].reverse().find((row) => (row.ts_recv as bigint) < at)!;
      expect(last(CANARY).momo_unserved_version).toBeNull();
      expect(last(ROLLBACK).momo_unserved_version).not.toBeNull();
      expect(first(CANARY).ts_recv).toBeLessThan(CANARY + 1_000_000_000n);
    }
    const l = await readLineage(out);
    expect(Object.keys(l.models!.models)).toEqual(['momo@1', 'momo@2']);
    expect(l.models!.deploymentLog).toBe(createHash('sha256').update(readFileSync(join(reg, 'deployments.jsonl'))).digest('hex'));
    expect(l.featureSetVersion).not.toBe(fsv);

    // a window warmed up from 00:00 replays the same log: its rows are the full day's, byte for byte
    const w = cli('replay', '--catalog', cat, '--date', DATE, '--from', '14:30', '--registry', reg, '--out', join(dir, 'w.parquet'));
    expect(w.status, w.stderr).toBe(0);
    const tw = await readTrainingSet(join(dir, 'w.parquet'));
    const tail = t.rows.filter((row) => (row.ts_recv as bigint) >= CANARY + H / 2n);
    expect(tw.rows).toEqual(tail);

    // a training set with the registry samples the same signal columns, as of each sample instant
    const ts = cli('training-set', '--catalog', cat, '--date', DATE, '--sample', 'every:5m', '--features', 'rsi_14,momo_score,momo_version,momo_unserved_version,momo_unserved_status', '--registry', reg, '--out', join(dir, 't.parquet'));
    expect(ts.status, ts.stderr).toBe(0);
    const tr = await readTrainingSet(join(dir, 't.parquet'));
    expect(tr.metadata.featureSetVersion).toBe(l.featureSetVersion);
    expect((await readLineage(join(dir, 't.parquet'))).models).toEqual(l.models);
    let sampled = 0;
    for (const row of tr.rows) {
      const asOf = [...t.rows].reverse().find((x) => x.symbol === row.symbol && (x.ts_recv as bigint) <= (row.ts as bigint));
      if (!asOf) continue;
      expect([row.momo_score, row.momo_version, row.momo_unserved_version, row.momo_unserved_status]).toEqual([asOf.momo_score, asOf.momo_version, asOf.momo_unserved_version, asOf.momo_unserved_status]);
      sampled++;
    }
    expect(sampled).toBeGreaterThan(100);
  });
});
