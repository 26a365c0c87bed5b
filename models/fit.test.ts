/**
 * `lockstep models fit` on a synthetic training set (a real Parquet file, the real CLI) whose true
 * coefficients are known, checked against them and against independent solutions of the same
 * objective: a plain gradient-descent reference here, and scikit-learn when Debian's
 * python3-sklearn is installed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ParquetStreamWriter } from '../replay/parquet-stream-writer.ts';
import { parseModelSpec } from './spec.ts';

const ROOT = resolve(new URL('..', import.meta.url).pathname);
const cli = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin/lockstep.js'), ...args], { encoding: 'utf8', cwd: ROOT });
const HAS_SKLEARN = spawnSync('/usr/bin/python3', ['-c', 'import sklearn'], { encoding: 'utf8' }).status === 0;

// a seeded PRNG and Box-Muller: the same synthetic set on every run
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 4294967296;
  };
}
const N = 6000;
const TRUE = { intercept: -0.3, coef: [1.2, -0.7, 0.4] };
const MEANS = [0.001, 50, 0];
const STDS = [0.002, 10, 1];
let dir: string;
let x: number[][];
let yLogit: number[];
let yLinear: number[];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lockstep-fit-'));
  const u = prng(7);
  const gauss = () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  x = [];
  yLogit = [];
  yLinear = [];
  for (let i = 0; i < N; i++) {
    const z = [gauss(), gauss(), gauss()];
    x.push(z.map((v, j) => MEANS[j] + STDS[j] * v));
    const s = TRUE.intercept + z.reduce((a, v, j) => a + TRUE.coef[j] * v, 0);
    // a label whose sign is the logistic draw, with a magnitude that carries no information
    yLogit.push((u() < 1 / (1 + Math.exp(-s)) ? 1 : -1) * (0.5 + u()));
    yLinear.push(s + 0.1 * gauss());
  }
  const col = (f: (i: number) => number | null) => {
    const values = new Float64Array(N + 2);
    const valid = new Uint8Array(N + 2);
    for (let i = 0; i < N + 2; i++) {
      // two extra rows with a null feature or label: dropped and counted
      const v = i < N ? f(i) : null;
      values[i] = v ?? 0;
      valid[i] = v === null ? 0 : 1;
    }
    return { values, valid };
  };
  const specs = ['f_a', 'f_b', 'f_c', 'lab_sign', 'lab_lin'].map((name) => ({ name, type: 'float64' as const, nullable: true }));
  const w = new ParquetStreamWriter(join(dir, 'train.parquet'), specs, { metadata: { featureSetVersion: 'feedfacecafe0001' } });
  await w.write({ f_a: col((i) => x[i][0]), f_b: col((i) => x[i][1]), f_c: col((i) => x[i][2]), lab_sign: col((i) => yLogit[i]), lab_lin: col((i) => yLinear[i]) }, N + 2);
  await w.close();
  writeFileSync(join(dir, 'data.json'), JSON.stringify({ x, yLogit, yLinear }));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const standardise = (rows: number[][]) => {
  const p = rows[0].length;
  const mean = Array.from({ length: p }, (_, j) => rows.reduce((a, r) => a + r[j], 0) / rows.length);
  const std = Array.from({ length: p }, (_, j) => Math.sqrt(rows.reduce((a, r) => a + (r[j] - mean[j]) ** 2, 0) / rows.length));
  return rows.map((r) => r.map((v, j) => (v - mean[j]) / std[j]));
};

/** Gradient descent on mean log-loss + λ/(2n)‖w‖²: slow and simple, a reference unlike Newton's method. */
function gradientDescentLogistic(z: number[][], y: number[], l2: number): number[] {
  const p = z[0].length;
  const w = new Array(p + 1).fill(0);
  for (let step = 0; step < 3000; step++) {
    const g = new Array(p + 1).fill(0);
    for (let i = 0; i < z.length; i++) {
      const s = w[0] + z[i].reduce((a, v, j) => a + w[j + 1] * v, 0);
      const r = 1 / (1 + Math.exp(-s)) - y[i];
      g[0] += r;
      for (let j = 0; j < p; j++) g[j + 1] += r * z[i][j];
    }
    for (let j = 0; j <= p; j++) w[j] -= 0.5 * (g[j] + (j > 0 ? l2 * w[j] : 0)) / z.length;
  }
  return w;
}

