/**
 * The Open Inference Protocol endpoint through the real CLI (`lockstep serve --registry DIR`),
 * against a real redis-server holding latest values written by a real worker (feed + LiveWorker
 * on a generated day), connected as the documented read-only ACL user. Every prediction is checked
 * against the model's math computed here from the model file's numbers, and every live one
 * against the latest values read back independently (the per-column fields of the hash).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDay } from '../../datasets/generate.ts';
import { runFeed } from '../feed.ts';
import { latestKey, type KeyLayout } from '../keys.ts';
import { setKillSwitch } from '../kill-switch.ts';
import { openRedis, type RedisClient } from '../redis-connect.ts';
import { RedisHarness } from '../redis-harness.ts';
import { LiveWorker } from '../worker/index.ts';
import { inCanary } from '../../models/deployment.ts';
import { INFER_LIMITS } from './inference-api.ts';
import { appendDeployment, registerVersion } from '../../models/registry.ts';

const ROOT = resolve(new URL('../..', import.meta.url).pathname);
const DATE = '2024-03-15';
// the documented reader's ACL names the default namespace `ls`
const keys: KeyLayout = { ns: 'ls', shards: 2 };
const SYMBOLS = ['SYM000', 'SYM001', 'SYM002', 'SYM003', 'SYM004', 'SYM005'];
const INPUTS = ['mid', 'spread', 'rsi_14'];
const MEAN = [150, 0.03, 50];
const STD = [50, 0.02, 10];
const COEF: Record<number, number[]> = { 1: [0.6, -0.3, 0.2], 2: [-0.4, 0.5, 0.1] };
const INTERCEPT = 0.05;
const S = 1_000_000_000n;
// after the generated day's receive times, before now: applies to requests without a symbol only
const PROMOTE_AT = BigInt(Date.UTC(2025, 0, 1)) * 1_000_000n;

/** The logistic model's outputs, from the model file's numbers (the independent check). */
function expected(version: number, x: readonly number[]): { score: number; prob: number } {
  let score = INTERCEPT;
  for (let i = 0; i < x.length; i++) score += COEF[version][i] * Math.min(4, Math.max(-4, (x[i] - MEAN[i]) / STD[i]));
  return { score, prob: 1 / (1 + Math.exp(-score)) };
}

let dir: string;
let registry: string;
let redis: RedisHarness;
let admin: RedisClient;
let serve: ChildProcess;
let base: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lockstep-oip-'));
  registry = join(dir, 'registry');
  for (const version of [1, 2]) {
    const file = join(dir, `momo-${version}.json`);
    writeFileSync(file, JSON.stringify({ lockstep_model: 1, name: 'momo', version, kind: 'logistic', inputs: INPUTS, missing: 'null', standardize: { mean: MEAN, std: STD }, clip: [-4, 4], coef: COEF[version], intercept: INTERCEPT }));
    registerVersion(registry, file);
  }
  // a version this build cannot evaluate: registered, never ready
  writeFileSync(join(dir, 'g.onnx'), 'not a graph');
  writeFileSync(join(dir, 'deep.json'), JSON.stringify({ lockstep_model: 1, name: 'deep', version: 1, kind: 'onnx', inputs: INPUTS, onnx: { file: 'g.onnx', outputs: { score: 'y' } } }));
  registerVersion(registry, join(dir, 'deep.json'));
  appendDeployment(registry, { at: 0n, slot: 'momo', action: 'deploy', version: 1, mode: 'live' });
  appendDeployment(registry, { at: 1n * S, slot: 'momo', action: 'deploy', version: 2, mode: 'canary', percent: 50 });
  appendDeployment(registry, { at: PROMOTE_AT, slot: 'momo', action: 'promote' });

  await generateDay({ date: DATE, symbols: SYMBOLS.length, seed: 5, preset: 'tiny', out: join(dir, 'cat') });
  redis = await RedisHarness.start();
  admin = await openRedis(redis.url);
  // half an hour of trades and quotes (enough for mid, spread and rsi_14) keeps the test short
  await runFeed({ catalog: join(dir, 'cat'), date: DATE, redis: redis.url, ns: keys.ns, shards: keys.shards, kinds: ['trade', 'quote'], from: '14:30', to: '15:00' });
  const w = new LiveWorker({ redis: redis.url, ns: keys.ns, shards: keys.shards, consumer: 'w' });
  await w.start();
  await w.run({ idleStopMs: 200 });
  await w.close();
  // the documented read-only user, verbatim from docs/live-operations.md
  const acl = /^ACL SETUSER reader (.*)$/m.exec(readFileSync(join(ROOT, 'docs/live-operations.md'), 'utf8'))![1];
  await admin.call('ACL', 'SETUSER', 'reader', ...acl.trim().split(/\s+/).map((t) => t.replace('PASSWORD', 'pw')));
  const url = redis.url.replace('redis://', 'redis://reader:pw@');
  serve = spawn(process.execPath, [join(ROOT, 'bin/lockstep.js'), 'serve', '--redis', url, '--shards', String(keys.shards), '--port', '0', '--max-age-ms', '86400000', '--registry', registry], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  base = await new Promise<string>((done, fail) => {
    serve.stdout!.on('data', (d) => {
      out += d.toString();
      const m = /serving (http:\/\/[^/]+)/.exec(out);
      if (m) done(m[1]);
    });
    serve.stderr!.on('data', (d) => (out += d.toString()));
    serve.on('exit', (code) => fail(new Error(`serve exited with ${code}: ${out}`)));
  });
}, 120_000);

