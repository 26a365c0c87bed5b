/**
 * Warm start (`--warm-from`) against a real redis-server: a worker started before a feed that joins
 * the session mid-day waits for each shard's first entry, folds the catalog up to it, and writes
 * exactly the replay's rows for the events it was fed; restarted, its checkpoint wins.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { UsageError } from '../core/errors.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDay } from '../datasets/generate.ts';
import { readFactorTable, type FactorTable } from '../replay/read-factor-table.ts';
import { runReplay } from '../replay/run-replay.ts';
import { instantOf } from '../replay/warm-fold.ts';
import { runFeed } from './feed.ts';
import { latestKey, type KeyLayout } from './keys.ts';
import { readOutputRows } from './read-output.ts';
import { openRedis, type RedisClient } from './redis-connect.ts';
import { RedisHarness } from './redis-harness.ts';
import { LiveWorker } from './worker/index.ts';
import { readLiveLineage } from './lineage-key.ts';
import { spawnSync } from 'node:child_process';

const DATE = '2024-03-15';
const ROOT = new URL('..', import.meta.url).pathname;
const START = '17:00';
let dir: string;
let redis: RedisHarness;
let client: RedisClient;
let replay: FactorTable;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lockstep-warm-'));
  await generateDay({ date: DATE, symbols: 3, seed: 5, preset: 'tiny', out: join(dir, 'cat') });
  await runReplay({ catalog: join(dir, 'cat'), date: DATE, out: join(dir, 'replay.parquet'), progress: false });
  replay = await readFactorTable(join(dir, 'replay.parquet'));
  redis = await RedisHarness.start();
  client = await openRedis(redis.url);
});

afterAll(async () => {
  client?.disconnect();
  await redis?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The replay's rows at or after `fromNs`, keyed by symbol/source/seq, and each symbol's last row. */
function replayFrom(fromNs: bigint): { rows: Map<string, (number | null)[]>; last: Map<string, number> } {
  const cols = Object.keys(replay.values);
  const rows = new Map<string, (number | null)[]>();
  const last = new Map<string, number>();
  for (let i = 0; i < replay.seq.length; i++) {
    last.set(replay.symbol[i], i);
    if (replay.tsRecv[i] >= fromNs) rows.set(`${replay.symbol[i]}/${replay.source[i]}/${replay.seq[i]}`, cols.map((c) => replay.values[c][i]));
  }
  return { rows, last };
}

async function liveMismatches(keys: KeyLayout, fromNs: bigint): Promise<{ rows: number; mismatched: number; missing: number; extra: number; servedBad: number }> {
  const want = replayFrom(fromNs);
  const { rows } = await readOutputRows(client, keys);
  let mismatched = 0;
  let extra = 0;
  const seen = new Set<string>();
  for (const r of rows) {
    const k = `${r.symbol}/${r.source}/${r.seq}`;
    seen.add(k);
    const v = want.rows.get(k);
    if (!v) extra++;
    else if (v.length !== r.values.length || v.some((x, i) => !Object.is(x, r.values[i]))) mismatched++;
  }
  let servedBad = 0;
  for (const [sym, i] of want.last) {
    const h = await client.hgetall(latestKey(keys, sym));
    const differs = Object.keys(replay.values).some((c) => !Object.is(h[c] === '' || h[c] === undefined ? null : Number(h[c]), replay.values[c][i]));
    if (h._seq !== String(replay.seq[i]) || differs) servedBad++;
  }
  return { rows: rows.length, mismatched, missing: [...want.rows.keys()].filter((k) => !seen.has(k)).length, extra, servedBad };
}

