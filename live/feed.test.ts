/**
 * `lockstep feed --speed N` against a real redis-server: every event reaches its stream, none is
 * published before its paced time (checked with Redis's own clock, the entry IDs), and the paced
 * streams hold the same entries as a feed at max speed. Faults, through the real CLI: Redis frozen
 * (SIGSTOP) or restarted mid-feed, the feed itself killed with SIGKILL and run again: every event
 * reaches its stream exactly once, in order.
 */
import { spawn, type ChildProcess } from 'node:child_process';
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
const ROOT = new URL('..', import.meta.url).pathname;
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

describe('feeding several selections into one namespace', () => {
  it('a feed of other symbols is published whole; the same selection again publishes nothing', async () => {
    const keys: KeyLayout = { ns: 'twosel', shards: 1 };
    const feed = (symbols: string[]) => runFeed({ catalog: join(dir, 'cat'), date: DATE, from: '14:30', to: '14:40', symbols, redis: redis.url, ns: keys.ns, shards: keys.shards });
    const syms = ['SYM000', 'SYM001']; // the generated day's two symbols
    // the later symbol first: its events end after the earlier symbol's start
    const a = await feed([syms[syms.length - 1]]);
    const b = await feed([syms[0]]);
    expect(a.events).toBeGreaterThan(0);
    expect(b.events).toBeGreaterThan(0);
    expect(b.skipped).toBe(0);
    const again = await feed([syms[0]]);
    expect(again.entries).toBe(0);
    expect(again.skipped).toBe(b.events);
  });
});

/** `lockstep feed` as a child process (stderr and stdout are pipes: not a TTY). */
function feedCli(url: string, ns: string, extra: string[] = []): { proc: ChildProcess; out: () => string; exit: Promise<number | null> } {
  const args = [join(ROOT, 'bin/lockstep.js'), 'feed', '--catalog', join(dir, 'cat'), '--date', DATE, '--from', '14:30', '--to', '14:40', '--redis', url, '--ns', ns, '--shards', '2', ...extra];
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exit = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  return { proc, out: () => out, exit };
}

/** Each shard's entries (fields only, in stream order). */
async function shardEntries(c: RedisClient, keys: KeyLayout): Promise<string[][]> {
  const out: string[][] = [];
  for (let s = 0; s < keys.shards; s++) out.push((await c.xrange(inputStream(keys, s), '-', '+')).map(([, f]) => f.join(' ')));
  return out;
}

/** What a clean feed of the window publishes, shard by shard. */
let expected: string[][] | null = null;
async function expectedEntries(): Promise<string[][]> {
  if (expected) return expected;
  const keys: KeyLayout = { ns: 'reference', shards: 2 };
  await runFeed({ catalog: join(dir, 'cat'), date: DATE, from: '14:30', to: '14:40', redis: redis.url, ns: keys.ns, shards: keys.shards });
  expected = await shardEntries(r, keys);
  return expected;
}

/** Every shard's entries equal the clean feed's: none missing, none twice, same order. */
async function expectExactlyOnce(c: RedisClient, keys: KeyLayout): Promise<void> {
  const want = await expectedEntries();
  const got = await shardEntries(c, keys);
  for (let s = 0; s < keys.shards; s++) {
    expect(got[s].length, `shard ${s}: entries`).toBe(want[s].length);
    expect(new Set(got[s]).size, `shard ${s}: no entry twice`).toBe(got[s].length);
    expect(got[s], `shard ${s}`).toEqual(want[s]);
  }
}

/** Entries ever added to a stream (a worker's XTRIM does not lower it); 0 before it exists. */
async function entriesAdded(c: RedisClient, stream: string): Promise<number> {
  const info = (await c.xinfo('STREAM', stream).catch(() => null)) as unknown[] | null;
  return info ? Number(info[info.indexOf('entries-added') + 1]) : 0;
}

async function waitForEntries(c: RedisClient, keys: KeyLayout, n: number, running: { exitCode: number | null }): Promise<void> {
  while ((await entriesAdded(c, inputStream(keys, 0))) < n) {
    if (running.exitCode !== null) throw new Error('the feed ended before the fault was injected');
    await new Promise((res) => setTimeout(res, 20));
  }
}

const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

