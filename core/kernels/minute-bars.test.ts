import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeState, encodeState } from '../state-codec.ts';
import { advanceClock, closedBarStartNs, closedBarVwap, initMinuteBars, MINUTE_NS, minuteOf, onTrade, type MinuteBars } from './minute-bars.ts';
import { realData } from '../../testing/real-data.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../..');
const REAL = realData('real TAQ trades (XXX, 2018-01-02..03)', 'equity_taq_highfrequency/XXX_2018-01-02_03_trades_raw.csv.gz');
const taqFile = REAL.path('equity_taq_highfrequency/XXX_2018-01-02_03_trades_raw.csv.gz');
const refFile = path.resolve(here, '../factors/reference/talib-reference.json');

const T0 = 1_723_161_600_000_000_000n; // a whole minute
const SEC = 1_000_000_000n;

interface Bar {
  minute: bigint;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  buyVolume: number;
  sellVolume: number;
  count: number;
  vwapNumerator: number;
}

const readBar = (s: MinuteBars): Bar => ({
  minute: s.closeMinute,
  open: s.open,
  high: s.high,
  low: s.low,
  close: s.close,
  volume: s.volume,
  buyVolume: s.buyVolume,
  sellVolume: s.sellVolume,
  count: s.count,
  vwapNumerator: s.vwapNumerator,
});

type Ev = { t: bigint; trade: { price: number; size: number; side: number } | null };

function runBars(s: MinuteBars, evs: Ev[]): Bar[] {
  const bars: Bar[] = [];
  for (const e of evs) {
    const closed = e.trade ? onTrade(s, e.t, e.trade.price, e.trade.size, e.trade.side) : advanceClock(s, e.t);
    if (closed) bars.push(readBar(s));
  }
  return bars;
}

/** Naive batch bars for in-order trades: group by minute, keep minutes before the last event's minute. */
function batchBars(evs: Ev[]): Bar[] {
  const last = evs.length ? minuteOf(evs[evs.length - 1].t) : 0n;
  const byMinute = new Map<bigint, Bar>();
  for (const e of evs) {
    if (!e.trade) continue;
    const m = minuteOf(e.t);
    const { price, size, side } = e.trade;
    const b = byMinute.get(m);
    if (!b) {
      byMinute.set(m, { minute: m, open: price, high: price, low: price, close: price, volume: size, buyVolume: side > 0 ? size : 0, sellVolume: side < 0 ? size : 0, count: 1, vwapNumerator: price * size });
    } else {
      b.high = Math.max(b.high, price);
      b.low = Math.min(b.low, price);
      b.close = price;
      b.volume += size;
      if (side > 0) b.buyVolume += size;
      if (side < 0) b.sellVolume += size;
      b.count++;
      b.vwapNumerator += price * size;
    }
  }
  return [...byMinute.values()].filter((b) => b.minute < last);
}

const trade = (t: bigint, price: number, size = 1, side = 0): Ev => ({ t, trade: { price, size, side } });
const beat = (t: bigint): Ev => ({ t, trade: null });

