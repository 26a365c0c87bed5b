/**
 * Live mode against a real, private redis-server: feed a synthetic day, run the worker, and
 * compare the output streams and served latest values with the replayer's output, cell for cell.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDay } from '../datasets/generate.ts';
import { readFactorTable, type FactorTable } from '../replay/read-factor-table.ts';
import { runReplay } from '../replay/run-replay.ts';
import { runFeed } from './feed.ts';
import { deadLetterStream, inputStream, latestKey, leaseKey, workersKey, type KeyLayout } from './keys.ts';
import { readOutputRows, type OutputRow } from './read-output.ts';
import { openRedis, type RedisClient } from './redis-connect.ts';
import { freePort, RedisHarness } from './redis-harness.ts';
import { LiveWorker, RedisDataLostError } from './worker/index.ts';

const DATE = '2024-03-15';
const ROOT = new URL('..', import.meta.url).pathname;
let dir: string;
let redis: RedisHarness;
let client: RedisClient;
let replay: FactorTable;

const key = (symbol: string, source: string, seq: bigint) => `${symbol}/${source}/${seq}`;

function replayRows(t: FactorTable): Map<string, (number | null)[]> {
  const m = new Map<string, (number | null)[]>();
  const cols = Object.keys(t.values);
  for (let i = 0; i < t.seq.length; i++) m.set(key(t.symbol[i], t.source[i], t.seq[i]), cols.map((c) => t.values[c][i]));
  return m;
}

function expectSameRows(live: OutputRow[], t: FactorTable): void {
  const want = replayRows(t);
  const got = new Map(live.map((r) => [key(r.symbol, r.source, r.seq), r.values]));
  expect(live.length, 'no duplicated rows').toBe(got.size);
  expect(got.size).toBe(want.size);
  let mismatches = 0;
  for (const [k, v] of want) {
    const g = got.get(k);
    if (!g || g.length !== v.length || g.some((x, i) => !Object.is(x, v[i]))) mismatches++;
  }
  expect(mismatches).toBe(0);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lockstep-live-'));
  await generateDay({ date: DATE, symbols: 4, seed: 11, preset: 'tiny', out: join(dir, 'cat') });
  await runReplay({ catalog: join(dir, 'cat'), date: DATE, out: join(dir, 'replay.parquet'), progress: false });
  replay = await readFactorTable(join(dir, 'replay.parquet'));
  redis = await RedisHarness.start({ persistence: true });
  client = await openRedis(redis.url);
});

afterAll(async () => {
  client?.disconnect();
  await redis?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('live mode, clean run', () => {
  const keys: KeyLayout = { ns: 'clean', shards: 3 };

  it('feed + one worker: output stream and latest values equal the replay, cell for cell', async () => {
    const fed = await runFeed({ catalog: join(dir, 'cat'), date: DATE, redis: redis.url, ns: keys.ns, shards: keys.shards });
    expect(fed.events).toBeGreaterThan(50_000);
    const w = new LiveWorker({ redis: redis.url, ns: keys.ns, shards: keys.shards, consumer: 'w1' });
    await w.start();
    await w.run({ idleStopMs: 300 });
    await w.close();
    const { columns, rows } = await readOutputRows(client, keys);
    expect(columns).toEqual(Object.keys(replay.values));
    expectSameRows(rows, replay);
    // served latest values = the replay's last row per symbol
    const lastBySymbol = new Map<string, number>();
    replay.symbol.forEach((s, i) => lastBySymbol.set(s, i));
    for (const [sym, i] of lastBySymbol) {
      const h = await client.hgetall(latestKey(keys, sym));
      expect(h._seq).toBe(replay.seq[i].toString());
      for (const c of columns) expect(h[c] === '' ? null : Number(h[c]), `${sym} ${c}`).toBe(replay.values[c][i]);
    }
  });

  it('a malformed entry is dead-lettered with its reason; the worker carries on', async () => {
    const k: KeyLayout = { ns: 'bad', shards: 1 };
    await client.xadd(inputStream(k, 0), '*', 'k', 'trade', 's', 'AAA', 'q', '1', 'te', '1', 'tr', '1', 'p', 'abc', 'z', '1', 'd', '1');
    await client.xadd(inputStream(k, 0), '*', 'k', 'trade', 's', 'AAA', 'q', '2', 'te', '2', 'tr', '2', 'p', '-5', 'z', '1', 'd', '1');
    await client.xadd(inputStream(k, 0), '*', 'k', 'trade', 's', 'AAA', 'q', '3', 'te', '3', 'tr', '3', 'p', '10', 'z', '1', 'd', '1');
    const w = new LiveWorker({ redis: redis.url, ns: k.ns, shards: 1, consumer: 'w1' });
    await w.start();
    await w.run({ idleStopMs: 200 });
    await w.close();
    const dlq = (await client.xrange(deadLetterStream(k, 0), '-', '+')) as [string, string[]][];
    expect(dlq.map(([, f]) => f[3])).toEqual(['p=abc: not a number', 'price=-5: must be a finite number > 0']);
    const { rows } = await readOutputRows(client, k);
    expect(rows.map((r) => r.seq)).toEqual([3n]);
    expect(w.health().deadLettered).toBe(2);
  });
});

describe('live mode, faults', () => {
  it('kill -9 the worker at 5+ random points during the day: output equals the clean run, nothing missing or doubled', async () => {
    const keys: KeyLayout = { ns: 'chaos', shards: 3 };
    const feeding = runFeed({ catalog: join(dir, 'cat'), date: DATE, redis: redis.url, ns: keys.ns, shards: keys.shards });
    const args = [join(ROOT, 'bin/lockstep.js'), 'live', '--redis', redis.url, '--ns', keys.ns, '--shards', String(keys.shards), '--consumer', 'w1', '--checkpoint-every', '2000', '--checkpoint-ms', '300', '--lease-ms', '1500'];
    let seed = 20240315;
    const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    let kills = 0;
    let lastLen = 0;
    const outLen = async () => {
      let n = 0;
      for (let s = 0; s < keys.shards; s++) n += await client.xlen(`${keys.ns}:out:{${keys.ns}:${s}}`);
      return n;
    };
    while (kills < 6) {
      const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      // listened for from the start: a child that dies on its own must not leave the test hanging
      const exited = new Promise((r) => child.once('exit', r));
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      // wait until this incarnation has committed something new, then a random extra moment
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline && (await outLen()) <= lastLen) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, Math.floor(rand() * 150)));
      lastLen = await outLen();
      child.kill('SIGKILL');
      await exited;
      expect(stderr).not.toMatch(/Error/);
      kills++;
    }
    await feeding;
    // the last incarnation runs to the end of the day
    const done = spawn(process.execPath, [...args, '--exit-when-idle', '500'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    done.stderr.on('data', (d) => (err += d));
    const code = await new Promise((r) => done.once('exit', r));
    expect(code, err).toBe(0);
    expect(err).toMatch(/recovered at/);
    const { rows } = await readOutputRows(client, keys);
    expectSameRows(rows, replay);
    for (const sym of new Set(replay.symbol)) {
      const i = replay.symbol.lastIndexOf(sym);
      const h = await client.hgetall(latestKey(keys, sym));
      expect(h._seq, sym).toBe(replay.seq[i].toString());
      expect(h.last_price === '' ? null : Number(h.last_price)).toBe(replay.values.last_price[i]);
    }
  });
});

describe('live mode, Redis faults', () => {
  it('Redis restarted mid-stream and frozen past the command timeout, plus duplicated and malformed entries: nothing lost or doubled, dead letters kept, health tracked', async () => {
    const keys: KeyLayout = { ns: 'faults', shards: 2 };
    await runFeed({ catalog: join(dir, 'cat'), date: DATE, redis: redis.url, ns: keys.ns, shards: keys.shards });
    // duplicated deliveries: re-publish the first 200 entries of shard 0 (same seq: the fold drops them)
    const first = (await client.xrange(inputStream(keys, 0), '-', '+', 'COUNT', 200)) as [string, string[]][];
    const w = new LiveWorker({ redis: redis.url, ns: keys.ns, shards: keys.shards, consumer: 'wf', commandTimeoutMs: 300, checkpointEvery: 5000 });
    await w.start();
    const health: boolean[] = [];
    const sampler = setInterval(() => health.push(w.health().healthy), 20);
    const running = w.run({ idleStopMs: 2500 });
    await new Promise((r) => setTimeout(r, 300));
    await redis.restart(); // SIGTERM + start again on the same port and AOF
    await new Promise((r) => setTimeout(r, 300));
    redis.pause(); // frozen: every command times out after 300 ms
    await new Promise((r) => setTimeout(r, 1200));
    redis.resume();
    await new Promise((r) => setTimeout(r, 300));
    const c2 = await openRedis(redis.url);
    for (const [, f] of first) await c2.xadd(inputStream(keys, 0), '*', ...f);
    await c2.xadd(inputStream(keys, 1), '*', 'k', 'quote', 's', 'SYM001', 'q', 'x1', 'te', '1', 'tr', '1');
    await c2.xadd(inputStream(keys, 1), '*', 'k', 'alien', 's', 'SYM001');
    c2.disconnect();
    await running;
    clearInterval(sampler);
    await w.close();
    expect(health.some((h) => !h), 'unhealthy while Redis was down or frozen').toBe(true);
    expect(health[health.length - 1], 'healthy at the end').toBe(true);
    const { rows } = await readOutputRows(client, keys);
    expectSameRows(rows, replay);
    const dlq = (await client.xrange(deadLetterStream(keys, 1), '-', '+')) as [string, string[]][];
    expect(dlq.map(([, f]) => f[3])).toEqual(['q=x1: not an integer', 'k=alien: unknown kind']);
  });
});

describe('live mode, leases through a Redis freeze', () => {
  it('Redis frozen (SIGSTOP) longer than the lease, no other worker: `lockstep live` takes its leases again, recovers from the checkpoint and goes on; nothing lost or doubled', async () => {
    const keys: KeyLayout = { ns: 'frozenlease', shards: 2 };
    await runFeed({ catalog: join(dir, 'cat'), date: DATE, redis: redis.url, ns: keys.ns, shards: keys.shards });
    const args = [join(ROOT, 'bin/lockstep.js'), 'live', '--redis', redis.url, '--ns', keys.ns, '--shards', String(keys.shards), '--consumer', 'wl', '--lease-ms', '600', '--checkpoint-every', '2000', '--checkpoint-ms', '300', '--exit-when-idle', '1500'];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    // frozen once this worker has committed something: its leases expire while Redis is stopped
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && (await client.xlen(`${keys.ns}:out:{${keys.ns}:0}`)) === 0) await new Promise((r) => setTimeout(r, 10));
    redis.pause();
    await new Promise((r) => setTimeout(r, 2500));
    redis.resume();
    const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('still running after 60 s'), 60_000))]);
    if (code !== 0) child.kill('SIGKILL');
    expect(code, err).toBe(0);
    expect(err).not.toMatch(/Error|lost the lease/);
    expect(err).toMatch(/shard \d: lease expired .*; taken again/);
    expect(err).toMatch(/recovered at/);
    const { rows } = await readOutputRows(client, keys);
    expectSameRows(rows, replay);
  });
});

describe('live mode, Redis lost its data', () => {
  it('FLUSHALL under a running `lockstep live`: one line saying the streams and checkpoints are gone, exit 2, no stack trace', async () => {
    const r2 = await RedisHarness.start();
    const c2 = await openRedis(r2.url);
    try {
      const keys: KeyLayout = { ns: 'flushed', shards: 2 };
      await runFeed({ catalog: join(dir, 'cat'), date: DATE, redis: r2.url, ns: keys.ns, shards: keys.shards, to: '10:00' });
      const args = [join(ROOT, 'bin/lockstep.js'), 'live', '--redis', r2.url, '--ns', keys.ns, '--shards', String(keys.shards), '--consumer', 'wd', '--lease-ms', '1000'];
      const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      let err = '';
      child.stderr.on('data', (d) => (err += d));
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline && !/running shards/.test(err)) await new Promise((r) => setTimeout(r, 10));
      await c2.flushall();
      const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('still running after 30 s'), 30_000))]);
      if (code !== 2) child.kill('SIGKILL');
      expect(code, err).toBe(2);
      expect(err).not.toMatch(/\n\s+at /); // no stack trace
      expect(err).not.toMatch(/NOGROUP/);
      const last = err.trim().split('\n').at(-1)!;
      expect(last).toMatch(/^lockstep: Redis lost its data: flushed:meta is gone .*input streams and checkpoints/);
    } finally {
      c2.disconnect();
      await r2.close();
    }
  });

  it('a LiveWorker stops with RedisDataLostError, and its health shows it', async () => {
    const r2 = await RedisHarness.start();
    const c2 = await openRedis(r2.url);
    try {
      const keys: KeyLayout = { ns: 'flushed2', shards: 1 };
      await c2.xadd(inputStream(keys, 0), '*', 'k', 'trade', 's', 'AAA', 'q', '1', 'te', '1', 'tr', '1', 'p', '10', 'z', '1', 'd', '1');
      const w = new LiveWorker({ redis: r2.url, ns: keys.ns, shards: 1, consumer: 'w', leaseMs: 1000 });
      await w.start();
      await w.run({ idleStopMs: 100 });
      await c2.flushall();
      await expect(w.run({ idleStopMs: 5000 })).rejects.toThrow(RedisDataLostError);
      const h = w.health();
      expect(h.dataLost).toBe(true);
      expect(h.healthy).toBe(false);
      expect(h.lastError).toMatch(/^Redis lost its data: flushed2:meta is gone/);
      await w.close();
    } finally {
      c2.disconnect();
      await r2.close();
    }
  });
});

describe('live mode, Redis down', () => {
  it('while Redis is down `lockstep live` says so once in its own words (not every retry), and once when it is back', async () => {
    const keys: KeyLayout = { ns: 'down', shards: 1 };
    await client.xadd(inputStream(keys, 0), '*', 'k', 'trade', 's', 'AAA', 'q', '1', 'te', '1', 'tr', '1', 'p', '10', 'z', '1', 'd', '1');
    const args = [join(ROOT, 'bin/lockstep.js'), 'live', '--redis', redis.url, '--ns', keys.ns, '--shards', '1', '--consumer', 'wdown', '--exit-when-idle', '1500'];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && !/running shards/.test(err)) await new Promise((r) => setTimeout(r, 10));
    await redis.stop(); // down (the AOF keeps the data for the restart)
    await new Promise((r) => setTimeout(r, 3000));
    await redis.restart();
    client.disconnect();
    client = await openRedis(redis.url);
    const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('still running after 30 s'), 30_000))]);
    if (code !== 0) child.kill('SIGKILL');
    expect(code, err).toBe(0);
    expect(err).not.toMatch(/read failed|enableOfflineQueue|Error/);
    const where = `127.0.0.1:${redis.port}`;
    expect(err.match(/Redis unreachable at /g), err).toHaveLength(1);
    expect(err).toMatch(new RegExp(`Redis unreachable at ${where}: (not connected|connection refused|no answer within \\d+ ms) \\((read|shard\\(s\\) [\\d,]+: commit)\\); retrying`));
    expect(err).toMatch(new RegExp(`Redis reachable again at ${where} after \\d+\\.\\d s \\(\\d+ failed attempt\\(s\\)\\)`));
  });
});

describe('live mode, the worker\'s own metrics and status', () => {
  it('`lockstep live --metrics-port N` serves Prometheus metrics from its counters, and prints a status line on a non-terminal stderr', async () => {
    const keys: KeyLayout = { ns: 'metrics', shards: 2 };
    await runFeed({ catalog: join(dir, 'cat'), date: DATE, redis: redis.url, ns: keys.ns, shards: keys.shards, to: '10:00' });
    const entries = (await client.xlen(inputStream(keys, 0))) + (await client.xlen(inputStream(keys, 1)));
    expect(entries).toBeGreaterThan(0);
    const port = await freePort();
    const args = [join(ROOT, 'bin/lockstep.js'), 'live', '--redis', redis.url, '--ns', keys.ns, '--shards', '2', '--consumer', 'wm', '--metrics-port', String(port), '--status-every-ms', '200', '--exit-when-idle', '2000'];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    let err = '';
    let out = '';
    child.stderr.on('data', (d) => (err += d));
    child.stdout.on('data', (d) => (out += d));
    const sample = (text: string, name: string, labels = '') => {
      const m = new RegExp(`^${name}\\{consumer="wm"${labels}\\} (\\S+)$`, 'm').exec(text);
      return m ? Number(m[1]) : null;
    };
    let text = '';
    const deadline = Date.now() + 30_000;
    // a batch is applied before it is committed: wait for the commit too, or a scrape between the
    // two reads every event applied and no commit yet
    const settled = () => (sample(text, 'lockstep_worker_applied_total') ?? 0) >= entries && (sample(text, 'lockstep_worker_commits_total') ?? 0) > 0 && (sample(text, 'lockstep_worker_commit_seconds_sum') ?? 0) > 0;
    while (Date.now() < deadline && !settled()) {
      await new Promise((r) => setTimeout(r, 50));
      text = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text(), () => '');
    }
    expect(sample(text, 'lockstep_worker_applied_total'), text).toBe(entries);
    expect(sample(text, 'lockstep_worker_commits_total')).toBeGreaterThan(0);
    expect(sample(text, 'lockstep_worker_commit_seconds_sum')).toBeGreaterThan(0);
    expect(sample(text, 'lockstep_worker_dead_letters_total')).toBe(0);
    expect(sample(text, 'lockstep_worker_redis_up')).toBe(1);
    expect(sample(text, 'lockstep_worker_redis_data_lost')).toBe(0);
    for (const s of [0, 1]) expect(sample(text, 'lockstep_worker_input_age_seconds', `,shard="${s}"`)).toBeGreaterThanOrEqual(0);
    expect(text).toMatch(/^# TYPE lockstep_worker_applied_total counter$/m);
    const code = await exited;
    expect(code, err).toBe(0);
    expect(out).toMatch(new RegExp(`applied ${entries} events`));
    expect(err).toMatch(/wm: metrics at http:\/\/127\.0\.0\.1:\d+\/metrics/);
    expect(err).toMatch(new RegExp(`wm: status: applied ${entries} events \\(0/s\\), \\d+ commits \\(mean \\d+\\.\\d ms\\), 0 dead letters, \\d+ duplicates dropped, input age \\d+\\.\\d s, Redis ok`));
  });
});

describe('live mode, scale-out', () => {
  it('three workers in one consumer group, each owning one shard, give the same output as one worker', async () => {
    const keys: KeyLayout = { ns: 'scale', shards: 3 };
    await runFeed({ catalog: join(dir, 'cat'), date: DATE, redis: redis.url, ns: keys.ns, shards: keys.shards });
    const workers = [0, 1, 2].map((s) => new LiveWorker({ redis: redis.url, ns: keys.ns, shards: keys.shards, owned: [s], consumer: `w${s}` }));
    for (const w of workers) await w.start();
    await Promise.all(workers.map((w) => w.run({ idleStopMs: 300 })));
    for (const w of workers) await w.close();
    const { rows } = await readOutputRows(client, keys);
    expectSameRows(rows, replay);
  });
});

describe('live mode, balancing (--balance)', () => {
  /** Which consumer holds each shard's lease (the lease value is `<consumer>:<uuid>`), null when free. */
  const holders = async (keys: KeyLayout) =>
    Promise.all(Array.from({ length: keys.shards }, async (_, s) => (await client.get(leaseKey(keys, s)))?.split(':')[0] ?? null));

  it('a worker joining takes half the shards from the one running (handed back committed), and the output equals one worker\'s', async () => {
    const keys: KeyLayout = { ns: 'bal', shards: 4 };
    await runFeed({ catalog: join(dir, 'cat'), date: DATE, redis: redis.url, ns: keys.ns, shards: keys.shards });
    // leases long enough that a loaded machine's event-loop stall does not expire one mid-test
    const opts = { redis: redis.url, ns: keys.ns, shards: keys.shards, balance: true, leaseMs: 1500, batch: 64 };
    const a = new LiveWorker({ ...opts, consumer: 'a' });
    await a.start();
    expect(a.heldShards()).toEqual([0, 1, 2, 3]); // alone: every shard
    const b = new LiveWorker({ ...opts, consumer: 'b' });
    await b.start();
    expect(b.heldShards()).toEqual([]); // nothing free yet: a hands shards back at its next step
    expect(await client.zcard(workersKey(keys))).toBe(2);
    await Promise.all([a.run({ idleStopMs: 3000 }), b.run({ idleStopMs: 3000 })]);
    expect(a.heldShards()).toEqual([0, 1]);
    expect(b.heldShards()).toEqual([2, 3]);
    expect(await holders(keys)).toEqual(['a', 'a', 'b', 'b']);
    expect(b.health().commits).toBeGreaterThan(0);
    await a.close();
    await b.close();
    // leaving frees the leases and the presence at once
    expect(await holders(keys)).toEqual([null, null, null, null]);
    expect(await client.zcard(workersKey(keys))).toBe(0);
    const { rows } = await readOutputRows(client, keys);
    expectSameRows(rows, replay);
  });

  it('kill -9 one of two balancing workers: the other takes its shards when their lease runs out, nothing lost or doubled', async () => {
    const keys: KeyLayout = { ns: 'bal9', shards: 4 };
    const args = (consumer: string, extra: string[] = []) => [join(ROOT, 'bin/lockstep.js'), 'live', '--redis', redis.url, '--ns', keys.ns, '--shards', String(keys.shards), '--consumer', consumer, '--balance', '--lease-ms', '2000', '--checkpoint-every', '2000', '--checkpoint-ms', '300', ...extra];
    const feeding = runFeed({ catalog: join(dir, 'cat'), date: DATE, redis: redis.url, ns: keys.ns, shards: keys.shards });
    let errA = '';
    const a = spawn(process.execPath, args('a', ['--exit-when-idle', '3000']), { stdio: ['ignore', 'ignore', 'pipe'] });
    a.stderr.on('data', (d) => (errA += d));
    const b = spawn(process.execPath, args('b'), { stdio: ['ignore', 'ignore', 'pipe'] });
    // listened for from the start: a process that exits before the test waits for it (b fenced
    // off after a starved lease renewal on a loaded machine) must not leave the test hanging
    const exited = (p: typeof a) => new Promise<number | null>((r) => p.once('exit', (code) => r(code)));
    const [aExit, bExit] = [exited(a), exited(b)];
    // both present and two shards each
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && (await holders(keys)).sort().join() !== 'a,a,b,b') await new Promise((r) => setTimeout(r, 25));
    expect((await holders(keys)).sort()).toEqual(['a', 'a', 'b', 'b']);
    b.kill('SIGKILL');
    await bExit;
    await feeding;
    // bounded, so that a worker that never exits fails with its log instead of a bare timeout
    const code = await Promise.race([aExit, new Promise((r) => setTimeout(() => r('still running after 60 s'), 60_000))]);
    if (code !== 0) a.kill('SIGKILL');
    expect(code, errA).toBe(0);
    expect(errA).toMatch(/shard \d: taken \(1 worker\(s\) present, share 4\)/);
    const { rows } = await readOutputRows(client, keys);
    expectSameRows(rows, replay);
  });
});

