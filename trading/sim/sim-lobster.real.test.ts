/**
 * The fill simulator on the real LOBSTER GOOG day (NASDAQ, 10-level book, 2012-06-21), imported
 * by the platform's importer: invariants, and numbers checked by hand against the raw files
 * (the orderbook CSV row of the instant; see each test).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { MarketEvent } from '../../core/events.ts';
import { importLobster } from '../../datasets/import-lobster.ts';
import { realData } from '../../testing/real-data.ts';
import type { Fill, Instrument } from '../types.ts';
import { ZERO_LATENCY, constantLatency } from './latency.ts';
import { createSimulator, drain, onMarket, submit, workingOrders } from './matcher.ts';
import type { QueueModel } from './queue.ts';
import type { SimReport } from './reports.ts';
import { importedEvents } from './real-events.ts';

const ZIP = 'equity_lobster/LOBSTER_SampleFile_GOOG_2012-06-21_10.zip';
const REAL = realData('fill simulator on LOBSTER GOOG 2012-06-21', ZIP);
const GOOG: Instrument = { symbol: 'GOOG', tick: 0.01, lot: 1, multiplier: 1 };
/** 2012-06-21 10:00:00 New York (EDT) in ns. */
const T10 = 1_340_287_200_000_000_000n;
let evs: MarketEvent[] = [];

/** Plays the day with one order decided at `ts`; returns its fills. */
function runOne(model: QueueModel, side: 1 | -1, qty: number, limitPx: number | null, ts: bigint, latencyNs = 0n): { fills: Fill[]; reports: SimReport[] } {
  const sim = createSimulator({ instrument: GOOG, queueModel: model, latency: latencyNs === 0n ? ZERO_LATENCY : constantLatency({ entryNs: latencyNs, responseNs: latencyNs }) });
  const fills: Fill[] = [];
  let sent = false;
  for (const e of evs) {
    if (!sent && e.tsRecv >= ts) {
      fills.push(...submit(sim, { id: 'O-1', parentId: 'O', symbol: 'GOOG', side, qty, limitPx, ts }));
      sent = true;
    }
    fills.push(...onMarket(sim, e));
  }
  const reports = drain(sim, 1n << 62n);
  expect(reports.filter((r) => r.type === 'fill').length).toBe(fills.length);
  expect(fills.reduce((s, f) => s + f.qty, 0) + workingOrders(sim).reduce((s, o) => s + o.leaves, 0)).toBeLessThanOrEqual(qty);
  return { fills, reports };
}

/** The L2 book just before `ts`, rebuilt naively (price → size maps) from the book rows. */
function naiveBook(ts: bigint): { bids: Map<number, number>; asks: Map<number, number> } {
  const bids = new Map<number, number>();
  const asks = new Map<number, number>();
  for (const e of evs) {
    if (e.tsRecv >= ts) break;
    if (e.kind !== 'book') continue;
    const m = e.side === 1 ? bids : asks;
    if (e.size === 0) m.delete(e.price);
    else m.set(e.price, e.size);
  }
  return { bids, asks };
}

