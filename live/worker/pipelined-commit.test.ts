/**
 * Pipelined commits (commit.ts) through their failure paths, against a real redis-server: while a
 * worker commits with several calls in flight, Redis refuses writes for a moment (maxmemory set
 * below what it holds, then lifted: a call is answered OOM while the one behind it runs, without
 * its predecessor's writes), forgets the commit script (SCRIPT FLUSH: NOSCRIPT) and the commit
 * connection is killed (every call in flight fails).
 * The output must equal the replay's, nothing missing or doubled, and no shard may be taken for
 * diverged: a reply that ran behind a refused call is re-sent, never believed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { generateDay } from '../../datasets/generate.ts';
import { readFactorTable, type FactorTable } from '../../replay/read-factor-table.ts';
import { runReplay } from '../../replay/run-replay.ts';
import { runFeed } from '../feed.ts';
import type { KeyLayout } from '../keys.ts';
import { readOutputRows } from '../read-output.ts';
import { openRedis, type RedisClient } from '../redis-connect.ts';
import { RedisHarness } from '../redis-harness.ts';
import { LiveWorker } from './index.ts';

const DATE = '2024-03-15';
let dir: string;
let redis: RedisHarness;
let client: RedisClient;
let replay: FactorTable;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lockstep-pipelined-'));
  await generateDay({ date: DATE, symbols: 3, seed: 5, preset: 'tiny', out: join(dir, 'cat') });
  await runReplay({ catalog: join(dir, 'cat'), date: DATE, out: join(dir, 'replay.parquet'), progress: false });
  replay = await readFactorTable(join(dir, 'replay.parquet'));
  redis = await RedisHarness.start();
  // the faults are sent from here: a slow, shared machine must not time them out
  client = await openRedis(redis.url, { commandTimeoutMs: 30_000 });
});

afterAll(async () => {
  client?.disconnect();
  await redis?.close();
  rmSync(dir, { recursive: true, force: true });
});

it('commits in flight refused (NOSCRIPT) or cut off (connection killed): re-sent in order, output equals the replay, no shard diverges', async () => {
  const keys: KeyLayout = { ns: 'pipe', shards: 2 };
  await runFeed({ catalog: join(dir, 'cat'), date: DATE, redis: redis.url, ns: keys.ns, shards: keys.shards });
  const log: string[] = [];
  // small batches: many commits, several in flight when a fault lands
  const w = new LiveWorker({ redis: redis.url, ns: keys.ns, shards: keys.shards, consumer: 'wp', batch: 32, log: (m) => log.push(m) });
  await w.start();
  let faults = 0;
  let stop = false;
  const faulting = (async () => {
    for (let i = 0; !stop; i++) {
      await new Promise((r) => setTimeout(r, 5 + (i % 7) * 3));
      if (i % 4 === 1) {
        await client.call('CONFIG', 'SET', 'maxmemory', '1');
        await client.call('CONFIG', 'SET', 'maxmemory', '0');
      } else if (i % 4 === 3) {
        const list = String(await client.call('CLIENT', 'LIST'));
        const id = /id=(\d+) .*name=lockstep-worker-wp-commit /.exec(list)?.[1];
        if (id !== undefined) await client.call('CLIENT', 'KILL', 'ID', id);
      } else await client.call('SCRIPT', 'FLUSH');
      faults++;
    }
  })();
  await w.run({ idleStopMs: 500 });
  stop = true;
  await faulting;
  await w.close();
  expect(faults).toBeGreaterThan(10);
  expect(w.health().commits).toBeGreaterThan(100);
  expect(log.join('\n')).not.toMatch(/DIVERGED|recovering from the checkpoint/);
  const { rows } = await readOutputRows(client, keys);
  const k = (symbol: string, source: string, seq: bigint) => `${symbol}/${source}/${seq}`;
  const cols = Object.keys(replay.values);
  const want = new Map<string, (number | null)[]>();
  for (let i = 0; i < replay.seq.length; i++) want.set(k(replay.symbol[i], replay.source[i], replay.seq[i]), cols.map((c) => replay.values[c][i]));
  const got = new Map(rows.map((r) => [k(r.symbol, r.source, r.seq), r.values]));
  expect(rows.length, 'no duplicated rows').toBe(got.size);
  expect(got.size).toBe(want.size);
  let mismatches = 0;
  for (const [key, v] of want) {
    const g = got.get(key);
    if (!g || g.length !== v.length || g.some((x, i) => !Object.is(x, v[i]))) mismatches++;
  }
  expect(mismatches).toBe(0);
}, 240_000);
