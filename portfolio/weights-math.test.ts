/**
 * Properties of one rebalance's math (weights-math.ts), over random cross-sections: the caps,
 * gross leverage, dollar neutrality, long-only signs and the turnover limit hold, with a previous
 * book made by the same spec (so it is itself feasible). Tolerances are a few ulps of the caps.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rankScores, targetWeights, zScores, type BookSpec } from './weights-math.ts';

const EPS = 1e-12;

const specArb: fc.Arbitrary<BookSpec> = fc.record({
  method: fc.constantFrom('rank' as const, 'zscore' as const),
  zClip: fc.double({ min: 0.5, max: 5, noNaN: true }),
  construction: fc.constantFrom('long-only' as const, 'dollar-neutral' as const),
  maxWeight: fc.double({ min: 0.01, max: 1, noNaN: true }),
  grossLeverage: fc.double({ min: 0.1, max: 4, noNaN: true }),
  volInverse: fc.boolean(),
  volTarget: fc.option(fc.double({ min: 1e-4, max: 1, noNaN: true }), { nil: null }),
  turnoverLimit: fc.option(fc.double({ min: 0.01, max: 2, noNaN: true }), { nil: null }),
});

const sectionArb = fc.integer({ min: 0, max: 40 }).chain((n) =>
  fc.record({
    signal: fc.array(fc.oneof(fc.double({ min: -1e3, max: 1e3, noNaN: true }), fc.constantFrom(0, 1, -1)), { minLength: n, maxLength: n }),
    vol: fc.array(fc.double({ min: 1e-4, max: 2, noNaN: true }), { minLength: n, maxLength: n }),
    eligible: fc.array(fc.integer({ min: 0, max: 4 }).map((x) => (x === 0 ? 0 : 1)), { minLength: n, maxLength: n }),
    signal2: fc.array(fc.double({ min: -1e3, max: 1e3, noNaN: true }), { minLength: n, maxLength: n }),
  }),
);

function build(spec: BookSpec, signal: number[], vol: number[], eligible: number[], prev: Float64Array) {
  const w = new Float64Array(signal.length);
  const stats = targetWeights(spec, Float64Array.from(signal), Float64Array.from(vol), Uint8Array.from(eligible), prev, w);
  return { w, stats };
}

describe('target weights math', () => {
  it('respects the per-name cap, gross leverage, construction and turnover limit', () => {
    fc.assert(
      fc.property(specArb, sectionArb, (spec, s) => {
        const n = s.signal.length;
        // the previous book: built by the same spec from another signal, from flat
        const first = build(spec, s.signal2, s.vol, s.eligible.map(() => 1), new Float64Array(n));
        const { w, stats } = build(spec, s.signal, s.vol, s.eligible, first.w);
        let gross = 0;
        let net = 0;
        let turnover = 0;
        for (let i = 0; i < n; i++) {
          expect(Number.isFinite(w[i])).toBe(true);
          expect(Math.abs(w[i])).toBeLessThanOrEqual(spec.maxWeight * (1 + EPS));
          if (spec.construction === 'long-only') expect(w[i]).toBeGreaterThanOrEqual(0);
          gross += Math.abs(w[i]);
          net += w[i];
          turnover += Math.abs(w[i] - first.w[i]);
        }
        expect(gross).toBeLessThanOrEqual(spec.grossLeverage * (1 + EPS));
        if (spec.construction === 'dollar-neutral') expect(Math.abs(net)).toBeLessThanOrEqual(spec.grossLeverage * 1e-12);
        if (spec.turnoverLimit !== null) {
          expect(turnover).toBeLessThanOrEqual(spec.turnoverLimit * (1 + 1e-9));
          expect(first.stats.turnover).toBeLessThanOrEqual(spec.turnoverLimit * (1 + 1e-9));
        }
        expect(stats.gross).toBe(gross);
        expect(stats.net).toBe(net);
      }),
      { numRuns: 400 },
    );
  });

  it('without a turnover limit or vol target, a book uses its whole gross unless the caps forbid it', () => {
    fc.assert(
      fc.property(specArb, sectionArb, (spec0, s) => {
        const spec = { ...spec0, turnoverLimit: null, volTarget: null };
        const { w } = build(spec, s.signal, s.vol, s.eligible, new Float64Array(s.signal.length));
        const gross = w.reduce((a, x) => a + Math.abs(x), 0);
        const held = w.filter((x) => x !== 0).length;
        const capped = w.filter((x) => Math.abs(x) >= spec.maxWeight * (1 - 1e-12)).length;
        // either the gross is reached, or the book is flat, or caps bind
        if (held > 0 && capped === 0) expect(gross).toBeCloseTo(spec.grossLeverage, 9);
      }),
      { numRuns: 300 },
    );
  });

  it('ranks: ties share their average rank, demeaned', () => {
    expect([...rankScores(Float64Array.from([3, 1, 3, 2]), [0, 1, 2, 3])]).toEqual([1, -1.5, 1, -0.5]);
  });

  it('z-scores: population standard deviation, clipped; a constant signal scores 0', () => {
    expect([...zScores(Float64Array.from([1, 2, 3, 4]), [0, 1, 2, 3], 3)].map((x) => +x.toFixed(6))).toEqual([-1.341641, -0.447214, 0.447214, 1.341641]);
    // z = (-1/√3, -1/√3, -1/√3, √3): the last is clipped to 1
    expect([...zScores(Float64Array.from([0, 0, 0, 100]), [0, 1, 2, 3], 1)].map((x) => +x.toFixed(12))).toEqual([-0.57735026919, -0.57735026919, -0.57735026919, 1]);
    expect([...zScores(Float64Array.from([5, 5]), [0, 1], 3)]).toEqual([0, 0]);
  });

  it('a worked example: dollar-neutral z-scores, cap 0.3, gross 1', () => {
    const spec: BookSpec = { method: 'zscore', zClip: 3, construction: 'dollar-neutral', maxWeight: 0.3, grossLeverage: 1, volInverse: false, volTarget: null, turnoverLimit: null };
    const { w } = build(spec, [1, 2, 3, 4], [1, 1, 1, 1], [1, 1, 1, 1], new Float64Array(4));
    // legs of 0.5 split 3:1 → 0.375/0.125, then the cap moves 0.075 to the other name of the leg
    expect([...w].map((x) => +x.toFixed(12))).toEqual([-0.3, -0.2, 0.2, 0.3]);
  });
});
