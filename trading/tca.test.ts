/**
 * TCA on examples computed by hand (the arithmetic is in the comments).
 */
import { describe, expect, it } from 'vitest';
import { computeTca, formatTca, type TcaInput } from './tca.ts';

// buy 100 lots (lot 1, tick 0.01): P_d 100.00, P_0 100.02, P_n 100.10; fills 30 @ 100.03, 40 @ 100.05;
// fees 0.70; prints 1000 @ 100.00 and 600 @ 100.10
const BUY: TcaInput = {
  side: 1,
  qty: 100,
  tick: 0.01,
  lot: 1,
  multiplier: 1,
  arrivalMid: 10000,
  firstChildMid: 10002,
  endMid: 10010,
  fills: [
    { qty: 30, price: 10003 },
    { qty: 40, price: 10005 },
  ],
  fees: 0.7,
  marketVolume: 1600,
  marketNotional: 1000 * 100 + 600 * 100.1,
  childOrders: 5,
};

describe('computeTca', () => {
  it('a buy: Wagner split of Perold shortfall, slippage, participation', () => {
    const r = computeTca(BUY);
    // delay 100·0.02 = 2; trading 30·0.01 + 40·0.03 = 1.5; opportunity 30·0.08 = 2.4; + fees 0.7 = 6.6
    expect(r.shortfall!.delay).toBeCloseTo(2, 9);
    expect(r.shortfall!.trading).toBeCloseTo(1.5, 9);
    expect(r.shortfall!.opportunity).toBeCloseTo(2.4, 9);
    expect(r.shortfall!.total).toBeCloseTo(6.6, 9);
    // paper notional 100 · 100 = 10,000 → 6.6 bps
    expect(r.shortfall!.totalBps).toBeCloseTo(6.6, 9);
    // Perold directly: 30·100.03 + 40·100.05 + 30·100.10 − 100·100 + 0.7
    expect(r.shortfall!.total).toBeCloseTo(3000.9 + 4002 + 3003 - 10000 + 0.7, 9);
    // p̄ = 7002.9 / 70 = 100.041428…; vs arrival (100 − p̄)/100·1e4 = −4.142857 bps (worse)
    expect(r.avgFillPrice).toBeCloseTo(7002.9 / 70, 9);
    expect(r.slippageBps.vsArrival).toBeCloseTo(-4.142857142857, 6);
    // VWAP 160,060 / 1,600 = 100.0375; (100.0375 − 100.0414286)·1e4/100.0375 = −0.392710 bps
    expect(r.intervalVwap).toBeCloseTo(100.0375, 9);
    expect(r.slippageBps.vsIntervalVwap).toBeCloseTo(((100.0375 - 7002.9 / 70) / 100.0375) * 1e4, 9);
    expect(r.slippageBps.vsIntervalVwap).toBeCloseTo(-0.39271, 5);
    expect(r.participation).toBeCloseTo(70 / 1600, 12);
    expect(r.fillRate).toBe(0.7);
    expect(r.childOrders).toBe(5);
  });

  it('the mirrored sell has the same costs', () => {
    const r = computeTca({
      ...BUY,
      side: -1,
      firstChildMid: 9998,
      endMid: 9990,
      fills: [
        { qty: 30, price: 9997 },
        { qty: 40, price: 9995 },
      ],
      marketNotional: 1000 * 100 + 600 * 99.9,
    });
    expect(r.shortfall!.delay).toBeCloseTo(2, 9);
    expect(r.shortfall!.trading).toBeCloseTo(1.5, 9);
    expect(r.shortfall!.opportunity).toBeCloseTo(2.4, 9);
    expect(r.slippageBps.vsArrival).toBeCloseTo(-4.142857142857, 6);
  });

  it('a buy below arrival and VWAP is positive slippage; lot and multiplier scale currency', () => {
    // 10 lots of 100 units, multiplier 2: fill all at 99.90 against P_d = P_0 = P_n = 100.00
    const r = computeTca({ ...BUY, qty: 10, lot: 100, multiplier: 2, firstChildMid: null, endMid: 10000, fills: [{ qty: 10, price: 9990 }], fees: 0, marketVolume: 1000, marketNotional: 100_000 });
    // trading = 10 lots · 100 · 2 · (99.90 − 100) = −200 (a gain); 10 bps of 200,000 paper
    expect(r.shortfall!.trading).toBeCloseTo(-200, 9);
    expect(r.shortfall!.delay).toBe(0);
    expect(r.shortfall!.totalBps).toBeCloseTo(-10, 9);
    expect(r.slippageBps.vsArrival).toBeCloseTo(10, 9);
    expect(r.slippageBps.vsIntervalVwap).toBeCloseTo(10, 9);
    expect(r.participation).toBe(1);
  });

  it('no fills and no prints: unknown benchmarks are null, the whole order is opportunity', () => {
    const r = computeTca({ ...BUY, fills: [], fees: 0, marketVolume: 0, marketNotional: 0 });
    expect(r.avgFillPrice).toBeNull();
    expect(r.slippageBps).toEqual({ vsArrival: null, vsIntervalVwap: null });
    expect(r.participation).toBeNull();
    expect(r.shortfall!.opportunity).toBeCloseTo(100 * 0.08, 9);
    expect(formatTca(r, 'X')).toMatch(/vs arrival n\/a/);
  });
});
