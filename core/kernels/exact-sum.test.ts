import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { exactMean, exactSum, exactVariance } from '../../testing/exact-sum.ts';

describe('exact reference arithmetic', () => {
  it('sums exactly where float addition loses everything', () => {
    expect(exactSum([1e16, 1, -1e16])).toBe(1);
    expect(exactSum([0.1, 0.2, -0.3])).toBe(2.7755575615628914e-17); // the exact residue of the three doubles
    expect(exactSum([])).toBe(0);
    expect(exactSum([5e-324, 5e-324])).toBe(1e-323);
    expect(exactSum([1.7976931348623157e308, -1.7976931348623157e308, 3])).toBe(3);
  });

  it('agrees with plain arithmetic on small integers', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -1e6, max: 1e6 }), { minLength: 2, maxLength: 50 }), (xs) => {
        const n = xs.length;
        const s = xs.reduce((a, b) => a + b, 0);
        const ss = xs.reduce((a, b) => a + b * b, 0);
        expect(exactSum(xs)).toBe(s);
        expect(exactMean(xs)).toBe(s / n);
        expect(exactVariance(xs, 1)).toBeCloseTo((n * ss - s * s) / (n * (n - 1)), 6);
        expect(exactVariance(xs, 0)).toBeCloseTo((n * ss - s * s) / (n * n), 6);
      }),
    );
  });

  it('keeps the variance of 1e9 + small noise', () => {
    const xs = [1e9 + 0.25, 1e9 + 0.5, 1e9 + 0.75];
    expect(exactVariance(xs, 1)).toBe(0.0625);
    expect(exactVariance([1], 1)).toBeNull();
    expect(exactMean([])).toBeNull();
  });
});
