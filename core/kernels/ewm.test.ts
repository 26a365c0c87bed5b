import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeState, encodeState } from '../state-codec.ts';
import { decayedAdd, decayedMean, decayedSum, decayedWeight, decayTo, emaPush, emaReady, emaValue, initDecayedEwm, initEma } from './ewm.ts';
import { taEma } from '../../testing/ta-lib-oracle.ts';

const roundTrip = <T>(s: T): T => decodeState<T>(encodeState(s));
const here = path.dirname(fileURLToPath(import.meta.url));
const refFile = path.resolve(here, '../factors/reference/talib-reference.json');

const prices = fc.array(fc.double({ min: 1, max: 1e5, noNaN: true }), { maxLength: 120 });

describe('EMA (TA-Lib TA_EMA)', () => {
  it('is null for the first n-1 inputs, then the SMA seed', () => {
    const s = initEma(3);
    emaPush(s, 1);
    emaPush(s, 2);
    expect(emaValue(s)).toBeNull();
    expect(emaReady(s)).toBe(false);
    emaPush(s, 6);
    expect(emaValue(s)).toBe(3);
    emaPush(s, 5); // (5 - 3) * 0.5 + 3
    expect(emaValue(s)).toBe(4);
  });

  it('equals a statement-by-statement transliteration of TA_INT_EMA, bit for bit', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 30 }), prices, (n, xs) => {
        const ref = taEma(xs, n);
        const s = initEma(n);
        const got: number[] = [];
        xs.forEach((x, i) => {
          emaPush(s, x);
          const v = emaValue(s);
          if (i < n - 1) expect(v).toBeNull();
          else got.push(v!);
        });
        expect(got).toEqual(ref.values);
      }),
    );
  });

  it('snapshot/restore mid-stream continues exactly', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 30 }), prices, fc.nat(), (n, xs, cut) => {
        const k = cut % (xs.length + 1);
        const a = initEma(n);
        xs.forEach((x) => emaPush(a, x));
        let b = initEma(n);
        xs.slice(0, k).forEach((x) => emaPush(b, x));
        b = roundTrip(b);
        xs.slice(k).forEach((x) => emaPush(b, x));
        expect(encodeState(b)).toEqual(encodeState(a));
      }),
    );
  });

  describe.skipIf(!existsSync(refFile))('against TA-Lib output on real 1-minute closes', () => {
    const ref = existsSync(refFile) ? JSON.parse(readFileSync(refFile, 'utf8')) : { series: {} };
    for (const [name, series] of Object.entries<any>(ref.series)) {
      for (const [key, n] of [['ema12', 12], ['ema26', 26]] as const) {
        it(`${name} ${key}: same first index and the same bits`, () => {
          const s = initEma(n);
          const got: number[] = [];
          let first = -1;
          series.closes.forEach((x: number, i: number) => {
            emaPush(s, x);
            const v = emaValue(s);
            if (v !== null) {
              if (first < 0) first = i;
              got.push(v);
            }
          });
          expect(first).toBe(series[key].begIndex);
          expect(got.length).toBe(series[key].nbElement);
          let worst = 0;
          got.forEach((v, i) => {
            const want = series[key].values[i];
            if (v !== want) worst = Math.max(worst, Math.abs(v - want) / Math.abs(want));
          });
          expect(worst).toBeLessThanOrEqual(1e-9);
          expect(got).toEqual(series[key].values); // observed: bit-identical
        });
      }
    }
  });
});

describe('time-decayed EWMA', () => {
  const T0 = 1_723_161_600_000_000_000n;
  const MIN = 60_000_000_000n;

  it('halves per half-life and equals the closed form Σ x_i 2^(-(T - t_i)/h)', () => {
    const s = initDecayedEwm(Number(MIN));
    expect(decayedMean(s)).toBeNull();
    decayedAdd(s, T0, 4);
    expect(decayedSum(s)).toBe(4);
    decayTo(s, T0 + MIN);
    expect(decayedSum(s)).toBe(2);
    expect(decayedWeight(s)).toBe(0.5);
    expect(decayedMean(s)).toBe(4);
    decayedAdd(s, T0 + 2n * MIN, 1); // 4·2^-2 + 1 = 2
    expect(decayedSum(s)).toBe(2);
    expect(decayedMean(s)).toBe(2 / 1.25);
  });

  it('matches the closed form on irregular times', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 10_000_000 }), fc.double({ min: -1, max: 1, noNaN: true })), { minLength: 1, maxLength: 50 }),
        fc.integer({ min: 1, max: 1e9 }),
        (steps, halfLifeUs) => {
          const h = halfLifeUs * 1000;
          const s = initDecayedEwm(h);
          let t = T0;
          const pts: [bigint, number][] = [];
          for (const [dtUs, x] of steps) {
            t += BigInt(dtUs) * 1000n;
            decayedAdd(s, t, x);
            pts.push([t, x]);
          }
          let sum = 0;
          let w = 0;
          let scale = 0;
          for (const [ti, x] of pts) {
            const f = Math.pow(2, -Number(t - ti) / h);
            sum += x * f;
            w += f;
            scale += Math.abs(x) * f;
          }
          expect(Math.abs(decayedSum(s) - sum)).toBeLessThanOrEqual(1e-12 * Math.max(scale, 1e-300) + 1e-300);
          expect(Math.abs(decayedWeight(s) - w)).toBeLessThanOrEqual(1e-12 * w);
        },
      ),
    );
  });

  it('adds a late event undecayed at the current time', () => {
    const s = initDecayedEwm(Number(MIN));
    decayedAdd(s, T0 + MIN, 1);
    decayedAdd(s, T0, 1); // earlier than the last time: no growth back in time
    expect(decayedSum(s)).toBe(2);
    expect(s.lastT).toBe(T0 + MIN);
  });

  it('refuses a non-positive half-life', () => {
    expect(() => initDecayedEwm(0)).toThrow(RangeError);
    expect(() => initDecayedEwm(NaN)).toThrow(RangeError);
  });

  it('snapshot/restore mid-stream continues exactly', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: -1000, max: 1_000_000 }), fc.double({ noNaN: true, min: -1e6, max: 1e6 }))), fc.nat(), (steps, cut) => {
        const k = cut % (steps.length + 1);
        const feed = (s: ReturnType<typeof initDecayedEwm>, from: number, to: number) => {
          let t = T0;
          for (let i = 0; i < to; i++) {
            t += BigInt(steps[i][0]) * 1000n;
            if (i >= from) decayedAdd(s, t, steps[i][1]);
          }
        };
        const a = initDecayedEwm(5e9);
        feed(a, 0, steps.length);
        let b = initDecayedEwm(5e9);
        feed(b, 0, k);
        b = roundTrip(b);
        feed(b, k, steps.length);
        expect(encodeState(b)).toEqual(encodeState(a));
      }),
    );
  });
});
