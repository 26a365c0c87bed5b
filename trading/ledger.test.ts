/**
 * The ledger's money: exact PnL on hand-made fills, invariance to splitting a fill, the cash-flow
 * identity, refusals (off-grid prices, bad values, duplicates), and the limits' breach records.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UserError } from '../core/errors.ts';
import { defaultInstruments, parseInstruments } from './instruments.ts';
import { applyFill, applyMark, DEFAULT_VAR, initLedger, positionRealized, positionUnrealized, type Ledger, type StartPosition } from './ledger.ts';
import { snapshot } from './ledger-snapshot.ts';
import { evaluateLimits, initLimits, parseLimits, checkOrderRate } from './limits.ts';
import { clearDirty } from './ledger.ts';
import { toGrid, OffGridError } from './money.ts';
import type { Fill } from './types.ts';

const ledger = (startPositions: StartPosition[] = []) => initLedger({ instruments: defaultInstruments(), mark: 'mid', ...DEFAULT_VAR, startPositions });
let n = 0;
const fill = (side: 1 | -1, qty: number, price: number, o: Partial<Fill> = {}): Fill => ({ fillId: `f${++n}`, account: 'A', strategy: 'S', symbol: 'X', side, qty, price, fee: 0, orderId: '', tsEvent: 1n, tsRecv: 1n, ...o });

describe('ledger: exact PnL', () => {
  it('buy 100 @ 10.00, sell 40 @ 10.05, mark 10.10: realized 2.00, unrealized 6.00, fees 1.50, day PnL 6.50', () => {
    const l = ledger();
    expect(applyFill(l, fill(1, 100, 1000, { fee: 100_000_000 }))).toBe('applied');
    expect(applyFill(l, fill(-1, 40, 1005, { fee: 50_000_000 }))).toBe('applied');
    applyMark(l, 'X', 2n, 1010, null);
    const s = snapshot(l, 2n);
    const b = s.books[1];
    expect([b.realized, b.unrealized, b.fees, b.dayPnl, b.gross, b.net]).toEqual([2, 6, 1.5, 6.5, 606, 606]);
    expect(s.positions[0]).toMatchObject({ lots: 60, avgPrice: 10, mark: 10.1, realized: 2, unrealized: 6 });
  });

  it('average cost on a partial close is exact (buy 1 @ 10, 2 @ 11, sell 1 @ 12: realized 12 − 32/3 = 4/3 ticks)', () => {
    const l = ledger();
    applyFill(l, fill(1, 1, 1000));
    applyFill(l, fill(1, 2, 1100));
    applyFill(l, fill(-1, 1, 1200));
    const p = l.positions[0];
    // money units: 1 tick·lot = 1e6 units (0.01 at the 1e-8 grid); realized = 1200e6 − 3200e6/3 = 400e6/3
    expect(positionRealized(p)).toEqual([400_000_000n, 3n]);
    applyMark(l, 'X', 2n, 1200, null);
    // 2 lots left at average 3200/3 ticks: unrealized = 2400e6 − 6400e6/3 = 800e6/3
    expect(positionUnrealized(p)).toEqual([800_000_000n, 3n]);
    expect(snapshot(l, 2n).books[0].dayPnl).toBe(4); // 2400 + 1200 − 3200 ticks = 4.00
  });

  it('a close through zero opens the rest at the fill price; a short gains when the price falls', () => {
    const l = ledger();
    applyFill(l, fill(1, 10, 1000));
    applyFill(l, fill(-1, 30, 1100)); // realizes 10 × 1.00, opens 20 short @ 11.00
    applyMark(l, 'X', 2n, 1050, null);
    const b = snapshot(l, 2n).books[0];
    expect([b.realized, b.unrealized, b.net, b.gross]).toEqual([10, 10, -210, 210]);
  });

  it('start-of-day positions: day PnL from mark_price, realized against the carried average', () => {
    const l = ledger([{ account: 'A', strategy: 'S', symbol: 'X', qty: 100, avgCost: 9_00_000_000, markTicks: 1000 }]);
    expect(snapshot(l, 0n).books[0].dayPnl).toBe(0);
    applyFill(l, fill(-1, 100, 1020));
    const b = snapshot(l, 1n).books[0];
    expect([b.realized, b.unrealized, b.dayPnl]).toEqual([120, 0, 20]); // sold at 10.20 vs cost 9.00; vs close 10.00
  });

  it('drawdown from the high-water mark; concentration and VaR (z·rv·√(h/N)·|notional|)', () => {
    const l = ledger();
    applyFill(l, fill(1, 100, 1000));
    applyFill(l, fill(1, 300, 1000, { symbol: 'Y' }));
    applyMark(l, 'X', 2n, 1100, 0.01);
    applyMark(l, 'X', 3n, 1050, null);
    const b = snapshot(l, 3n).books[0];
    expect(b.hwm).toBe(100);
    expect(b.drawdown).toBe(50);
    expect(b.concentration).toBeCloseTo(3000 / 4050, 12);
    expect(b.var).toBeCloseTo(DEFAULT_VAR.varZ * 0.01 * Math.sqrt(60 / 5) * 1050, 9);
    expect(b.varMissing).toBe(1); // Y has no rv yet
  });
});

/** Exact total PnL (cash + MV, money units) from the fills alone, and from the ledger's rationals. */
function identity(l: Ledger, fills: Fill[], mark: number): [bigint, bigint] {
  let cash = 0n;
  let qty = 0n;
  for (const f of fills) {
    cash -= BigInt(f.side * f.qty) * BigInt(f.price) * 1_000_000n;
    qty += BigInt(f.side * f.qty);
  }
  const p = l.positions[0];
  const [rn, rd] = positionRealized(p);
  const [un, ud] = positionUnrealized(p);
  // rn/rd + un/ud must be an integer (the basis cancels)
  const sum = rn * ud + un * rd;
  expect(sum % (rd * ud)).toBe(0n);
  return [cash + qty * BigInt(mark) * 1_000_000n, sum / (rd * ud)];
}

