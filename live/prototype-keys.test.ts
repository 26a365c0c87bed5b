/**
 * Symbols named like Object.prototype's members (constructor, toString, hasOwnProperty,
 * __proto__) through the real CLI, the client (lean reader and ioredis) and the HTTP API on a real
 * redis-server: never killed while the switch is off, always valid JSON, and switchable one by one.
 */
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getOnlineFeatures, getOnlineFeaturesJson, type OnlineQuery } from './client.ts';
import { startApi } from './http-api.ts';
import { readFiringAlerts } from './alerts/index.ts';
import { alertsStateKey, latestKey, metaKey, type KeyLayout } from './keys.ts';
import { openRedis, type RedisClient } from './redis-connect.ts';
import { RedisHarness } from './redis-harness.ts';
import { openFeatureSource, type FeatureSource } from './row-reader.ts';

const ROOT = resolve(new URL('..', import.meta.url).pathname);
const keys: KeyLayout = { ns: 'proto', shards: 2 };
const AT = 1_732_700_000_000;
const NAMES = ['constructor', 'toString', 'hasOwnProperty', '__proto__', 'valueOf'];
let redis: RedisHarness;
let r: RedisClient;
let lean: FeatureSource;
const lockstep = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin/lockstep.js'), ...args, '--redis', redis.url, '--ns', keys.ns], { encoding: 'utf8', cwd: ROOT });

beforeAll(async () => {
  redis = await RedisHarness.start();
  r = await openRedis(redis.url);
  lean = await openFeatureSource(redis.url);
  await r.hset(metaKey(keys), 'columns', 'mid,spread', 'featureSetVersion', 'fsv1', 'shards', '2');
  for (const s of NAMES) await r.hset(latestKey(keys, s), '_row', `1710511200123456789|1710511200123456999|7|quote|${AT}|fsv1|100.5,0.25`);
});
afterAll(async () => {
  r?.disconnect();
  (lean as { disconnect(): void })?.disconnect();
  await redis?.close();
});

const q: OnlineQuery = { symbols: [...NAMES, 'NOPE'], features: ['mid', 'constructor'], now: AT, maxAgeMs: 5000 };

async function statuses(): Promise<string[][]> {
  const out: string[][] = [];
  for (const src of [lean, r]) {
    const res = await getOnlineFeatures(src, keys, q);
    const json = JSON.parse(await getOnlineFeaturesJson(src, keys, q)) as { symbols: { symbol: string; features: { mid: { status: string } } }[] };
    expect(json.symbols.map((s) => s.features.mid.status)).toEqual(res.map((s) => s.features.mid.status));
    out.push(res.map((s) => `${s.symbol}:${s.features.mid.status}${s.killed ? ` (${s.killed.reason})` : ''}`));
  }
  return out;
}

describe('symbols named like Object.prototype members', () => {
  it('are not killed while the switch is off, and the HTTP body is valid JSON', async () => {
    const want = [...NAMES.map((s) => `${s}:present`), 'NOPE:missing'];
    expect(await statuses()).toEqual([want, want]);
    const api = await startApi(lean, { keys, port: 0 });
    try {
      const res = await fetch(`http://127.0.0.1:${api.port}/v1/features?symbols=${NAMES.join(',')}&features=mid`);
      const text = await res.text();
      expect(res.status, text).toBe(200);
      const body = JSON.parse(text) as { symbols: { symbol: string; features: { mid: { status: string } }; killed?: unknown }[] };
      expect(body.symbols.map((s) => [s.symbol, s.features.mid.status, 'killed' in s])).toEqual(NAMES.map((s) => [s, 'stale', false])); // stale: their rows are from AT, long ago
    } finally {
      await api.close();
    }
  });

  it('the CLI switches one of them on and off again, alone', async () => {
    expect(lockstep('kill-switch', 'on', '--symbols', '__proto__', '--reason', 'test', '--by', 'ops').status).toBe(0);
    const want = [...NAMES.map((s) => (s === '__proto__' ? `${s}:killed (test)` : `${s}:present`)), 'NOPE:missing'];
    expect(await statuses()).toEqual([want, want]);
    expect(lockstep('kill-switch', 'status').stdout).toMatch(/ON for __proto__/);
    expect(lockstep('kill-switch', 'on', '--symbols', 'constructor', '--reason', 'test2', '--by', 'ops').status).toBe(0);
    expect(lockstep('kill-switch', 'off', '--symbols', '__proto__').status).toBe(0);
    const want2 = [...NAMES.map((s) => (s === 'constructor' ? `${s}:killed (test2)` : `${s}:present`)), 'NOPE:missing'];
    expect(await statuses()).toEqual([want2, want2]);
    expect(lockstep('kill-switch', 'off').status).toBe(0);
  }, 60_000);
});

describe('hash fields named like Object.prototype members (HGETALL)', () => {
  it('the lean reader keeps every one as a key of its own, with its value', async () => {
    const key = `${keys.ns}:fields`;
    for (const f of NAMES) await r.hset(key, f, `v-${f}`);
    const h = await lean.hgetall(key);
    expect(Object.keys(h).sort()).toEqual([...NAMES].sort());
    for (const f of NAMES) expect(Object.hasOwn(h, f) && h[f]).toBe(`v-${f}`);
  });

  it('an alert stored under such an id is listed by serve and `alerts list` (they read through the lean reader)', async () => {
    await r.hset(alertsStateKey(keys), '__proto__', JSON.stringify({ severity: 'warning', summary: 'odd id', since: 1 }));
    expect((await readFiringAlerts(lean, keys)).map((a) => `${a.id}: ${a.summary}`)).toEqual(['__proto__: odd id']);
    await r.del(alertsStateKey(keys));
  });
});
