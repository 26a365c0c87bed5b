/**
 * Evaluation time per model version: measured by the worker around each model call (never inside
 * the fold's values), published to `<ns>:models:latency`, and the latency rule of `models watch`
 * rolling a deliberately slow canary (models/fixtures/slow.onnx) back against a real redis.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TradeEvent } from '../../core/events.ts';
import { eventCount } from '../../core/factors/event-count.ts';
import { lastPrice } from '../../core/factors/last-price.ts';
import { applyEvent, createFactorSet, initFold } from '../../core/fold.ts';
import type { DeploymentEntry } from '../../models/deployment.ts';
import { linearEvaluator } from '../../models/linear.ts';
import { runnableModel } from '../../models/model.ts';
import { registerVersion } from '../../models/registry.ts';
import { parseModelSpec } from '../../models/spec.ts';
import { createSlotStage } from '../../models/stage.ts';
import { alertsStateKey, inputStream, modelsLatencyKey } from '../keys.ts';
import { openRedis } from '../redis-connect.ts';
import { RedisHarness } from '../redis-harness.ts';
import { encodeEvent } from '../wire.ts';
import { LiveWorker } from '../worker/live-worker.ts';
import { bucketOf, bucketUpperNs, EvalTimes, LatencyWindows, quantileNs, readLatencySnapshots, type LatencySnapshot } from './latency.ts';
import { appendLogEntry, mergeLiveLog, readLiveLog } from './live-log.ts';
import { ModelWatcher, rollbackReason } from './watch.ts';

const S = 1_000_000_000n;
const FIXTURES = new URL('../../models/fixtures/', import.meta.url).pathname;
const ROOT = new URL('../..', import.meta.url).pathname;

describe('latency histograms', () => {
  it('buckets are log-scaled, four per octave from 64 ns; a quantile is the bound of its bucket', () => {
    expect(bucketOf(0)).toBe(0);
    expect(bucketOf(63.9)).toBe(0);
    expect(bucketOf(64)).toBe(1);
    expect(bucketOf(128)).toBe(5);
    expect(bucketOf(1e12)).toBe(97);
    // every duration lies below its bucket's bound and at or above the previous one's
    for (const ns of [64, 100, 999, 1e3, 12_345, 1e6, 3.3e7, 1e9]) {
      const b = bucketOf(ns);
      expect(ns).toBeLessThan(bucketUpperNs(b));
      expect(ns).toBeGreaterThanOrEqual(bucketUpperNs(b - 1) * (1 - 1e-12));
    }
    const h = { n: 100, sumNs: 0, buckets: { [bucketOf(1000)]: 98, [bucketOf(5e6)]: 2 } };
    expect(quantileNs(h, 0.5)).toBe(bucketUpperNs(bucketOf(1000)));
    expect(quantileNs(h, 0.98)).toBe(bucketUpperNs(bucketOf(1000)));
    expect(quantileNs(h, 0.99)).toBe(bucketUpperNs(bucketOf(5e6)));
    expect(quantileNs({ n: 0, sumNs: 0, buckets: {} }, 0.99)).toBeNull();
  });

  it('a window is the newest snapshot minus the one a window older; a restarted worker starts over; workers add up', () => {
    const snap = (since: number, at: number, fast: number, slow: number): LatencySnapshot => ({
      since, at, versions: { 'm@2': { n: fast + slow, sumNs: 0, buckets: { [bucketOf(1000)]: fast, ...(slow > 0 ? { [bucketOf(5e6)]: slow } : {}) } } },
    });
    const w = new LatencyWindows(10_000);
    // one snapshot of a worker that started long ago: all it counted (the watcher cannot see older)
    w.add(new Map([['a', snap(0, 100_000, 1000, 50)]]));
    expect(w.window().get('m@2')!.n).toBe(1050);
    // 10 s later: only what was counted since (100 fast, none slow)
    w.add(new Map([['a', snap(0, 110_000, 1100, 50)]]));
    expect(w.window().get('m@2')).toEqual({ n: 100, sumNs: 0, buckets: { [bucketOf(1000)]: 100 } });
    // the same snapshot read again changes nothing
    w.add(new Map([['a', snap(0, 110_000, 1100, 50)]]));
    expect(w.window().get('m@2')!.n).toBe(100);
    // a second worker, started within the window: all its counts; the first restarted: all of its new counts
    w.add(new Map([['a', snap(115_000, 116_000, 10, 0)], ['b', snap(105_000, 112_000, 5, 5)]]));
    const h = w.window().get('m@2')!;
    expect(h.n).toBe(20);
    expect(quantileNs(h, 0.99)).toBe(bucketUpperNs(bucketOf(5e6)));
  });

  it('the latency rule: p99 over the budget with enough evaluations rolls back; fewer, or under budget, does not', () => {
    const c = { slot: 'momo', version: 2, rows: 5, failures: 0, score: null, latency: { n: 40, p99Ns: 8e6 } };
    const t = { maxErrorRate: 0.01, minRows: 20, maxLatencyP99Ns: 1e6, latencyWindowMs: 30_000 };
    // rows are few (a slow model makes rows slowly): the evaluations decide
    expect(rollbackReason(c, t)).toBe('momo@2: evaluation time p99 8.00 ms over 40 evaluations in the last 30 s > budget 1.00 ms');
    expect(rollbackReason({ ...c, latency: { n: 19, p99Ns: 8e6 } }, t)).toBeNull();
    expect(rollbackReason({ ...c, latency: { n: 40, p99Ns: 9e5 } }, t)).toBeNull();
    expect(rollbackReason(c, { ...t, maxLatencyP99Ns: undefined })).toBeNull();
  });

  it('the measuring wrapper leaves every value of the fold as it was', () => {
    const spec = (v: number, coef: number[]) => parseModelSpec(JSON.stringify({ lockstep_model: 1, name: 'momo', version: v, kind: 'logistic', inputs: ['last_price', 'event_count'], standardize: { mean: [100, 5], std: [2, 3] }, coef, intercept: 0.1 }), 'm.json');
    const models = [spec(1, [0.5, -0.2]), spec(2, [-0.4, 0.3])].map((s) => runnableModel(s, linearEvaluator(s)));
    const log: DeploymentEntry[] = [
      { at: 0n, slot: 'momo', action: 'deploy', version: 1, mode: 'live' },
      { at: 10n * S, slot: 'momo', action: 'deploy', version: 2, mode: 'canary', percent: 50 },
    ];
    const times = new EvalTimes();
    const rows = (wrap?: EvalTimes['wrap']) => {
      const set = createFactorSet([lastPrice, eventCount], { stages: [createSlotStage('momo', models, log, { wrap })] });
      const st = initFold();
      const out: (number | null)[][] = [];
      for (let i = 0; i < 40; i++) {
        const ev: TradeEvent = { kind: 'trade', tsEvent: BigInt(i + 1) * S, tsRecv: BigInt(i + 1) * S, symbol: ['AAA', 'BBB', 'CCC'][i % 3], seq: BigInt(Math.floor(i / 3) + 1), price: 100 + Math.sin(i) * 3, size: 1, side: 1 };
        applyEvent(set, st, ev, (_e, _s, values) => out.push([...values]));
      }
      return out;
    };
    expect(rows(times.wrap)).toEqual(rows());
    const snap = times.snapshot();
    // v1 served every row; v2 evaluated beside it from 10 s on (canary or unserved side)
    expect(snap.versions['momo@1'].n).toBe(40);
    expect(snap.versions['momo@2'].n).toBe(31);
  });
});

describe('models watch: the latency rule against a real redis', () => {
  let dir: string;
  let reg: string;
  let harness: RedisHarness;
  let r: Redis;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lockstep-models-latency-'));
    reg = join(dir, 'registry');
    // v1: a linear score (microseconds); v2: the same score through slow.onnx (milliseconds a row)
    writeFileSync(join(dir, 'm1.json'), JSON.stringify({ lockstep_model: 1, name: 'momo', version: 1, kind: 'linear', inputs: ['last_price', 'event_count'], coef: [0.01, -0.02] }));
    copyFileSync(join(FIXTURES, 'slow.onnx'), join(dir, 'slow.onnx'));
    writeFileSync(join(dir, 'm2.json'), JSON.stringify({ lockstep_model: 1, name: 'momo', version: 2, kind: 'onnx', inputs: ['last_price', 'event_count'], onnx: { file: 'slow.onnx', input: 'x', outputs: { score: 'y' } } }));
    registerVersion(reg, join(dir, 'm1.json'));
    registerVersion(reg, join(dir, 'm2.json'));
    harness = await RedisHarness.start();
    r = (await openRedis(harness.url)) as Redis;
  });
  afterAll(async () => {
    r?.disconnect();
    await harness?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the worker publishes each version\'s evaluation times; a canary past the p99 budget is rolled back with an alert', async () => {
    const keys = { ns: 'lat', shards: 1 };
    await r.hset('lat:meta', 'shards', '1');
    await appendLogEntry(r, keys.ns, { at: 0n, slot: 'momo', action: 'deploy', version: 1, mode: 'live' });
    await appendLogEntry(r, keys.ns, { at: 1n, slot: 'momo', action: 'deploy', version: 2, mode: 'canary', percent: 50 });
    for (let i = 0; i < 40; i++) {
      const ev = { kind: 'trade', tsEvent: BigInt(i + 1) * S, tsRecv: BigInt(i + 1) * S, symbol: ['AAA', 'BBB', 'CCC', 'DDD'][i % 4], seq: BigInt(Math.floor(i / 4) + 1), price: 100 + Math.sin(i) * 4, size: 1, side: 1 } as const;
      await r.xadd(inputStream(keys, 0), '*', ...encodeEvent(ev));
    }
    const w = new LiveWorker({ redis: harness.url, ns: keys.ns, shards: 1, factors: [lastPrice, eventCount], registry: reg, consumer: 'w1' });
    await w.start();
    await w.run({ idleStopMs: 300 });
    await w.close();
    expect(w.health().modelErrorRows).toEqual({ momo: 0 });
    expect(w.health().modelUnservedErrorRows).toEqual({ momo: 0 });

    // published at close: both versions, each evaluated on every row (served or beside the served one)
    const snaps = await readLatencySnapshots(r, keys.ns);
    expect([...snaps.keys()]).toEqual(['w1']);
    const v = snaps.get('w1')!.versions;
    expect(v['momo@1'].n).toBe(40);
    expect(v['momo@2'].n).toBe(40);
    // the slow graph is orders of magnitude slower than the linear score
    expect(quantileNs(v['momo@2'], 0.5)!).toBeGreaterThan(20 * quantileNs(v['momo@1'], 0.5)!);
    expect(Object.keys(JSON.parse((await r.hget(modelsLatencyKey(keys), 'w1'))!) as object)).toEqual(['since', 'at', 'versions']);

    // a generous budget: nothing to do; the candidate's p99 is reported
    const lenient = new ModelWatcher(r, keys, new Map([['momo', 'score']]), { maxErrorRate: 0.01, minRows: 20, maxLatencyP99Ns: 60e9 }, 2n * S);
    expect(await lenient.step()).toHaveLength(0);
    expect(lenient.lastScores).toMatchObject([{ slot: 'momo', version: 2, rows: 40, failures: 0, latency: { n: 40 } }]);

    const lines: string[] = [];
    const watcher = new ModelWatcher(r, keys, new Map([['momo', 'score']]), { maxErrorRate: 0.01, minRows: 20, maxLatencyP99Ns: 1e6, latencyWindowMs: 30_000 }, 2n * S, (m) => lines.push(m));
    const done = await watcher.step();
    expect(done).toHaveLength(1);
    expect(done[0].at).toBe(42n * S);
    expect(lines[0]).toMatch(/^rolled back momo@2 from 42000000000: momo@2: evaluation time p99 .* over 40 evaluations in the last 30 s > budget 1.00 ms$/);
    const log = mergeLiveLog((await readLiveLog(r, keys.ns)).records);
    expect(log.at(-1)).toMatchObject({ action: 'rollback', slot: 'momo' });
    expect(log.at(-1)!.reason).toMatch(/^automatic: momo@2: evaluation time p99/);
    const alert = JSON.parse((await r.hget(alertsStateKey(keys), 'model-rollback:momo'))!) as { severity: string; summary: string };
    expect(alert.severity).toBe('critical');
    expect(alert.summary).toMatch(/automatic rollback of momo@2 .*evaluation time p99/);
    // rolled back: no candidate left to judge
    expect(await watcher.step()).toHaveLength(0);

    // the real CLI: the canary deployed again is judged on the evaluation times the worker published
    await appendLogEntry(r, keys.ns, { at: 50n * S, slot: 'momo', action: 'deploy', version: 2, mode: 'canary', percent: 50 });
    const watch = (...extra: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin/lockstep.js'), 'models', 'watch', '--redis', harness.url, '--ns', keys.ns, '--shards', '1', '--registry', reg, '--min-rows', '20', '--once', ...extra], { encoding: 'utf8' });
    const bad = watch('--max-latency-p99', 'fast');
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim()).toMatch(/^lockstep: --max-latency-p99: "fast" is not a duration/);
    const cli = watch('--max-latency-p99', '1ms', '--latency-window', '30s');
    expect(cli.stderr).toBe('');
    expect(cli.status).toBe(0);
    expect(cli.stdout.trim()).toMatch(/^rolled back momo@2 from \d+: momo@2: evaluation time p99 .* over 40 evaluations in the last 30 s > budget 1.00 ms$/);
  });
});
