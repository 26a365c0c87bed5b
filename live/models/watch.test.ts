/** Automatic rollback: a canary past the divergence threshold is rolled back through the live log, with an alert. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventCount } from '../../core/factors/event-count.ts';
import { lastPrice } from '../../core/factors/last-price.ts';
import { alertsStateKey, inputStream } from '../keys.ts';
import { openRedis } from '../redis-connect.ts';
import { RedisHarness } from '../redis-harness.ts';
import { encodeEvent } from '../wire.ts';
import { LiveWorker } from '../worker/live-worker.ts';
import { appendLogEntry, mergeLiveLog, readLiveLog } from './live-log.ts';
import { registerVersion } from '../../models/registry.ts';
import { ModelWatcher, rollbackReason, scoreCandidate } from './watch.ts';
import { slotColumns } from '../../models/stage.ts';
import { MODEL_STATUS } from '../../models/model.ts';

const S = 1_000_000_000n;
const ROOT = new URL('../..', import.meta.url).pathname;
let dir: string;
let reg: string;
let harness: RedisHarness;
let r: Redis;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lockstep-models-watch-'));
  reg = join(dir, 'registry');
  for (const [v, coef] of [[1, [0.8, -0.3]], [2, [-3, 2]]] as const) {
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

describe('models watch', () => {
  it('decides on error rate, then divergence, only past min rows', () => {
    const c = { slot: 'm', version: 2, rows: 200, failures: 3, score: null };
    expect(rollbackReason(c, { maxErrorRate: 0.01, minRows: 100 })).toMatch(/error rate 1.50% over 200 rows > 1.00%/);
    expect(rollbackReason({ ...c, rows: 50 }, { maxErrorRate: 0.01, minRows: 100 })).toBeNull();
    expect(rollbackReason({ ...c, failures: 0 }, { maxErrorRate: 0.01, minRows: 100 })).toBeNull();
  });

  it("counts a shadow's failures from its own status column, not from the served side's", () => {
    const columns = slotColumns('momo', ['score']);
    const { ok, missing, error } = MODEL_STATUS;
    // [score, version, status, score_unserved, unserved_version, unserved_status]
    const values: (number | null)[][] = [
      [0.1, 1, ok, 0.2, 2, ok],
      [0.1, 1, ok, null, 2, error],
      // the shadow lacks an input the incumbent does not read: missing, not a failure
      [0.1, 1, ok, null, 2, missing],
      // the incumbent failed, the shadow did not
      [null, 1, error, 0.3, 2, ok],
    ];
    const rows = values.map((v, i) => ({ symbol: 'AAA', source: 'trade', seq: BigInt(i + 1), tsEvent: BigInt(i + 1) * S, tsRecv: BigInt(i + 1) * S, input: `${i}-0`, values: v }));
    const c = scoreCandidate('momo', 2, columns, rows, 'score', 0n);
    expect(c).toMatchObject({ rows: 4, failures: 1 });
    expect(c.score).toMatchObject({ version: 2, served: 0, unserved: 4, errorRate: 0.25, missingRate: 0.25 });
    expect(scoreCandidate('momo', 1, columns, rows, 'score', 0n)).toMatchObject({ rows: 4, failures: 1 });
  });

  it('rolls a diverging canary back through the live log with an alert; export-log writes the log', async () => {
    const keys = { ns: 'watch', shards: 1 };
    await r.hset('watch:meta', 'shards', '1');
    await appendLogEntry(r, keys.ns, { at: 0n, slot: 'momo', action: 'deploy', version: 1, mode: 'live' });
    await appendLogEntry(r, keys.ns, { at: 1n, slot: 'momo', action: 'deploy', version: 2, mode: 'canary', percent: 50 });
    for (let i = 0; i < 60; i++) {
      const ev = { kind: 'trade', tsEvent: BigInt(i + 1) * S, tsRecv: BigInt(i + 1) * S, symbol: ['AAA', 'BBB', 'CCC', 'DDD'][i % 4], seq: BigInt(i + 1), price: 100 + Math.sin(i) * 4, size: 1, side: 1 } as const;
      await r.xadd(inputStream(keys, 0), '*', ...encodeEvent(ev));
    }
    const w = new LiveWorker({ redis: harness.url, ns: keys.ns, shards: 1, factors: [lastPrice, eventCount], registry: reg, consumer: 'w' });
    await w.start();
    await w.run({ idleStopMs: 300 });
    await w.close();
    // no model failed: the /metrics counter of the slot is there, at 0
    expect(w.health().modelErrorRows).toEqual({ momo: 0 });
    expect(w.health().modelUnservedErrorRows).toEqual({ momo: 0 });
    const lines: string[] = [];
    const watcher = new ModelWatcher(r, keys, new Map([['momo', 'score']]), { maxErrorRate: 0.01, maxDivergence: 0.5, minRows: 20 }, 2n * S, (m) => lines.push(m));
    const done = await watcher.step();
    expect(done).toHaveLength(1);
    // after the newest input (60 s) plus the lead
    expect(done[0].at).toBe(62n * S);
    expect(lines[0]).toMatch(/rolled back momo@2 from 62000000000: momo@2: mean \|candidate - incumbent\| .* over 60 rows > 0.5/);
    expect(await watcher.step()).toHaveLength(0);
    const log = mergeLiveLog((await readLiveLog(r, keys.ns)).records);
    expect(log.at(-1)).toMatchObject({ action: 'rollback', slot: 'momo' });
    expect(log.at(-1)!.reason).toMatch(/^automatic: /);
    const alert = JSON.parse((await r.hget(alertsStateKey(keys), 'model-rollback:momo'))!) as { severity: string; summary: string };
    expect(alert.severity).toBe('critical');
    expect(alert.summary).toMatch(/automatic rollback of momo@2/);

    const out = join(dir, 'live.jsonl');
    const cli = spawnSync(process.execPath, [join(ROOT, 'bin/lockstep.js'), 'models', 'export-log', '--redis', harness.url, '--ns', keys.ns, '--out', out], { encoding: 'utf8' });
    expect(cli.stderr).toBe('');
    expect(cli.stdout.trim()).toBe(`wrote 3 entries to ${out}`);
    expect(readFileSync(out, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { action: string }).action)).toEqual(['deploy', 'deploy', 'rollback']);
  });
});
