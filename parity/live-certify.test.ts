/**
 * The parity diff certifies an in-process live worker's capture against the replay: feed a
 * synthetic day into a private redis-server, run one worker, and diff the capture read from Redis
 * (a URL source) with the replay's Parquet. Lives here, not in live/, because it needs the diff.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDay } from '../datasets/generate.ts';
import { runFeed } from '../live/feed.ts';
import type { KeyLayout } from '../live/keys.ts';
import { RedisHarness } from '../live/redis-harness.ts';
import { LiveWorker } from '../live/worker/index.ts';
import { readFactorTable } from '../replay/read-factor-table.ts';
import { runReplay } from '../replay/run-replay.ts';
import { diffTables } from './diff.ts';
import { loadTable } from './load-table.ts';

const DATE = '2024-03-15';
let dir: string;
let redis: RedisHarness;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lockstep-live-certify-'));
  await generateDay({ date: DATE, symbols: 4, seed: 11, preset: 'tiny', out: join(dir, 'cat') });
  await runReplay({ catalog: join(dir, 'cat'), date: DATE, out: join(dir, 'replay.parquet'), progress: false });
  redis = await RedisHarness.start({ persistence: true });
});

afterAll(async () => {
  await redis?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('parity of a live capture', () => {
  const keys: KeyLayout = { ns: 'clean', shards: 3 };

  it('the parity diff reads the live capture from Redis and certifies it against the replay', async () => {
    await runFeed({ catalog: join(dir, 'cat'), date: DATE, redis: redis.url, ns: keys.ns, shards: keys.shards });
    const w = new LiveWorker({ redis: redis.url, ns: keys.ns, shards: keys.shards, consumer: 'w1' });
    await w.start();
    await w.run({ idleStopMs: 300 });
    await w.close();
    const replay = await readFactorTable(join(dir, 'replay.parquet'));
    const r = diffTables(await loadTable(join(dir, 'replay.parquet')), await loadTable(`${redis.url}/?ns=${keys.ns}&shards=${keys.shards}`));
    expect(r.verdict).toBe('parity');
    expect(r.matchedRows).toBe(replay.seq.length);
  });
});
