import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeState, encodeState } from '../state-codec.ts';
import { exactSum, exactVariance } from '../../testing/exact-sum.ts';
import {
  initRollingSum,
  rollingCount,
  rollingFull,
  rollingMean,
  rollingPush,
  rollingSum,
  rollingVariance,
  type RollingSum,
} from './rolling-sum.ts';

const roundTrip = <T>(s: T): T => decodeState<T>(encodeState(s));

/** Deterministic PRNG (mulberry32) so the long tests are reproducible. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function relErr(got: number, want: number): number {
  if (got === want) return 0;
  return Math.abs(got - want) / Math.abs(want);
}

/** Checks sum, mean and variance of the kernel against an exact recomputation of `window`. */
function expectExact(s: RollingSum, window: number[], tol: number): void {
  const n = window.length;
  expect(rollingCount(s)).toBe(n);
  const sum = exactSum(window);
  expect(relErr(rollingSum(s), sum)).toBeLessThanOrEqual(tol);
  expect(relErr(rollingMean(s)!, sum / n)).toBeLessThanOrEqual(tol);
  const v = exactVariance(window, 1)!;
  const got = rollingVariance(s)!;
  // A variance of exactly 0 (constant window) must come out as 0 up to a tiny absolute residue.
  if (v === 0) expect(got).toBeLessThanOrEqual(1e-300 + Math.abs(sum / n) * 1e-15);
  else expect(relErr(got, v)).toBeLessThanOrEqual(tol);
}

