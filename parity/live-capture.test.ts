/**
 * Streaming a live capture: output rows spread over K shard streams in a private redis-server are
 * paged with XRANGE and merged back into replay order, so a capture diffs against the replay's
 * Parquet head to head (nothing waits in the diff's windows).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MarketEvent } from '../core/events.ts';
import { metaKey, outputStream, type KeyLayout } from '../live/keys.ts';
import { compareRowKey } from '../core/row-key.ts';
import { readOutputRows, streamOutputRows } from '../live/read-output.ts';
import { openRedis, type RedisClient } from '../live/redis-connect.ts';
import { RedisHarness } from '../live/redis-harness.ts';
import { shardOf } from '../live/shard.ts';
import { encodeRow } from '../live/worker/index.ts';
import { encodeParquet } from '../replay/parquet-io.ts';
import { factorTableSpecs } from '../replay/factor-table-sink.ts';
import { captureUrl, openRowSource, splitCaptureUrl } from './row-source.ts';
import { diffSources } from './stream-diff.ts';

const ROWS = 20_000;
const COLS = ['last_price', 'ma_5m', 'rsi_14'];
const SYMBOLS = ['AAPL', 'MSFT', 'NVDA', 'AMZN', 'META', 'TSLA', 'GOOG'];
const KINDS = ['heartbeat', 'news', 'quote', 'trade'] as const;
const keys: KeyLayout = { ns: 'cap', shards: 4 };

let redis: RedisHarness;
let client: RedisClient;
let dir: string;
const rows: { symbol: string; source: string; seq: bigint; tsRecv: bigint; values: (number | null)[] }[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lockstep-capture-'));
  redis = await RedisHarness.start();
  client = await openRedis(redis.url);
  // rows in replay order: a heartbeat's fan-out rows share ts_recv, in symbol order
  let ts = 1_710_511_200_000_000_000n;
  const seqs = new Map<string, bigint>();
  let x = 1;
  const rand = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32);
  while (rows.length < ROWS) {
    ts += BigInt(1 + Math.floor(rand() * 1000));
    const source = KINDS[Math.floor(rand() * KINDS.length)];
    const fanout = source === 'heartbeat' ? [...SYMBOLS].sort() : [SYMBOLS[Math.floor(rand() * SYMBOLS.length)]];
    const seq = (seqs.get(source + fanout[0]) ?? 0n) + 1n;
    for (const symbol of fanout) {
      seqs.set(source + symbol, seq);
      rows.push({ symbol, source, seq, tsRecv: ts, values: COLS.map((_, c) => (rand() < 0.1 ? null : rand() * 10 ** c)) });
    }
  }
  // the replay side (A): Parquet, in replay order
  const n = rows.length;
  const col = (c: number) => rows.map((r) => r.values[c]);
  writeFileSync(
    join(dir, 'replay.parquet'),
    encodeParquet(factorTableSpecs(COLS), { symbol: rows.map((r) => r.symbol), source: rows.map((r) => r.source), seq: BigInt64Array.from(rows, (r) => r.seq), ts_event: BigInt64Array.from(rows, (r) => r.tsRecv), ts_recv: BigInt64Array.from(rows, (r) => r.tsRecv), ...Object.fromEntries(COLS.map((c, j) => [c, col(j)])) }, n, { rowGroupSize: 4096 }),
  );
  // the live side (B): each row in its symbol's shard stream, as the worker writes it; one cell differs
  await client.hset(metaKey(keys), 'shards', String(keys.shards), 'columns', COLS.join(','));
  const pipe = client.pipeline();
  rows.forEach((r, i) => {
    const ev = { kind: r.source, seq: r.seq, tsEvent: r.tsRecv, tsRecv: r.tsRecv } as unknown as MarketEvent;
    const values = i === 12_345 ? [r.values[0] === null ? 1 : r.values[0] + 1, r.values[1], r.values[2]] : r.values;
    pipe.xadd(outputStream(keys, shardOf(r.symbol, keys.shards)), '*', 'r', encodeRow(r.symbol, ev, `${i}-0`, values));
  });
  await pipe.exec();
});

afterAll(async () => {
  client?.disconnect();
  await redis?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('live capture, streamed', () => {
  it('pages each shard and merges the shards back into replay order', async () => {
    const merged = [];
    for await (const r of streamOutputRows(client, keys, { pageSize: 7 })) merged.push(r);
    expect(merged.length).toBe(rows.length);
    expect(merged.map((r) => `${r.symbol}/${r.source}/${r.seq}`)).toEqual(rows.map((r) => `${r.symbol}/${r.source}/${r.seq}`));
    for (let i = 1; i < merged.length; i++) expect(compareRowKey(merged[i - 1], merged[i])).toBeLessThan(0);
    // the same rows as the whole-capture reader, which reads shard after shard
    const all = await readOutputRows(client, keys);
    expect(all.rows.length).toBe(merged.length);
  });

  it('diffs against the replay head to head and finds the one changed cell', async () => {
    const A = await openRowSource(join(dir, 'replay.parquet'));
    const B = await openRowSource(`${redis.url}/?ns=${keys.ns}&shards=${keys.shards}`);
    try {
      const { report, stats } = await diffSources(A, B);
      expect([report.verdict, report.matchedRows, report.mismatchedCells, report.onlyInA, report.onlyInB]).toEqual(['skew', rows.length, 1, 0, 0]);
      expect(report.factors.find((f) => f.factor === 'last_price')!.mismatched).toBe(1);
      expect(report.firstDivergencePerSymbol).toHaveLength(1);
      expect(report.firstDivergencePerSymbol[0]).toMatchObject({ symbol: rows[12_345].symbol, seq: String(rows[12_345].seq), factor: 'last_price' });
      expect(stats).toMatchObject({ passes: 1, windowHighWater: 0, headMatches: rows.length });
    } finally {
      await A.close();
      await B.close();
    }
  });

  it('diffs by keys of the user\'s choice: the capture\'s ts_event and symbol columns', async () => {
    const keyed = ['symbol', 'source', 'ts_event', 'seq'];
    const A = await openRowSource(join(dir, 'replay.parquet'), { keys: keyed });
    const B = await openRowSource(`${redis.url}/?ns=${keys.ns}&shards=${keys.shards}`, { keys: keyed });
    try {
      // both in replay order, not this key order: rows still match, through the windows where needed
      const { report } = await diffSources(A, B, { keys: keyed });
      expect([report.verdict, report.matchedRows, report.mismatchedCells, report.onlyInA, report.onlyInB]).toEqual(['skew', rows.length, 1, 0, 0]);
      const r = rows[12_345];
      expect(report.firstDivergencePerSymbol[0].key).toEqual({ symbol: r.symbol, source: r.source, ts_event: String(r.tsRecv), seq: String(r.seq) }); // this capture's ts_event is its ts_recv
    } finally {
      await A.close();
      await B.close();
    }
    await expect(openRowSource(`${redis.url}/?ns=${keys.ns}&shards=${keys.shards}`, { keys: ['bar'] })).rejects.toThrow(/--keys bar: a live capture's rows are keyed by symbol, source, seq, ts_event, ts_recv/);
  });

    it('a capture without ?shards= is a usage error', async () => {
    await expect(openRowSource(`${redis.url}/?ns=cap`)).rejects.toThrow(/add \?shards=N/);
  });
});

describe('live capture URLs', () => {
  it('ns and shards are split off; the Redis URL keeps its own parameters (TLS, Sentinel, Cluster), whatever its hosts', () => {
    expect(splitCaptureUrl('redis://h:6379/?ns=ls&shards=4')).toEqual({ connectUrl: 'redis://h:6379/', ns: 'ls', shards: 4 });
    expect(splitCaptureUrl('redis+sentinel://s1:26379,s2:26379/mymaster/?sentinel_password=p&ns=x&shards=2')).toEqual({ connectUrl: 'redis+sentinel://s1:26379,s2:26379/mymaster/?sentinel_password=p', ns: 'x', shards: 2 });
    expect(splitCaptureUrl('redis://h1:1,h2:2/?shards=3').connectUrl).toBe('redis://h1:1,h2:2/');
    expect(splitCaptureUrl('rediss://h:6380/?tls_ca=%2Fetc%2Fca.pem&ns=a&shards=1').connectUrl).toBe('rediss://h:6380/?tls_ca=%2Fetc%2Fca.pem');
    expect(captureUrl('redis+sentinel://s1:26379/m', 'parity-x', 4)).toBe('redis+sentinel://s1:26379/m/?ns=parity-x&shards=4');
    expect(captureUrl('rediss://h:6380/?tls_ca=/ca.pem', 'n', 2)).toBe('rediss://h:6380/?tls_ca=/ca.pem&ns=n&shards=2');
    expect(splitCaptureUrl(captureUrl('redis://h1:1,h2:2', 'n', 2))).toEqual({ connectUrl: 'redis://h1:1,h2:2/', ns: 'n', shards: 2 });
  });
});
