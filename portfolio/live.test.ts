/**
 * Live target weights against replay, with a real redis-server: the feed publishes a generated day
 * to 2 shards while 2 workers (one shard each) and the weights driver run at the same time; every
 * rebalance in `<ns>:weights:log` equals the replay `lockstep weights` file of the same day, bit
 * for bit, the hash holds the last one, `/v1/weights` serves it, and a restarted driver (from its
 * checkpoint, or without one from the start of the streams) logs no rebalance twice.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDay } from '../datasets/generate.ts';
import { runFeed } from '../live/feed.ts';
import { startApi } from '../live/http-api.ts';
import { inputStream, weightsKey, weightsLogKey, weightsStateKey } from '../live/keys.ts';
import { openRedis, type RedisClient } from '../live/redis-connect.ts';
import { RedisHarness } from '../live/redis-harness.ts';
import { openFeatureSource } from '../live/row-reader.ts';
import { decodeWeightsFields, fieldsObject } from '../live/weights-record.ts';
import { LiveWorker } from '../live/worker/index.ts';
import { parseWeightsConfig } from './config.ts';
import { runLiveWeights } from './live.ts';
import { readWeightsFile } from './replay-weights.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const DATE = '2024-03-15';
const CONFIG = {
  signal: 'return_1m',
  method: 'rank',
  construction: 'dollar-neutral',
  max_weight: 0.35,
  gross_leverage: 1,
  vol: { column: 'rv_5m', inverse: true, target: 0.001 },
  turnover_limit: 0.6,
  rebalance: 'every:5m',
  session: 'us-equity',
  stale_after: '90s',
  killed_column: 'price_collar_flag',
};
const keys = { ns: 'wl', shards: 2 };

let dir = '';
let redis: RedisHarness;
let client: RedisClient;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'weights-live-'));
  await generateDay({ date: DATE, symbols: 3, seed: 7, preset: 'tiny', out: join(dir, 'cat') });
  redis = await RedisHarness.start();
  client = await openRedis(redis.url);
}, 60_000);
afterAll(async () => {
  client?.disconnect();
  await redis?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('live weights', () => {
  it('feed + 2 shard workers + the weights driver give the replay weights of the same day, bit for bit', async () => {
    const cfg = parseWeightsConfig(JSON.stringify(CONFIG), 'w.json');
    // everything at once: the driver sees the shards' rows interleaved as they are committed
    const driver = runLiveWeights({ url: redis.url, ns: keys.ns, cfg, idleStopMs: 4000, pollMs: 20 });
    // settled at once (awaited below): a failure must fail the test, not surface as unhandled
    const driverDone = driver.then((v) => ({ v, e: null }), (e: unknown) => ({ v: null, e }));
    const feeding = runFeed({ catalog: join(dir, 'cat'), date: DATE, redis: redis.url, ns: keys.ns, shards: keys.shards });
    const workers = [0, 1].map((s) => new LiveWorker({ redis: redis.url, ns: keys.ns, shards: keys.shards, owned: [s], consumer: `w${s}` }));
    for (const w of workers) await w.start();
    // a worker's idle time counts from its start: on a loaded machine the feed's first write may
    // come later than 1.5 s, the workers would stop before any input and the driver (idle only once
    // it has read rows) would wait forever. They start once the feed has begun.
    const t0 = Date.now();
    while ((await client.exists(inputStream(keys, 0), inputStream(keys, 1))) < 2 && Date.now() - t0 < 120_000) await new Promise((r) => setTimeout(r, 20));
    await Promise.all([feeding, ...workers.map((w) => w.run({ idleStopMs: 1500 }))]);
    for (const w of workers) await w.close();
    const d = await driverDone;
    if (d.e) throw d.e;
    const { written } = d.v!;

    // the same day through the replay path and the real CLI
    const cli = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin/lockstep.js'), ...args], { encoding: 'utf8', cwd: ROOT });
    writeFileSync(join(dir, 'w.json'), JSON.stringify(CONFIG));
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
    expect(live.map((r) => r.t.toString())).toEqual([...replayed.keys()]);
    expect(live.length).toBe(78);
    expect(written).toBe(78);
    let held = 0;
    for (const r of live) {
      const rows = replayed.get(r.t.toString())!;
      expect(r.symbols).toEqual(rows.map((x) => x.symbol));
      // toEqual compares numbers with Object.is: the same bits, -0 told from +0
      expect(r.weights).toEqual(rows.map((x) => x.weight));
      expect(r.signal).toEqual(rows.map((x) => x.signal));
      expect(r.excluded).toEqual(rows.map((x) => x.excluded));
      expect(r.trigger).toBe(rows[0].trigger);
      held += r.weights.filter((w) => w !== 0).length;
    }
    expect(held).toBeGreaterThan(100);

    // the hash is the last rebalance; /v1/weights serves it
    const last = decodeWeightsFields(await client.hgetall(weightsKey(keys)))!;
    expect(last.t).toBe(live.at(-1)!.t);
    const reader = await openFeatureSource(redis.url);
    const api = await startApi(reader, { keys, port: 0 });
    try {
      const res = await fetch(`http://127.0.0.1:${api.port}/v1/weights`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { t: string; time: string; weights: Record<string, number> };
      expect(body.t).toBe(last.t.toString());
      expect(body.time).toBe('2024-03-15T20:00:00.000000000Z');
      expect(Object.values(body.weights)).toEqual(last.weights.map((w) => w + 0));
    } finally {
      await api.close();
      reader.disconnect();
    }

    // a restarted driver (the real CLI) resumes from the checkpoint written with the last rebalance and logs nothing twice
    expect(await client.hget(weightsStateKey(keys), 'ckptT')).toBe(last.t.toString());
    const again = cli('weights', '--redis', redis.url, '--ns', keys.ns, '--config', join(dir, 'w.json'), '--exit-when-idle', '300');
    expect(again.stderr).toBe('');
    expect(again.status).toBe(0);
    expect(again.stdout).toMatch(new RegExp(`^weights: resuming from the checkpoint at t=${last.t} \\(shards after \\(\\d+-\\d+ \\(\\d+-\\d+; inputs after -\\)\n`));
    expect(again.stdout.split('\n').slice(1).join('\n')).toBe(`weights: following 2 shards of wl (records up to t=${last.t} already written)\nweights: stopped, 0 rebalances written\n`);
    expect(await client.xlen(weightsLogKey(keys))).toBe(78);

    // without the checkpoint (an older driver's deployment): the day is folded again from the start, still nothing twice
    await client.del(weightsStateKey(keys));
    const refold = cli('weights', '--redis', redis.url, '--ns', keys.ns, '--config', join(dir, 'w.json'), '--exit-when-idle', '300');
    expect(refold.status, refold.stderr).toBe(0);
    expect(refold.stdout).toBe(`weights: following 2 shards of wl (records up to t=${last.t} already written)\nweights: stopped, 0 rebalances written\n`);
    expect(await client.xlen(weightsLogKey(keys))).toBe(78);
  }, 240_000);
});