async function feedAndRun(keys: KeyLayout, warm: boolean, log: string[]): Promise<void> {
  const w = new LiveWorker({ redis: redis.url, ns: keys.ns, shards: keys.shards, consumer: 'w0', warmFrom: warm ? join(dir, 'cat') : undefined, log: (m) => log.push(m) });
  // started before the feed: every shard's stream is empty, so each waits for its first entry
  await w.start();
  await runFeed({ catalog: join(dir, 'cat'), date: DATE, redis: redis.url, ns: keys.ns, shards: keys.shards, startNs: instantOf(DATE, START, 'start') });
  await w.run({ idleStopMs: 800 });
  await w.close();
}

describe('live --warm-from', () => {
  it('a worker joining at 17:00 writes the replay rows of every event it is fed, and serves every symbol', async () => {
    const keys: KeyLayout = { ns: 'warm', shards: 2 };
    const log: string[] = [];
    await feedAndRun(keys, true, log);
    expect(log.filter((l) => /its input is empty; warming it/.test(l))).toHaveLength(2);
    expect(log.filter((l) => /warm start from .* before the first input/.test(l))).toHaveLength(2);
    const m = await liveMismatches(keys, instantOf(DATE, START, 'start'));
    expect(m.rows).toBeGreaterThan(1000);
    expect(m).toMatchObject({ mismatched: 0, missing: 0, extra: 0, servedBad: 0 });

    // each shard's lineage key: the worker's feature set, and the catalog files the warm-up read
    const { lineage, withLineage } = await readLiveLineage(client, keys.ns);
    expect(withLineage).toBe(2);
    expect(lineage.featureSetVersion).toBe(JSON.parse(replay.metadata.get('lockstep')!).featureSetVersion);
    expect(lineage.inputs.map((f) => f.path)).toContain('heartbeat/2024-03-15/_.parquet');
    expect(lineage.inputs.every((f) => /^[0-9a-f]{64}$/.test(f.sha256))).toBe(true);
    const shown = spawnSync(process.execPath, [join(ROOT, 'bin/lockstep.js'), 'lineage', join(dir, 'replay.parquet'), '--redis', redis.url, '--ns', keys.ns], { encoding: 'utf8', cwd: ROOT });
    expect(shown.status, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/^SERVABLE: a model trained on .*replay\.parquet can be served by live warm at redis:\/\/127\.0\.0\.1:\d+/);

    // restarted: the checkpoint wins over the catalog
    const again: string[] = [];
    const w = new LiveWorker({ redis: redis.url, ns: keys.ns, shards: keys.shards, consumer: 'w0', warmFrom: join(dir, 'cat'), log: (l) => again.push(l) });
    await w.start();
    await w.close();
    expect(again.filter((l) => /has a checkpoint \(state at .*\); recovering from it, not from --warm-from/.test(l))).toHaveLength(2);
    expect(again.some((l) => /warm start from/.test(l))).toBe(false);
  });

  it('a catalog without the day of the first input stops the worker with one line naming it', async () => {
    const keys: KeyLayout = { ns: 'nodata', shards: 1 };
    mkdirSync(join(dir, 'empty'));
    await runFeed({ catalog: join(dir, 'cat'), date: DATE, redis: redis.url, ns: keys.ns, shards: keys.shards, startNs: instantOf(DATE, '19:50', 'start') });
    const w = new LiveWorker({ redis: redis.url, ns: keys.ns, shards: 1, consumer: 'w0', warmFrom: join(dir, 'empty') });
    await expect(w.start()).rejects.toThrow(new UsageError(`--warm-from ${join(dir, 'empty')}: the catalog has no data for ${DATE}, the date of the input's first event (ts_recv ${instantOf(DATE, '19:50', 'start')}); warm start needs that day's events up to it`));
    await w.close();
  });

  it('without it the same worker starts cold and its rows differ from the replay', async () => {
    const keys: KeyLayout = { ns: 'cold', shards: 2 };
    await feedAndRun(keys, false, []);
    const m = await liveMismatches(keys, instantOf(DATE, START, 'start'));
    expect(m.mismatched).toBeGreaterThan(100);
    expect(m.servedBad).toBeGreaterThan(0);
  });
});
