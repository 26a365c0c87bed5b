import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeState, encodeState } from '../state-codec.ts';
import {
  initRing,
  ringCapacity,
  ringClear,
  ringFull,
  ringGet,
  ringNewest,
  ringOldest,
  ringPush,
  ringSize,
  type RingBuffer,
} from './ring-buffer.ts';

const roundTrip = <T>(s: T): T => decodeState<T>(encodeState(s));

function contents(r: RingBuffer): number[] {
  return Array.from({ length: ringSize(r) }, (_, i) => ringGet(r, i));
}

describe('ring buffer', () => {
  it('matches an array model: last `capacity` values, oldest first, evictions returned', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.array(fc.double({ noNaN: true }), { maxLength: 60 }), (cap, xs) => {
        const r = initRing(cap);
        const model: number[] = [];
        for (const x of xs) {
          const evicted = ringPush(r, x);
          model.push(x);
          if (model.length > cap) expect(Object.is(evicted, model.shift())).toBe(true);
          else expect(evicted).toBeNaN();
          expect(contents(r)).toEqual(model);
          expect(ringSize(r)).toBe(model.length);
          expect(ringFull(r)).toBe(model.length === cap);
          expect(ringOldest(r)).toBe(model[0]);
          expect(ringNewest(r)).toBe(model[model.length - 1]);
        }
        expect(ringCapacity(r)).toBe(cap);
        expect(ringGet(r, -1)).toBeNaN();
        expect(ringGet(r, model.length)).toBeNaN();
      }),
    );
  });

  it('reads NaN from an empty ring and clears in place', () => {
    const r = initRing(3);
    expect(ringOldest(r)).toBeNaN();
    expect(ringNewest(r)).toBeNaN();
    ringPush(r, 1);
    ringPush(r, 2);
    const buf = r.buf;
    ringClear(r);
    expect(ringSize(r)).toBe(0);
    expect(r.buf).toBe(buf);
  });

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => initRing(0)).toThrow(RangeError);
    expect(() => initRing(2.5)).toThrow(RangeError);
  });

  it('snapshot/restore mid-stream continues exactly like an uninterrupted run', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.array(fc.double(), { maxLength: 40 }), fc.nat(), (cap, xs, cut) => {
        const k = xs.length === 0 ? 0 : cut % (xs.length + 1);
        const a = initRing(cap);
        for (const x of xs) ringPush(a, x);
        let b = initRing(cap);
        for (const x of xs.slice(0, k)) ringPush(b, x);
        b = roundTrip(b);
        for (const x of xs.slice(k)) ringPush(b, x);
        expect(encodeState(b)).toEqual(encodeState(a));
      }),
    );
  });
});