const arbFills = fc.array(fc.record({ side: fc.constantFrom(1 as const, -1 as const), qty: fc.integer({ min: 1, max: 500 }), price: fc.integer({ min: 1, max: 100_000 }) }), { minLength: 1, maxLength: 30 });

describe('ledger: properties', () => {
  it('realized + unrealized = cash flow + market value, exactly (any fills, any mark)', () => {
    fc.assert(
      fc.property(arbFills, fc.integer({ min: 1, max: 100_000 }), (raw, mark) => {
        const l = ledger();
        const fills = raw.map((r) => fill(r.side, r.qty, r.price));
        for (const f of fills) expect(applyFill(l, f)).toBe('applied');
        applyMark(l, 'X', 5n, mark, null);
        const [want, got] = identity(l, fills, mark);
        expect(got).toBe(want);
        expect(snapshot(l, 5n).books[0].dayPnl).toBe(Number(want) / 1e8);
      }),
      { numRuns: 200 },
    );
  });

  it('splitting a fill into parts (same side and price) changes nothing', () => {
    fc.assert(
      fc.property(arbFills, fc.nat(), fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 5 }), fc.integer({ min: 1, max: 100_000 }), (raw, which, cuts, mark) => {
        const k = which % raw.length;
        const whole = ledger();
        const split = ledger();
        raw.forEach((r, i) => {
          applyFill(whole, fill(r.side, r.qty, r.price, { fee: r.qty * 1000 }));
          if (i !== k || r.qty < 2) return void applyFill(split, fill(r.side, r.qty, r.price, { fee: r.qty * 1000 }));
          let left = r.qty;
          for (const c of cuts) {
            const q = Math.min(left - 1, c);
            if (q <= 0) break;
            applyFill(split, fill(r.side, q, r.price, { fee: q * 1000 }));
            left -= q;
          }
          applyFill(split, fill(r.side, left, r.price, { fee: left * 1000 }));
        });
        applyMark(whole, 'X', 5n, mark, null);
        applyMark(split, 'X', 5n, mark, null);
        expect(positionRealized(split.positions[0])).toEqual(positionRealized(whole.positions[0]));
        expect(positionUnrealized(split.positions[0])).toEqual(positionUnrealized(whole.positions[0]));
        const a = snapshot(whole, 5n).books[0];
        const b = snapshot(split, 5n).books[0];
        expect([b.dayPnl, b.fees, b.gross, b.net]).toEqual([a.dayPnl, a.fees, a.gross, a.net]);
        expect(b.realized).toBeCloseTo(a.realized, 6);
      }),
      { numRuns: 200 },
    );
  });
});

