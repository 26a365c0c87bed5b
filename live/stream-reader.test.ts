/**
 * The worker's RESP reader against a real redis-server: its XREADGROUP answers equal ioredis's
 * (ASCII and UTF-8 values, long fields, several streams, pending re-reads of deleted entries),
 * replies split at any byte are reassembled, error replies keep the connection, and a frozen or
 * restarted server fails the command and the next one reconnects.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRedis, type RedisClient } from './redis-connect.ts';
import { RedisHarness } from './redis-harness.ts';
import { decodeXReadReply, RedisReplyError, ReplyScanner, ReplyShapeError, StreamReader, type Entry } from './stream-reader.ts';

let redis: RedisHarness;
let r: RedisClient;

beforeAll(async () => {
  redis = await RedisHarness.start({ persistence: true });
  r = await openRedis(redis.url);
});

afterAll(async () => {
  r?.disconnect();
  await redis?.close();
});

/** Fields of many lengths and bytes: UTF-8, RESP-looking text, separators, empty. */
function fieldsFor(i: number): string[] {
  const long = 'x'.repeat(i % 3 === 0 ? 70_000 : i % 3 === 1 ? 300 : 31);
  return ['k', 'trade', 's', i % 4 === 0 ? 'SYMÉ€😀' : `S${i}`, 'q', String(i), 'p', '101.25', 'e', '', 'long', long, 'resp', '*2\r\n$3\r\nabc\r\n-ERR\r\n', 'sep', '|,\n\u0000'];
}

/** Every way to cut `bytes` into two chunks, fed to a scanner: the reply ends at the same place. */
function scanInPieces(bytes: Buffer, cut: number): number {
  const sc = new ReplyScanner();
  const first = sc.scan(bytes, cut);
  if (first >= 0) return first;
  return sc.scan(bytes, bytes.length);
}