describe('live mode, poison entries', () => {
  it('an entry delivered more than maxDeliveries times without being committed is dead-lettered on takeover', async () => {
    const keys: KeyLayout = { ns: 'poison', shards: 1 };
    const s = inputStream(keys, 0);
    await client.xgroup('CREATE', s, 'lockstep', '0', 'MKSTREAM');
    const id = (await client.xadd(s, '*', 'k', 'trade', 's', 'AAA', 'q', '1', 'te', '1', 'tr', '1', 'p', '10', 'z', '1', 'd', '1')) as string;
    await client.xadd(s, '*', 'k', 'trade', 's', 'AAA', 'q', '2', 'te', '2', 'tr', '2', 'p', '11', 'z', '1', 'd', '1');
    // a consumer that keeps crashing on the first entry: delivered, never acknowledged, 7 times
    await client.xreadgroup('GROUP', 'lockstep', 'crashy', 'COUNT', 1, 'STREAMS', s, '>');
    for (let i = 0; i < 6; i++) await client.call('XCLAIM', s, 'lockstep', 'crashy', '0', id);
    const w = new LiveWorker({ redis: redis.url, ns: keys.ns, shards: 1, consumer: 'healthy', maxDeliveries: 5 });
    await w.start();
    await w.run({ idleStopMs: 200 });
    await w.close();
    const dlq = (await client.xrange(deadLetterStream(keys, 0), '-', '+')) as [string, string[]][];
    expect(dlq).toHaveLength(1);
    expect(dlq[0][1].slice(0, 3)).toEqual(['id', id, 'reason']);
    expect(dlq[0][1][3]).toMatch(/^delivered [6-9] times without being committed \(poison entry\)$/);
    const { rows } = await readOutputRows(client, keys);
    expect(rows.map((r) => r.seq)).toEqual([2n]);
    expect(await client.xpending(s, 'lockstep')).toEqual([0, null, null, null]);
  });
});

