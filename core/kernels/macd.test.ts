import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeState, encodeState } from '../state-codec.ts';
import { initMacd, macdHist, macdLine, macdPush, macdReady, macdSignal } from './macd.ts';
import { taMacd } from '../../testing/ta-lib-oracle.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const refFile = path.resolve(here, '../factors/reference/talib-reference.json');

function stream(xs: number[], fast = 12, slow = 26, signal = 9) {
  const s = initMacd(fast, slow, signal);
  const line: (number | null)[] = [];
  const sig: (number | null)[] = [];
  const hist: (number | null)[] = [];
  for (const x of xs) {
    macdPush(s, x);
    line.push(macdLine(s));
    sig.push(macdSignal(s));
    hist.push(macdHist(s));
  }
  return { line, sig, hist, first: line.findIndex((v) => v !== null) };
}

const closes = fc.array(fc.double({ min: 50, max: 150, noNaN: true }), { maxLength: 120 });

describe('MACD (TA-Lib TA_MACD)', () => {
  it('first value at index 33 for 12/26/9, all three outputs together', () => {
    const xs = Array.from({ length: 40 }, (_, i) => 100 + Math.sin(i));
    const { line, sig, hist, first } = stream(xs);
    expect(first).toBe(33);
    expect(sig.findIndex((v) => v !== null)).toBe(33);
    expect(hist.findIndex((v) => v !== null)).toBe(33);
    expect(hist[39]).toBe(line[39]! - sig[39]!);
  });

  it('seeds the fast EMA late, from inputs [slow - fast, slow - 1] (not from the first 12)', () => {
    // A spike in the first 14 inputs must not reach the fast EMA.
    const xs = Array.from({ length: 34 }, (_, i) => (i === 0 ? 1e6 : 100));
    const s = initMacd();
    xs.forEach((x) => macdPush(s, x));
    expect(s.fast.value).toBe(100);
    expect(macdReady(s)).toBe(true);
  });

  it('equals a transliteration of TA_INT_MACD, bit for bit, for any periods', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 15 }), fc.integer({ min: 2, max: 30 }), fc.integer({ min: 1, max: 12 }), closes, (fast, slow, signal, xs) => {
        const ref = taMacd(xs, fast, slow, signal);
        const got = stream(xs, fast, slow, signal);
        if (ref.line.length === 0) {
          expect(got.first).toBe(-1);
          return;
        }
        expect(got.first).toBe(ref.begIdx);
        expect(got.line.slice(got.first)).toEqual(ref.line);
        expect(got.sig.slice(got.first)).toEqual(ref.signal);
        expect(got.hist.slice(got.first)).toEqual(ref.hist);
      }),
    );
  });

  it('snapshot/restore mid-stream continues exactly', () => {
    fc.assert(
      fc.property(closes, fc.nat(), (xs, cut) => {
        const k = cut % (xs.length + 1);
        const a = initMacd();
        xs.forEach((x) => macdPush(a, x));
        let b = initMacd();
        xs.slice(0, k).forEach((x) => macdPush(b, x));
        b = decodeState<typeof b>(encodeState(b));
        xs.slice(k).forEach((x) => macdPush(b, x));
        expect(encodeState(b)).toEqual(encodeState(a));
      }),
    );
  });

  describe.skipIf(!existsSync(refFile))('against TA-Lib output on real 1-minute closes', () => {
    const ref = existsSync(refFile) ? JSON.parse(readFileSync(refFile, 'utf8')) : { series: {} };
    for (const [name, series] of Object.entries<any>(ref.series)) {
      it(`${name} macd(12,26,9): same first index and the same bits`, () => {
        const got = stream(series.closes);
        expect(got.first).toBe(series.macd.begIndex);
        const pairs: [(number | null)[], number[]][] = [
          [got.line, series.macd.line],
          [got.sig, series.macd.signal],
          [got.hist, series.macd.hist],
        ];
        for (const [mine, want] of pairs) {
          const tail = mine.slice(got.first) as number[];
          expect(tail.length).toBe(series.macd.nbElement);
          let worst = 0;
          tail.forEach((v, i) => {
            if (v !== want[i]) worst = Math.max(worst, Math.abs(v - want[i]) / Math.abs(want[i]));
          });
          expect(worst).toBeLessThanOrEqual(1e-9);
          expect(tail).toEqual(want); // observed: bit-identical
        }
      });
    }
  });
});