afterAll(async () => {
  serve?.kill('SIGTERM');
  admin?.disconnect();
  await redis?.close();
  rmSync(dir, { recursive: true, force: true });
});

type Tensor = { name: string; shape: number[]; datatype: string; data: (number | null)[] };
type Body = { error?: string; model_name?: string; model_version?: string; id?: string; outputs?: Tensor[]; [k: string]: unknown };

const get = async (path: string) => {
  const r = await fetch(`${base}${path}`);
  return { status: r.status, body: (await r.json()) as Body };
};
const post = async (path: string, body: unknown) => {
  const r = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: r.status, body: (await r.json()) as Body };
};
/** A POST whose body is sent in chunks (no content-length); resolves with the status code. */
function chunked(path: string, parts: string[]): Promise<number> {
  return new Promise((done, fail) => {
    const req = request(`${base}${path}`, { method: 'POST', headers: { 'transfer-encoding': 'chunked' } }, (res) => {
      res.resume();
      done(res.statusCode ?? 0);
    });
    req.on('error', fail);
    for (const p of parts) req.write(p);
    req.end();
  });
}
const tensor = (b: Body, name: string) => b.outputs!.find((t) => t.name === name)!.data;

/** A symbol's latest values as the worker stored them, read field by field (not through `_row`). */
async function latest(symbol: string): Promise<number[]> {
  const v = await admin.hmget(latestKey(keys, symbol), ...INPUTS);
  return v.map((s) => (s === null || s === '' ? NaN : Number(s)));
}

