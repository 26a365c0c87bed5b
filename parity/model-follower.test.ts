/**
 * Late models-log entries: an entry whose `at` the shards have already passed is applied from each
 * shard's next receive time, recorded as an amendment in the live log (and alerted), and a replay
 * with the exported log computes exactly the rows live served, both when a worker meets the entry
 * while running and when a restarted worker meets it at recovery.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TradeEvent } from '../core/events.ts';
import { eventCount } from '../core/factors/event-count.ts';
import { lastPrice } from '../core/factors/last-price.ts';
import { applyEvent, createFactorSet, initFold } from '../core/fold.ts';
import { appendLogEntry, exportLiveLog, readLiveLog } from '../live/models/live-log.ts';
import { asStages, loadModelStages } from '../models/load.ts';
import { readDeploymentLog, registerVersion } from '../models/registry.ts';
import { loadTable } from './load-table.ts';
import { captureUrl } from './row-source.ts';
import { alertsStateKey, inputStream, type KeyLayout } from '../live/keys.ts';
import { openRedis } from '../live/redis-connect.ts';
import { RedisHarness } from '../live/redis-harness.ts';
import { shardOf } from '../live/shard.ts';
import { encodeEvent } from '../live/wire.ts';
import { LiveWorker } from '../live/worker/live-worker.ts';

const S = 1_000_000_000n;
const FACTORS = [lastPrice, eventCount];
const SYMBOLS = ['AAA', 'BBB', 'CCC', 'DDD', 'EEE', 'FFF'];
let dir: string;
let reg: string;
let harness: RedisHarness;
let r: Redis;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lockstep-late-entries-'));
  reg = join(dir, 'registry');
  for (const [v, coef] of [[1, [0.8, -0.3]], [2, [-0.5, 0.4]]] as const) {
    const f = join(dir, `m${v}.json`);
    writeFileSync(f, JSON.stringify({ lockstep_model: 1, name: 'momo', version: v, kind: 'logistic', inputs: ['last_price', 'event_count'], standardize: { mean: [100, 10], std: [3, 8] }, coef, intercept: 0 }));
    registerVersion(reg, f);
  }
  harness = await RedisHarness.start();
  r = (await openRedis(harness.url)) as Redis;
});
afterAll(async () => {
  r?.disconnect();
  await harness?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Trades from second `from` to `to` (one a second, symbols in turn). */
function trades(from: number, to: number): TradeEvent[] {
  return Array.from({ length: to - from }, (_, k) => {
    const i = from + k;
    return { kind: 'trade', tsEvent: BigInt(i) * S, tsRecv: BigInt(i) * S, symbol: SYMBOLS[i % SYMBOLS.length], seq: BigInt(i + 1), price: 100 + Math.sin(i) * 4, size: 1, side: 1 };
  });
}

async function publish(keys: KeyLayout, evs: readonly TradeEvent[]): Promise<void> {
  for (const ev of evs) await r.xadd(inputStream(keys, shardOf(ev.symbol, keys.shards)), '*', ...encodeEvent(ev));
}

const worker = (keys: KeyLayout) => new LiveWorker({ redis: harness.url, ns: keys.ns, shards: keys.shards, factors: FACTORS, registry: reg, consumer: 'w', checkpointEvery: 7 });

describe('late models-log entries', () => {
  it('are amended per shard (in a running worker and at a restart), alerted, and replay with the exported log equals live', async () => {
    const keys: KeyLayout = { ns: 'late', shards: 2 };
    await r.hset(`${keys.ns}:meta`, 'shards', '2');
    await appendLogEntry(r, keys.ns, { at: 0n, slot: 'momo', action: 'deploy', version: 1, mode: 'live' });
    const all = trades(0, 90);

    // 1. a worker runs to second 30 and stops
    await publish(keys, all.slice(0, 30));
    let w = worker(keys);
    await w.start();
    await w.run({ idleStopMs: 300 });
    await w.close();

    // 2. an entry at second 10 (long passed) is logged; a restarted worker meets it at recovery
    await appendLogEntry(r, keys.ns, { at: 10n * S, slot: 'momo', action: 'deploy', version: 2, mode: 'canary', percent: 100 });
    await publish(keys, all.slice(30, 60));
    w = worker(keys);
    await w.start();
    await w.run({ idleStopMs: 300 });
    const atRestart = w.models!.lateEntries;

    // 3. while the worker runs, a rollback at second 40 (passed) is logged, then more input comes
    const running = w.run({ idleStopMs: 1500 });
    await appendLogEntry(r, keys.ns, { at: 40n * S, slot: 'momo', action: 'rollback', reason: 'late on purpose' });
    await publish(keys, all.slice(60, 90));
    await running;
    await w.close();
    expect(atRestart).toBe(2); // both shards had passed second 10
    expect(w.models!.lateEntries).toBe(4);

    // the exported log says where each shard switched: after what it had applied
    const file = join(dir, 'deployments.jsonl');
    const log = await exportLiveLog(r, keys.ns, file);
    expect(readDeploymentLog(dir).length).toBe(3);
    for (const e of log.slice(1)) {
      expect(Object.keys(e.late!.at).sort()).toEqual(['0', '1']);
      for (const at of Object.values(e.late!.at)) expect(at).toBeGreaterThan(e.at);
    }
    expect(Object.keys(await r.hgetall(alertsStateKey(keys))).sort()).toEqual(['model-log-late:0', 'model-log-late:1']);
    expect((await readLiveLog(r, keys.ns)).records.filter((x) => 'amend' in x)).toHaveLength(4);

    // replay: the same fold over the same events with the exported log
    const base = createFactorSet(FACTORS).columns;
    const set = createFactorSet(FACTORS, { stages: asStages(loadModelStages(reg, base, log)) });
    const st = initFold();
    const want = new Map<string, (number | null)[]>();
    for (const ev of all) applyEvent(set, st, ev, (e, sym, v) => want.set(`${sym}:${e.seq}`, [...v]));
    const live = await loadTable(captureUrl(harness.url, keys.ns, keys.shards));
    expect(live.seq.length).toBe(all.length);
    let mismatched = 0;
    let canary = 0;
    live.seq.forEach((seq, i) => {
      const w = want.get(`${live.symbol[i]}:${seq}`)!;
      set.columns.forEach((c, j) => {
        if (!Object.is(live.values[c][i], w[j])) mismatched++;
      });
      if (live.values['momo_version'][i] === 2) canary++;
    });
    expect(mismatched).toBe(0);
    // the canary served between the two late switch points (each shard's next input after what it
    // had applied: seconds 30..59), not from second 10 nor to second 40
    expect(canary).toBe(30);
  });
});
