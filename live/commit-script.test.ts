/**
 * The commit script against a real redis-server, several shards in one call: each shard's part is
 * fenced and chained on its own (a refused shard writes nothing, the others commit), a resent call
 * writes nothing twice, an older row never overwrites a newer latest value, and every read and
 * check comes before the first write.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMIT_BATCH_LUA, latestPairs, latestWrite, shardCommitArgs, type SentLatest } from './commit-script.ts';
import { checkpointKey, deadLetterStream, inputStream, latestKey, leaseKey, outputStream, type KeyLayout } from './keys.ts';
import { rowsOfEntry, type OutputRow } from './read-output.ts';
import { openRedis, type RedisClient } from './redis-connect.ts';
import { RedisHarness } from './redis-harness.ts';

const keys: KeyLayout = { ns: 'cs', shards: 3 };
const COLS = ['a', 'b'];
let redis: RedisHarness;
let r: RedisClient;
type Commit = (n: number, ...args: (string | Buffer)[]) => Promise<(number | string)[]>;
let commit: Commit;

beforeAll(async () => {
  redis = await RedisHarness.start();
  r = await openRedis(redis.url);
  r.defineCommand('commitBatch', { lua: COMMIT_BATCH_LUA });
  commit = (r as unknown as { commitBatch: Commit }).commitBatch.bind(r);
  for (let s = 0; s < keys.shards; s++) {
    await r.set(leaseKey(keys, s), 'tok');
    await r.xgroup('CREATE', inputStream(keys, s), 'g', '0', 'MKSTREAM');
  }
});

afterAll(async () => {
  r?.disconnect();
  await redis?.close();
});

/** A shard's part: one row per input ID, the symbol's latest row from the last input. */
function part(s: number, symbol: string, prev: string, inputs: string[], values: string, state = '', columns = COLS, sent?: SentLatest) {
  const ks = [leaseKey(keys, s), outputStream(keys, s), checkpointKey(keys, s), inputStream(keys, s), deadLetterStream(keys, s), latestKey(keys, symbol)];
  const last = inputs[inputs.length - 1];
  const rows = inputs.map((id, i) => `${symbol}|trade|${i + 1}|100|100|${id}|${values}`);
  const { write } = latestWrite(last, `100|100|${inputs.length}|trade|5|fsv|${values}`, columns, sent);
  const argv = shardCommitArgs({ lastId: last, expectedPrev: prev, stateId: state === '' ? '' : last, deadLetters: [['id', 'bad-1', 'reason', 'test']], rows, latest: [write], acks: inputs, state }) as string[];
  return { ks, argv };
}

async function call(parts: { ks: string[]; argv: string[] }[]) {
  const ks = parts.flatMap((p) => p.ks);
  return commit(ks.length, ...ks, 'tok', 'g', '0', 'fsv', COLS.join(','), String(parts.length), ...parts.flatMap((p) => p.argv));
}

async function rowsOf(s: number): Promise<OutputRow[]> {
  const out: OutputRow[] = [];
  for (const [, f] of (await r.xrange(outputStream(keys, s), '-', '+')) as [string, string[]][]) rowsOfEntry(f, out);
  return out;
}