describe('StreamReader', () => {
  it('reads a stream without a group (XREAD) exactly as ioredis does, from any id, blocking or not', async () => {
    const streams = ['xr:a', 'xr:b'];
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) ids.push((await r.xadd(streams[i % 2], '*', ...fieldsFor(i)))!);
    const reader = new StreamReader(redis.url);
    try {
      expect(await reader.read(100, null, streams, ['0-0', '0-0'])).toEqual(await r.xread('COUNT', 100, 'STREAMS', ...streams, '0-0', '0-0'));
      // after the 4th entry of xr:a: the rest of it, all of xr:b; COUNT caps each stream
      const from = [ids[6], '0-0'];
      expect(await reader.read(3, null, streams, from)).toEqual(await r.xread('COUNT', 3, 'STREAMS', ...streams, ...from));
      const last = [ids[10], ids[11]];
      expect(await reader.read(100, null, streams, last)).toBeNull();
      const waiting = reader.read(100, 5000, streams, last);
      await new Promise((res) => setTimeout(res, 50));
      const id = await r.xadd('xr:b', '*', 'r', 'row');
      expect(await waiting).toEqual([['xr:b', [[id, ['r', 'row']]]]]);
    } finally {
      reader.close();
    }
  });

  it('reads exactly what ioredis reads, for several streams, and nothing twice', async () => {
    const streams = ['sr:a', 'sr:b', 'sr:c'];
    for (const s of streams) await r.xgroup('CREATE', s, 'g', '0', 'MKSTREAM');
    for (let i = 0; i < 40; i++) await r.xadd(streams[i % 2], '*', ...fieldsFor(i)); // sr:c stays empty
    for (const s of streams) await r.xgroup('CREATE', s, 'plain', '0');
    const plain = (await r.xreadgroup('GROUP', 'plain', 'c', 'COUNT', 100, 'STREAMS', ...streams, '>', '>', '>')) as [string, Entry[]][];
    const reader = new StreamReader(redis.url, { name: 'test-reader' });
    try {
      const got = await reader.readGroup('g', 'c', 100, null, streams, ['>', '>', '>']);
      expect(got).toEqual(plain);
      expect(got![0][1].length).toBe(20);
      expect(await reader.readGroup('g', 'c', 100, null, streams, ['>', '>', '>'])).toBeNull();
      // a blocking read comes back when an entry arrives
      const waiting = reader.readGroup('g', 'c', 100, 5000, streams, ['>', '>', '>']);
      await new Promise((res) => setTimeout(res, 50));
      const id = await r.xadd('sr:c', '*', 'k', 'news');
      expect(await waiting).toEqual([['sr:c', [[id, ['k', 'news']]]]]);
      expect(await r.call('CLIENT', 'LIST')).toMatch(/name=test-reader/);
    } finally {
      reader.close();
    }
  });

  it('honours COUNT and re-reads pending entries by ID, a deleted one as null fields', async () => {
    const s = 'sr:pending';
    await r.xgroup('CREATE', s, 'g', '0', 'MKSTREAM');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await r.xadd(s, '*', ...fieldsFor(i + 1))) as string);
    const reader = new StreamReader(redis.url);
    try {
      const first = (await reader.readGroup('g', 'c', 3, null, [s], ['>']))![0][1];
      expect(first.map(([id]) => id)).toEqual(ids.slice(0, 3));
      await r.xdel(s, ids[1]);
      const pending = (await reader.readGroup('g', 'c', 10, null, [s], ['0']))![0][1];
      expect(pending.map(([id]) => id)).toEqual(ids.slice(0, 3));
      expect(pending[1][1]).toBeNull();
      expect(pending[0][1]).toEqual(fieldsFor(1));
      // an error reply fails that command only
      await expect(reader.readGroup('nogroup', 'c', 10, null, [s], ['>'])).rejects.toThrow(RedisReplyError);
      expect((await reader.readGroup('g', 'c', 10, null, [s], [ids[0]]))![0][1].map(([id]) => id)).toEqual(ids.slice(1, 3));
    } finally {
      reader.close();
    }
  });

  it('reassembles a reply cut at any byte, and refuses what is not one', async () => {
    const s = 'sr:cut';
    await r.xgroup('CREATE', s, 'g', '0', 'MKSTREAM');
    for (let i = 1; i <= 4; i++) await r.xadd(s, '*', ...fieldsFor(3 * i + 1)); // short fields: every cut is tried
    const read = (await r.xreadgroup('GROUP', 'g', 'c', 'COUNT', 10, 'STREAMS', s, '>')) as [string, Entry[]][];
    // the reply as Redis sends it
    const enc = (v: unknown): string => (Array.isArray(v) ? `*${v.length}\r\n${v.map(enc).join('')}` : v === null ? '*-1\r\n' : `$${Buffer.byteLength(v as string)}\r\n${v}\r\n`);
    const bytes = Buffer.from(enc(read));
    for (let cut = 0; cut < bytes.length; cut++) expect(scanInPieces(bytes, cut)).toBe(bytes.length);
    expect(decodeXReadReply(bytes, bytes.length)).toEqual(read);
    expect(read[0][1]).toHaveLength(4);
    expect(new ReplyScanner().scan(Buffer.from('*-1\r\n'), 5)).toBe(5);
    expect(decodeXReadReply(Buffer.from('*-1\r\n'), 5)).toBeNull();
    expect(() => new ReplyScanner().scan(Buffer.from('?x\r\n'), 4)).toThrow(ReplyShapeError);
    expect(() => decodeXReadReply(Buffer.from('*1\r\n$1\r\nx\r\n'), 11)).toThrow(ReplyShapeError);
  });

  it('fails a command when the server is frozen or restarts, and reconnects for the next', async () => {
    const s = 'sr:faults';
    await r.xgroup('CREATE', s, 'g', '0', 'MKSTREAM');
    const reader = new StreamReader(redis.url, { commandTimeoutMs: 300 });
    try {
      expect(await reader.readGroup('g', 'c', 10, null, [s], ['>'])).toBeNull();
      redis.pause();
      try {
        await expect(reader.readGroup('g', 'c', 10, 100, [s], ['>'])).rejects.toThrow(/timed out/);
      } finally {
        redis.resume();
      }
      // the frozen server may still run the read it was sent (once resumed, with the connection
      // already closed by us): its entries are then pending for the consumer, as after any lost reply
      await r.xadd(s, '*', 'k', 'a');
      await new Promise((res) => setTimeout(res, 150));
      const fresh = (await reader.readGroup('g', 'c', 10, null, [s], ['>']))?.[0][1] ?? [];
      const pending = (await reader.readGroup('g', 'c', 10, null, [s], ['0']))![0][1];
      expect(pending.map(([, f]) => f)).toEqual([['k', 'a']]);
      expect(fresh.length).toBeLessThanOrEqual(1);
      await redis.restart();
      // a command on the dead connection fails; or the close was seen first and it reconnects
      await reader.readGroup('g', 'c', 10, null, [s], ['>']).catch((e: Error) => expect(e.message).toMatch(/closed|ECONNRESET|EPIPE/));
      const again = await openRedis(redis.url);
      await again.xadd(s, '*', 'k', 'b');
      again.disconnect();
      expect((await reader.readGroup('g', 'c', 10, null, [s], ['>']))![0][1][0][1]).toEqual(['k', 'b']);
    } finally {
      reader.close();
    }
  });
});
