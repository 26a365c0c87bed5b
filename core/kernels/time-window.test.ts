import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeState, encodeState } from '../state-codec.ts';
import { exactSum, exactVariance } from '../../testing/exact-sum.ts';
import {
  initTimeWindow,
  timeWindowAdvance,
  timeWindowBuySum,
  timeWindowCount,
  timeWindowMean,
  timeWindowOldestTime,
  timeWindowPush,
  timeWindowPushSided,
  timeWindowSellSum,
  timeWindowSum,
  timeWindowVariance,
  type TimeWindow,
} from './time-window.ts';

const roundTrip = <T>(s: T): T => decodeState<T>(encodeState(s));
const SEC = 1_000_000_000n;
const T0 = 1_723_161_600_000_000_000n; // 2024-08-09T00:00:00Z in ns: far beyond 2^53

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

const relErr = (got: number, want: number) => (got === want ? 0 : Math.abs(got - want) / Math.abs(want));

/** Steps: a value at a time offset (ms), or a heartbeat (x = null). */
type Step = { dtMs: number; x: number | null };

/** Naive model: keep (t, x) with clamped times, filter by t > now - D at every read. */
function model(steps: Step[], durationNs: bigint) {
  let now = -(2n ** 63n);
  let t = T0;
  const kept: { t: bigint; x: number }[] = [];
  const out: { count: number; sum: number; vals: number[] }[] = [];
  for (const st of steps) {
    t += BigInt(st.dtMs) * 1_000_000n;
    if (t > now) now = t;
    if (st.x !== null) kept.push({ t: now, x: st.x });
    const vals = kept.filter((e) => e.t > now - durationNs).map((e) => e.x);
    out.push({ count: vals.length, sum: exactSum(vals), vals });
  }
  return out;
}

function run(w: TimeWindow, steps: Step[], from: number, to: number, startT: bigint): bigint {
  let t = startT;
  for (let i = from; i < to; i++) {
    t += BigInt(steps[i].dtMs) * 1_000_000n;
    if (steps[i].x === null) timeWindowAdvance(w, t);
    else timeWindowPush(w, t, steps[i].x!);
  }
  return t;
}

const stepArb = fc.record({
  // Mostly forward in time, sometimes backwards (late) or at the same instant.
  dtMs: fc.oneof(fc.integer({ min: 0, max: 3000 }), fc.integer({ min: -2000, max: 0 })),
  x: fc.option(fc.double({ min: -1e9, max: 1e9, noNaN: true }).map((x) => (Math.abs(x) < 1e-100 ? 0 : x)), { freq: 5 }),
});

