/**
 * The read client's two answers agree: `getOnlineFeaturesJson` (the HTTP API's, built as text from
 * the packed rows) is exactly `JSON.stringify` of `getOnlineFeatures`, for every kind of value and
 * status, against a real redis-server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getOnlineFeatures, getOnlineFeaturesJson, type OnlineQuery } from './client.ts';
import { latestKey, metaKey, type KeyLayout } from './keys.ts';
import { openRedis, type RedisClient } from './redis-connect.ts';
import { RedisHarness } from './redis-harness.ts';

const keys: KeyLayout = { ns: 'cli', shards: 3 };
const columns = ['a', 'b', 'c', 'd', 'e', 'f'];
const AT = 1_732_700_000_000;
let redis: RedisHarness;
let r: RedisClient;

beforeAll(async () => {
  redis = await RedisHarness.start();
  r = await openRedis(redis.url);
  await r.hset(metaKey(keys), 'columns', columns.join(','), 'featureSetVersion', 'fsv1', 'shards', '3');
  // values as the worker writes them: String(x), empty for null
  const rows: Record<string, (number | null)[]> = {
    AAA: [1.5, null, NaN, Infinity, -Infinity, 0.1 + 0.2],
    BBB: [1e21, 5e-324, -7, null, null, 123456789.125],
    CCC: [null, null, null, null, null, null],
  };
  for (const [sym, vals] of Object.entries(rows)) {
    const packed = vals.map((v) => (v === null ? '' : String(v))).join(',');
    const at = sym === 'BBB' ? AT - 10_000 : AT;
    await r.hset(latestKey(keys, sym), '_row', `1710511200123456789|1710511200123456999|${sym.length + 40}|trade|${at}|fsv1|${packed}`);
  }
});

afterAll(async () => {
  r?.disconnect();
  await redis?.close();
});

const stringify = (x: unknown) => JSON.stringify(x, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));

describe('read client', () => {
  it('the JSON answer is JSON.stringify of the object answer', async () => {
    const queries: OnlineQuery[] = [
      { symbols: ['AAA', 'BBB', 'CCC', 'NOPE'], features: columns, now: AT, maxAgeMs: 5000 },
      { symbols: ['BBB'], features: ['f', 'a', 'zz', 'f', 'c'], now: AT, maxAgeMs: 5000 },
      { symbols: ['NOPE', 'AAA'], features: ['e'], now: AT + 60_000, maxAgeMs: 1000 },
    ];
    for (const q of queries) {
      const obj = await getOnlineFeatures(r, keys, q);
      expect(await getOnlineFeaturesJson(r, keys, q)).toBe(stringify({ symbols: obj }));
    }
  });

  it('keeps every value and status exact', async () => {
    const [a, b, c, none] = await getOnlineFeatures(r, keys, { symbols: ['AAA', 'BBB', 'CCC', 'NOPE'], features: [...columns, 'zz', 'a'], now: AT, maxAgeMs: 5000 });
    expect(Object.keys(a.features)).toEqual([...columns, 'zz']);
    expect(a.features.a).toEqual({ value: 1.5, status: 'present' });
    expect(a.features.b).toEqual({ value: null, status: 'missing' });
    expect(a.features.c.value).toBeNaN();
    expect([a.features.d.value, a.features.e.value, a.features.f.value]).toEqual([Infinity, -Infinity, 0.1 + 0.2]);
    expect(a.features.zz).toEqual({ value: null, status: 'missing' });
    expect(a.tsEvent).toBe(1710511200123456789n);
    expect(a.seq).toBe(43n);
    expect(b.features.a).toEqual({ value: 1e21, status: 'stale' });
    expect(b.features.b.value).toBe(5e-324);
    expect(c.features.a).toEqual({ value: null, status: 'missing' });
    expect(none).toEqual({ symbol: 'NOPE', tsEvent: null, seq: null, computedAt: null, featureSetVersion: null, features: Object.fromEntries([...columns, 'zz'].map((f) => [f, { value: null, status: 'missing' }])) });
  });
});
