/**
 * The live path on a local Redis Cluster (3 masters): hash tags keep every shard in one slot. And
 * `lockstep parity run` against a Cluster with replicas (3 masters, 1 replica each), also through
 * a master failover: the master holding most input streams is cut off from its replica (so it
 * acknowledges writes the replica never gets: asynchronous replication's lost writes) and killed
 * mid-run; the feed, the workers and the run's drain check and capture follow the promotion.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDay } from '../datasets/generate.ts';
import { readFactorTable, type FactorTable } from '../replay/read-factor-table.ts';
import { runReplay } from '../replay/run-replay.ts';
import { getOnlineFeatures } from './client.ts';
import { runFeed } from './feed.ts';
import { alertsStateKey, alertsStream, inputStream, killSwitchKey, metaKey, outputStream, type KeyLayout } from './keys.ts';
import { readOutputRows } from './read-output.ts';
import { openRedis, type RedisClient } from './redis-connect.ts';
import { RedisClusterHarness } from './redis-harness.ts';
import { openFeatureSource, type FeatureSource } from './row-reader.ts';
import { shardOf } from './shard.ts';
import { LiveWorker } from './worker/index.ts';

const DATE = '2024-03-15';
const ROOT = new URL('..', import.meta.url).pathname;
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

/** Every output row (read through `r`) equals the replay's row of the same event identity, and none is missing or extra. */
async function expectReplayRows(keys: KeyLayout, r: RedisClient = client): Promise<void> {
  const { rows } = await readOutputRows(r, keys);
  const cols = Object.keys(replay.values);
  const want = new Map(replay.seq.map((q, i) => [`${replay.symbol[i]}/${replay.source[i]}/${q}`, cols.map((c) => replay.values[c][i])]));
  expect(rows.length).toBe(want.size);
  let bad = 0;
  for (const row of rows) {
    const w = want.get(`${row.symbol}/${row.source}/${row.seq}`);
    if (!w || w.some((x, i) => !Object.is(x, row.values[i]))) bad++;
  }
  expect(bad).toBe(0);
}