describe('one-minute bars in event time', () => {
  it('closes a bar on the first trade of a later minute; that trade opens the next bar', () => {
    const s = initMinuteBars();
    expect(onTrade(s, T0 + 1n * SEC, 10, 1, 1)).toBe(false);
    expect(onTrade(s, T0 + 20n * SEC, 12, 2, -1)).toBe(false);
    expect(onTrade(s, T0 + 59n * SEC, 9, 1, 0)).toBe(false);
    expect(onTrade(s, T0 + MINUTE_NS, 11, 3, 1)).toBe(true); // exactly on the boundary
    expect(readBar(s)).toEqual({ minute: T0 / MINUTE_NS, open: 10, high: 12, low: 9, close: 9, volume: 4, buyVolume: 1, sellVolume: 2, count: 3, vwapNumerator: 10 + 24 + 9 });
    expect(closedBarVwap(s)).toBe(43 / 4);
    expect(closedBarStartNs(s)).toBe(T0);
    expect(s.curOpen).toBe(11);
  });

  it('a heartbeat past the boundary closes the bar; empty minutes produce no bar', () => {
    const s = initMinuteBars();
    expect(closedBarVwap(s)).toBeNull();
    onTrade(s, T0 + 5n * SEC, 10, 1, 0);
    expect(advanceClock(s, T0 + 30n * SEC)).toBe(false); // same minute
    expect(advanceClock(s, T0 + MINUTE_NS + 1n)).toBe(true);
    expect(s.closeMinute).toBe(T0 / MINUTE_NS);
    expect(advanceClock(s, T0 + 5n * MINUTE_NS)).toBe(false); // nothing open: no bar
    expect(onTrade(s, T0 + 7n * MINUTE_NS, 20, 1, 0)).toBe(false); // no bar was open
    expect(onTrade(s, T0 + 9n * MINUTE_NS, 21, 1, 0)).toBe(true);
    expect(s.closeMinute).toBe(T0 / MINUTE_NS + 7n);
    expect(s.barsClosed).toBe(2);
  });

  it('late trade: volume into the open bar, OHLC untouched', () => {
    const s = initMinuteBars();
    onTrade(s, T0 + 10n * SEC, 10, 1, 1);
    onTrade(s, T0 + MINUTE_NS + 10n * SEC, 20, 1, 1); // closes minute 0, opens minute 1
    onTrade(s, T0 + 30n * SEC, 99, 5, -1); // minute 0 again: late
    expect(s.lateTrades).toBe(1);
    expect(advanceClock(s, T0 + 2n * MINUTE_NS)).toBe(true);
    expect(readBar(s)).toMatchObject({ open: 20, high: 20, low: 20, close: 20, volume: 6, buyVolume: 1, sellVolume: 5, count: 2, vwapNumerator: 20 + 495 });
  });

  it('late trade with no open bar: held and added to the next bar that opens', () => {
    const s = initMinuteBars();
    onTrade(s, T0 + 10n * SEC, 10, 1, 0);
    advanceClock(s, T0 + MINUTE_NS); // closes minute 0; no bar open in minute 1
    onTrade(s, T0 + 20n * SEC, 50, 2, 1); // late, nothing open
    expect(s.barOpen).toBe(false);
    onTrade(s, T0 + MINUTE_NS + 5n * SEC, 30, 1, -1);
    advanceClock(s, T0 + 2n * MINUTE_NS);
    expect(readBar(s)).toMatchObject({ open: 30, high: 30, low: 30, close: 30, volume: 3, buyVolume: 2, sellVolume: 1, count: 2, vwapNumerator: 130 });
  });

  it('floors negative times to the earlier minute', () => {
    expect(minuteOf(-1n)).toBe(-1n);
    expect(minuteOf(-MINUTE_NS)).toBe(-1n);
    expect(minuteOf(MINUTE_NS - 1n)).toBe(0n);
  });

  const evsArb = fc
    .array(
      fc.record({
        dt: fc.oneof(fc.bigInt({ min: 0n, max: 5n * SEC }), fc.bigInt({ min: 0n, max: 3n * MINUTE_NS })),
        price: fc.integer({ min: 1, max: 1000 }),
        size: fc.integer({ min: 1, max: 100 }),
        side: fc.constantFrom(-1, 0, 1),
        beat: fc.boolean(),
      }),
      { maxLength: 200 },
    )
    .map((steps) => {
      let t = T0 + 17n;
      return steps.map((st): Ev => {
        t += st.dt;
        return st.beat ? beat(t) : trade(t, st.price, st.size, st.side);
      });
    });

  it('in-order streams give exactly the bars of a batch group-by minute', () => {
    fc.assert(
      fc.property(evsArb, (evs) => {
        expect(runBars(initMinuteBars(), evs)).toEqual(batchBars(evs));
      }),
    );
  });

  it('snapshot/restore mid-stream continues exactly', () => {
    fc.assert(
      fc.property(evsArb, fc.nat(), (evs, cut) => {
        const k = cut % (evs.length + 1);
        const a = initMinuteBars();
        const barsA = runBars(a, evs);
        let b = initMinuteBars();
        const barsB = runBars(b, evs.slice(0, k));
        b = decodeState<MinuteBars>(encodeState(b));
        barsB.push(...runBars(b, evs.slice(k)));
        expect(barsB).toEqual(barsA);
        expect(encodeState(b)).toEqual(encodeState(a));
      }),
    );
  });

  describe.skipIf(!REAL.present)('real TAQ trades (XXX, 2018-01-02..03)', () => {
    it('builds one bar per traded minute whose closes match the TA-Lib reference series', () => {
      const lines = gunzipSync(readFileSync(taqFile)).toString('utf8').trim().split('\n');
      const head = lines[0].split(',');
      const [iTs, iSize, iPrice, iCorr] = ['ts_utc_ms', 'SIZE', 'PRICE', 'CORR'].map((c) => head.indexOf(c));
      const s = initMinuteBars();
      const bars: Bar[] = [];
      let used = 0;
      let lastT = 0n;
      for (const line of lines.slice(1)) {
        const f = line.split(',');
        if (f[iCorr] !== '0') continue;
        used++;
        lastT = BigInt(f[iTs]) * 1_000_000n;
        if (onTrade(s, lastT, Number(f[iPrice]), Number(f[iSize]), 0)) bars.push(readBar(s));
      }
      if (advanceClock(s, lastT + MINUTE_NS)) bars.push(readBar(s)); // end-of-data heartbeat
      expect(used).toBe(77_261);
      expect(s.lateTrades).toBe(0); // the file is in time order
      expect(bars.reduce((a, b) => a + b.count, 0)).toBe(used);
      for (const b of bars) {
        expect(b.low).toBeLessThanOrEqual(Math.min(b.open, b.close));
        expect(b.high).toBeGreaterThanOrEqual(Math.max(b.open, b.close));
      }
      if (existsSync(refFile)) {
        const ref = JSON.parse(readFileSync(refFile, 'utf8')).series.taq_xxx_1m;
        expect(bars.map((b) => Number(b.minute))).toEqual(ref.minutes);
        expect(bars.map((b) => b.close)).toEqual(ref.closes);
      }
      console.log(`TAQ XXX: ${used} trades -> ${bars.length} one-minute bars`);
    });
  });
});
