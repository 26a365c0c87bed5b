/**
 * The models' evaluation times on the worker's Prometheus /metrics: one histogram per slot and
 * version (cumulative buckets, +Inf equal to the count, the sum in seconds), checked on a
 * synthetic snapshot, and scraped from a real worker (`lockstep live --registry --metrics-port`,
 * a real redis-server) running a live model and a canary: the scraped counts are every row of
 * each version and equal, bucket for bucket, what the worker publishes to `<ns>:models:latency`.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerVersion } from '../../models/registry.ts';
import { inputStream } from '../keys.ts';
import { bucketOf, bucketUpperNs, readLatencySnapshots, type LatencySnapshot } from '../models/latency.ts';
import { appendLogEntry } from '../models/live-log.ts';
import { openRedis } from '../redis-connect.ts';
import { freePort, RedisHarness } from '../redis-harness.ts';
import { encodeEvent } from '../wire.ts';
import { modelEvalLines, workerMetricsText } from './metrics-server.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const S = 1_000_000_000n;
const NAME = 'lockstep_worker_model_eval_seconds';

/** Every sample of the histogram: `slot@version` → { le → count }, and the count and sum. */
function parseHistograms(text: string): Map<string, { buckets: Map<string, number>; count: number; sum: number }> {
  const out = new Map<string, { buckets: Map<string, number>; count: number; sum: number }>();
  const re = new RegExp(`^${NAME}_(bucket|sum|count)\\{consumer="(?:[^"\\\\]|\\\\.)*",slot="([^"]*)",version="([^"]*)"(?:,le="([^"]*)")?\\} (\\S+)$`, 'gm');
  for (const m of text.matchAll(re)) {
    const key = `${m[2]}@${m[3]}`;
    let h = out.get(key);
    if (h === undefined) out.set(key, (h = { buckets: new Map(), count: NaN, sum: NaN }));
    if (m[1] === 'bucket') h.buckets.set(m[4], Number(m[5]));
    else if (m[1] === 'count') h.count = Number(m[5]);
    else h.sum = Number(m[5]);
  }
  return out;
}

/** The cumulative count below `leNs` from a snapshot's buckets (what the histogram must say). */
const below = (h: LatencySnapshot['versions'][string], leNs: number) => Object.entries(h.buckets).reduce((n, [i, c]) => n + (bucketUpperNs(Number(i)) <= leNs ? c : 0), 0);

