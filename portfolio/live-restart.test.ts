/**
 * The live weights driver killed and restarted, with a real redis-server and the real CLI: the feed
 * publishes a generated day to 2 shards, 2 workers compute it and `lockstep weights --redis` (a
 * child process) follows them. It is SIGKILLed as soon as it
 * has written a checkpoint, mid-day; the output streams are then trimmed up to the checkpoint's
 * positions (every entry it had read deleted), so the restarted driver can only resume from the
 * checkpoint, not refold the day. The log then holds every rebalance once, equal bit for bit to
 * the replay `lockstep weights` file of the same day.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDay } from '../datasets/generate.ts';
import { runFeed } from '../live/feed.ts';
import { outputStream, weightsKey, weightsLogKey, weightsStateKey } from '../live/keys.ts';
import { openRedis, type RedisClient } from '../live/redis-connect.ts';
import { RedisHarness } from '../live/redis-harness.ts';
import { decodeWeightsFields, fieldsObject } from '../live/weights-record.ts';
import { LiveWorker } from '../live/worker/index.ts';
import { readWeightsFile } from './replay-weights.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const DATE = '2024-03-15';
const CONFIG = {
  signal: 'return_1m',
  method: 'zscore',
  construction: 'dollar-neutral',
  max_weight: 0.4,
  vol: { column: 'rv_5m', inverse: true },
  turnover_limit: 0.5,
  rebalance: 'every:5m',
  session: 'us-equity',
  stale_after: '2m',
};
const keys = { ns: 'wr', shards: 2 };

let dir = '';
let redis: RedisHarness;
let client: RedisClient;

const cli = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin/lockstep.js'), ...args], { encoding: 'utf8', cwd: ROOT });
const driver = (...extra: string[]) => spawn(process.execPath, [join(ROOT, 'bin/lockstep.js'), 'weights', '--redis', redis.url, '--ns', keys.ns, '--config', join(dir, 'w.json'), ...extra], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
const waitExit = (p: ReturnType<typeof spawn>): Promise<number | null> => (p.exitCode !== null ? Promise.resolve(p.exitCode) : new Promise((r) => p.once('exit', (c) => r(c))));
/** The entry ID right after `id`: XTRIM MINID to it deletes `id` and everything before. */
const after = (id: string) => {
  const [ms, seq] = id.split('-');
  return `${ms}-${BigInt(seq) + 1n}`;
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'weights-restart-'));
  await generateDay({ date: DATE, symbols: 3, seed: 23, preset: 'tiny', out: join(dir, 'cat') });
  writeFileSync(join(dir, 'w.json'), JSON.stringify(CONFIG));
  redis = await RedisHarness.start();
  client = await openRedis(redis.url, { commandTimeoutMs: 60_000 });
}, 60_000);
afterAll(async () => {
  client?.disconnect();
  await redis?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('live weights: SIGKILL and restart', () => {
  it('resumes from the checkpoint with the output streams trimmed, and logs the replay rebalances once each, bit for bit', async () => {
    const first = driver();
    let firstOut = '';
    first.stdout!.on('data', (d) => (firstOut += d));
    first.stderr!.on('data', (d) => (firstOut += d));
    // the day in the input streams first: the workers stop once idle for 1.5 s, which a feed slowed
    // down by a loaded machine must not make them do mid-day. The day then takes the workers
    // seconds at least, and the kill comes within a poll of the first checkpoint (9:35): mid-day
    await runFeed({ catalog: join(dir, 'cat'), date: DATE, redis: redis.url, ns: keys.ns, shards: keys.shards });
    const workers = [0, 1].map((s) => new LiveWorker({ redis: redis.url, ns: keys.ns, shards: keys.shards, owned: [s], consumer: `w${s}` }));
    for (const w of workers) await w.start();
    // settled at once (awaited below): a failed worker must fail the test with its reason, not leave it waiting
    let failure: unknown = null;
    const running = Promise.all(workers.map((w) => w.run({ idleStopMs: 1500 }))).catch((e: unknown) => {
      failure = e;
    });
    // killed as soon as it has written a checkpoint
    const t0 = Date.now();
    while (failure === null && Date.now() - t0 < 240_000 && (await client.hget(weightsStateKey(keys), 'ckptT')) === null) await new Promise((r) => setTimeout(r, 25));
    first.kill('SIGKILL');
    await waitExit(first);
    if (failure !== null) throw failure;
    const ckptT = await client.hget(weightsStateKey(keys), 'ckptT');
    const progress = async () => `${firstOut}; output entries ${await client.xlen(outputStream(keys, 0))}, ${await client.xlen(outputStream(keys, 1))}`;
    expect(ckptT, await progress()).not.toBeNull();
    const before = await client.xlen(weightsLogKey(keys));
    expect(before).toBeGreaterThan(0);
    await running;
    for (const w of workers) await w.close();
    if (failure !== null) throw failure;

    // every output entry the checkpoint had read deleted: a refold from the start would miss them
    const pos = JSON.parse((await client.hget(weightsStateKey(keys), 'ckptPos'))!) as (string | null)[];
    let trimmed = 0;
    for (let s = 0; s < keys.shards; s++) if (pos[s] !== null) trimmed += Number(await client.xtrim(outputStream(keys, s), 'MINID', after(pos[s]!)));
    expect(trimmed).toBeGreaterThan(0);

    const second = driver('--exit-when-idle', '1500');
    let out = '';
    second.stdout!.on('data', (d) => (out += d));
    second.stderr!.on('data', (d) => (out += d));
    expect(await waitExit(second), out).toBe(0);
    expect(out).toMatch(new RegExp(`^weights: resuming from the checkpoint at t=${ckptT} \\(shards after `));

    // the replay of the same day through the real CLI
    for (const args of [
      ['replay', '--catalog', join(dir, 'cat'), '--date', DATE, '--out', join(dir, 'out.parquet')],
      ['weights', '--input', join(dir, 'out.parquet'), '--config', join(dir, 'w.json'), '--out', join(dir, 'w.parquet')],
    ]) {
      const r = cli(...args);
      expect(r.status, r.stderr).toBe(0);
    }
    const file = await readWeightsFile(join(dir, 'w.parquet'));
    const replayed = new Map<string, typeof file>();
    for (const x of file) replayed.set(x.ts.toString(), [...(replayed.get(x.ts.toString()) ?? []), x]);

    const log = (await client.xrange(weightsLogKey(keys), '-', '+')) as [string, string[]][];
    const live = log.map(([, f]) => decodeWeightsFields(fieldsObject(f))!);
    // each rebalance once, in order, and the kill was mid-day: the restarted driver wrote the rest
    expect(live.map((r) => r.t.toString())).toEqual([...replayed.keys()]);
    expect(live.length).toBe(78);
    expect(BigInt(ckptT!)).toBeLessThan(live.at(-1)!.t);
    expect(out).toMatch(new RegExp(`weights: stopped, ${78 - before} rebalances written\\n$`));
    let held = 0;
    for (const r of live) {
      const rows = replayed.get(r.t.toString())!;
      expect(r.symbols).toEqual(rows.map((x) => x.symbol));
      // toEqual compares numbers with Object.is: the same bits, -0 told from +0
      expect(r.weights).toEqual(rows.map((x) => x.weight));
      expect(r.signal).toEqual(rows.map((x) => x.signal));
      expect(r.excluded).toEqual(rows.map((x) => x.excluded));
      held += r.weights.filter((w) => w !== 0).length;
    }
    expect(held).toBeGreaterThan(100);
    expect(decodeWeightsFields(await client.hgetall(weightsKey(keys)))!.t).toBe(live.at(-1)!.t);
  }, 480_000);
});
