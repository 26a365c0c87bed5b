// Checks that the committed TA-Lib reference values are internally consistent and that we read
// TA-Lib's conventions right. The naive recomputations below are test oracles, not factor code.
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { realData } from '../../../testing/real-data.ts';

interface Single {
  begIndex: number;
  nbElement: number;
  values: number[];
}
interface Macd {
  begIndex: number;
  nbElement: number;
  line: number[];
  signal: number[];
  hist: number[];
}
interface Series {
  source: string;
  rule: string;
  minutes: number[] | null;
  closes: number[];
  ema12: Single;
  ema26: Single;
  rsi14: Single;
  macd: Macd;
}
interface Reference {
  generator: { npmPackage: string; talibC: string; command: string };
  series: Record<'taq_xxx_1m' | 'eurusd_mid_1m' | 'synthetic', Series>;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../../..');
const REAL = realData('closes recomputed from the raw files');
const dataDir = REAL.dir;
const ref = JSON.parse(readFileSync(path.join(here, 'talib-reference.json'), 'utf8')) as Reference;
const seriesNames = Object.keys(ref.series) as (keyof Reference['series'])[];

/** Largest |a[i] - b[i]| / |b[i]| (0 when equal); lengths must match. */
function maxRelativeError(a: number[], b: number[]): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.abs(b[i]));
  }
  return worst;
}

/** TA-Lib default EMA: seed = SMA of x[seedEnd-n+1..seedEnd] (first output at seedEnd), then p += (x - p) * 2/(n+1). */
function naiveEma(x: number[], n: number, seedEnd: number): number[] {
  const k = 2 / (n + 1);
  let sum = 0;
  for (let i = seedEnd - n + 1; i <= seedEnd; i++) sum += x[i];
  let prev = sum / n;
  const out = [prev];
  for (let i = seedEnd + 1; i < x.length; i++) {
    prev = (x[i] - prev) * k + prev;
    out.push(prev);
  }
  return out;
}

/** TA-Lib RSI (Wilder): SMA of the first n gains/losses, then (avg*(n-1) + move)/n; 0 when avgGain + avgLoss is ~0. */
function naiveRsi(x: number[], n: number): number[] {
  let gain = 0;
  let loss = 0;
  const out: number[] = [];
  const emit = () => {
    const total = gain + loss;
    out.push(Math.abs(total) < 1e-14 ? 0 : 100 * (gain / total));
  };
  for (let i = 1; i < x.length; i++) {
    const move = x[i] - x[i - 1];
    if (i > n) {
      gain *= n - 1;
      loss *= n - 1;
    }
    if (move < 0) loss -= move;
    else gain += move;
    if (i >= n) {
      gain /= n;
      loss /= n;
      emit();
    }
  }
  return out;
}

function syntheticClose(i: number): number {
  if (i < 20) return 100;
  const k = i - 20;
  const triangle = Math.abs((k % 28) - 14) - 7;
  const noise = ((i * 7919) % 61) - 30;
  return 100 + 0.05 * k + triangle * 0.75 + noise / 64;
}

/** Minute bars, last value per minute in file order, from a gzip CSV; `value` maps split fields to the close. */
function minuteCloses(
  file: string,
  keep: (f: string[], col: (name: string) => number) => boolean,
  value: (f: string[], col: (name: string) => number) => number,
): { minutes: number[]; closes: number[] } {
  const lines = gunzipSync(readFileSync(file)).toString('utf8').split('\n');
  const header = lines[0].split(',');
  const col = (name: string) => header.indexOf(name);
  const tsCol = col('ts_utc_ms');
  const byMinute = new Map<number, number>();
  for (let i = 1; i < lines.length; i++) {
    if (lines[i] === '') continue;
    const f = lines[i].split(',');
    if (!keep(f, col)) continue;
    byMinute.set(Math.floor(Number(f[tsCol]) / 60000), value(f, col));
  }
  const minutes = [...byMinute.keys()].sort((a, b) => a - b);
  return { minutes, closes: minutes.map((m) => byMinute.get(m) as number) };
}

