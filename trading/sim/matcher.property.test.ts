/**
 * Properties of the fill simulator over random books, prints and orders (fast-check): fills never
 * exceed the order, never cross the limit, sit on the grid, and do not depend on how the events
 * are batched, on when reports are drained, or on a snapshot/restore in the middle.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { MarketEvent } from '../../core/events.ts';
import type { ChildOrder, Fill } from '../types.ts';
import { constantLatency } from './latency.ts';
import { advance, createSimulator, drain, onMarketBatch, submit, type SimState } from './matcher.ts';
import type { QueueModel } from './queue.ts';
import { INST, SYM } from './test-events.ts';
import type { SimReport } from './reports.ts';

const MODELS: QueueModel[] = [{ type: 'risk-averse' }, { type: 'prob', f: 'power', n: 3 }, { type: 'prob', f: 'log' }, { type: 'prob', f: 'power2', n: 2 }];

// prices around 100.00 on a 0.01 grid: 99.95 .. 100.05
const pxArb = fc.integer({ min: 9995, max: 10005 }).map((t) => t / 100);

type Raw = { dt: number; k: 'book'; side: 1 | -1; px: number; size: number; last: boolean } | { dt: number; k: 'trade'; px: number; size: number; side: 1 | -1 | 0 } | { dt: number; k: 'quote'; bid: number; ask: number; bs: number; as: number };

const rawArb: fc.Arbitrary<Raw> = fc.oneof(
  fc.record({ dt: fc.integer({ min: 0, max: 3 }), k: fc.constant('book' as const), side: fc.constantFrom(1 as const, -1 as const), px: pxArb, size: fc.integer({ min: 0, max: 400 }), last: fc.boolean() }),
  fc.record({ dt: fc.integer({ min: 0, max: 3 }), k: fc.constant('trade' as const), px: pxArb, size: fc.integer({ min: 1, max: 300 }), side: fc.constantFrom(1 as const, -1 as const, 0 as const) }),
  fc.record({ dt: fc.integer({ min: 0, max: 3 }), k: fc.constant('quote' as const), bid: pxArb, ask: pxArb, bs: fc.integer({ min: 0, max: 400 }), as: fc.integer({ min: 0, max: 400 }) }),
);

function events(raws: Raw[]): MarketEvent[] {
  let t = 1000n;
  let seq = 0n;
  const out: MarketEvent[] = [];
  // start from a snapshot so the L2 path is exercised; quotes only matter under depthFrom 'quote'
  for (const [side, px, size] of [[1, 99.99, 200], [1, 99.98, 300], [-1, 100.0, 200], [-1, 100.01, 300]] as const) {
    out.push({ kind: 'book', symbol: SYM, tsEvent: t, tsRecv: t, seq: ++seq, side, price: px, size, snapshot: true, last: side === -1 && px === 100.01 });
  }
  for (const r of raws) {
    t += BigInt(r.dt) * 100n;
    seq++;
    if (r.k === 'book') out.push({ kind: 'book', symbol: SYM, tsEvent: t, tsRecv: t, seq, side: r.side, price: r.px, size: r.size, snapshot: false, last: r.last });
    else if (r.k === 'trade') out.push({ kind: 'trade', symbol: SYM, tsEvent: t, tsRecv: t, seq, price: r.px, size: r.size, side: r.side });
    else out.push({ kind: 'quote', symbol: SYM, tsEvent: t, tsRecv: t, seq, bidPx: r.bid, bidSz: r.bs, askPx: r.ask, askSz: r.as });
  }
  return out;
}

const orderArb = fc.record({
  dt: fc.integer({ min: 0, max: 200 }),
  side: fc.constantFrom(1 as const, -1 as const),
  qty: fc.integer({ min: 1, max: 500 }),
  limit: fc.option(fc.integer({ min: 9993, max: 10007 }), { nil: null }),
});

const scenarioArb = fc.record({
  raws: fc.array(rawArb, { maxLength: 120 }),
  orders: fc.array(orderArb, { maxLength: 8 }),
  model: fc.constantFrom(...MODELS),
  depthFrom: fc.constantFrom('auto' as const, 'quote' as const),
  entry: fc.integer({ min: 0, max: 300 }),
  response: fc.integer({ min: 0, max: 300 }),
  cuts: fc.array(fc.nat(), { maxLength: 6 }),
});
type Scenario = typeof scenarioArb extends fc.Arbitrary<infer T> ? T : never;

function childOrders(s: Scenario): ChildOrder[] {
  return s.orders.map((o, i) => ({ id: `P-${i + 1}`, parentId: 'P', symbol: SYM, side: o.side, qty: o.qty, limitPx: o.limit, ts: 1000n + BigInt(o.dt) * 10n }));
}

function newSim(s: Scenario): SimState {
  const sim = createSimulator({ instrument: INST, queueModel: s.model, depthFrom: s.depthFrom, latency: constantLatency({ entryNs: BigInt(s.entry), responseNs: BigInt(s.response) }) });
  for (const o of childOrders(s)) submit(sim, o);
  return sim;
}

/** Plays the events in the chunks `cuts` gives, draining and cloning the state at each cut. */
function run(s: Scenario, chunked: boolean): { fills: Fill[]; reports: SimReport[] } {
  const evs = events(s.raws);
  let sim = newSim(s);
  const fills: Fill[] = [];
  const reports: SimReport[] = [];
  const cuts = chunked ? [...new Set(s.cuts.map((c) => c % (evs.length + 1)))].sort((a, b) => a - b) : [];
  let from = 0;
  for (const c of [...cuts, evs.length]) {
    fills.push(...onMarketBatch(sim, evs.slice(from, c)));
    from = c;
    if (chunked) {
      reports.push(...drain(sim, evs[Math.max(0, c - 1)].tsRecv));
      sim = structuredClone(sim);
    }
  }
  // the orders still on their way when the data ends arrive in a quiet market
  fills.push(...advance(sim, 1n << 61n));
  reports.push(...drain(sim, 1n << 62n));
  return { fills, reports };
}