function sklearn(kind: 'logistic' | 'linear', l2: number): number[] {
  const code = `
import json, sys
import numpy as np
from sklearn.linear_model import LogisticRegression, Ridge
d = json.load(open(sys.argv[1]))
X = np.array(d['x']); X = (X - X.mean(axis=0)) / X.std(axis=0)
if sys.argv[2] == 'logistic':
    m = LogisticRegression(C=1.0 / float(sys.argv[3]), tol=1e-12, max_iter=10000).fit(X, np.array(d['yLogit']) > 0)
    print(json.dumps([float(m.intercept_[0])] + [float(c) for c in m.coef_[0]]))
else:
    m = Ridge(alpha=float(sys.argv[3])).fit(X, np.array(d['yLinear']))
    print(json.dumps([float(m.intercept_)] + [float(c) for c in m.coef_]))
`;
  const r = spawnSync('/usr/bin/python3', ['-c', code, join(dir, 'data.json'), kind, String(l2)], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as number[];
}

function fit(kind: string, label: string, l2: string, out: string) {
  const r = cli('models', 'fit', '--training-set', join(dir, 'train.parquet'), '--label', label, '--features', 'f_a,f_b,f_c', '--kind', kind, '--name', 'synth', '--version', '1', '--l2', l2, '--out', join(dir, out));
  expect(r.status, r.stderr).toBe(0);
  const spec = parseModelSpec(readFileSync(join(dir, out), 'utf8'), out);
  return { stdout: r.stdout, spec, w: [spec.intercept, ...spec.coef!] };
}

describe('models fit', () => {
  it('logistic: recovers the true coefficients and agrees with independent solutions of the same objective', () => {
    const { stdout, spec, w } = fit('logistic', 'lab_sign', '1', 'logit.json');
    expect(stdout).toMatch(/on 6,000 rows .*dropped 2 with a null label or feature/);
    expect(spec.trainedOn).toMatchObject({ feature_set: 'feedfacecafe0001', rows: N, label: 'lab_sign' });
    // the stored standardisation is the training rows' own
    spec.standardize!.mean.forEach((m, j) => expect(Math.abs(m - MEANS[j])).toBeLessThan(0.05 * STDS[j]));
    // the truth, within sampling error (standardised coefficients of unit-variance inputs)
    w.forEach((c, j) => expect(Math.abs(c - [TRUE.intercept, ...TRUE.coef][j])).toBeLessThan(0.12));
    const gd = gradientDescentLogistic(standardise(x), yLogit.map((v) => (v > 0 ? 1 : 0)), 1);
    w.forEach((c, j) => expect(Math.abs(c - gd[j])).toBeLessThan(1e-4));
    if (HAS_SKLEARN) sklearn('logistic', 1).forEach((c, j) => expect(Math.abs(c - w[j])).toBeLessThan(1e-5));
  });

  it('linear: ridge equals scikit-learn Ridge on the same standardised inputs, and is deterministic', () => {
    const a = fit('linear', 'lab_lin', '5', 'lin.json');
    a.w.forEach((c, j) => expect(Math.abs(c - [TRUE.intercept, ...TRUE.coef][j])).toBeLessThan(0.02));
    if (HAS_SKLEARN) sklearn('linear', 5).forEach((c, j) => expect(Math.abs(c - a.w[j])).toBeLessThan(1e-9));
    const b = fit('linear', 'lab_lin', '5', 'lin2.json');
    expect(readFileSync(join(dir, 'lin2.json'), 'utf8')).toBe(readFileSync(join(dir, 'lin.json'), 'utf8'));
    expect(b.w).toEqual(a.w);
  });

  it('refuses an unknown column or a non-training-set file in one line, exit 2', () => {
    const r = cli('models', 'fit', '--training-set', join(dir, 'train.parquet'), '--label', 'nope', '--features', 'f_a', '--kind', 'linear', '--name', 's', '--version', '1', '--out', join(dir, 'x.json'));
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/--label nope: no such column/);
    writeFileSync(join(dir, 'junk.parquet'), 'not parquet');
    const j = cli('models', 'fit', '--training-set', join(dir, 'junk.parquet'), '--label', 'lab_lin', '--features', 'f_a', '--kind', 'linear', '--name', 's', '--version', '1', '--out', join(dir, 'x.json'));
    expect(j.status).toBe(2);
    expect(j.stderr).toMatch(/junk\.parquet: cannot read it as Parquet/);
  });
});
