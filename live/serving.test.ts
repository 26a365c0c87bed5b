/** The read side against a real redis-server: the client's one-round-trip reads and the HTTP API. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDay } from '../datasets/generate.ts';
import { getOnlineFeatures } from './client.ts';
import { runFeed } from './feed.ts';
import { startApi } from './http-api.ts';
import { alertsStateKey, latestKey, type KeyLayout } from './keys.ts';
import { openRedis, type RedisClient } from './redis-connect.ts';
import { RedisHarness } from './redis-harness.ts';
import { openFeatureSource, RowReader, type FeatureSource } from './row-reader.ts';
import { LiveWorker } from './worker/index.ts';

const DATE = '2024-03-15';
const keys: KeyLayout = { ns: 'srv', shards: 2 };
let dir: string;
let redis: RedisHarness;
let admin: RedisClient;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lockstep-serve-'));
  await generateDay({ date: DATE, symbols: 3, seed: 5, preset: 'tiny', out: join(dir, 'cat') });
  redis = await RedisHarness.start();
  admin = await openRedis(redis.url);
  await runFeed({ catalog: join(dir, 'cat'), date: DATE, redis: redis.url, ns: keys.ns, shards: keys.shards });
  const w = new LiveWorker({ redis: redis.url, ns: keys.ns, shards: keys.shards, consumer: 'w' });
  await w.start();
  await w.run({ idleStopMs: 200 });
  await w.close();
  // a read-only user for the API: HGET/HMGET on latest values and meta, PING; nothing else
  await admin.call('ACL', 'SETUSER', 'reader', 'on', '>readerpw', `~${keys.ns}:latest:*`, `~${keys.ns}:meta`, `~${keys.ns}:kill`, '+hget', '+hmget', '+get', '+ping');
});

afterAll(async () => {
  admin?.disconnect();
  await redis?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('getOnlineFeatures', () => {
  it('reads many symbols and features in one round trip, with status and event time', async () => {
    const h = await admin.hgetall(latestKey(keys, 'SYM000'));
    const at = Number(h._at);
    const res = await getOnlineFeatures(admin, keys, { symbols: ['SYM000', 'SYM002', 'NOPE'], features: ['mid', 'rsi_14', 'last_price'], now: at, maxAgeMs: 1000 });
    expect(res[0].features.mid).toEqual({ value: Number(h.mid), status: 'present' });
    expect(res[0].tsEvent).toBe(BigInt(h._te));
    expect(res[0].seq).toBe(BigInt(h._seq));
    expect(res[2].features.mid).toEqual({ value: null, status: 'missing' });
    const later = await getOnlineFeatures(admin, keys, { symbols: ['SYM000'], features: ['mid'], now: at + 5000, maxAgeMs: 1000 });
    expect(later[0].features.mid.status).toBe('stale');
  });

  it('refuses invalid names and oversized requests', async () => {
    await expect(getOnlineFeatures(admin, keys, { symbols: ['A B'], features: ['mid'] })).rejects.toThrow(/invalid symbol/);
    await expect(getOnlineFeatures(admin, keys, { symbols: ['A'], features: ['Mid;DROP'] })).rejects.toThrow(/invalid feature/);
    await expect(getOnlineFeatures(admin, keys, { symbols: Array.from({ length: 1001 }, (_, i) => `S${i}`), features: ['mid'] })).rejects.toThrow(/at most 1000/);
  });
});

describe('getOnlineFeatures through the lean reader (row-reader.ts)', () => {
  it('gives the same answer as through ioredis, and the same refusals', async () => {
    const lean = await openFeatureSource(redis.url.replace('redis://', 'redis://reader:readerpw@'));
    try {
      expect(lean).toBeInstanceOf(RowReader);
      const q = { symbols: ['SYM002', 'NOPE', 'SYM000', 'SYM001', 'SYM000'], features: ['mid', 'rsi_14', 'nope', 'last_price', 'mid'], now: 1_800_000_000_000, maxAgeMs: 1000 };
      expect(await getOnlineFeatures(lean, keys, q)).toEqual(await getOnlineFeatures(admin, keys, q));
      await expect(getOnlineFeatures(lean, keys, { symbols: ['A B'], features: ['mid'] })).rejects.toThrow(/invalid symbol/);
    } finally {
      lean.disconnect();
    }
  });
});

describe.each([
  ['ioredis', (url: string) => openRedis(url, { commandTimeoutMs: 300 })],
  ['the lean reader', (url: string) => openFeatureSource(url, { commandTimeoutMs: 300 })],
] as [string, (url: string) => Promise<FeatureSource>][])('HTTP API (read-only Redis user, %s)', (_name, open) => {
  it('serves features, health and metrics; validates input; cannot write', async () => {
    const reader = await open(redis.url.replace('redis://', 'redis://reader:readerpw@'));
    const rw = await openRedis(redis.url.replace('redis://', 'redis://reader:readerpw@'));
    await expect(rw.set('x', '1')).rejects.toThrow(/NOPERM/);
    rw.disconnect();
    const api = await startApi(reader, { keys, port: 0, maxAgeMs: 60_000 });
    const base = `http://127.0.0.1:${api.port}`;
    try {
      const ok = await fetch(`${base}/v1/features?symbols=SYM000,SYM001&features=mid,spread`);
      expect(ok.status).toBe(200);
      const body = (await ok.json()) as { symbols: { symbol: string; features: Record<string, { value: number; status: string }> }[] };
      const h = await admin.hgetall(latestKey(keys, 'SYM001'));
      expect(body.symbols[1].features.spread.value).toBe(Number(h.spread));
      expect((await fetch(`${base}/v1/features?symbols=SYM000&features=bad-name`)).status).toBe(400);
      expect((await fetch(`${base}/v1/features?symbols=SYM000`)).status).toBe(400);
      expect((await fetch(`${base}/v1/features?symbols=${'A,'.repeat(5000)}&features=mid`)).status).toBe(414);
      expect((await fetch(`${base}/v1/features?symbols=SYM000&features=mid`, { method: 'POST' })).status).toBe(405);
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      // a frozen Redis: health turns 503 within the command timeout, and back to 200 after
      redis.pause();
      try {
        expect((await fetch(`${base}/healthz`)).status).toBe(503);
      } finally {
        redis.resume();
      }
      await new Promise((r) => setTimeout(r, 300));
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toMatch(/lockstep_http_requests_total\{path="\/v1\/features",code="200"\} 1/);
      expect(metrics).toMatch(/lockstep_http_requests_total\{path="\/healthz",code="503"\} 1/);
      expect(metrics).toMatch(/lockstep_http_request_duration_seconds_bucket\{path="\/v1\/features",le="\+Inf"\} \d+/);
      // this reader's ACL has no HGETALL on the alerts state: shown as unread, not as "no alerts"
      expect(metrics).toMatch(/^lockstep_redis_up 1$/m);
      expect(metrics).toMatch(/^lockstep_alerts_read_ok 0$/m);
      expect(metrics).not.toMatch(/lockstep_alerts_firing/);
      // granted, the alerts the watcher recorded are exported: counts by severity, one gauge each
      await admin.call('ACL', 'SETUSER', 'reader', `~${keys.ns}:alerts:state`, '+hgetall');
      try {
        await admin.hset(alertsStateKey(keys), 'lag:2', JSON.stringify({ severity: 'warning', summary: 'lag', shard: 2, since: 1 }), 'no-worker:1', JSON.stringify({ severity: 'critical', summary: 'no worker', shard: 1, since: 1 }));
        const withAlerts = await (await fetch(`${base}/metrics`)).text();
        expect(withAlerts).toMatch(/^lockstep_alerts_read_ok 1$/m);
        expect(withAlerts).toMatch(/^lockstep_alerts_firing\{severity="critical"\} 1$/m);
        expect(withAlerts).toMatch(/^lockstep_alerts_firing\{severity="warning"\} 1$/m);
        expect(withAlerts).toMatch(/^lockstep_alert\{id="lag:2",severity="warning"\} 1$/m);
        expect(withAlerts).toMatch(/^lockstep_alert\{id="no-worker:1",severity="critical"\} 1$/m);
        await admin.del(alertsStateKey(keys));
        expect(await (await fetch(`${base}/metrics`)).text()).toMatch(/^lockstep_alerts_firing\{severity="critical"\} 0$/m);
      } finally {
        await admin.del(alertsStateKey(keys));
        await admin.call('ACL', 'SETUSER', 'reader', '-hgetall');
      }
    } finally {
      await api.close();
      reader.disconnect();
    }
  });
});