describe('Open Inference Protocol endpoint (issue 17 item 5)', () => {
  it('answers live, ready, server and model metadata, and model ready', async () => {
    expect(await get('/v2/health/live')).toEqual({ status: 200, body: { live: true } });
    expect(await get('/v2/health/ready')).toEqual({ status: 200, body: { ready: true } });
    expect((await get('/v2')).body).toMatchObject({ name: 'lockstep', extensions: [] });
    const meta = await get('/v2/models/momo');
    expect(meta.status).toBe(200);
    expect(meta.body).toEqual({
      name: 'momo',
      versions: ['1', '2'],
      platform: 'lockstep-logistic',
      inputs: INPUTS.map((name) => ({ name, datatype: 'FP64', shape: [-1] })),
      outputs: [
        { name: 'score', datatype: 'FP64', shape: [-1] },
        { name: 'prob', datatype: 'FP64', shape: [-1] },
        { name: 'model_version', datatype: 'INT64', shape: [-1] },
        { name: 'status', datatype: 'INT32', shape: [-1] },
      ],
    });
    expect((await get('/v2/models/momo/versions/1')).body).toEqual(meta.body);
    expect(await get('/v2/models/momo/ready')).toEqual({ status: 200, body: { name: 'momo', version: '2', ready: true } });
    expect(await get('/v2/models/momo/versions/1/ready')).toEqual({ status: 200, body: { name: 'momo', version: '1', ready: true } });
    // registered but not evaluable here, and not deployed
    const deep = await get('/v2/models/deep/versions/1/ready');
    expect(deep.status).toBe(503);
    expect(deep.body).toMatchObject({ name: 'deep', ready: false });
    expect((await get('/v2/models/deep/ready')).body).toEqual({ name: 'deep', ready: false });
    expect((await get('/v2/models/deep')).body).toMatchObject({ platform: 'lockstep-onnx', versions: ['1'] });
  });

  it('infers on passed features: the model math, every input form, the id echoed, missing values get the status', async () => {
    const rows = [
      [201.5, 0.04, 63],
      [97.25, 0.09, 28.5],
      [480, 0.01, 99], // clipped
      [100, null, 50], // a missing value
    ];
    const flat = { id: 'req-7', inputs: [{ name: 'input', shape: [4, 3], datatype: 'FP64', data: rows.flat() }] };
    const nested = { id: 'req-7', inputs: [{ name: 'input', shape: [4, 3], datatype: 'FP32', data: rows }] };
    const perFeature = { id: 'req-7', inputs: INPUTS.map((name, j) => ({ name, shape: [4], datatype: 'FP64', data: rows.map((r) => r[j]) })).reverse() };
    // no version named: the incumbent as of now (v2, promoted)
    const r = await post('/v2/models/momo/infer', flat);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ model_name: 'momo', model_version: '2', id: 'req-7' });
    const e = rows.slice(0, 3).map((x) => expected(2, x as number[]));
    expect(r.body.outputs).toEqual([
      { name: 'score', datatype: 'FP64', shape: [4], data: [...e.map((v) => v.score), null] },
      { name: 'prob', datatype: 'FP64', shape: [4], data: [...e.map((v) => v.prob), null] },
      { name: 'model_version', datatype: 'INT64', shape: [4], data: [2, 2, 2, 2] },
      { name: 'status', datatype: 'INT32', shape: [4], data: [0, 0, 0, 1] },
    ]);
    expect((await post('/v2/models/momo/infer', nested)).body).toEqual(r.body);
    expect((await post('/v2/models/momo/infer', perFeature)).body).toEqual(r.body);
    // a named version, and only the outputs asked for
    const v1 = await post('/v2/models/momo/versions/1/infer', { ...flat, outputs: [{ name: 'prob' }] });
    expect(v1.body).toEqual({ model_name: 'momo', model_version: '1', id: 'req-7', outputs: [{ name: 'prob', datatype: 'FP64', shape: [4], data: [...rows.slice(0, 3).map((x) => expected(1, x as number[]).prob), null] }] });
  });

  it('infers on live symbols: the latest values in Redis, the version of each symbol\'s streamed signal (canary by symbol)', async () => {
    const symbols = [...SYMBOLS, 'NOPE'];
    const r = await post('/v2/models/momo/infer', { id: 'live', parameters: { symbols } });
    expect(r.status).toBe(200);
    // the rows' receive times are in 2024: the canary (50%) holds, the 2025 promote does not apply
    // yet; a symbol without a row gets the version serving now (v2, promoted)
    const versions = [...SYMBOLS.map((s) => (inCanary('momo', s, 50) ? 2 : 1)), 2];
    expect(new Set(versions.slice(0, SYMBOLS.length))).toEqual(new Set([1, 2])); // both groups are exercised
    expect(tensor(r.body, 'model_version')).toEqual(versions);
    expect(r.body.model_version).toBe('1,2');
    const score = tensor(r.body, 'score');
    const prob = tensor(r.body, 'prob');
    const status = tensor(r.body, 'status');
    for (let i = 0; i < SYMBOLS.length; i++) {
      const x = await latest(SYMBOLS[i]);
      if (x.some(Number.isNaN)) {
        expect(status[i], SYMBOLS[i]).toBe(1);
        continue;
      }
      const e = expected(versions[i], x);
      expect([score[i], prob[i], status[i]], SYMBOLS[i]).toEqual([e.score, e.prob, 0]);
    }
    expect(status.filter((s) => s === 0).length).toBeGreaterThan(2);
    // a symbol without values: missing
    expect([score[6], status[6]]).toEqual([null, 1]);
    // a named version serves every symbol
    expect(tensor((await post('/v2/models/momo/versions/1/infer', { parameters: { symbols } })).body, 'model_version')).toEqual(symbols.map(() => 1));
    // stale after max_age_ms, killed while the kill switch is on
    expect(tensor((await post('/v2/models/momo/infer', { parameters: { symbols: SYMBOLS.slice(0, 1), max_age_ms: 0 } })).body, 'status')).toEqual([status[0] === 0 ? 5 : status[0]]);
    await setKillSwitch(admin, keys, { on: true, symbols: ['SYM001'], reason: 'test', by: 'test' });
    try {
      const k = await post('/v2/models/momo/infer', { parameters: { symbols: SYMBOLS.slice(0, 2) } });
      expect(tensor(k.body, 'status')[1]).toBe(4);
      expect(tensor(k.body, 'score')[1]).toBe(null);
      expect(tensor(k.body, 'score')[0]).toBe(score[0]);
    } finally {
      await setKillSwitch(admin, keys, { on: false });
    }
  });

  it('refuses bad requests with the protocol\'s {"error"} and counts them in /metrics', async () => {
    const input = (shape: number[], data: unknown[], datatype = 'FP64', name = 'input') => ({ inputs: [{ name, shape, datatype, data }] });
    const cases: [string, unknown, number, RegExp][] = [
      ['/v2/models/nope/infer', input([1, 3], [1, 2, 3]), 404, /unknown model "nope"; registered: deep, momo/],
      ['/v2/models/momo/versions/9/infer', input([1, 3], [1, 2, 3]), 400, /momo has no version 9; registered: 1, 2/],
      ['/v2/models/momo/versions/x/infer', input([1, 3], [1, 2, 3]), 400, /version "x" must be a whole number/],
      ['/v2/models/momo/infer', input([1, 2], [1, 2]), 400, /shape \[1,2\] must be \[N, 3\]: momo@2 takes mid, spread, rsi_14/],
      ['/v2/models/momo/infer', input([2, 3], [1, 2, 3]), 400, /shape \[2,3\] holds 6 elements but data has 3/],
      ['/v2/models/momo/infer', input([1, 3], [1, 2, 3], 'INT64'), 400, /datatype "INT64" is not accepted; features are FP64 or FP32/],
      ['/v2/models/momo/infer', input([1, 3], [1, 'a', 3]), 400, /element 1 is "a", not a number/],
      ['/v2/models/momo/infer', input([1], [1], 'FP64', 'rsi_99'), 400, /unknown feature "rsi_99": momo@2 takes mid, spread, rsi_14/],
      ['/v2/models/momo/infer', input([1], [1], 'FP64', 'mid'), 400, /missing input spread, rsi_14/],
      ['/v2/models/momo/infer', input([INFER_LIMITS.rows + 1, 3], []), 400, /too many rows: 1001, at most 1000 per request/],
      ['/v2/models/momo/infer', { parameters: { symbols: new Array(INFER_LIMITS.rows + 1).fill('A') } }, 400, /too many rows: 1001 symbols/],
      ['/v2/models/momo/infer', { parameters: { symbols: ['bad sym'] } }, 400, /invalid symbol "bad sym"/],
      ['/v2/models/momo/infer', { ...input([1, 3], [1, 2, 3]), parameters: { symbols: ['A'] } }, 400, /not both/],
      ['/v2/models/momo/infer', {}, 400, /no inputs/],
      ['/v2/models/momo/infer', '{"inputs": [', 400, /not valid JSON/],
      ['/v2/models/momo/infer', { ...input([1, 3], [1, 2, 3]), outputs: [{ name: 'alpha' }] }, 400, /unknown output alpha; momo gives score, prob, model_version, status/],
      ['/v2/models/deep/infer', input([1, 3], [1, 2, 3]), 400, /deep has no version deployed/],
      ['/v2/models/deep/versions/1/infer', input([1, 3], [1, 2, 3]), 503, /deep@1 cannot be evaluated here/],
    ];
    for (const [path, body, code, error] of cases) {
      const r = await post(path, body);
      expect([r.status, r.body.error], JSON.stringify(body).slice(0, 100)).toEqual([code, expect.stringMatching(error)]);
      expect(Object.keys(r.body)).toEqual(['error']);
    }
    expect((await get('/v2/models/nope')).status).toBe(404);
    expect((await get('/v2/models/momo/versions/3')).status).toBe(400);
    expect((await get('/v2/models/momo/infer')).status).toBe(405);
    // the body limit: a 413, answered after the body is read (the client sees it, not a reset)
    const big = await post('/v2/models/momo/infer', { inputs: [{ name: 'input', shape: [1, 3], datatype: 'FP64', data: [1, 2, 3] }], pad: 'x'.repeat(INFER_LIMITS.bodyBytes) });
    expect(big).toEqual({ status: 413, body: { error: `request body larger than ${INFER_LIMITS.bodyBytes} bytes` } });
    // without a declared length (chunked), the limit holds as the body arrives
    expect(await chunked('/v2/models/momo/infer', ['{"inputs": [', ' '.repeat(INFER_LIMITS.bodyBytes), ']}'])).toBe(413);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    const refused = cases.filter((c) => c[2] === 400).length;
    expect(metrics).toMatch(new RegExp(`^lockstep_http_requests_total\\{path="/v2/models/\\{name\\}/infer",code="400"\\} ${refused}$`, 'm'));
    expect(metrics).toMatch(/^lockstep_http_requests_total\{path="\/v2\/models\/\{name\}\/infer",code="413"\} 2$/m);
    expect(metrics).toMatch(/^lockstep_http_requests_total\{path="\/v2\/models\/\{name\}\/infer",code="200"\} \d+$/m);
    expect(metrics).toMatch(/^lockstep_http_requests_total\{path="\/v2\/health\/live",code="200"\} 1$/m);
  });

  it('a registry folder that does not exist stops serve with one line, exit 2', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'bin/lockstep.js'), 'serve', '--redis', redis.url, '--shards', '2', '--port', '0', '--registry', join(dir, 'nowhere')], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe(`lockstep: ${join(dir, 'nowhere')}: no such registry folder (lockstep models register creates it)`);
  });
});
