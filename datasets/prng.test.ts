import { describe, expect, it } from 'vitest';
import { chance, intBelow, nextU32, permutation, rngFor, rngFromState, splitmix64, uniform } from './prng.ts';

describe('prng', () => {
  it('xoshiro128** matches the reference output for state (1, 2, 3, 4)', () => {
    // reference: xoshiro128starstar.c by Blackman & Vigna, seeded with s = {1, 2, 3, 4}
    const r = rngFromState(1, 2, 3, 4);
    expect(Array.from({ length: 10 }, () => nextU32(r))).toEqual([
      11520, 0, 5927040, 70819200, 2031721883, 1637235492, 1287239034, 3734860849, 3729100597, 4258142804,
    ]);
  });

  it('splitmix64 matches the reference output for seed 1234567', () => {
    let state = 1234567n;
    const out: bigint[] = [];
    for (let i = 0; i < 3; i++) {
      out.push(splitmix64(state));
      state = (state + 0x9e3779b97f4a7c15n) & ((1n << 64n) - 1n);
    }
    expect(out).toEqual([6457827717110365317n, 3203168211198807973n, 9817491932198370423n]);
  });

  it('same seed and path give the same stream; other paths and seeds differ', () => {
    const draw = (r: Uint32Array) => Array.from({ length: 8 }, () => nextU32(r));
    expect(draw(rngFor(42, 1, 7))).toEqual(draw(rngFor(42, 1, 7)));
    expect(draw(rngFor(42, 1, 7))).not.toEqual(draw(rngFor(42, 1, 8)));
    expect(draw(rngFor(42, 1, 7))).not.toEqual(draw(rngFor(43, 1, 7)));
    expect(draw(rngFor(-1))).toEqual(draw(rngFor(-1)));
  });

  it('uniform, intBelow, chance and permutation stay in range', () => {
    const r = rngFor(7);
    let hits = 0;
    for (let i = 0; i < 10000; i++) {
      const u = uniform(r);
      expect(u >= 0 && u < 1).toBe(true);
      const k = intBelow(r, 10);
      expect(Number.isInteger(k) && k >= 0 && k < 10).toBe(true);
      if (chance(r, 0.25)) hits++;
    }
    expect(hits).toBeGreaterThan(2200);
    expect(hits).toBeLessThan(2800);
    expect(permutation(r, 20).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('rejects unsafe seeds and negative path entries', () => {
    expect(() => rngFor(1.5)).toThrow(RangeError);
    expect(() => rngFor(1, -1)).toThrow(RangeError);
  });
});