describe('ledger: refusals', () => {
  it('off-grid prices are refused naming the value; float noise is not', () => {
    expect(toGrid(10.05, 0.01, 'p')).toBe(1005);
    expect(toGrid(0.1 + 0.2, 0.1, 'p')).toBe(3);
    expect(() => toGrid(100.005, 0.01, 'fills.csv, line 3, field price')).toThrow(OffGridError);
    expect(() => toGrid(100.005, 0.01, 'fills.csv, line 3, field price')).toThrow('fills.csv, line 3, field price: 100.005 is not a multiple of 0.01');
  });

  it('a duplicate fill id is rejected as duplicate and not applied twice; bad values are rejected by reason', () => {
    const l = ledger();
    const f = fill(1, 10, 1000);
    expect(applyFill(l, f)).toBe('applied');
    expect(applyFill(l, { ...f })).toMatchObject({ rejected: 'duplicate' });
    expect(l.positions[0].qty).toBe(10);
    expect(applyFill(l, fill(1, 0, 1000))).toMatchObject({ rejected: 'bad-qty' });
    expect(applyFill(l, fill(1, -5, 1000))).toMatchObject({ rejected: 'bad-qty' });
    expect(applyFill(l, fill(1, 5, 0))).toMatchObject({ rejected: 'bad-price' });
    expect(applyFill(l, fill(2 as 1, 5, 10))).toMatchObject({ rejected: 'bad-side' });
    const strict = initLedger({ instruments: parseInstruments({ instruments: { X: { tick: 0.01, lot: 1 } } }, 'i.json'), mark: 'mid', ...DEFAULT_VAR });
    expect(applyFill(strict, fill(1, 5, 10, { symbol: 'NOPE' }))).toMatchObject({ rejected: 'unknown-symbol' });
  });

  it('fill ids are remembered within the window of exchange time: a repeat inside it is a duplicate, a fill older than it is stale, and the ids kept stay bounded', () => {
    const l = initLedger({ instruments: defaultInstruments(), mark: 'mid', ...DEFAULT_VAR, fillIdWindowNs: 100n });
    const a = fill(1, 10, 1000, { fillId: 'a', tsEvent: 1000n, tsRecv: 1000n });
    expect(applyFill(l, a)).toBe('applied');
    expect(applyFill(l, { ...a, tsRecv: 1050n })).toMatchObject({ rejected: 'duplicate' });
    expect(applyFill(l, fill(1, 1, 1000, { fillId: 'b', tsEvent: 1200n, tsRecv: 1200n }))).toBe('applied');
    // a's ts_event (1000) is now before the clock (1200) − 100: forgotten, and its repeat is stale, never applied again
    expect([...l.fillIds.keys()]).toEqual(['b']);
    expect(applyFill(l, { ...a, tsRecv: 1210n })).toMatchObject({ rejected: 'stale', detail: expect.stringMatching(/fill_id "a": ts_event 1000 is more than 100 ns before the latest ts_recv 1210/) });
    // the clock is the latest ts_recv: a fill received late (ts_recv 1150 < 1200) is judged against 1200
    expect(applyFill(l, fill(1, 1, 1000, { fillId: 'c', tsEvent: 1099n, tsRecv: 1150n }))).toMatchObject({ rejected: 'stale' });
    expect(applyFill(l, fill(1, 1, 1000, { fillId: 'd', tsEvent: 1105n, tsRecv: 1205n }))).toBe('applied');
    expect(l.positions[0].qty).toBe(12);
    // a day of fills keeps about a window of ids, whatever their number
    for (let i = 0; i < 20_000; i++) expect(applyFill(l, fill(1, 1, 1000, { fillId: `x${i}`, tsEvent: 2000n + BigInt(i), tsRecv: 2000n + BigInt(i) }))).toBe('applied');
    expect(l.fillIds.size).toBeLessThanOrEqual(101);
    expect(l.fillQueue.length - l.fillHead).toBe(l.fillIds.size);
    expect(l.fillQueue.length).toBeLessThan(2500);
    // inside the window every id still refuses its repeat
    for (let i = 19_900; i < 20_000; i++) expect(applyFill(l, fill(1, 1, 1000, { fillId: `x${i}`, tsEvent: 2000n + BigInt(i), tsRecv: 22_000n }))).toMatchObject({ rejected: 'duplicate' });
  });

  it('instruments and limits files: unknown keys and impossible values name the field and value', () => {
    expect(() => parseInstruments({ instruments: { X: { tick: 0, lot: 1 } } }, 'i.json')).toThrow('i.json, field instruments.X.tick: must be a number > 0 (value 0)');
    expect(() => parseInstruments({ instruments: { X: { tick: 0.01, lots: 1 } } }, 'i.json')).toThrow(/field instruments\.X\.lots: unknown key/);
    expect(() => parseLimits({ max_daily_los: 5 }, 'l.json')).toThrow(/l\.json, field max_daily_los: unknown key/);
    expect(() => parseLimits({ max_drawdown: -1 }, 'l.json')).toThrow('l.json, field max_drawdown: must be a number > 0 (value -1)');
    expect(() => parseLimits({ actions: { drawdown: 'panic' } }, 'l.json')).toThrow(/field actions\.drawdown: unknown action.*\(value "panic"\)/);
    expect(() => parseLimits({ max_drawdown: -1 }, 'l.json')).toThrow(UserError);
  });
});

