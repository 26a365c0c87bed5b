import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MAX_EXACT_OFFSET, nsHigh, nsLow, nsOffset } from './ns-offset.ts';

const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });

describe('ns offsets', () => {
  it('splits an int64 into halves that rebuild it', () => {
    fc.assert(
      fc.property(int64, (t) => {
        expect(BigInt(nsHigh(t)) * 2n ** 32n + BigInt(nsLow(t))).toBe(t);
      }),
    );
  });

  it('t - origin is exact for any pair less than 2^53 apart, across 32-bit carries and signs', () => {
    fc.assert(
      fc.property(int64, fc.bigInt({ min: -(2n ** 53n) + 1n, max: 2n ** 53n - 1n }), (origin, d) => {
        const t = origin + d;
        fc.pre(t >= -(2n ** 63n) && t < 2n ** 63n);
        expect(nsOffset(t, nsHigh(origin), nsLow(origin))).toBe(Number(d));
      }),
    );
    const origin = 1_723_161_600_000_000_000n;
    const at = (d: bigint) => nsOffset(origin + d, nsHigh(origin), nsLow(origin));
    expect(at(0n)).toBe(0);
    expect(at(1n)).toBe(1);
    expect(at(-1n)).toBe(-1);
    expect(at(BigInt(MAX_EXACT_OFFSET) + 1n)).toBe(MAX_EXACT_OFFSET + 1);
    expect(at(2n ** 53n - 1n)).toBe(2 ** 53 - 1);
  });
});
