import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { advanceIfSuccessor, MAX_EXACT_OFFSET, nsHigh, nsLow, nsOffset, setHalves, type Int64Halves } from './ns-offset.ts';

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

  // advanceIfSuccessor on halves holding a: true (and now holding b) exactly when b === a + 1n
  const isSuccessor = (a: bigint, b: bigint): boolean => {
    const h: Int64Halves = { hi: 0, lo: 0 };
    setHalves(h, a);
    const ok = advanceIfSuccessor(h, b);
    const held = BigInt(h.hi) * 2n ** 32n + BigInt(h.lo);
    expect(held).toBe(ok ? b : a);
    return ok;
  };

  it('advanceIfSuccessor(halves of a, b) is b === a + 1n over the whole int64 range, across carries', () => {
    fc.assert(
      fc.property(int64, fc.oneof(int64, fc.bigInt({ min: -3n, max: 3n }), fc.constantFrom(2n ** 32n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 64n + 1n)), (a, d) => {
        // d: either an arbitrary int64 or a small / 2^k step from a, kept inside int64
        const b = d >= -3n && d <= 3n ? a + d : d > 2n ** 63n - 1n ? a + (d - 2n ** 64n) : d;
        fc.pre(b >= -(2n ** 63n) && b < 2n ** 63n);
        expect(isSuccessor(a, b)).toBe(b === a + 1n);
      }),
      { numRuns: 2000 },
    );
    for (const a of [-1n, 0n, 2n ** 32n - 1n, 2n ** 53n - 1n, 2n ** 62n, 2n ** 63n - 2n]) expect(isSuccessor(a, a + 1n)).toBe(true);
    expect(isSuccessor(2n ** 63n - 1n, -(2n ** 63n))).toBe(false); // wrap-around is not a successor
    expect(isSuccessor(5n, 5n + 2n ** 53n + 1n)).toBe(false);
  });

  it('halves that are not numbers (state saved before they existed) never match', () => {
    const h = {} as Int64Halves;
    expect(advanceIfSuccessor(h, 0n)).toBe(false);
    expect(h).toEqual({});
  });
});