describe('live mode, fencing and guards', () => {
  it('a worker whose lease was taken over stops instead of writing (a paused worker cannot double-write)', async () => {
    const keys: KeyLayout = { ns: 'fence', shards: 1 };
    const s = inputStream(keys, 0);
    await client.xadd(s, '*', 'k', 'trade', 's', 'AAA', 'q', '1', 'te', '1', 'tr', '1', 'p', '10', 'z', '1', 'd', '1');
    const w = new LiveWorker({ redis: redis.url, ns: keys.ns, shards: 1, consumer: 'a', leaseMs: 60_000 });
    await w.start();
    await w.run({ idleStopMs: 100 });
    // another worker's run now holds the lease (as after A was frozen past leaseMs)
    await client.set(`${keys.ns}:lease:{${keys.ns}:0}`, 'b:other-run');
    await client.xadd(s, '*', 'k', 'trade', 's', 'AAA', 'q', '2', 'te', '2', 'tr', '2', 'p', '11', 'z', '1', 'd', '1');
    // it says which worker holds the shard now
    await expect(w.run({ idleStopMs: 1000 })).rejects.toThrow(/shard 0: lost its lease, and worker b \(lease b:other-run\) holds it now/);
    await w.close();
    const { rows } = await readOutputRows(client, keys);
    expect(rows.map((r) => r.seq)).toEqual([1n]);
  });

  it('an event whose symbol belongs to another shard is dead-lettered, not computed twice', async () => {
    const keys: KeyLayout = { ns: 'wrongshard', shards: 4 };
    const { shardOf } = await import('./shard.ts');
    const other = (shardOf('AAA', 4) + 1) % 4;
    await client.xadd(inputStream(keys, other), '*', 'k', 'trade', 's', 'AAA', 'q', '1', 'te', '1', 'tr', '1', 'p', '10', 'z', '1', 'd', '1');
    const w = new LiveWorker({ redis: redis.url, ns: keys.ns, shards: 4, consumer: 'w' });
    await w.start();
    await w.run({ idleStopMs: 150 });
    await w.close();
    const dlq = (await client.xrange(deadLetterStream(keys, other), '-', '+')) as [string, string[]][];
    expect(dlq[0][1][3]).toMatch(/^s=AAA: belongs to shard \d, not \d/);
  });

  it('refuses to restore a checkpoint made by another feature set', async () => {
    const keys: KeyLayout = { ns: 'fsv', shards: 1 };
    await client.xadd(inputStream(keys, 0), '*', 'k', 'trade', 's', 'AAA', 'q', '1', 'te', '1', 'tr', '1', 'p', '10', 'z', '1', 'd', '1');
    const w = new LiveWorker({ redis: redis.url, ns: keys.ns, shards: 1, consumer: 'w' });
    await w.start();
    await w.run({ idleStopMs: 100 });
    await w.close();
    const { lastPrice } = await import('../core/factors/last-price.ts');
    const other = new LiveWorker({ redis: redis.url, ns: keys.ns, shards: 1, consumer: 'w2', factors: [lastPrice], leaseMs: 200 });
    await expect(other.start()).rejects.toThrow(/checkpoint was made by feature set/);
    await other.close();
  });
});
