/**
 * The live path on a local Redis Cluster (3 masters): hash tags keep every shard in one slot. And
 * `lockstep parity run` against a Cluster with replicas (3 masters, 1 replica each).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDay } from '../datasets/generate.ts';
import { readFactorTable, type FactorTable } from '../replay/read-factor-table.ts';
import { runReplay } from '../replay/run-replay.ts';
import { getOnlineFeatures } from './client.ts';
import { runFeed } from './feed.ts';
import type { KeyLayout } from './keys.ts';
import { readOutputRows } from './read-output.ts';
import { openRedis, type RedisClient } from './redis-connect.ts';
import { RedisClusterHarness } from './redis-harness.ts';
import { LiveWorker } from './worker/index.ts';

const DATE = '2024-03-15';
let dir: string;
let cluster: RedisClusterHarness;
let client: RedisClient;
let replay: FactorTable;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lockstep-cluster-'));
  await generateDay({ date: DATE, symbols: 3, seed: 9, preset: 'tiny', out: join(dir, 'cat') });
  await runReplay({ catalog: join(dir, 'cat'), date: DATE, out: join(dir, 'replay.parquet'), progress: false });
  replay = await readFactorTable(join(dir, 'replay.parquet'));
  cluster = await RedisClusterHarness.start(3);
  client = await openRedis(cluster.url);
});

afterAll(async () => {
  client?.disconnect();
  await cluster?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('Redis Cluster', () => {
  /** Every output row equals the replay's row of the same event identity, and none is missing or extra. */
  async function expectReplayRows(keys: KeyLayout): Promise<void> {
    const { rows } = await readOutputRows(client, keys);
    const cols = Object.keys(replay.values);
    const want = new Map(replay.seq.map((q, i) => [`${replay.symbol[i]}/${replay.source[i]}/${q}`, cols.map((c) => replay.values[c][i])]));
    expect(rows.length).toBe(want.size);
    let bad = 0;
    for (const r of rows) {
      const w = want.get(`${r.symbol}/${r.source}/${r.seq}`);
      if (!w || w.some((x, i) => !Object.is(x, r.values[i]))) bad++;
    }
    expect(bad).toBe(0);
  }

  it('two --balance workers split the shards across the cluster\'s slots and give the replay output', async () => {
    const keys: KeyLayout = { ns: 'clb', shards: 4 };
    await runFeed({ catalog: join(dir, 'cat'), date: DATE, redis: cluster.url, ns: keys.ns, shards: keys.shards });
    const opts = { redis: cluster.url, ns: keys.ns, shards: keys.shards, balance: true, leaseMs: 1500, batch: 64 };
    const a = new LiveWorker({ ...opts, consumer: 'a' });
    await a.start();
    expect(a.heldShards()).toEqual([0, 1, 2, 3]);
    const b = new LiveWorker({ ...opts, consumer: 'b' });
    await b.start();
    await Promise.all([a.run({ idleStopMs: 3000 }), b.run({ idleStopMs: 3000 })]);
    expect(a.heldShards()).toEqual([0, 1]);
    expect(b.heldShards()).toEqual([2, 3]);
    await a.close();
    await b.close();
    await expectReplayRows(keys);
  });

  it('feed, two workers and the client on a 3-node cluster give the replay output', async () => {
    const keys: KeyLayout = { ns: 'cl', shards: 4 };
    await runFeed({ catalog: join(dir, 'cat'), date: DATE, redis: cluster.url, ns: keys.ns, shards: keys.shards });
    const workers = [[0, 1], [2, 3]].map((owned, i) => new LiveWorker({ redis: cluster.url, ns: keys.ns, shards: keys.shards, owned, consumer: `c${i}` }));
    for (const w of workers) await w.start();
    await Promise.all(workers.map((w) => w.run({ idleStopMs: 500 })));
    for (const w of workers) await w.close();
    await expectReplayRows(keys);
    const symbols = [...new Set(replay.symbol)];
    const res = await getOnlineFeatures(client, keys, { symbols, features: ['last_price', 'mid'], maxAgeMs: 60_000 });
    for (const r of res) {
      const i = replay.symbol.lastIndexOf(r.symbol);
      expect(r.features.last_price.value).toBe(replay.values.last_price[i]);
      expect(r.seq).toBe(replay.seq[i]);
    }
  });
});

describe('Redis Cluster with replicas', () => {
  it('`lockstep parity run --redis <cluster>` certifies parity with two workers, then deletes its namespace on every master', async () => {
    const c = await RedisClusterHarness.start(6, 1);
    try {
      const role = (port: number) => spawnSync('redis-cli', ['-p', String(port), 'role'], { encoding: 'utf8' }).stdout.split('\n')[0];
      expect(c.nodes.map((n) => role(n.port)).sort()).toEqual(['master', 'master', 'master', 'slave', 'slave', 'slave']);
      const cert = join(dir, 'cluster-cert.json');
      const root = new URL('..', import.meta.url).pathname;
      const r = spawnSync(process.execPath, [join(root, 'bin/lockstep.js'), 'parity', 'run', '--catalog', join(dir, 'cat'), '--date', DATE, '--from', '14:00', '--to', '14:20', '--redis', c.url, '--workers', '2', '--certificate', cert], { cwd: root, encoding: 'utf8' });
      expect(r.status, r.stdout + r.stderr).toBe(0);
      const got = JSON.parse(readFileSync(cert, 'utf8')) as { verdict: string; outputs: { rows: number }; diff: { mismatchedCells: number } };
      expect(got.verdict).toBe('parity');
      expect(got.outputs.rows).toBeGreaterThan(0);
      expect(got.diff.mismatchedCells).toBe(0);
      expect(r.stdout + r.stderr).toMatch(/deleted namespace parity-\S+ \(\d+ keys\)/);
      for (const n of c.nodes) if (role(n.port) === 'master') expect(spawnSync('redis-cli', ['-p', String(n.port), 'dbsize'], { encoding: 'utf8' }).stdout.trim()).toBe('0');
    } finally {
      await c.close();
    }
  }, 240_000);
});
