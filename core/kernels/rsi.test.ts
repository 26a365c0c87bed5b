import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeState, encodeState } from '../state-codec.ts';
import { initRsi, rsiPush, rsiValue } from './rsi.ts';
import { taRsi } from '../../testing/ta-lib-oracle.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const refFile = path.resolve(here, '../factors/reference/talib-reference.json');

// Prices on a tick grid with flat runs, so gains, losses and zero changes all occur.
const closes = fc.array(fc.integer({ min: 9_990, max: 10_010 }).map((c) => c / 100), { maxLength: 150 });

function stream(n: number, xs: number[]): (number | null)[] {
  const s = initRsi(n);
  return xs.map((x) => {
    rsiPush(s, x);
    return rsiValue(s);
  });
}

describe('RSI (TA-Lib TA_RSI)', () => {
  it('warms up for n + 1 closes', () => {
    const out = stream(3, [10, 11, 10, 12, 12]);
    expect(out.slice(0, 3)).toEqual([null, null, null]);
    // gains 1,0,2 → 1; losses 0,1,0 → 1/3; RSI = 100·1/(4/3) = 75
    expect(out[3]).toBe(100 * (1 / (1 + 1 / 3)));
  });

  it('is 0 (not NaN) when prices are flat, as TA-Lib outputs', () => {
    expect(stream(14, Array(30).fill(100)).slice(14)).toEqual(Array(16).fill(0));
  });

  it('is 100 when prices only rise', () => {
    expect(stream(3, [1, 2, 3, 4, 5]).slice(3)).toEqual([100, 100]);
  });

  it('equals a statement-by-statement transliteration of TA_RSI, bit for bit', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 20 }), closes, (n, xs) => {
        const ref = taRsi(xs, n);
        const out = stream(n, xs);
        expect(out.slice(0, Math.min(n, xs.length))).toEqual(Array(Math.min(n, xs.length)).fill(null));
        expect(out.slice(n)).toEqual(ref.values);
      }),
    );
  });

  it('refuses a period below 2 (TA-Lib range)', () => {
    expect(() => initRsi(1)).toThrow(RangeError);
  });

  it('snapshot/restore mid-stream continues exactly', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 20 }), closes, fc.nat(), (n, xs, cut) => {
        const k = cut % (xs.length + 1);
        const a = initRsi(n);
        xs.forEach((x) => rsiPush(a, x));
        let b = initRsi(n);
        xs.slice(0, k).forEach((x) => rsiPush(b, x));
        b = decodeState<typeof b>(encodeState(b));
        xs.slice(k).forEach((x) => rsiPush(b, x));
        expect(encodeState(b)).toEqual(encodeState(a));
        expect(rsiValue(b)).toEqual(rsiValue(a));
      }),
    );
  });

  describe.skipIf(!existsSync(refFile))('against TA-Lib output on real 1-minute closes', () => {
    const ref = existsSync(refFile) ? JSON.parse(readFileSync(refFile, 'utf8')) : { series: {} };
    for (const [name, series] of Object.entries<any>(ref.series)) {
      it(`${name} rsi14: same first index and the same bits`, () => {
        const out = stream(14, series.closes);
        const first = out.findIndex((v) => v !== null);
        expect(first).toBe(series.rsi14.begIndex);
        const got = out.slice(first) as number[];
        expect(got.length).toBe(series.rsi14.nbElement);
        let worst = 0;
        got.forEach((v, i) => {
          const want = series.rsi14.values[i];
          if (v !== want) worst = Math.max(worst, Math.abs(v - want) / Math.max(Math.abs(want), 1e-300));
        });
        expect(worst).toBeLessThanOrEqual(1e-9);
        expect(got).toEqual(series.rsi14.values); // observed: bit-identical
      });
    }
  });
});
