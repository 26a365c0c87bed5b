/**
 * Parity with models: a day on which a canary is deployed and rolled back mid-session through the
 * LIVE log (`<ns>:models:log`), with five worker SIGKILLs, certifies cell for cell against the
 * replay run with the exported live log, signal columns included.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDay } from '../datasets/generate.ts';
import { outputStream } from '../live/keys.ts';
import { openRedis } from '../live/redis-connect.ts';
import { RedisHarness } from '../live/redis-harness.ts';
import { appendLiveDeployment, inputRecvAt, readLiveLog, mergeLiveLog } from '../live/models/live-log.ts';
import { appendDeployment, registerVersion } from '../models/registry.ts';
import { loadTable } from './load-table.ts';
import { captureUrl } from './row-source.ts';
import { runParity } from './run-parity.ts';

const DATE = '2024-03-15';
let dir: string;
let harness: RedisHarness;

/** A logistic model file of `momo` (version v) over two default factors. */
export function writeMomo(dir: string, version: number, coef: [number, number]): string {
  const file = join(dir, `momo-${version}.json`);
  writeFileSync(file, JSON.stringify({ lockstep_model: 1, name: 'momo', version, kind: 'logistic', inputs: ['last_price', 'event_count'], standardize: { mean: [100, 50], std: [20, 40] }, clip: [-4, 4], coef, intercept: 0.05 }));
  return file;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lockstep-models-parity-'));
  await generateDay({ date: DATE, symbols: 6, seed: 5, preset: 'tiny', eventsPerSymbol: 2000, out: join(dir, 'cat') });
  const reg = join(dir, 'registry');
  registerVersion(reg, writeMomo(dir, 1, [0.8, -0.3]));
  registerVersion(reg, writeMomo(dir, 2, [-0.5, 0.4]));
  appendDeployment(reg, { at: 0n, slot: 'momo', action: 'deploy', version: 1, mode: 'live' });
  harness = await RedisHarness.start();
});
afterAll(async () => {
  await harness?.close();
  rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Retries a Redis call on a loaded machine (a command timeout is not what this test is about). */
async function retry<T>(f: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await f();
    } catch (e) {
      if (i >= 20 || !/timed out|Connection is closed/.test((e as Error).message)) throw e;
      await sleep(200);
    }
  }
}

describe('parity run with models', () => {
  it('a canary deployed and rolled back through the live log, with 5 worker kills: 0 mismatched cells, signals included', async () => {
    let ns = '';
    let shards = 0;
    const cert = await runParity({
      catalog: join(dir, 'cat'),
      date: DATE,
      redis: harness.url,
      keep: true,
      workers: 2,
      killN: 5,
      speed: 1000,
      registry: join(dir, 'registry'),
      log: process.env.LOCKSTEP_TEST_LOG ? (m) => console.error(m) : undefined,
      during: async ({ redis, keys }) => {
        ns = keys.ns;
        shards = keys.shards;
        const r = (await openRedis(redis)) as Redis;
        try {
          // mid-session: once the workers have written output
          for (let n = 0; n < 1; ) {
            await sleep(100);
            n = 0;
            for (let s = 0; s < keys.shards; s++) n += await retry(() => r.xlen(outputStream(keys, s)));
          }
          const { entry } = await retry(() => appendLiveDeployment(r, keys.ns, { slot: 'momo', action: 'deploy', version: 2, mode: 'canary', percent: 50, reason: 'canary test' }));
          // roll back once the feed has carried the day 10 minutes (event time) past the canary's
          // start, whatever the machine's speed: the canary then serves rows in both paths
          const newest = async () => {
            let t = 0n;
            for (let s = 0; s < keys.shards; s++) {
              const x = await retry(() => inputRecvAt(r, keys, s));
              if (x > t) t = x;
            }
            return t;
          };
          for (const until = Date.now() + 120_000; Date.now() < until && (await newest()) < entry.at + 600_000_000_000n; ) await sleep(100);
          await retry(() => appendLiveDeployment(r, keys.ns, { slot: 'momo', action: 'rollback', reason: 'test rollback' }));
        } finally {
          r.disconnect();
        }
      },
    });
    expect(cert.diff.mismatchedCells).toBe(0);
    expect(cert.diff.onlyInA + cert.diff.onlyInB).toBe(0);
    expect(cert.verdict).toBe('parity');
    expect(cert.scenario.chaos).toBe('kill:5');
    // the log holds the seed, the canary and the rollback (amendments folded in, if any were late)
    const r = (await openRedis(harness.url)) as Redis;
    const log = mergeLiveLog((await readLiveLog(r, ns)).records);
    r.disconnect();
    expect(log.map((e) => `${e.action}:${e.mode ?? ''}`)).toEqual(['deploy:live', 'deploy:canary', 'rollback:']);
    // the live side served the canary to some symbols for part of the day: the signal columns were exercised
    const live = await loadTable(captureUrl(harness.url, ns, shards));
    const versions = live.values['momo_version'];
    expect(versions.some((v) => v === 2)).toBe(true);
    expect(versions.some((v) => v === 1)).toBe(true);
    expect(live.values['momo_score'].filter((v) => v !== null).length).toBeGreaterThan(live.seq.length / 2);
    // the unserved side's own status was certified too: evaluated (ok) while the canary ran, none
    // deployed before and after it
    const unservedStatus = live.values['momo_unserved_status'];
    expect(unservedStatus.some((v) => v === 0)).toBe(true);
    expect(unservedStatus.some((v) => v === 3)).toBe(true);
  }, 600_000);
});
