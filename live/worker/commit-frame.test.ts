/**
 * The lean connection's commit call, encoded straight into bytes (commit-frame.ts), against the
 * same call encoded the way it was before (shardArgv's ioredis arguments through
 * encodeCommandMixed): byte for byte, whatever the shards, rows, latest values and state hold.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeCommandMixed } from '../resp-connection.ts';
import { CommitFrameEncoder, shardArgv, type LatestPart, type ShardPart } from './commit-frame.ts';

const COLUMNS = ['mid', 'spread_bps', 'ema_ratio', 'x'];
const common = { token: 'tok-1', group: 'lockstep', ttlSeconds: 3600 };
const FSV = 'fsv-abc';

const id = fc.tuple(fc.nat(), fc.nat(9)).map(([a, b]) => `${a}-${b}`);
const texts = fc.array(fc.oneof(fc.constant(''), fc.double().map(String), fc.integer().map(String)), { minLength: COLUMNS.length, maxLength: COLUMNS.length });
const latest: fc.Arbitrary<LatestPart> = fc
  .record({ key: fc.string({ minLength: 1, maxLength: 30 }), inId: id, kind: fc.constantFrom('trade', 'quote', 'book'), seq: fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }), tsEvent: fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }), tsRecv: fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }), text: texts, prev: fc.option(texts, { nil: undefined }), base: id })
  .map((l) => ({ ...l, base: l.prev === undefined ? '' : l.base, prev: l.prev?.map((t, i) => (i % 2 === 0 ? l.text[i] : t)) }));
const part: fc.Arbitrary<ShardPart> = fc.record({
  keys: fc.array(fc.string({ minLength: 1, maxLength: 20 }), { minLength: 5, maxLength: 5 }),
  lastId: id,
  expectedPrev: id,
  stateId: fc.oneof(fc.constant(''), id),
  deadLetters: fc.array(fc.array(fc.string({ unit: 'grapheme', maxLength: 80 }), { maxLength: 6 }), { maxLength: 3 }),
  rowCount: fc.nat(1000),
  rows: fc.string({ unit: 'grapheme', maxLength: 400 }).map((s) => new Uint8Array(Buffer.from(s))),
  latest: fc.array(latest, { maxLength: 4 }),
  acks: fc.array(id, { maxLength: 10 }),
  state: fc.oneof(fc.constant(''), fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b))),
  at: fc.nat().map(String),
});

describe('commit frame', () => {
  it('equals the ioredis arguments encoded as one RESP command', () => {
    const enc = new CommitFrameEncoder(COLUMNS, FSV, common);
    fc.assert(
      fc.property(fc.array(part, { minLength: 1, maxLength: 3 }), (parts) => {
        const keys: string[] = [];
        const argv: (string | Buffer)[] = [common.token, common.group, String(common.ttlSeconds), FSV, COLUMNS.join(','), String(parts.length)];
        for (const p of parts) {
          const a = shardArgv(p, COLUMNS, FSV);
          keys.push(...a.keys);
          argv.push(...a.argv);
        }
        const expected = encodeCommandMixed(['EVALSHA', 'sha', String(keys.length), ...keys, ...argv]);
        const frame = enc.encode(parts);
        const got = Buffer.concat([Buffer.from(`*${2 + frame.args}\r\n$7\r\nEVALSHA\r\n$3\r\nsha\r\n`), frame.body]);
        expect(Buffer.compare(got, Buffer.from(expected))).toBe(0);
      }),
      { numRuns: 1500 },
    );
  });

  it('refuses a latest row without one value per column (a worker bug), as latestWrite does', () => {
    const enc = new CommitFrameEncoder(COLUMNS, FSV, common);
    const l: LatestPart = { key: 'k', inId: '1-0', kind: 'trade', seq: 1n, tsEvent: 1n, tsRecv: 1n, text: ['1'], prev: undefined, base: '' };
    const p: ShardPart = { keys: ['a', 'b', 'c', 'd', 'e'], lastId: '1-0', expectedPrev: '0-0', stateId: '', deadLetters: [], rowCount: 0, rows: new Uint8Array(), latest: [l], acks: [], state: '', at: '1' };
    expect(() => enc.encode([p])).toThrow(/1 values for 4 columns/);
  });
});
