/**
 * The live path on a local Redis Cluster (3 masters): hash tags keep every shard in one slot. And
 * `lockstep parity run` against a Cluster with replicas (3 masters, 1 replica each), also through
 * a master failover: the master holding most input streams is cut off from its replica (so it
 * acknowledges writes the replica never gets: asynchronous replication's lost writes) and killed
 * mid-run; the feed, the workers and the run's drain check and capture follow the promotion.
 */
import { spawn, spawnSync } from 'node:child_process';
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

describe('a Cluster master failover', () => {
  it('a client opened while a master is down (cluster_state:fail) and a worker starting then become ready once its replica is promoted (ioredis\'s own connect() never settles)', async () => {
    const c = await RedisClusterHarness.start(6, 1);
    try {
      const cli = (port: number, ...args: string[]) => spawnSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' }).stdout;
      const victim = c.nodes.find((n) => cli(n.port, 'role').startsWith('master'))!;
      const other = c.nodes.find((n) => n !== victim)!;
      await victim.crash();
      const deadline = Date.now() + 60_000;
      while (!cli(other.port, 'cluster', 'info').includes('cluster_state:fail')) {
        if (Date.now() > deadline) throw new Error('the cluster never said cluster_state:fail');
        await new Promise((r) => setTimeout(r, 20));
      }
      // a worker starting now too: it takes its shards once the replica is promoted
      const w = new LiveWorker({ redis: c.url, ns: 'fo', shards: 4, consumer: 'a' });
      const started = w.start();
      const r = await openRedis(c.url, { clusterReadyMs: 60_000 });
      try {
        expect(cli(other.port, 'cluster', 'info')).toContain('cluster_state:ok');
        await r.set('after-failover', '1');
        expect(await r.get('after-failover')).toBe('1');
        await started;
        expect(w.heldShards()).toEqual([0, 1, 2, 3]);
      } finally {
        await w.close();
        r.disconnect();
      }
    } finally {
      await c.close();
    }
  }, 120_000);

  it('the master holding the input streams killed during `lockstep parity run`: the replica is promoted, the run certifies parity', async () => {
    const c = await RedisClusterHarness.start(6, 1);
    const cli = (port: number, ...args: string[]) => spawnSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' }).stdout.trim();
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const until = async (what: string, ok: () => boolean, timeoutMs = 60_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!ok()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await sleep(100);
      }
    };
    const masters = () => c.nodes.filter((n) => cli(n.port, 'role').split('\n')[0] === 'master');
    const keysOn = (port: number, pattern: string) => cli(port, '--scan', '--pattern', pattern).split('\n').filter(Boolean);
    const cert = join(dir, 'cluster-failover-cert.json');
    const root = new URL('..', import.meta.url).pathname;
    const run = spawn(process.execPath, [join(root, 'bin/lockstep.js'), 'parity', 'run', '--catalog', join(dir, 'cat'), '--date', DATE, '--from', '14:00', '--to', '14:20', '--speed', '100', '--redis', c.url, '--workers', '2', '--certificate', cert], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    run.stdout!.on('data', (d) => (out += d.toString()));
    run.stderr!.on('data', (d) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => run.once('exit', (code) => r(code)));
    let lost = 0;
    try {
      // the workers commit, holding all four leases
      await until('the workers to commit and hold their shards', () => {
        const ms = masters();
        const outs = ms.flatMap((m) => keysOn(m.port, 'parity-*:out:*').map((k) => Number(cli(m.port, 'xlen', k))));
        return outs.reduce((a, b) => a + b, 0) >= 10 && ms.flatMap((m) => keysOn(m.port, 'parity-*:lease:*')).length === 4;
      });
      // the master holding the most input streams dies
      const victim = masters().map((m) => ({ m, n: keysOn(m.port, 'parity-*:in:*').length })).sort((a, b) => b.n - a.n)[0].m;
      const replicaPort = Number(/slave\d+:ip=[^,]+,port=(\d+)/.exec(cli(victim.port, 'info', 'replication'))?.[1]);
      // cut its replica off first (a wrong masterauth keeps it from syncing again; clients are
      // untouched): what the master acknowledges from now on is lost with it, as asynchronous
      // replication loses it
      cli(replicaPort, 'config', 'set', 'masterauth', 'cut-off');
      cli(victim.port, 'client', 'kill', 'type', 'replica');
      await until('the replica to lose its link', () => /master_link_status:down/.test(cli(replicaPort, 'info', 'replication')));
      // entries ever added to the run's streams on a node (XINFO STREAM entries-added; READONLY for a replica)
      const added = (port: number) => {
        const ks = keysOn(port, 'parity-*:*');
        const script = ['READONLY', ...ks.map((k) => `XINFO STREAM ${k}`)].join('\n');
        const r = spawnSync('redis-cli', ['-p', String(port)], { input: script, encoding: 'utf8' }).stdout;
        return [...r.matchAll(/entries-added\n(\d+)/g)].reduce((a, m) => a + Number(m[1]), 0);
      };
      const before = added(victim.port);
      await until('writes the replica never gets', () => added(victim.port) >= before + 30 || run.exitCode !== null);
      lost = added(victim.port) - added(replicaPort);
      await victim.crash();
      await until('a replica to be promoted', () => masters().length === 3);
      const code = await Promise.race([exited, sleep(240_000).then(() => 'still running after 240 s')]);
      expect(code, out).toBe(0);
      expect(lost).toBeGreaterThan(0);
      const got = JSON.parse(readFileSync(cert, 'utf8')) as { verdict: string; diff: { mismatchedCells: number }; servedLatest: { mismatched: number } };
      expect([got.verdict, got.diff.mismatchedCells, got.servedLatest.mismatched]).toEqual(['parity', 0, 0]);
    } finally {
      if (run.exitCode === null) run.kill('SIGKILL');
      await c.close();
    }
  }, 400_000);
});
