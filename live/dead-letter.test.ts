/**
 * Dead letters against a real redis-server and the real `lockstep live`: a huge bad value is not
 * stored twice (the reason quotes its head and size), and the dead-letter stream is capped.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEAD_LETTER_MAXLEN, fieldReason, quoteValue } from './dead-letter.ts';
import { deadLetterStream, inputStream, type KeyLayout } from './keys.ts';
import { openRedis, type RedisClient } from './redis-connect.ts';
import { RedisHarness } from './redis-harness.ts';

const ROOT = new URL('..', import.meta.url).pathname;
let redis: RedisHarness;
let client: RedisClient;

beforeAll(async () => {
  redis = await RedisHarness.start();
  client = await openRedis(redis.url);
});
afterAll(async () => {
  client?.disconnect();
  await redis?.close();
});

const live = (ns: string) =>
  spawnSync(process.execPath, [join(ROOT, 'bin/lockstep.js'), 'live', '--redis', redis.url, '--ns', ns, '--shards', '1', '--exit-when-idle', '500'], { encoding: 'utf8' });

describe('dead letters', () => {
  it('quote values up to 200 characters, then the head and the size in bytes', () => {
    expect(quoteValue('abc')).toBe('abc');
    expect(quoteValue('é'.repeat(300))).toBe(`${'é'.repeat(200)}… (600 bytes)`);
    expect(fieldReason('p', undefined, 'missing field')).toBe('p=(missing): missing field');
  });

  it('a 1 MB bad value is kept once, in the entry; the reason quotes 200 characters of it', async () => {
    const k: KeyLayout = { ns: 'big', shards: 1 };
    const huge = 'x'.repeat(1_000_000);
    await client.xadd(inputStream(k, 0), '*', 'k', 'trade', 's', 'AAA', 'q', '1', 'te', '1', 'tr', '1', 'p', huge, 'z', '1', 'd', '1');
    const r = live(k.ns);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/, 1 dead letters, \d+ duplicates dropped$/m);
    const [[, f]] = (await client.xrange(deadLetterStream(k, 0), '-', '+')) as [string, string[]][];
    expect(f[3]).toBe(`p=${'x'.repeat(200)}… (1000000 bytes): not a number`);
    expect(f[f.indexOf('p', 4) + 1]).toBe(huge);
  });

  it(`the dead-letter stream is capped at about ${DEAD_LETTER_MAXLEN} entries, oldest first out`, async () => {
    const k: KeyLayout = { ns: 'many', shards: 1 };
    const n = DEAD_LETTER_MAXLEN + 2_000;
    for (let i = 0; i < n; i += 5_000) {
      const p = client.pipeline();
      for (let j = i; j < Math.min(n, i + 5_000); j++) p.xadd(inputStream(k, 0), '*', 'k', 'alien', 'n', String(j));
      await p.exec();
    }
    const r = live(k.ns);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`, ${n} dead letters, \\d+ duplicates dropped$`, 'm'));
    const len = await client.xlen(deadLetterStream(k, 0));
    expect(len).toBeGreaterThanOrEqual(DEAD_LETTER_MAXLEN);
    expect(len).toBeLessThan(n);
    const [[, last]] = (await client.xrevrange(deadLetterStream(k, 0), '+', '-', 'COUNT', 1)) as [string, string[]][];
    expect(last.slice(-2)).toEqual(['n', String(n - 1)]);
  }, 120_000);
});
