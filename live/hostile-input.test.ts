/**
 * Hostile but well-formed input entries against a real redis-server and the real `lockstep live`:
 * each is dead-lettered with its reason (core/plausibility.ts), counted in the worker's summary,
 * and everything after it is applied: the live output equals a replay of the valid events.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDay } from '../datasets/generate.ts';
import { dateStartNs } from '../replay/catalog.ts';
import { readFactorTable, type FactorTable } from '../replay/read-factor-table.ts';
import { runReplay } from '../replay/run-replay.ts';
import { runFeed } from './feed.ts';
import { deadLetterStream, inputStream, type KeyLayout } from './keys.ts';
import { readOutputRows } from './read-output.ts';
import { openRedis, type RedisClient } from './redis-connect.ts';
import { RedisHarness } from './redis-harness.ts';
import { shardOf } from './shard.ts';

const DATE = '2024-03-15';
const ROOT = new URL('..', import.meta.url).pathname;
const Y2100 = (4_102_444_800n * 1_000_000_000n).toString();
let dir: string;
let redis: RedisHarness;
let client: RedisClient;
let replay: FactorTable;

/** Events the generated day repeats on purpose (a feed's retries): the replay drops them too. */
let replayDuplicates = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lockstep-hostile-live-'));
  await generateDay({ date: DATE, symbols: 3, seed: 5, preset: 'tiny', out: join(dir, 'cat') });
  replayDuplicates = (await runReplay({ catalog: join(dir, 'cat'), date: DATE, out: join(dir, 'replay.parquet'), progress: false })).duplicates;
  replay = await readFactorTable(join(dir, 'replay.parquet'));
  redis = await RedisHarness.start();
  client = await openRedis(redis.url);
});

afterAll(async () => {
  client?.disconnect();
  await redis?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('hostile but well-formed entries (plausibility rule), live', () => {
  it('are dead-lettered with their reason and counted; later events are applied; the output equals the replay', async () => {
    const keys: KeyLayout = { ns: 'hostile', shards: 2 };
    const feed = (from?: string, to?: string) => runFeed({ catalog: join(dir, 'cat'), date: DATE, redis: redis.url, ns: keys.ns, shards: keys.shards, from, to });
    await feed(undefined, '15:00');
    const [a, b] = [...new Set(replay.symbol)];
    const at = (dateStartNs(DATE) + 15n * 3600n * 1_000_000_000n).toString();
    const trade = (sym: string, q: string, p: string) => ['k', 'trade', 's', sym, 'q', q, 'te', at, 'tr', at, 'p', p, 'z', '1', 'd', '1'];
    const hostile: [number, string[]][] = [
      [shardOf(a, 2), trade(a, '1000000000000000', '100')],
      [0, ['k', 'heartbeat', 's', '', 'q', '1', 'te', Y2100, 'tr', at]],
      [1, ['k', 'heartbeat', 's', '', 'q', '1', 'te', Y2100, 'tr', Y2100]],
      [shardOf(b, 2), trade(b, '999999', '1e308')],
    ];
    for (const [s, f] of hostile) await client.xadd(inputStream(keys, s), '*', ...f);
    await feed('15:00');

    const r = spawnSync(process.execPath, [join(ROOT, 'bin/lockstep.js'), 'live', '--redis', redis.url, '--ns', keys.ns, '--shards', '2', '--exit-when-idle', '500'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const reasons: string[] = [];
    for (let s = 0; s < 2; s++) for (const [, f] of (await client.xrange(deadLetterStream(keys, s), '-', '+')) as [string, string[]][]) reasons.push(f[3]);
    expect(r.stdout, reasons.join('\n')).toMatch(/, 4 dead letters, \d+ duplicates dropped$/m);
    expect(reasons.sort()).toEqual(
      [
        "seq=1000000000000000: jumps more than 1000000000 ahead of the source's last sequence number " + reasons.find((x) => x.startsWith('seq='))?.split(' ').pop(),
        `ts_event=${Y2100}: is more than 1 day after ts_recv ${at}`,
        expect.stringMatching(new RegExp(`^tr=${Y2100}: is more than 1 day ahead of the worker's clock \\(`)),
        'price=1e+308: must be a finite number of magnitude < 1000000000000000',
      ].sort((x, y) => String(x).localeCompare(String(y))),
    );

    // every valid event was applied: the output is the replay's, row for row and cell for cell
    const { rows } = await readOutputRows(client, keys);
    const key = (sym: string, src: string, seq: bigint) => `${sym}/${src}/${seq}`;
    const got = new Map(rows.map((x) => [key(x.symbol, x.source, x.seq), x.values]));
    expect(got.size).toBe(rows.length);
    expect(got.size).toBe(replay.seq.length);
    const cols = Object.keys(replay.values);
    let mismatched = 0;
    for (let i = 0; i < replay.seq.length; i++) {
      const g = got.get(key(replay.symbol[i], replay.source[i], replay.seq[i]));
      if (!g || cols.some((c, j) => !Object.is(g[j], replay.values[c][i]))) mismatched++;
    }
    expect(mismatched).toBe(0);
  });

  it('a repeated sequence number is dropped by the duplicate policy and counted in the summary, never silently', async () => {
    const keys: KeyLayout = { ns: 'dups', shards: 2 };
    await runFeed({ catalog: join(dir, 'cat'), date: DATE, redis: redis.url, ns: keys.ns, shards: keys.shards });
    // a producer's retry: an entry already in the stream, published again at its end
    const [[, fields]] = (await client.xrange(inputStream(keys, 0), '-', '+', 'COUNT', 50)).slice(-1) as [string, string[]][];
    await client.xadd(inputStream(keys, 0), '*', ...fields);
    await client.xadd(inputStream(keys, 0), '*', ...fields);
    const r = spawnSync(process.execPath, [join(ROOT, 'bin/lockstep.js'), 'live', '--redis', redis.url, '--ns', keys.ns, '--shards', '2', '--exit-when-idle', '500'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(replayDuplicates).toBeGreaterThan(0);
    expect(r.stdout).toMatch(new RegExp(`, 0 dead letters, ${replayDuplicates + 2} duplicates dropped$`, 'm'));
    const { rows } = await readOutputRows(client, keys);
    expect(rows.length).toBe(replay.seq.length);
  });
});