describe('fill simulator properties', () => {
  it('fills never exceed the order, never cross its limit, and are on the grid', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const { fills, reports } = run(s, false);
        const byOrder = new Map(childOrders(s).map((o) => [o.id, o]));
        const filled = new Map<string, number>();
        for (const f of fills) {
          const o = byOrder.get(f.orderId)!;
          expect(Number.isInteger(f.price) && f.price > 0).toBe(true);
          expect(Number.isInteger(f.qty) && f.qty > 0).toBe(true);
          if (o.limitPx !== null) expect(o.side === 1 ? f.price <= o.limitPx : f.price >= o.limitPx).toBe(true);
          expect(f.side).toBe(o.side);
          expect(f.tsRecv - f.tsEvent).toBe(BigInt(s.response));
          expect(f.tsEvent >= o.ts + BigInt(s.entry)).toBe(true);
          filled.set(o.id, (filled.get(o.id) ?? 0) + f.qty);
        }
        for (const [id, q] of filled) expect(q).toBeLessThanOrEqual(byOrder.get(id)!.qty);
        // fill ids are unique and numbered from 1 per order
        expect(new Set(fills.map((f) => f.fillId)).size).toBe(fills.length);
        // the reports carry the same fills, in tsRecv order
        expect(reports.filter((r) => r.type === 'fill').map((r) => (r as { fill: Fill }).fill)).toEqual(fills);
        for (let i = 1; i < reports.length; i++) expect(reports[i].tsRecv >= reports[i - 1].tsRecv).toBe(true);
        // every order is acked once; a market order ends filled or cancelled
        for (const o of childOrders(s)) expect(reports.filter((r) => r.type === 'ack' && r.orderId === o.id).length).toBe(1);
      }),
      { numRuns: 300 },
    );
  });

  it('the same fills and reports whatever the batching, draining and snapshot/restore points', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        expect(run(s, true)).toEqual(run(s, false));
      }),
      { numRuns: 200 },
    );
  });
});