describe('feed through Redis faults and restarts (the CLI)', () => {
  it('Redis frozen (SIGSTOP) past the command timeout mid-feed: the feed waits, retries and publishes every event exactly once', async () => {
    const keys: KeyLayout = { ns: 'frozen', shards: 2 };
    const f = feedCli(redis.url, keys.ns, ['--speed', '100']);
    await waitForEntries(r, keys, 200, f.proc);
    // 3 s: longer than the 2 s command timeout, so commands in flight do time out
    redis.pause();
    await sleep(3000);
    redis.resume();
    expect(await f.exit, f.out()).toBe(0);
    expect(f.out()).toMatch(/^feed: Redis failed \(.*\); retrying/m);
    expect(f.out()).toMatch(/^feed: Redis answers again after/m);
    await expectExactlyOnce(r, keys);
  });

  it('Redis frozen mid-feed while a worker reads, checkpoints and trims the input: every event is added exactly once', async () => {
    const keys: KeyLayout = { ns: 'frozenlive', shards: 2 };
    const worker = spawn(process.execPath, [join(ROOT, 'bin/lockstep.js'), 'live', '--redis', redis.url, '--ns', keys.ns, '--shards', '2', '--consumer', 'w', '--checkpoint-every', '50', '--checkpoint-ms', '100', '--exit-when-idle', '3000'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let werr = '';
    worker.stderr!.on('data', (d) => (werr += d));
    const wexit = new Promise<number | null>((res) => worker.once('exit', (code) => res(code)));
    const f = feedCli(redis.url, keys.ns, ['--speed', '100']);
    await waitForEntries(r, keys, 200, f.proc);
    redis.pause();
    await sleep(3000);
    redis.resume();
    expect(await f.exit, f.out()).toBe(0);
    expect(await wexit, werr).toBe(0);
    const want = await expectedEntries();
    for (let s = 0; s < keys.shards; s++) {
      // the worker trimmed what its checkpoints cover; Redis still counts every entry ever added
      expect(await entriesAdded(r, inputStream(keys, s)), `shard ${s}: entries added`).toBe(want[s].length);
      const last = (await r.xrevrange(inputStream(keys, s), '+', '-', 'COUNT', 1))[0][1].join(' ');
      expect(last, `shard ${s}: last entry`).toBe(want[s][want[s].length - 1]);
    }
  });

  it('the feed killed with SIGKILL mid-day and run again with the same arguments resumes after the last event in the streams, exactly once', async () => {
    const keys: KeyLayout = { ns: 'killed', shards: 2 };
    const first = feedCli(redis.url, keys.ns, ['--speed', '100']);
    await waitForEntries(r, keys, 300, first.proc);
    first.proc.kill('SIGKILL');
    await first.exit;
    const before = (await r.xlen(inputStream(keys, 0))) + (await r.xlen(inputStream(keys, 1)));
    expect(before).toBeGreaterThan(0);
    const second = feedCli(redis.url, keys.ns, ['--speed', '100']);
    expect(await second.exit, second.out()).toBe(0);
    expect(second.out()).toMatch(/^resuming: [\d,]+ events already in the streams, skipped$/m);
    await expectExactlyOnce(r, keys);
    // a third run finds the whole window in the streams and publishes nothing
    const third = feedCli(redis.url, keys.ns);
    expect(await third.exit, third.out()).toBe(0);
    await expectExactlyOnce(r, keys);
  });

  it('Redis restarted (AOF on) mid-feed: the feed reconnects and publishes every event exactly once', async () => {
    const durable = await RedisHarness.start({ persistence: true });
    const c = await openRedis(durable.url);
    try {
      const keys: KeyLayout = { ns: 'restarted', shards: 2 };
      const f = feedCli(durable.url, keys.ns, ['--speed', '100']);
      await waitForEntries(c, keys, 200, f.proc);
      await durable.restart();
      expect(await f.exit, f.out()).toBe(0);
      await expectExactlyOnce(c, keys);
    } finally {
      c.disconnect();
      await durable.close();
    }
  });
});

describe('feed progress', () => {
  it('not on a terminal: a periodic one-line status on stderr while a slow feed runs', async () => {
    // 10 minutes of the day at 50x real time: about 12 s, longer than the status period
    const f = feedCli(redis.url, 'status', ['--speed', '50']);
    expect(await f.exit, f.out()).toBe(0);
    expect(f.out()).toMatch(/^feed: [\d,]+ events published \([\d,]+ stream entries\), event time 14:\d\d:\d\d/m);
    expect(f.out()).not.toMatch(/\r/);
  });
});