describe('limits', () => {
  it('a breach is emitted once when it starts and cleared once when it ends, with the numbers and the action', () => {
    const l = ledger();
    const st = initLimits(parseLimits({ default_symbol: { max_position: 150 }, max_daily_loss: 5, actions: { position: 'kill-symbol' } }, 'l.json'));
    const step = (ts: bigint) => {
      const r = evaluateLimits(st, l, ts);
      clearDirty(l);
      return r.map((x) => `${x.event} ${x.limit} ${x.scope} ${x.value}>${x.threshold} ${x.action}`);
    };
    applyFill(l, fill(1, 100, 1000));
    expect(step(1n)).toEqual([]);
    applyFill(l, fill(1, 100, 1000));
    expect(step(2n)).toEqual(['breach position symbol X (units) 200>150 kill-symbol']);
    applyMark(l, 'X', 3n, 997, null);
    expect(step(3n)).toEqual(['breach daily_loss total 6>5 kill-all']);
    applyMark(l, 'X', 4n, 996, null);
    expect(step(4n)).toEqual([]); // still in breach: no new record
    applyFill(l, fill(-1, 100, 996));
    applyMark(l, 'X', 5n, 1010, null);
    expect(step(5n)).toEqual(['clear position symbol X (units) 100>150 kill-symbol', 'clear daily_loss total -6>5 kill-all']);
  });

  it('order rate: orders per second of event time per account/strategy', () => {
    const st = initLimits(parseLimits({ max_order_rate: 2 }, 'l.json'));
    const s = 1_000_000_000n;
    expect(checkOrderRate(st, 'A', 'S', 0n)).toBeNull();
    expect(checkOrderRate(st, 'A', 'S', s / 2n)).toBeNull();
    expect(checkOrderRate(st, 'A', 'S', s - 1n)).toMatchObject({ event: 'breach', limit: 'order_rate', value: 3, threshold: 2 });
    expect(checkOrderRate(st, 'B', 'S', s - 1n)).toBeNull();
    expect(checkOrderRate(st, 'A', 'S', 3n * s)).toMatchObject({ event: 'clear', value: 1 });
  });
});