describe('rolling sum / mean / variance over the last N values', () => {
  it('warms up: mean null when empty, variance null below 2 values', () => {
    const s = initRollingSum(3);
    expect(rollingMean(s)).toBeNull();
    expect(rollingVariance(s)).toBeNull();
    expect(rollingSum(s)).toBe(0);
    rollingPush(s, 2);
    expect(rollingMean(s)).toBe(2);
    expect(rollingVariance(s)).toBeNull();
    expect(rollingVariance(s, 0)).toBe(0);
    rollingPush(s, 4);
    rollingPush(s, 6);
    expect(rollingFull(s)).toBe(true);
    expect(rollingMean(s)).toBe(4);
    expect(rollingVariance(s)).toBe(4);
    rollingPush(s, 8); // window 4, 6, 8
    expect(rollingSum(s)).toBe(18);
    expect(rollingVariance(s, 0)).toBeCloseTo(8 / 3, 14);
  });

  it('equals an exact recomputation over the window for arbitrary inputs', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.array(fc.double({ min: -1e12, max: 1e12, noNaN: true }), { minLength: 1, maxLength: 300 }),
        (n, raw) => {
          // Values near underflow are flushed: their absolute error floor is not what this is about.
          const xs = raw.map((x) => (Math.abs(x) < 1e-100 ? 0 : x));
          const s = initRollingSum(n);
          let history = 0;
          let historySq = 0;
          xs.forEach((x, i) => {
            rollingPush(s, x);
            const w = xs.slice(Math.max(0, i + 1 - n), i + 1);
            const sum = exactSum(w);
            // Neumaier's bound: a few ulps of the window plus O(n·eps²)·Σ|x| over the terms seen
            // since the last re-base (bounded here by the whole history).
            const scale = Math.max(...w.map(Math.abs));
            history += Math.abs(x);
            historySq += x * x;
            const eps = Number.EPSILON;
            expect(Math.abs(rollingSum(s) - sum)).toBeLessThanOrEqual(4 * eps * scale + 4 * (i + 1) * eps * eps * history);
            if (w.length >= 2) {
              const v = exactVariance(w, 1)!;
              expect(Math.abs(rollingVariance(s)! - v)).toBeLessThanOrEqual(1e-9 * v + 4 * (i + 1) * eps * eps * historySq + 1e-300);
            }
          });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('snapshot/restore mid-stream continues exactly like an uninterrupted run', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { maxLength: 400 }),
        fc.nat(),
        (n, xs, cut) => {
          const k = cut % (xs.length + 1);
          const a = initRollingSum(n);
          const outA: (number | null)[] = [];
          for (const x of xs) {
            rollingPush(a, x);
            outA.push(rollingSum(a), rollingMean(a), rollingVariance(a));
          }
          let b = initRollingSum(n);
          const outB: (number | null)[] = [];
          for (const x of xs.slice(0, k)) {
            rollingPush(b, x);
            outB.push(rollingSum(b), rollingMean(b), rollingVariance(b));
          }
          b = roundTrip(b);
          for (const x of xs.slice(k)) {
            rollingPush(b, x);
            outB.push(rollingSum(b), rollingMean(b), rollingVariance(b));
          }
          expect(outB).toEqual(outA); // toEqual uses Object.is on numbers: bit-exact incl. -0
          expect(encodeState(b)).toEqual(encodeState(a));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('recovers once a NaN has left the window', () => {
    const s = initRollingSum(4);
    for (const x of [1, NaN, 2, 3, 4, 5, 6]) rollingPush(s, x);
    // The compensated sums stay NaN until a re-base recomputes them from the (clean) window.
    for (let i = 0; i < 8; i++) rollingPush(s, 7);
    expect(rollingMean(s)).toBe(7);
    expect(rollingVariance(s)).toBe(0);
  });

  it('does not drift over 2 million pushes of awkward values, where a naive running sum does', () => {
    const N = 1000;
    const rand = rng(20240809);
    const s = initRollingSum(N);
    const ring: number[] = [];
    let naiveSum = 0;
    let naiveSumSq = 0;
    let worstNaiveSum = 0;
    let worstNaiveVar = 0;
    let worst = 0;
    let checks = 0;
    const TOTAL = 2_000_000;
    for (let i = 0; i < TOTAL; i++) {
      // Phases of 20,000 values: 1e9 + noise, tiny values, then a mix of big and tiny.
      const phase = Math.floor(i / 20_000) % 3;
      const u = rand();
      const x = phase === 0 ? 1e9 + u : phase === 1 ? 1e-3 * (1 + u) : rand() < 0.5 ? 1e9 * (1 + u) : 1e-6 * u;
      rollingPush(s, x);
      ring.push(x);
      naiveSum += x;
      naiveSumSq += x * x;
      if (ring.length > N) {
        const old = ring.shift()!;
        naiveSum -= old;
        naiveSumSq -= old * old;
      }
      // Check at a stride co-prime with the phase length, plus the last push of every phase.
      if ((i % 9973 === 0 && i > 0) || i % 20_000 === 19_999) {
        checks++;
        const exact = exactSum(ring);
        const v = exactVariance(ring, 1)!;
        const mine = Math.max(relErr(rollingSum(s), exact), relErr(rollingVariance(s)!, v), relErr(rollingMean(s)!, exact / ring.length));
        worst = Math.max(worst, mine);
        expectExact(s, ring, 1e-9);
        worstNaiveSum = Math.max(worstNaiveSum, relErr(naiveSum, exact));
        const naiveVar = (naiveSumSq - (naiveSum * naiveSum) / ring.length) / (ring.length - 1);
        worstNaiveVar = Math.max(worstNaiveVar, relErr(naiveVar, v));
      }
    }
    expect(checks).toBeGreaterThanOrEqual(300);
    // Observed worst relative error of the kernel (printed for the report): well below 1e-9.
    console.log(`rolling-sum 2M pushes: kernel worst rel err ${worst.toExponential(2)}; naive sum ${worstNaiveSum.toExponential(2)}, naive variance ${worstNaiveVar.toExponential(2)}; re-bases ${s.rebases}`);
    expect(worst).toBeLessThan(1e-12);
    // The naive running sum keeps the rounding residue of every big value it ever saw.
    expect(worstNaiveSum).toBeGreaterThan(1e-6);
    expect(worstNaiveVar).toBeGreaterThan(1e-2);
  });
});
