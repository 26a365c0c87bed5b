/**
 * Reading output streams whose entries hold a commit's rows (field `rows`, one per line) or one
 * row (field `r`, the older format): every row comes back exactly once, values exact, and the
 * paged merge gives the replay order whatever the page size and rows per entry.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MarketEvent } from '../core/events.ts';
import { metaKey, outputStream, type KeyLayout } from './keys.ts';
import { compareRowKey } from '../core/row-key.ts';
import { readOutputRows, streamOutputRows, type OutputRow } from './read-output.ts';
import { openRedis, type RedisClient } from './redis-connect.ts';
import { RedisHarness } from './redis-harness.ts';
import { encodeRow } from './worker/index.ts';

const keys: KeyLayout = { ns: 'ro', shards: 3 };
let redis: RedisHarness;
let r: RedisClient;
const want: OutputRow[] = [];

beforeAll(async () => {
  redis = await RedisHarness.start();
  r = await openRedis(redis.url);
  await r.hset(metaKey(keys), 'columns', 'x,y', 'shards', '3');
  // per shard, rows in replay order, written in entries of 1 to 40 rows
  let x = 7;
  const rand = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32);
  for (let s = 0; s < keys.shards; s++) {
    const rows: string[] = [];
    for (let i = 0; i < 500; i++) {
      const tsRecv = BigInt(1_000 + 3 * i + s);
      const values = [rand() < 0.2 ? null : rand() * 1e3, i % 7 === 0 ? NaN : -rand()];
      const ev = { kind: 'trade', seq: BigInt(i + 1), tsEvent: tsRecv - 1n, tsRecv } as unknown as MarketEvent;
      const row = encodeRow(`S${s}`, ev, `${i + 1}-0`, values);
      rows.push(row);
      want.push({ symbol: `S${s}`, source: 'trade', seq: BigInt(i + 1), tsEvent: tsRecv - 1n, tsRecv, input: `${i + 1}-0`, values });
    }
    for (let i = 0; i < rows.length; ) {
      const n = i < 3 ? 1 : 1 + Math.floor(rand() * 40);
      const chunk = rows.slice(i, i + n);
      if (n === 1) await r.xadd(outputStream(keys, s), '*', 'r', chunk[0]);
      else await r.xadd(outputStream(keys, s), '*', 'rows', chunk.join('\n'));
      i += n;
    }
  }
  want.sort(compareRowKey);
});

afterAll(async () => {
  r?.disconnect();
  await redis?.close();
});

describe('output rows in multi-row entries', () => {
  it('reads every row once, exactly', async () => {
    const { columns, rows } = await readOutputRows(r, keys);
    expect(columns).toEqual(['x', 'y']);
    expect([...rows].sort(compareRowKey)).toEqual(want);
  });

  it('pages and merges them into replay order at any page size', async () => {
    for (const pageSize of [1, 7, 64, 5000]) {
      const got: OutputRow[] = [];
      for await (const row of streamOutputRows(r, keys, { pageSize })) got.push(row);
      expect(got, `page size ${pageSize}`).toEqual(want);
    }
  });
});
