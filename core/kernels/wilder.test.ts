import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeState, encodeState } from '../state-codec.ts';
import { initWilder, wilderPush, wilderValue } from './wilder.ts';

describe('Wilder smoothing', () => {
  it('seeds with the simple average of n inputs, then (prev·(n-1) + x)/n', () => {
    const s = initWilder(4);
    [1, 2, 3].forEach((x) => wilderPush(s, x));
    expect(wilderValue(s)).toBeNull();
    wilderPush(s, 6);
    expect(wilderValue(s)).toBe(3);
    wilderPush(s, 7); // (3·3 + 7)/4
    expect(wilderValue(s)).toBe(4);
  });

  it('equals the closed recurrence on arbitrary inputs, bit for bit', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.array(fc.double({ min: 0, max: 1e4, noNaN: true }), { maxLength: 80 }), (n, xs) => {
        const s = initWilder(n);
        let sum = 0;
        let avg = NaN;
        xs.forEach((x, i) => {
          wilderPush(s, x);
          if (i < n) {
            sum += x;
            if (i === n - 1) avg = sum / n;
          } else {
            avg = (avg * (n - 1) + x) / n;
          }
          expect(wilderValue(s)).toBe(i < n - 1 ? null : avg);
        });
      }),
    );
  });

  it('snapshot/restore mid-stream continues exactly', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.array(fc.double({ noNaN: true })), fc.nat(), (n, xs, cut) => {
        const k = cut % (xs.length + 1);
        const a = initWilder(n);
        xs.forEach((x) => wilderPush(a, x));
        let b = initWilder(n);
        xs.slice(0, k).forEach((x) => wilderPush(b, x));
        b = decodeState<typeof b>(encodeState(b));
        xs.slice(k).forEach((x) => wilderPush(b, x));
        expect(encodeState(b)).toEqual(encodeState(a));
      }),
    );
  });
});
