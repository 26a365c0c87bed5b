/**
 * `lockstep feed --speed N` against a real redis-server: every event reaches its stream, none is
 * published before its paced time (checked with Redis's own clock, the entry IDs), and the paced
 * streams hold the same entries as a feed at max speed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDay } from '../datasets/generate.ts';
import { dateStartNs } from '../replay/catalog.ts';
import { runFeed } from './feed.ts';
import { inputStream, type KeyLayout } from './keys.ts';
import { openRedis, type RedisClient } from './redis-connect.ts';
import { RedisHarness } from './redis-harness.ts';

const DATE = '2024-03-15';
let dir: string;
let redis: RedisHarness;
let r: RedisClient;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lockstep-feed-test-'));
  await generateDay({ date: DATE, symbols: 2, seed: 5, preset: 'tiny', out: join(dir, 'cat') });
  redis = await RedisHarness.start();
  r = await openRedis(redis.url);
});
afterAll(async () => {
  r?.disconnect();
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Every entry of the shards' input streams: Redis's ms clock at XADD and the event's ts_recv. */
async function published(keys: KeyLayout): Promise<{ ms: number; tsRecv: bigint }[]> {
  const out: { ms: number; tsRecv: bigint }[] = [];
  for (let s = 0; s < keys.shards; s++) {
    for (const [id, flat] of await r.xrange(inputStream(keys, s), '-', '+')) {
      const tr = flat[flat.indexOf('tr') + 1];
      out.push({ ms: Number(id.split('-')[0]), tsRecv: BigInt(tr) });
    }
  }
  return out;
}

describe('feed --speed N', () => {
  it('publishes every event, none before its paced time', async () => {
    const speed = 100;
    const keys: KeyLayout = { ns: 'paced', shards: 2 };
    // 10 minutes of the day at 100x: ~6 s of wall time; Redis's clock before the feed starts
    const [sec, usec] = await r.time();
    const startMs = Number(sec) * 1000 + Math.floor(Number(usec) / 1000);
    const summary = await runFeed({ catalog: join(dir, 'cat'), date: DATE, from: '14:30', to: '14:40', redis: redis.url, ns: keys.ns, shards: keys.shards, speed });
    const entries = await published(keys);
    expect(entries.length).toBe(summary.entries);
    entries.sort((a, b) => (a.tsRecv < b.tsRecv ? -1 : a.tsRecv > b.tsRecv ? 1 : a.ms - b.ms));
    // earlier-dated rows (point-in-time fundamentals) go out at once; pacing starts at the date
    const dayStart = dateStartNs(DATE);
    const paced = entries.filter((e) => e.tsRecv >= dayStart);
    expect(paced.length).toBeGreaterThan(1000);
    const t0 = paced[0].tsRecv;
    let early = 0;
    for (const e of paced) {
      // due (tsRecv - t0) / speed after the pacer started, which was after startMs; 2 ms for the
      // truncation of Redis's ms clock and the pacer's own 1 ms of look-ahead
      const dueMs = Number(e.tsRecv - t0) / 1e6 / speed;
      if (e.ms - startMs < dueMs - 2) early++;
    }
    expect(early).toBe(0);
    // the paced run took at least the window's event time / speed (a lower bound only: a loaded
    // machine makes it slower, never faster)
    const spanMs = Number(paced[paced.length - 1].tsRecv - t0) / 1e6;
    expect(summary.wallMs).toBeGreaterThanOrEqual(spanMs / speed - 5);
  });

  it('at max speed publishes the same entries in the same order per shard', async () => {
    const paced: KeyLayout = { ns: 'paced', shards: 2 };
    const fast: KeyLayout = { ns: 'fast', shards: 2 };
    await runFeed({ catalog: join(dir, 'cat'), date: DATE, from: '14:30', to: '14:40', redis: redis.url, ns: fast.ns, shards: fast.shards });
    for (let s = 0; s < 2; s++) {
      const a = (await r.xrange(inputStream(paced, s), '-', '+')).map(([, f]) => f.join(' '));
      const b = (await r.xrange(inputStream(fast, s), '-', '+')).map(([, f]) => f.join(' '));
      expect(a.length).toBeGreaterThan(0);
      expect(a).toEqual(b);
    }
  });
});