describe.skipIf(!REAL.present)('fill simulator on LOBSTER GOOG 2012-06-21', () => {
  beforeAll(async () => {
    evs = await importedEvents((out) => importLobster(REAL.path(ZIP), out), 'GOOG', ['2012-06-21']);
  }, 180_000);

  it('a market buy of 500 at 10:00 takes the 10 visible ask levels (394 shares) and cancels the rest', () => {
    // the raw orderbook row before the first message at or after 36000 s (line 12648 of
    // GOOG_..._orderbook_10.csv): asks 575.91×1, 575.92×100, 576.09×13, 576.10×15, 576.11×15,
    // 576.19×13, 576.30×100, 576.34×7, 576.60×30, 576.61×100
    const { fills, reports } = runOne({ type: 'risk-averse' }, 1, 500, null, T10);
    expect(fills.map((f) => [f.price, f.qty])).toEqual([
      [57591, 1], [57592, 100], [57609, 13], [57610, 15], [57611, 15], [57619, 13], [57630, 100], [57634, 7], [57660, 30], [57661, 100],
    ]);
    // decided at 10:00:00 with no latency: it takes effect at 10:00:00, before the next message (10:00:00.047)
    expect(fills.every((f) => f.tsEvent === T10)).toBe(true);
    expect(reports.at(-1)).toMatchObject({ type: 'cancelled', reason: 'market-unfilled', leaves: 106 });
    // the same against a naive rebuild of the book
    const asks = [...naiveBook(T10).asks].sort((x, y) => x[0] - y[0]);
    expect(fills.map((f) => [f.price / 100, f.qty])).toEqual(asks.slice(0, 10));
  });

  it('a bid at 568.13 behind 101 shares at 14:00 fills 4 at 14:00:21.43 and 96 at 14:00:31.92 (hand-checked)', () => {
    // messages at 568.13 after 50400 s: 50403.393603621 delete 100 (1 left ahead of us);
    // 50421.432622059 visible execution 1 and hidden execution 4 at 568.13 (4 past the front: ours);
    // 50431.924140296 hidden execution of 100 at 568.03, through our price: the rest fills
    const t14 = T10 + 4n * 3_600_000_000_000n;
    for (const m of [{ type: 'risk-averse' }, { type: 'prob', f: 'power', n: 3 }, { type: 'prob', f: 'log' }] as QueueModel[]) {
      const { fills } = runOne(m, 1, 100, 56813, t14);
      expect(fills.map((f) => [f.qty, f.price, f.tsEvent - t14])).toEqual([
        [4, 56813, 21_432_622_059n],
        [96, 56813, 31_924_140_296n],
      ]);
    }
    // 25 s of entry latency: the order arrives after the execution at 21.43 s and joins behind nobody
    // (the level is empty then), so only the print through its price at 31.92 s fills it, whole
    const late = runOne({ type: 'risk-averse' }, 1, 100, 56813, t14, 25_000_000_000n);
    expect(late.fills.map((f) => [f.qty, f.tsEvent - t14, f.tsRecv - t14])).toEqual([[100, 31_924_140_296n, 56_924_140_296n]]);
  });

  it('a day of orders: fills within the order, at the limit when passive, never beyond the visible book', () => {
    for (const m of [{ type: 'risk-averse' }, { type: 'prob', f: 'power', n: 3 }] as QueueModel[]) {
      const sim = createSimulator({ instrument: GOOG, queueModel: m, latency: constantLatency({ feedNs: 0n, entryNs: 1_000_000n, responseNs: 1_000_000n }) });
      const orders = new Map<string, { side: 1 | -1; qty: number; limitPx: number | null }>();
      const fills: Fill[] = [];
      let next = T10 - 1_800_000_000_000n;
      let n = 0;
      const book = { bid: 0, ask: 0 };
      for (const e of evs) {
        if (e.kind === 'quote') {
          book.bid = Math.round(e.bidPx * 100);
          book.ask = Math.round(e.askPx * 100);
        }
        if (e.tsRecv >= next && book.bid > 0) {
          // every 5 minutes: a passive bid and a passive offer at the touch, and a small market order
          for (const [side, qty, limitPx] of [[1, 100, book.bid], [-1, 100, book.ask], [n % 2 === 0 ? 1 : -1, 50, null]] as const) {
            const id = `O-${++n}`;
            orders.set(id, { side, qty, limitPx });
            fills.push(...submit(sim, { id, parentId: 'O', symbol: 'GOOG', side, qty, limitPx, ts: e.tsRecv }));
          }
          next = e.tsRecv + 300_000_000_000n;
        }
        fills.push(...onMarket(sim, e));
      }
      const filled = new Map<string, number>();
      for (const f of fills) {
        const o = orders.get(f.orderId)!;
        filled.set(f.orderId, (filled.get(f.orderId) ?? 0) + f.qty);
        // a limit order fills at its limit when passive, at a level's price (never beyond the limit) when it crosses
        if (o.limitPx !== null) expect(o.side === 1 ? f.price <= o.limitPx : f.price >= o.limitPx).toBe(true);
        expect(Number.isInteger(f.qty) && f.qty > 0).toBe(true);
        expect(f.tsRecv - f.tsEvent).toBe(1_000_000n);
      }
      for (const [id, q] of filled) expect(q).toBeLessThanOrEqual(orders.get(id)!.qty);
      const passive = [...orders].filter(([, o]) => o.limitPx !== null);
      const passiveFilled = passive.filter(([id]) => filled.has(id)).length;
      console.log(`[sim lobster] ${JSON.stringify(m)}: ${orders.size} orders, ${fills.length} fills, ${passiveFilled}/${passive.length} passive orders (partly) filled`);
      expect(passiveFilled).toBeGreaterThan(passive.length / 4);
      expect(fills.length).toBeGreaterThan(100);
    }
  });
});