describe('model evaluation times on /metrics', () => {
  it('a snapshot becomes one histogram per slot and version: cumulative buckets, +Inf = count, sum in seconds', () => {
    const snap: LatencySnapshot = {
      since: 1,
      at: 2,
      versions: {
        'momo@2': { n: 5, sumNs: 4_001_000, buckets: { [bucketOf(500)]: 3, [bucketOf(2e6)]: 2 } },
        'momo@1': { n: 4, sumNs: 130, buckets: { 0: 1, [bucketOf(100)]: 2, [bucketOf(5e9)]: 1 } },
      },
    };
    const lines = modelEvalLines(snap, 'w"1');
    expect(lines[1]).toBe(`# TYPE ${NAME} histogram`);
    const hs = parseHistograms(lines.join('\n'));
    expect([...hs.keys()]).toEqual(['momo@1', 'momo@2']);
    expect(lines[2]).toBe(`${NAME}_bucket{consumer="w\\"1",slot="momo",version="1",le="6.4e-8"} 1`);
    for (const [key, h] of hs) {
      const v = snap.versions[key];
      expect(h.count).toBe(v.n);
      expect(h.sum).toBe(v.sumNs / 1e9);
      expect(h.buckets.get('+Inf')).toBe(v.n);
      // 49 fixed bounds (two per octave, 64 ns .. ~1.07 s) and +Inf, cumulative, each exact
      expect(h.buckets.size).toBe(50);
      let prev = 0;
      for (const [le, n] of h.buckets) {
        if (le === '+Inf') continue;
        expect(n).toBeGreaterThanOrEqual(prev);
        prev = n;
        expect(n).toBe(below(v, Number(le) * 1e9 * (1 + 1e-12)));
      }
    }
    // momo@1: the 5 s evaluation is above every finite bound, counted in +Inf only
    expect(hs.get('momo@1')!.buckets.get(String(bucketUpperNs(96) / 1e9))).toBe(3);
    // no models, no histogram
    expect(modelEvalLines({ since: 1, at: 2, versions: {} }, 'w')).toEqual([]);
    const health = { applied: 0, commits: 0, commitSeconds: 0, deadLettered: 0, duplicates: 0, healthy: true, lastOkAt: 0, lastError: null, dataLost: false };
    expect(workerMetricsText(health as never, [], 'w')).not.toContain(NAME);
    expect(workerMetricsText(health as never, [], 'w', snap)).toContain(`# TYPE ${NAME} histogram`);
    // the failed rows per slot, served and unserved apart
    const failed = workerMetricsText({ ...health, modelErrorRows: { momo: 1 }, modelUnservedErrorRows: { momo: 2 } } as never, [], 'w');
    expect(failed).toMatch(/^lockstep_worker_model_error_rows_total\{consumer="w",slot="momo"\} 1$/m);
    expect(failed).toMatch(/^lockstep_worker_model_unserved_error_rows_total\{consumer="w",slot="momo"\} 2$/m);
  });

  describe('a real worker', () => {
    let dir: string;
    let harness: RedisHarness;
    let r: Redis;
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'lockstep-metrics-models-'));
      for (const [v, coef] of [[1, [0.01, -0.02]], [2, [-0.03, 0.05]]] as const) {
        writeFileSync(join(dir, `m${v}.json`), JSON.stringify({ lockstep_model: 1, name: 'momo', version: v, kind: 'linear', inputs: ['last_price', 'event_count'], coef }));
        registerVersion(join(dir, 'registry'), join(dir, `m${v}.json`));
      }
      harness = await RedisHarness.start();
      r = (await openRedis(harness.url, { commandTimeoutMs: 60_000 })) as Redis;
    });
    afterAll(async () => {
      r?.disconnect();
      await harness?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('`lockstep live --registry --metrics-port` serves each version\'s evaluation times, equal to what it publishes for `models watch`', async () => {
      const ns = 'mm';
      await r.hset(`${ns}:meta`, 'shards', '1');
      await appendLogEntry(r, ns, { at: 0n, slot: 'momo', action: 'deploy', version: 1, mode: 'live' });
      await appendLogEntry(r, ns, { at: 1n, slot: 'momo', action: 'deploy', version: 2, mode: 'canary', percent: 50 });
      const N = 60;
      for (let i = 0; i < N; i++) {
        const ev = { kind: 'trade', tsEvent: BigInt(i + 1) * S, tsRecv: BigInt(i + 1) * S, symbol: ['AAA', 'BBB', 'CCC'][i % 3], seq: BigInt(Math.floor(i / 3) + 1), price: 100 + Math.sin(i) * 4, size: 1, side: 1 } as const;
        await r.xadd(inputStream({ ns, shards: 1 }, 0), '*', ...encodeEvent(ev));
      }
      const port = await freePort();
      const child = spawn(process.execPath, [join(ROOT, 'bin/lockstep.js'), 'live', '--redis', harness.url, '--ns', ns, '--shards', '1', '--consumer', 'wm', '--registry', join(dir, 'registry'), '--metrics-port', String(port), '--exit-when-idle', '3000'], { stdio: ['ignore', 'pipe', 'pipe'] });
      const exited = new Promise<number | null>((res) => child.once('exit', (c) => res(c)));
      let err = '';
      child.stderr.on('data', (d) => (err += d));
      child.stdout.resume();
      let text = '';
      const applied = () => Number(/^lockstep_worker_applied_total\{consumer="wm"\} (\S+)$/m.exec(text)?.[1] ?? 0);
      const deadline = Date.now() + 60_000;
      // every row evaluated by both versions (served or beside the served one), and committed
      while (Date.now() < deadline && !(applied() >= N && parseHistograms(text).get('momo@2')?.count === N && /^lockstep_worker_commits_total\{consumer="wm"\} [1-9]/m.test(text))) {
        await new Promise((res) => setTimeout(res, 50));
        text = await fetch(`http://127.0.0.1:${port}/metrics`).then((x) => x.text(), () => '');
      }
      const scraped = parseHistograms(text);
      expect([...scraped.keys()], text + err).toEqual(['momo@1', 'momo@2']);
      expect(text).toMatch(new RegExp(`^# TYPE ${NAME} histogram$`, 'm'));
      expect(await exited, err).toBe(0);

      // the same counts the worker published at its stop (nothing evaluated after the scrape: every input was applied)
      const pub = (await readLatencySnapshots(r, ns)).get('wm')!;
      for (const key of ['momo@1', 'momo@2']) {
        const h = scraped.get(key)!;
        const v = pub.versions[key];
        expect(h.count).toBe(N);
        expect(v.n).toBe(N);
        expect(h.sum).toBe(v.sumNs / 1e9);
        expect(h.sum).toBeGreaterThan(0);
        expect(h.buckets.get('+Inf')).toBe(N);
        for (const [le, n] of h.buckets) if (le !== '+Inf') expect(n, `${key} le=${le}`).toBe(below(v, Number(le) * 1e9 * (1 + 1e-12)));
      }
    }, 120_000);
  });
});
