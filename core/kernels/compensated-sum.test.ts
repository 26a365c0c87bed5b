import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeState, encodeState } from '../state-codec.ts';
import { compensatedAdd, compensatedClear, compensatedValue, initCompensatedSum } from './compensated-sum.ts';
import { exactSum } from '../../testing/exact-sum.ts';

describe('Neumaier-compensated sum (Neumaier 1974)', () => {
  it('keeps the small terms a plain sum drops', () => {
    const acc = initCompensatedSum();
    let plain = 0;
    for (const x of [1e16, 1, 1, 1, 1, -1e16]) {
      compensatedAdd(acc, x);
      plain += x;
    }
    expect(plain).toBe(0);
    expect(compensatedValue(acc)).toBe(4);
    compensatedClear(acc);
    expect(compensatedValue(acc)).toBe(0);
  });

  it('is within a few ulps of the exact sum (plus the O(n·eps²)·Σ|x| term)', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -1e15, max: 1e15, noNaN: true }), { maxLength: 300 }), (xs) => {
        const acc = initCompensatedSum();
        xs.forEach((x) => compensatedAdd(acc, x));
        const exact = exactSum(xs);
        const abs = xs.reduce((a, x) => a + Math.abs(x), 0);
        const eps = Number.EPSILON;
        expect(Math.abs(compensatedValue(acc) - exact)).toBeLessThanOrEqual(2 * eps * Math.abs(exact) + 4 * xs.length * eps * eps * abs + 1e-300);
      }),
    );
  });

  it('snapshot/restore mid-stream continues exactly', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ noNaN: true, min: -1e9, max: 1e9 })), fc.nat(), (xs, cut) => {
        const k = cut % (xs.length + 1);
        const a = initCompensatedSum();
        xs.forEach((x) => compensatedAdd(a, x));
        let b = initCompensatedSum();
        xs.slice(0, k).forEach((x) => compensatedAdd(b, x));
        b = decodeState<typeof b>(encodeState(b));
        xs.slice(k).forEach((x) => compensatedAdd(b, x));
        expect(encodeState(b)).toEqual(encodeState(a));
      }),
    );
  });
});