describe('event-time window', () => {
  it('holds exactly the values with now - duration < t <= now (times clamped non-decreasing)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 }), fc.array(stepArb, { maxLength: 200 }), (durSec, steps) => {
        const D = BigInt(durSec) * SEC;
        const w = initTimeWindow(D, 2);
        const want = model(steps, D);
        let t = T0;
        let history = 0;
        let historySq = 0;
        const eps = Number.EPSILON;
        steps.forEach((st, i) => {
          t = run(w, steps, i, i + 1, t);
          if (st.x !== null) {
            history += Math.abs(st.x);
            historySq += st.x * st.x;
          }
          // Neumaier's residue bound: O(n·eps²)·Σ|x| over terms seen since the last re-base.
          const residue = 4 * (i + 1) * eps * eps;
          const m = want[i];
          expect(timeWindowCount(w)).toBe(m.count);
          const scale = Math.max(0, ...m.vals.map(Math.abs));
          expect(Math.abs(timeWindowSum(w) - m.sum)).toBeLessThanOrEqual(4 * eps * scale * Math.max(1, m.count) + residue * history);
          if (m.count === 0) expect(timeWindowMean(w)).toBeNull();
          if (m.count >= 2) {
            const v = exactVariance(m.vals, 1)!;
            expect(Math.abs(timeWindowVariance(w)! - v)).toBeLessThanOrEqual(1e-9 * v + residue * historySq + 1e-300);
          } else {
            expect(timeWindowVariance(w)).toBeNull();
          }
        });
      }),
      { numRuns: 150 },
    );
  });

  it('evicts on the boundary: a value at t leaves at exactly t + duration', () => {
    const w = initTimeWindow(60n * SEC);
    timeWindowPush(w, T0, 1);
    timeWindowPush(w, T0 + 30n * SEC, 2);
    timeWindowAdvance(w, T0 + 60n * SEC - 1n);
    expect(timeWindowCount(w)).toBe(2);
    timeWindowAdvance(w, T0 + 60n * SEC);
    expect(timeWindowCount(w)).toBe(1);
    expect(timeWindowOldestTime(w)).toBe(T0 + 30n * SEC);
    expect(timeWindowSum(w)).toBe(2);
    timeWindowAdvance(w, T0); // earlier time: ignored
    expect(timeWindowCount(w)).toBe(1);
    timeWindowAdvance(w, T0 + 10_000n * SEC);
    expect(timeWindowCount(w)).toBe(0);
    expect(timeWindowMean(w)).toBeNull();
    expect(timeWindowOldestTime(w)).toBeNull();
  });

  it('grows past its initial capacity keeping order', () => {
    const w = initTimeWindow(1000n * SEC, 1);
    for (let i = 0; i < 1000; i++) timeWindowPush(w, T0 + BigInt(i) * SEC, i);
    expect(w.vals.length).toBe(1024);
    expect(timeWindowSum(w)).toBe((999 * 1000) / 2);
    timeWindowAdvance(w, T0 + 1499n * SEC); // keeps t > 499 s
    expect(timeWindowCount(w)).toBe(500);
    expect(timeWindowOldestTime(w)).toBe(T0 + 500n * SEC);
    expect(timeWindowMean(w)).toBe(749.5);
  });

  it('refuses a non-positive duration', () => {
    expect(() => initTimeWindow(0n)).toThrow(RangeError);
  });

  it('snapshot/restore mid-stream continues exactly like an uninterrupted run', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 }), fc.array(stepArb, { maxLength: 200 }), fc.nat(), (durSec, steps, cut) => {
        const D = BigInt(durSec) * SEC;
        const k = cut % (steps.length + 1);
        const a = initTimeWindow(D, 4);
        run(a, steps, 0, steps.length, T0);
        let b = initTimeWindow(D, 4);
        const t = run(b, steps, 0, k, T0);
        b = roundTrip(b);
        run(b, steps, k, steps.length, t);
        expect(encodeState(b)).toEqual(encodeState(a));
        expect([timeWindowSum(b), timeWindowMean(b), timeWindowVariance(b)]).toEqual([timeWindowSum(a), timeWindowMean(a), timeWindowVariance(a)]);
      }),
      { numRuns: 150 },
    );
  });

  it('does not drift over 2 million irregular pushes of awkward values', () => {
    const rand = rng(7);
    const D = 5n * 60n * SEC; // a 5-minute window
    const w = initTimeWindow(D);
    const q: { t: bigint; x: number }[] = [];
    let head = 0;
    let t = T0;
    let naive = 0;
    let worst = 0;
    let worstNaive = 0;
    let checks = 0;
    for (let i = 0; i < 2_000_000; i++) {
      // ~1,000 values per window on average, bursty gaps between 0 and 600 ms.
      t += BigInt(Math.floor(rand() * rand() * 1_200)) * 1_000_000n;
      const phase = Math.floor(i / 30_000) % 3;
      const u = rand();
      const x = phase === 0 ? 1e9 + u : phase === 1 ? 1e-3 * (1 + u) : rand() < 0.5 ? 1e9 * (1 + u) : 1e-6 * u;
      timeWindowPush(w, t, x);
      q.push({ t, x });
      naive += x;
      while (q[head].t <= t - D) naive -= q[head++].x;
      if (i % 9973 === 9972 || i % 30_000 === 29_999) {
        checks++;
        const vals = q.slice(head).map((e) => e.x);
        expect(timeWindowCount(w)).toBe(vals.length);
        const sum = exactSum(vals);
        const v = exactVariance(vals, 1)!;
        worst = Math.max(worst, relErr(timeWindowSum(w), sum), relErr(timeWindowMean(w)!, sum / vals.length), relErr(timeWindowVariance(w)!, v));
        worstNaive = Math.max(worstNaive, relErr(naive, sum));
      }
      if (head > 100_000) {
        q.splice(0, head);
        head = 0;
      }
    }
    console.log(`time-window 2M pushes: ${checks} checks, kernel worst rel err ${worst.toExponential(2)}, naive sum ${worstNaive.toExponential(2)}, re-bases ${w.rebases}, capacity ${w.vals.length}`);
    expect(checks).toBeGreaterThanOrEqual(250);
    expect(worst).toBeLessThan(1e-9);
    expect(worstNaive).toBeGreaterThan(1e-6);
  });
  it('stays exact across origin moves: months of event time, and jumps past 2^52 ns', () => {
    // offsets from the window's origin must stay exact float64 integers; these cross the limit
    const D = 60n * SEC;
    const jump = 2n ** 52n;
    fc.assert(
      fc.property(
        fc.array(fc.record({ dt: fc.oneof(fc.bigInt({ min: 0n, max: 90n * SEC }), fc.constantFrom(jump - 1n, jump, jump + 1n, 2n ** 53n + 7n), fc.bigInt({ min: -30n * SEC, max: 0n })), x: fc.option(fc.integer({ min: 1, max: 1000 }), { freq: 4 }) }), { maxLength: 120 }),
        (steps) => {
          const w = initTimeWindow(D, 2);
          let t = T0;
          let now = -(2n ** 63n);
          const kept: { t: bigint; x: number }[] = [];
          for (const st of steps) {
            t += st.dt;
            if (t > now) now = t;
            if (st.x === null) timeWindowAdvance(w, t);
            else {
              timeWindowPush(w, t, st.x);
              kept.push({ t: now, x: st.x });
            }
            const held = kept.filter((e) => e.t > now - D);
            expect(timeWindowCount(w)).toBe(held.length);
            expect(timeWindowSum(w)).toBe(held.reduce((a, e) => a + e.x, 0));
            expect(timeWindowOldestTime(w)).toBe(held.length > 0 ? held[0].t : null);
          }
          const restored = roundTrip(w);
          timeWindowPush(w, t + SEC, 5);
          timeWindowPush(restored, t + SEC, 5);
          expect(restored).toEqual(w);
        },
      ),
      { numRuns: 200 },
    );
  });
  it('a sum-only window holds the same values and sums without drift; its variance is null', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 }), fc.array(stepArb, { maxLength: 200 }), (durSec, steps) => {
        const D = BigInt(durSec) * SEC;
        const full = initTimeWindow(D, 2);
        const lean = initTimeWindow(D, 2, false);
        const want = model(steps, D);
        let t = T0;
        steps.forEach((st, i) => {
          t += BigInt(st.dtMs) * 1_000_000n;
          for (const w of [full, lean]) {
            if (st.x === null) timeWindowAdvance(w, t);
            else timeWindowPush(w, t, st.x);
          }
          expect(timeWindowCount(lean)).toBe(want[i].count);
          expect(timeWindowOldestTime(lean)).toBe(timeWindowOldestTime(full));
          const scale = want[i].vals.reduce((a, x) => a + Math.abs(x), 0);
          expect(Math.abs(timeWindowSum(lean) - want[i].sum)).toBeLessThanOrEqual(4 * Number.EPSILON * scale);
          expect(timeWindowVariance(lean)).toBeNull();
        });
      }),
    );
  });

  it('a sided window: volume, count, buy and sell sums bit-identical to one window per sum', () => {
    // the trade-flow derivation replaced separate buy/sell/volume windows with one sided window;
    // each sum must be the same Neumaier sequence over the same terms (x or 0) on the same re-base
    // schedule, so outputs did not move by a bit
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 }), fc.array(fc.tuple(stepArb, fc.constantFrom(1, -1, 0)), { maxLength: 300 }), (durSec, steps) => {
        const D = BigInt(durSec) * SEC;
        const sided = initTimeWindow(D, 2, false, true);
        const vol = initTimeWindow(D, 2, false);
        const buy = initTimeWindow(D, 2, false);
        const sell = initTimeWindow(D, 2, false);
        let t = T0;
        for (const [st, side] of steps) {
          t += BigInt(st.dtMs) * 1_000_000n;
          if (st.x === null) {
            const moved = timeWindowCount(vol);
            const evicted = timeWindowAdvance(sided, t);
            for (const w of [vol, buy, sell]) timeWindowAdvance(w, t);
            expect(evicted).toBe(timeWindowCount(vol) !== moved);
          } else {
            const x = Math.abs(st.x);
            timeWindowPushSided(sided, t, x, side);
            timeWindowPush(vol, t, x);
            timeWindowPush(buy, t, side === 1 ? x : 0);
            timeWindowPush(sell, t, side === -1 ? x : 0);
          }
          expect(timeWindowCount(sided)).toBe(timeWindowCount(vol));
          expect(Object.is(timeWindowSum(sided), timeWindowSum(vol))).toBe(true);
          expect(Object.is(timeWindowBuySum(sided), timeWindowSum(buy))).toBe(true);
          expect(Object.is(timeWindowSellSum(sided), timeWindowSum(sell))).toBe(true);
        }
        // and a snapshot round trip keeps the sides
        const back = roundTrip(sided);
        timeWindowPushSided(back, t + SEC, 1.5, -1);
        timeWindowPushSided(sided, t + SEC, 1.5, -1);
        expect(timeWindowSellSum(back)).toBe(timeWindowSellSum(sided));
        expect(timeWindowBuySum(back)).toBe(timeWindowBuySum(sided));
      }),
      { numRuns: 200 },
    );
  });
});
