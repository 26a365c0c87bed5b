import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeState, encodeState } from '../state-codec.ts';
import { initWelford, welfordAdd, welfordCount, welfordMean, welfordRemove, welfordVariance } from './welford.ts';

/** Two-pass mean and variance: the textbook reference. */
function twoPass(xs: number[], ddof = 1): { mean: number; variance: number | null } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const ss = xs.reduce((a, x) => a + (x - mean) * (x - mean), 0);
  return { mean, variance: xs.length > ddof ? ss / (xs.length - ddof) : null };
}

const close = (got: number, want: number, tol: number, scale: number) =>
  expect(Math.abs(got - want)).toBeLessThanOrEqual(tol * Math.max(Math.abs(want), scale));

describe('Welford online mean/variance (Welford 1962)', () => {
  it('warms up: null mean when empty, null sample variance below two values', () => {
    const s = initWelford();
    expect(welfordMean(s)).toBeNull();
    welfordAdd(s, 5);
    expect(welfordMean(s)).toBe(5);
    expect(welfordVariance(s)).toBeNull();
    expect(welfordVariance(s, 0)).toBe(0);
  });

  it('agrees with a two-pass computation when adding', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 200 }), fc.double({ min: -1e9, max: 1e9, noNaN: true }), (xs, offset) => {
        const ys = xs.map((x) => x + offset);
        const s = initWelford();
        ys.forEach((y) => welfordAdd(s, y));
        const ref = twoPass(ys);
        const scale = Math.max(...ys.map(Math.abs));
        expect(welfordCount(s)).toBe(ys.length);
        close(welfordMean(s)!, ref.mean, 1e-12, scale);
        if (ref.variance !== null) close(welfordVariance(s)!, ref.variance, 1e-9, 1e-6 * scale);
      }),
    );
  });

  it('agrees with a two-pass computation over a sliding window (add + remove)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 20 }), fc.array(fc.double({ min: 90, max: 110, noNaN: true }), { minLength: 2, maxLength: 300 }), (n, xs) => {
        const s = initWelford();
        xs.forEach((x, i) => {
          welfordAdd(s, x);
          if (i >= n) welfordRemove(s, xs[i - n]);
          const w = xs.slice(Math.max(0, i + 1 - n), i + 1);
          const ref = twoPass(w);
          close(welfordMean(s)!, ref.mean, 1e-12, 100);
          if (ref.variance !== null) expect(Math.abs(welfordVariance(s)! - ref.variance)).toBeLessThanOrEqual(1e-8);
        });
      }),
    );
  });

  it('removing the last value resets exactly', () => {
    const s = initWelford();
    welfordAdd(s, 0.1);
    welfordAdd(s, 0.7);
    welfordRemove(s, 0.1);
    welfordRemove(s, 0.7);
    expect(s).toEqual(initWelford());
  });

  it('snapshot/restore mid-stream continues exactly', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ noNaN: true, min: -1e9, max: 1e9 })), fc.nat(), (xs, cut) => {
        const k = cut % (xs.length + 1);
        const a = initWelford();
        xs.forEach((x) => welfordAdd(a, x));
        let b = initWelford();
        xs.slice(0, k).forEach((x) => welfordAdd(b, x));
        b = decodeState<typeof b>(encodeState(b));
        xs.slice(k).forEach((x) => welfordAdd(b, x));
        expect(encodeState(b)).toEqual(encodeState(a));
      }),
    );
  });
});