describe('commit script, several shards per call', () => {
  it('commits each shard on its own terms, once', async () => {
    const ids = async (s: number, n: number) => {
      const out: string[] = [];
      for (let i = 0; i < n; i++) out.push((await r.xadd(inputStream(keys, s), '*', 'k', 'x')) as string);
      await r.xreadgroup('GROUP', 'g', 'c', 'STREAMS', inputStream(keys, s), '>');
      return out;
    };
    const in0 = await ids(0, 3);
    const in1 = await ids(1, 2);
    const in2 = await ids(2, 1);
    await r.set(leaseKey(keys, 2), 'someone-else');
    // shard 1 expects a previous commit that never happened: refused, like shard 2 (lease)
    const first = await call([part(0, 'AAA', '0-0', in0, '1.5,'), part(1, 'BBB', '9-9', in1, '2,3'), part(2, 'CCC', '0-0', in2, ',')]);
    expect(first[0]).toBe(1);
    expect(first[1]).toMatch(/^DIVERGED checkpoint outId is 0-0, this worker expected 9-9/);
    expect(first[2]).toMatch(/^LEASE shard is held by someone-else/);
    // shard 0: one entry with its three rows, acks, dead letter, latest value and checkpoint
    expect((await rowsOf(0)).map((x) => [x.symbol, x.seq, x.input, x.values])).toEqual(in0.map((id, i) => ['AAA', BigInt(i + 1), id, [1.5, null]]));
    expect(await r.xlen(outputStream(keys, 0))).toBe(1);
    expect(await r.xpending(inputStream(keys, 0), 'g')).toEqual([0, null, null, null]);
    expect(await r.xlen(deadLetterStream(keys, 0))).toBe(1);
    expect(await r.hgetall(latestKey(keys, 'AAA'))).toEqual({ _in: in0[2], _te: '100', _tr: '100', _seq: '3', _src: 'trade', _fsv: 'fsv', _at: '5', a: '1.5', b: '', _row: '100|100|3|trade|5|fsv|1.5,' });
    expect(await r.hget(checkpointKey(keys, 0), 'outId')).toBe(in0[2]);
    // refused shards: nothing at all
    for (const s of [1, 2]) {
      expect(await r.exists(outputStream(keys, s), deadLetterStream(keys, s), checkpointKey(keys, s))).toBe(0);
      expect((await r.xpending(inputStream(keys, s), 'g'))[0]).toBeGreaterThan(0);
    }
    expect(await r.exists(latestKey(keys, 'BBB'), latestKey(keys, 'CCC'))).toBe(0);
    // the same call again (a lost reply, resent): shard 0 writes nothing twice; a due state is saved
    await r.set(leaseKey(keys, 2), 'tok');
    const again = await call([part(0, 'AAA', '0-0', in0, '1.5,', 'STATE'), part(1, 'BBB', '0-0', in1, '2,3'), part(2, 'CCC', '0-0', in2, ',')]);
    expect(again).toEqual([1, 1, 1]);
    expect(await r.xlen(outputStream(keys, 0))).toBe(1);
    expect(await r.xlen(deadLetterStream(keys, 0))).toBe(1);
    expect(await r.hmget(checkpointKey(keys, 0), 'stateId', 'state')).toEqual([in0[2], 'STATE']);
    expect(await call([part(0, 'AAA', '0-0', in0, '1.5,')])).toEqual([0]);
    // an older batch (a silent re-application during recovery) is covered: nothing written
    expect(await call([part(0, 'AAA', '0-0', in0.slice(0, 1), '9,9')])).toEqual([0]);
    expect(await r.hget(latestKey(keys, 'AAA'), 'a')).toBe('1.5');
    expect((await rowsOf(1)).map((x) => x.values)).toEqual([[2, 3], [2, 3]]);
  });

  it('checks every shard before writing any: a bad part of one shard leaves all untouched', async () => {
    const s0 = (await r.xadd(inputStream(keys, 0), '*', 'k', 'x')) as string;
    const s1 = (await r.xadd(inputStream(keys, 1), '*', 'k', 'x')) as string;
    const prev0 = (await r.hget(checkpointKey(keys, 0), 'outId'))!;
    const prev1 = (await r.hget(checkpointKey(keys, 1), 'outId'))!;
    const before = [await r.xlen(outputStream(keys, 0)), await r.xlen(outputStream(keys, 1))];
    // shard 1's latest pairs are for three columns, the call's column list has two
    await expect(call([part(0, 'AAA', prev0, [s0], '7,8'), part(1, 'BBB', prev1, [s1], '1,2,3', '', ['a', 'b', 'c'])])).rejects.toThrow(/latest pairs for .*: 11 for 2 columns/);
    expect([await r.xlen(outputStream(keys, 0)), await r.xlen(outputStream(keys, 1))]).toEqual(before);
    expect(await r.hget(checkpointKey(keys, 0), 'outId')).toBe(prev0);
    expect(await r.hget(latestKey(keys, 'AAA'), 'a')).toBe('1.5');
  });

  it('latest values as a difference: applied only on the hash\'s base row, else every column is written from _row', async () => {
    const s = 2;
    const sym = 'DDD';
    const key = latestKey(keys, sym);
    const next = async (n: number) => {
      const out: string[] = [];
      for (let i = 0; i < n; i++) out.push((await r.xadd(inputStream(keys, s), '*', 'k', 'x')) as string);
      await r.xreadgroup('GROUP', 'g', 'c', 'STREAMS', inputStream(keys, s), '>');
      return out;
    };
    let prev = (await r.hget(checkpointKey(keys, s), 'outId')) ?? '0-0';
    const commitOne = async (values: string, sent?: SentLatest) => {
      const ids = await next(1);
      const p = part(s, sym, prev, ids, values, '', COLS, sent);
      expect(await call([p])).toEqual([1]);
      prev = ids[0];
      return { argv: p.argv, sent: latestWrite(ids[0], `100|100|1|trade|5|fsv|${values}`, COLS, sent).sent };
    };
    // first write: no base, every column
    const first = await commitOne('1,2');
    expect(await r.hmget(key, 'a', 'b', '_row')).toEqual(['1', '2', '100|100|1|trade|5|fsv|1,2']);
    // on its base: only the changed column is sent, and the hash is the new row
    const second = await commitOne('1,3', first.sent);
    expect(second.argv).toContain('b');
    expect(second.argv).not.toContain('a');
    expect(await r.hmget(key, 'a', 'b', '_in')).toEqual(['1', '3', second.sent.inId]);
    // the hash moved on without this worker knowing (another writer, a commit that never landed):
    // the difference against a stale base would leave 'a' wrong; the script writes every column
    await r.hset(key, 'a', '999', 'b', '999', '_in', '1-0');
    await commitOne('1,4', second.sent);
    expect(await r.hmget(key, 'a', 'b')).toEqual(['1', '4']);
    // an expired hash (TTL) is rebuilt whole the same way
    await r.del(key);
    const { sent } = await commitOne('5,4', first.sent);
    expect(await r.hgetall(key)).toEqual({ _in: sent.inId, _te: '100', _tr: '100', _seq: '1', _src: 'trade', _fsv: 'fsv', _at: '5', a: '5', b: '4', _row: '100|100|1|trade|5|fsv|5,4' });
  });

  it('latest pairs: one field per column from the packed row, empty for null; a short row is refused', () => {
    expect(latestPairs('5-0', '1|2|3|trade|9|fsv|1.5,', ['a', 'b'])).toEqual(['_in', '5-0', '_te', '1', '_tr', '2', '_seq', '3', '_src', 'trade', '_fsv', 'fsv', '_at', '9', 'a', '1.5', 'b', '', '_row', '1|2|3|trade|9|fsv|1.5,']);
    expect(() => latestPairs('5-0', '1|2|3|trade|9|fsv|1,2,3', ['a', 'b'])).toThrow(/3 values for 2 columns/);
    expect(() => latestPairs('5-0', '1|2|3', ['a'])).toThrow(/7 '\|'-separated parts/);
    // against the previous row's values: the meta fields, the changed columns and _row
    expect(latestPairs('6-0', '1|2|4|trade|9|fsv|1.5,7', ['a', 'b'], ['1.5', ''])).toEqual(['_in', '6-0', '_te', '1', '_tr', '2', '_seq', '4', '_src', 'trade', '_fsv', 'fsv', '_at', '9', 'b', '7', '_row', '1|2|4|trade|9|fsv|1.5,7']);
  });
});