describe('Redis Cluster', () => {
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

describe('serve, the client and alerts watch through a Cluster master failover', () => {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const redisCli = (port: number, ...args: string[]) => spawnSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' }).stdout.trim();
  /** Commands on one node, after READONLY (a replica then answers for its own slots instead of MOVED). */
  const readOn = (port: number, ...commands: string[]) => spawnSync('redis-cli', ['-p', String(port)], { input: ['READONLY', ...commands].join('\n'), encoding: 'utf8' }).stdout.trim().split('\n').slice(1);
  async function until(what: string, ok: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await Promise.resolve().then(ok).catch(() => false))) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(100);
    }
  }
  /** A real CLI process whose stdout and stderr are collected in `out`. */
  function spawnCli(...args: string[]): { proc: ChildProcess; out: () => string } {
    const proc = spawn(process.execPath, [join(ROOT, 'bin/lockstep.js'), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout!.on('data', (d) => (out += d.toString()));
    proc.stderr!.on('data', (d) => (out += d.toString()));
    return { proc, out: () => out };
  }

  it('the master holding a shard, the kill switch and the alerts killed mid-day (after writes its replica never got): serve, the client and alerts watch follow the promotion without a restart; the worker finds the lost commits (DIVERGED) and recomputes them', async () => {
    const c = await RedisClusterHarness.start(6, 1);
    const procs: ChildProcess[] = [];
    let admin: RedisClient | null = null;
    let source: FeatureSource | null = null;
    try {
      const seed = c.nodes[0].port;
      // each master's slot ranges (redis-cli --cluster create makes three)
      const owners = redisCli(seed, 'cluster', 'nodes')
        .split('\n')
        .map((l) => l.split(' '))
        .filter((f) => f[2].includes('master'))
        .map((f) => ({ port: Number(/:(\d+)@/.exec(f[1])![1]), ranges: f.slice(8).map((r) => r.split('-').map(Number)) }));
      const ownerOf = (slot: number) => owners.find((o) => o.ranges.some(([a, b = a]) => slot >= a && slot <= b))!.port;
      // a namespace whose shard 0, meta, kill switch and alert keys all live on one master: the one to kill
      const keysOf = (ns: string) => [inputStream({ ns, shards: 2 }, 0), metaKey({ ns, shards: 2 }), killSwitchKey({ ns }), alertsStream({ ns }), alertsStateKey({ ns })];
      const candidates = Array.from({ length: 1000 }, (_, i) => `clfo${i}`);
      const slots = readOn(seed, ...candidates.flatMap((ns) => keysOf(ns).map((k) => `CLUSTER KEYSLOT ${k}`))).map(Number);
      const at = candidates.findIndex((_, i) => new Set(slots.slice(i * 5, i * 5 + 5).map(ownerOf)).size === 1);
      expect(at).toBeGreaterThanOrEqual(0);
      const keys: KeyLayout = { ns: candidates[at], shards: 2 };
      const victim = c.nodes.find((n) => n.port === ownerOf(slots[at * 5]))!;
      const replicaPort = Number(/slave\d+:ip=[^,]+,port=(\d+)/.exec(redisCli(victim.port, 'info', 'replication'))?.[1]);
      const sym = [...new Set(replay.symbol)].find((s) => shardOf(s, keys.shards) === 0)!;
      expect(sym).toBeDefined();

      await runFeed({ catalog: join(dir, 'cat'), date: DATE, redis: c.url, ns: keys.ns, shards: keys.shards });
      const serve = spawnCli('serve', '--redis', c.url, '--ns', keys.ns, '--shards', String(keys.shards), '--port', '0');
      const watch = spawnCli('alerts', 'watch', '--redis', c.url, '--ns', keys.ns, '--shards', String(keys.shards), '--interval-ms', '200');
      procs.push(serve.proc, watch.proc);
      await until('serve to listen', () => /serving http:\/\//.test(serve.out()) || serve.proc.exitCode !== null);
      const base = /serving (http:\/\/[^/]+)/.exec(serve.out())?.[1];
      expect(base, serve.out()).toBeDefined();
      // every symbol in one request (on Cluster one HGET each, on both shards); `sym`'s answer
      const symbols = [...new Set(replay.symbol)];
      const read = async (maxAgeMs: number) => {
        const res = await fetch(`${base}/v1/features?symbols=${symbols.join(',')}&features=mid&max_age_ms=${maxAgeMs}`);
        if (res.status !== 200) throw new Error(`serve answered ${res.status}: ${await res.text()}`);
        const body = (await res.json()) as { symbols: { symbol: string; seq: string | null; computedAt: number | null; features: { mid: { status: string } } }[] };
        expect(body.symbols.map((x) => x.symbol)).toEqual(symbols);
        return body.symbols.find((x) => x.symbol === sym)!;
      };
      source = await openFeatureSource(c.url, { name: 'lockstep-client' });
      const clientRead = async () => (await getOnlineFeatures(source!, keys, { symbols, features: ['mid'], maxAgeMs: 60_000 })).find((x) => x.symbol === sym)!;
      admin = await openRedis(c.url);

      // a slow worker (small batches), so that the failover comes mid-day; its lease outlasts the
      // failover on a loaded machine too, so the promoted master's checkpoint check (DIVERGED),
      // not an expired lease, is what finds the lost commits
      const log: string[] = [];
      const w = new LiveWorker({ redis: c.url, ns: keys.ns, shards: keys.shards, consumer: 'w', batch: 20, checkpointEvery: 200, leaseMs: 30_000, log: (m) => log.push(m) });
      await w.start();
      const done = w.run({ idleStopMs: 8000 });
      const outLen = (port: number) => Number(readOn(port, `XLEN ${outputStream(keys, 0)}`)[0]);
      await until('the worker to commit on the master to be killed', () => outLen(victim.port) >= 20);
      // serve, the client and alerts watch have their connections to that master
      await until('serve to answer', async () => (await read(60_000)).features.mid.status === 'present');
      expect((await clientRead()).features.mid.status).toBe('present');
      await until('alerts watch to connect to it', () => redisCli(victim.port, 'client', 'list').includes('name=lockstep-alerts'));

      // cut the replica off (a wrong masterauth keeps it from syncing again; clients are untouched):
      // what the master acknowledges from now on dies with it, as asynchronous replication loses it
      redisCli(replicaPort, 'config', 'set', 'masterauth', 'cut-off');
      redisCli(victim.port, 'client', 'kill', 'type', 'replica');
      await until('the replica to lose its link', () => /master_link_status:down/.test(redisCli(replicaPort, 'info', 'replication')));
      const before = outLen(victim.port);
      await until('commits the replica never gets', () => outLen(victim.port) >= before + 5);
      const lost = outLen(victim.port) - outLen(replicaPort);
      await victim.crash();
      const masters = () => c.nodes.filter((n) => n !== victim && redisCli(n.port, 'role').split('\n')[0] === 'master');
      await until('the replica to be promoted', () => masters().length === 3 && masters().every((m) => redisCli(m.port, 'cluster', 'info').includes('cluster_state:ok')), 60_000);
      const promotedAt = Date.now();
      expect(redisCli(replicaPort, 'role').split('\n')[0]).toBe('master');

      // fresh values (computed after the promotion) through the same serve process and client
      await until('serve to answer with a value computed after the promotion', async () => ((await read(60_000)).computedAt ?? 0) > promotedAt);
      await until('the client to read a value computed after the promotion', async () => ((await clientRead()).computedAt ?? 0) > promotedAt);
      const first = await read(60_000);
      await until('serve to answer with a newer value', async () => BigInt((await read(60_000)).seq ?? '0') > BigInt(first.seq!));

      // the kill switch set on the promoted master: serve, the client and alerts watch see it
      const on = spawnSync(process.execPath, [join(ROOT, 'bin/lockstep.js'), 'kill-switch', 'on', '--redis', c.url, '--ns', keys.ns, '--symbols', sym, '--reason', 'failover drill', '--by', 'test'], { cwd: ROOT, encoding: 'utf8' });
      expect(on.status, on.stdout + on.stderr).toBe(0);
      await until('serve to answer killed', async () => (await read(60_000)).features.mid.status === 'killed');
      expect((await clientRead()).features.mid.status).toBe('killed');
      const transitions = () => watch.out().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { id: string; state: string });
      await until('alerts watch to report the kill switch', () => transitions().some((t) => t.id === 'kill-switch' && t.state === 'firing')).catch((e: Error) => {
        throw new Error(`${e.message}; alerts watch printed:\n${watch.out()}`);
      });
      await until('alerts watch to record it on the promoted master', async () => 'kill-switch' in (await admin!.hgetall(alertsStateKey(keys))));
      await until("serve's /metrics to show it", async () => (await (await fetch(`${base}/metrics`)).text()).includes('lockstep_alert{id="kill-switch",severity="critical"} 1'));
      const off = spawnSync(process.execPath, [join(ROOT, 'bin/lockstep.js'), 'kill-switch', 'off', '--redis', c.url, '--ns', keys.ns], { cwd: ROOT, encoding: 'utf8' });
      expect(off.status, off.stdout + off.stderr).toBe(0);
      await until('alerts watch to resolve the kill switch', () => transitions().some((t) => t.id === 'kill-switch' && t.state === 'resolved'));
      expect((await read(60_000)).features.mid.status).toBe('present');

      await done;
      await w.close();
      // the worker has gone: alerts watch records it on the promoted master
      await until('alerts watch to record no-worker', async () => 'no-worker:0' in (await admin!.hgetall(alertsStateKey(keys))));
      expect(watch.proc.exitCode, watch.out()).toBeNull();
      expect(serve.proc.exitCode, serve.out()).toBeNull();
      expect(serve.out()).not.toMatch(/Error|NOPERM|Skipping/);

      // the lost commits were found and recomputed: the output equals the replay, row for row
      expect(lost).toBeGreaterThan(0);
      expect(log.join('\n')).toMatch(/DIVERGED/);
      await expectReplayRows(keys, admin);
    } finally {
      for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
      source?.disconnect();
      admin?.disconnect();
      await c.close();
    }
  }, 240_000);
});
