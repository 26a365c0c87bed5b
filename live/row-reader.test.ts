/**
 * The read client's lean connection against a real redis-server: its answers equal ioredis's
 * (missing keys and fields, UTF-8, long and empty values), pipelined requests on one connection
 * each get their own replies, an error reply fails only its request, and a frozen or restarted
 * server fails the request in flight while the next one reconnects.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRedis, RedisConnectError, type RedisClient } from './redis-connect.ts';
import { RedisHarness } from './redis-harness.ts';
import { RedisReplyError } from './resp-connection.ts';
import { openFeatureSource, RowReader } from './row-reader.ts';

let redis: RedisHarness;
let r: RedisClient;
const keys = Array.from({ length: 60 }, (_, i) => `rr:{${i % 3}}:K${i}`);
const value = (i: number) => (i % 10 === 0 ? '' : i % 10 === 1 ? 'SYMÉ€😀|1,2' : i % 10 === 2 ? 'x'.repeat(70_000) : `1|2|3|trade|${i}|fsv|${i / 7},,NaN`);

beforeAll(async () => {
  redis = await RedisHarness.start();
  r = await openRedis(redis.url);
  // every third key has no _row field, every seventh does not exist at all
  for (let i = 0; i < keys.length; i++) {
    if (i % 7 === 0) continue;
    await r.hset(keys[i], i % 3 === 0 ? 'other' : '_row', value(i), 'f2', `v${i}`);
  }
  await r.set('rr:string', 'not a hash');
});

afterAll(async () => {
  r?.disconnect();
  await redis?.close();
});

describe('RowReader', () => {
  it('reads exactly what ioredis reads', async () => {
    const reader = new RowReader(redis.url);
    try {
      const expected = await Promise.all(keys.map((k) => r.hget(k, '_row')));
      expect(await reader.hgetEach(keys, '_row')).toEqual(expected);
      expect(expected.filter((x) => x === null).length).toBeGreaterThan(20);
      expect(await reader.hgetEach([], '_row')).toEqual([]);
      expect(await reader.hmget(keys[1], '_row', 'f2', 'nope')).toEqual(await r.hmget(keys[1], '_row', 'f2', 'nope'));
      expect(await reader.hmget('rr:none', 'a', 'b')).toEqual([null, null]);
      expect(await reader.ping()).toBe('+PONG');
    } finally {
      reader.disconnect();
    }
  });

  it('answers many concurrent requests on one connection, each with its own replies', async () => {
    const reader = new RowReader(redis.url);
    try {
      const asks = Array.from({ length: 200 }, (_, j) => keys.filter((_, i) => (i + j) % 5 === 0).reverse());
      const got = await Promise.all(asks.map((ks) => reader.hgetEach(ks, 'f2')));
      for (let j = 0; j < asks.length; j++) expect(got[j]).toEqual(asks[j].map((k) => (keys.indexOf(k) % 7 === 0 ? null : `v${keys.indexOf(k)}`)));
    } finally {
      reader.disconnect();
    }
  });

  it('an error reply fails its request only; the connection stays up', async () => {
    const reader = new RowReader(redis.url);
    try {
      const bad = reader.hgetEach([keys[1], 'rr:string', keys[2]], '_row');
      const good = reader.hgetEach([keys[2]], '_row');
      await expect(bad).rejects.toThrow(RedisReplyError);
      await expect(bad).rejects.toThrow(/WRONGTYPE/);
      expect(await good).toEqual([value(2)]);
      expect(await reader.hgetEach([keys[1]], '_row')).toEqual([value(1)]);
    } finally {
      reader.disconnect();
    }
  });

  it('fails the requests in flight when the server is frozen or restarts, and reconnects for the next', async () => {
    const reader = new RowReader(redis.url, { commandTimeoutMs: 300 });
    try {
      expect(await reader.ping()).toBe('+PONG');
      redis.pause();
      try {
        const a = reader.hgetEach(keys.slice(0, 5), '_row');
        const b = reader.ping();
        await expect(a).rejects.toThrow(/timed out/);
        await expect(b).rejects.toThrow(/timed out|closed/);
      } finally {
        redis.resume();
      }
      expect(await reader.hgetEach([keys[1]], '_row')).toEqual([value(1)]);
      await redis.restart();
      await reader.ping().catch((e: Error) => expect(e.message).toMatch(/closed|ECONNRESET|EPIPE/));
      expect(await reader.ping()).toBe('+PONG');
    } finally {
      reader.disconnect();
    }
  });

  it('openFeatureSource: a lean reader on a single node; a wrong password is a RedisConnectError with the password masked', async () => {
    const ok = await openFeatureSource(redis.url);
    expect(ok).toBeInstanceOf(RowReader);
    ok.disconnect();
    const url = redis.url.replace('redis://', 'redis://nobody:secretpw@');
    const err = await openFeatureSource(url).catch((e: Error) => e);
    expect(err).toBeInstanceOf(RedisConnectError);
    expect((err as Error).message).toMatch(/nobody:\*\*\*@/);
    expect((err as Error).message).not.toMatch(/secretpw/);
  });
});