describe('talib-reference.json layout', () => {
  it('names the generator', () => {
    expect(ref.generator.npmPackage).toBe('talib@1.1.6');
    expect(ref.generator.talibC).toMatch(/^\d+\.\d+\.\d+/);
  });

  for (const name of seriesNames) {
    it(`${name}: begIndex + nbElement covers the closes exactly`, () => {
      const s = ref.series[name];
      const n = s.closes.length;
      expect(n).toBeGreaterThan(100);
      expect(s.closes.every(Number.isFinite)).toBe(true);
      if (s.minutes !== null) {
        expect(s.minutes.length).toBe(n);
        for (let i = 1; i < n; i++) expect(s.minutes[i]).toBeGreaterThan(s.minutes[i - 1]);
      }
      const expectedBeg = { ema12: 11, ema26: 25, rsi14: 14 } as const;
      for (const key of ['ema12', 'ema26', 'rsi14'] as const) {
        const out = s[key];
        expect(out.begIndex).toBe(expectedBeg[key]);
        expect(out.nbElement).toBe(out.values.length);
        expect(out.begIndex + out.values.length).toBe(n);
        expect(out.values.every(Number.isFinite)).toBe(true);
      }
      expect(s.macd.begIndex).toBe(33);
      for (const part of [s.macd.line, s.macd.signal, s.macd.hist]) {
        expect(part.length).toBe(s.macd.nbElement);
        expect(part.every(Number.isFinite)).toBe(true);
      }
      expect(s.macd.begIndex + s.macd.nbElement).toBe(n);
      // TA-Lib forms the histogram as line - signal in double; JS must get the same bits.
      s.macd.hist.forEach((h, i) => expect(h).toBe(s.macd.line[i] - s.macd.signal[i]));
    });
  }
});

describe('TA-Lib conventions, recomputed naively on the synthetic series', () => {
  const s = ref.series.synthetic;
  const x = s.closes;

  it('the synthetic closes follow their closed form bit for bit', () => {
    expect(x).toEqual(Array.from({ length: 300 }, (_, i) => syntheticClose(i)));
  });

  it('EMA(12) and EMA(26) are SMA-seeded at index n-1', () => {
    expect(maxRelativeError(naiveEma(x, 12, 11), s.ema12.values)).toBeLessThanOrEqual(1e-12);
    expect(maxRelativeError(naiveEma(x, 26, 25), s.ema26.values)).toBeLessThanOrEqual(1e-12);
  });

  it('MACD seeds BOTH EMAs at index 25: the fast one with the SMA of closes[14..25]', () => {
    const fast = naiveEma(x, 12, 25);
    const slow = naiveEma(x, 26, 25);
    const line = fast.map((f, i) => f - slow[i]); // input indexes 25..
    const signal = naiveEma(line, 9, 8); // SMA of line[25..33], first value at input index 33
    expect(maxRelativeError(line.slice(8), s.macd.line)).toBeLessThanOrEqual(1e-12);
    expect(maxRelativeError(signal, s.macd.signal)).toBeLessThanOrEqual(1e-12);
    // The textbook line (TA_EMA(12) - TA_EMA(26)) differs visibly at the first MACD output.
    const textbook = s.ema12.values[33 - 11] - s.ema26.values[33 - 25];
    expect(Math.abs(textbook - s.macd.line[0]) / Math.abs(s.macd.line[0])).toBeGreaterThan(1e-3);
  });

  it('RSI(14) is Wilder-smoothed and outputs 0 (not 50) while there has been no move', () => {
    expect(maxRelativeError(naiveRsi(x, 14), s.rsi14.values)).toBeLessThanOrEqual(1e-12);
    expect(s.rsi14.values.slice(0, 6)).toEqual([0, 0, 0, 0, 0, 0]); // closes[0..19] are flat
  });
});

describe.skipIf(!REAL.present)('closes recomputed from the raw files', () => {
  it('TAQ XXX: last CORR=0 trade price per UTC minute', () => {
    const s = ref.series.taq_xxx_1m;
    const got = minuteCloses(
      path.join(dataDir, s.source),
      (f, col) => f[col('CORR')] === '0',
      (f, col) => Number(f[col('PRICE')]),
    );
    expect(got.minutes).toEqual(s.minutes);
    expect(got.closes).toEqual(s.closes);
  });

  it('EUR/USD: mid of the last tick per UTC minute', () => {
    const s = ref.series.eurusd_mid_1m;
    const got = minuteCloses(
      path.join(dataDir, s.source),
      () => true,
      (f, col) => (Number(f[col('bid')]) + Number(f[col('ask')])) / 2,
    );
    expect(got.minutes).toEqual(s.minutes);
    expect(got.closes).toEqual(s.closes);
  });
});
