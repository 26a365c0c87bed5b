/**
 * The fill simulator on the real TAQ day (US equity "XXX", per-exchange quotes and trades without
 * an aggressor side, 2018-01-02): no L2, so the book is the last L1 quote (book.ts), and unsided
 * prints (some sub-penny) touch both sides.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { MarketEvent } from '../../core/events.ts';
import { importTaq } from '../../datasets/import-taq.ts';
import { realData } from '../../testing/real-data.ts';
import type { Fill, Instrument } from '../types.ts';
import { ZERO_LATENCY } from './latency.ts';
import { createSimulator, drain, onMarket, submit } from './matcher.ts';
import { importedEvents } from './real-events.ts';

const DIR = 'equity_taq_highfrequency';
const REAL = realData('fill simulator on TAQ XXX 2018-01-02', DIR);
const XXX: Instrument = { symbol: 'XXX', tick: 0.01, lot: 1, multiplier: 1 };
/** 2018-01-02 10:00:00 New York (EST) = 15:00 UTC, ns. */
const T10 = 1_514_905_200_000_000_000n;
let evs: MarketEvent[] = [];

describe.skipIf(!REAL.present)('fill simulator on TAQ XXX 2018-01-02', () => {
  beforeAll(async () => {
    evs = await importedEvents((out) => importTaq(REAL.path(DIR), out), 'XXX', ['2018-01-02']);
  }, 180_000);

  it('a market buy of 500 at 10:00 takes the last quote\'s offer only (100 at 158.62) and cancels 400', () => {
    // raw quotes: 1514905199786 (09:59:59.786) N 158.52 × 1 / 158.62 × 1 round lot
    const sim = createSimulator({ instrument: XXX, queueModel: { type: 'risk-averse' }, latency: ZERO_LATENCY });
    const fills: Fill[] = [];
    let sent = false;
    for (const e of evs) {
      if (!sent && e.tsRecv >= T10) {
        fills.push(...submit(sim, { id: 'M-1', parentId: 'M', symbol: 'XXX', side: 1, qty: 500, limitPx: null, ts: T10 }));
        sent = true;
      }
      fills.push(...onMarket(sim, e));
    }
    expect(fills.filter((f) => f.orderId === 'M-1').map((f) => [f.price, f.qty, f.tsEvent])).toEqual([[15862, 100, T10]]);
    expect(drain(sim, 1n << 62n).at(-1)).toMatchObject({ type: 'cancelled', reason: 'market-unfilled', leaves: 400 });
  });

  it('passive orders at the touch every 10 minutes: fills at the limit, within the order', () => {
    const sim = createSimulator({ instrument: XXX, queueModel: { type: 'prob', f: 'power', n: 2 }, latency: ZERO_LATENCY });
    const orders = new Map<string, { side: 1 | -1; qty: number; px: number }>();
    const fills: Fill[] = [];
    let next = T10;
    let n = 0;
    for (const e of evs) {
      if (e.kind === 'quote' && e.tsRecv >= next && e.bidPx > 0 && e.askPx > e.bidPx && e.tsRecv < T10 + 21_600_000_000_000n) {
        for (const [side, px] of [[1, Math.round(e.bidPx * 100)], [-1, Math.round(e.askPx * 100)]] as const) {
          const id = `P-${++n}`;
          orders.set(id, { side, qty: 200, px });
          fills.push(...submit(sim, { id, parentId: 'P', symbol: 'XXX', side, qty: 200, limitPx: px, ts: e.tsRecv }));
        }
        next = e.tsRecv + 600_000_000_000n;
      }
      fills.push(...onMarket(sim, e));
    }
    const filled = new Map<string, number>();
    for (const f of fills) {
      const o = orders.get(f.orderId)!;
      expect(f.price).toBe(o.px); // quotes are never crossed at entry here, so every fill is passive
      filled.set(f.orderId, (filled.get(f.orderId) ?? 0) + f.qty);
    }
    for (const [id, q] of filled) expect(q).toBeLessThanOrEqual(orders.get(id)!.qty);
    console.log(`[sim taq] ${orders.size} orders, ${fills.length} fills, ${filled.size} orders (partly) filled`);
    expect(filled.size).toBeGreaterThan(orders.size / 4);
  });
});
