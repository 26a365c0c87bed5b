/** Stream IDs: compareIds agrees with comparing both parts as exact integers; idMs / idMsPart read the time part. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareIds, idMs, idMsPart } from './stream-id.ts';

/** A part of an ID: small numbers often (equal ms, equal lengths), any safe integer too. */
const part = fc.oneof(fc.bigInt({ min: 0n, max: 20n }), fc.bigInt({ min: 0n, max: BigInt(Number.MAX_SAFE_INTEGER) }));
const id = fc.tuple(part, part);
const text = ([ms, seq]: [bigint, bigint]) => `${ms}-${seq}`;
const bigCompare = ([am, as]: [bigint, bigint], [bm, bs]: [bigint, bigint]) => (am !== bm ? (am < bm ? -1 : 1) : as === bs ? 0 : as < bs ? -1 : 1);

describe('compareIds', () => {
  it('agrees with the BigInt comparison of (ms, seq)', () => {
    fc.assert(
      fc.property(id, id, (a, b) => {
        expect(Math.sign(compareIds(text(a), text(b)))).toBe(bigCompare(a, b));
      }),
      { numRuns: 2000 },
    );
  });

  it('orders across lengths and at the safe-integer edge', () => {
    expect(compareIds('9-0', '10-0')).toBe(-1);
    expect(compareIds('10-0', '9-99')).toBe(1);
    expect(compareIds('5-10', '5-9')).toBe(1);
    expect(compareIds('1700000000000-0', '1700000000000-0')).toBe(0);
    expect(compareIds('0-0', '1-0')).toBe(-1);
    expect(compareIds('9007199254740991-0', '9007199254740990-5')).toBe(1);
  });
});

describe('idMs / idMsPart', () => {
  it('the time part; null for none and for 0-0', () => {
    expect(idMsPart('1700000000123-7')).toBe(1700000000123);
    expect(idMsPart('42')).toBe(42);
    expect(idMs('1700000000123-7')).toBe(1700000000123);
    expect(idMs('0-0')).toBeNull();
    expect(idMs(undefined)).toBeNull();
    expect(idMs(null)).toBeNull();
    expect(idMs('x-1')).toBeNull();
  });
});
