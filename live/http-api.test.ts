/**
 * The HTTP API's input checks and metrics, through the real CLI (`lockstep serve`) against a real
 * redis-server: requests a client may get wrong are refused with 400 naming the problem, and every
 * refusal, including the ones Node's HTTP parser makes (431), is counted in /metrics.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metaKey, type KeyLayout } from './keys.ts';
import { openRedis, type RedisClient } from './redis-connect.ts';
import { RedisHarness } from './redis-harness.ts';

const ROOT = resolve(new URL('..', import.meta.url).pathname);
const keys: KeyLayout = { ns: 'api', shards: 2 };
let redis: RedisHarness;
let admin: RedisClient;
let serve: ChildProcess;
let base: string;

beforeAll(async () => {
  redis = await RedisHarness.start();
  admin = await openRedis(redis.url);
  // what a worker records when it starts: the deployment's shards and factor columns
  await admin.hset(metaKey(keys), 'shards', String(keys.shards), 'columns', 'mid,spread,rsi_14', 'featureSetVersion', 'test');
  serve = spawn(process.execPath, [join(ROOT, 'bin/lockstep.js'), 'serve', '--redis', redis.url, '--ns', keys.ns, '--shards', String(keys.shards), '--port', '0'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  base = await new Promise<string>((done, fail) => {
    let out = '';
    serve.stdout!.on('data', (d) => {
      out += d.toString();
      const m = /serving (http:\/\/[^/]+)/.exec(out);
      if (m) done(m[1]);
    });
    serve.on('exit', (code) => fail(new Error(`serve exited with ${code}`)));
  });
}, 60_000);

afterAll(async () => {
  serve?.kill('SIGTERM');
  admin?.disconnect();
  await redis?.close();
});

const get = async (path: string) => {
  const r = await fetch(`${base}${path}`);
  return { status: r.status, body: (await r.json()) as { error?: string; symbols?: { symbol: string }[] } };
};

/** A raw GET with extra headers (fetch refuses some of what a hostile client sends). */
function rawGet(path: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((done, fail) => {
    const req = request(`${base}${path}`, { headers }, (res) => {
      res.resume();
      done(res.statusCode ?? 0);
    });
    req.on('error', fail);
    req.end();
  });
}

describe('HTTP API input checks (issue 21 item 18)', () => {
  it('an unknown feature name is a 400 naming it, not 200 "missing"', async () => {
    const r = await get('/v1/features?symbols=SYM000&features=mid,nope');
    expect(r.status).toBe(400);
    expect(r.body.error).toMatch(/unknown feature "nope"/);
    expect(r.body.error).toMatch(/mid, spread, rsi_14/);
    // a known feature of a symbol without values is still 200 (warming up)
    expect((await get('/v1/features?symbols=SYM000&features=mid,rsi_14')).status).toBe(200);
  });

  it('max_age_ms must be a plain non-negative decimal integer', async () => {
    for (const bad of ['', '0x10', '1e3', '-1', '1.5', ' 5', 'Infinity']) {
      const r = await get(`/v1/features?symbols=SYM000&features=mid&max_age_ms=${encodeURIComponent(bad)}`);
      expect(r.status, bad).toBe(400);
      expect(r.body.error).toMatch(/max_age_ms must be a whole number of milliseconds >= 0/);
    }
    expect((await get('/v1/features?symbols=SYM000&features=mid&max_age_ms=16')).status).toBe(200);
    expect((await get('/v1/features?symbols=SYM000&features=mid&max_age_ms=1&max_age_ms=2')).status).toBe(400);
  });

  it('repeated symbols= and features= are merged', async () => {
    const r = await get('/v1/features?symbols=SYM000&symbols=SYM001,SYM002&features=mid&features=spread');
    expect(r.status).toBe(200);
    expect(r.body.symbols!.map((s) => s.symbol)).toEqual(['SYM000', 'SYM001', 'SYM002']);
    expect(Object.keys((r.body.symbols![0] as unknown as { features: object }).features)).toEqual(['mid', 'spread']);
  });

  it('414 and 431 responses are counted in /metrics', async () => {
    expect(await rawGet(`/v1/features?symbols=${'A,'.repeat(5000)}&features=mid`)).toBe(414);
    // beyond Node's header limit (16 KiB) its parser answers before the API sees the request
    expect(await rawGet('/v1/features?symbols=A&features=mid', { 'x-big': 'x'.repeat(20_000) })).toBe(431);
    expect(await rawGet(`/v1/features?symbols=${'A,'.repeat(10_000)}&features=mid`)).toBe(431);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/^lockstep_http_requests_total\{path="\/v1\/features",code="414"\} 1$/m);
    expect(metrics).toMatch(/^lockstep_http_requests_total\{path="other",code="431"\} 2$/m);
  });
});
