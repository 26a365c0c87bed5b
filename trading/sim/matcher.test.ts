import { describe, expect, it } from 'vitest';
import { cancel, createSimulator, drain, onMarketBatch, submit, topOfBook, visibleLots, workingOrders } from './matcher.ts';
import { constantLatency, ZERO_LATENCY } from './latency.ts';
import { INST, order, quote, row, snapshot, trade } from './test-events.ts';
import type { Fill } from '../types.ts';
import type { MarketEvent } from '../../core/events.ts';

const RA = { type: 'risk-averse' } as const;
const sim0 = (over: Partial<Parameters<typeof createSimulator>[0]> = {}) => createSimulator({ instrument: INST, queueModel: RA, latency: ZERO_LATENCY, ...over });
const play = (sim: ReturnType<typeof sim0>, evs: MarketEvent[]): Fill[] => onMarketBatch(sim, evs);
const brief = (fs: Fill[]) => fs.map((f) => [f.fillId, f.price, f.qty]);

describe('marketable orders', () => {
  it('a market buy sweeps three ask levels at their prices', () => {
    const sim = sim0();
    play(sim, snapshot(1000n, [[99.99, 100]], [[100.0, 100], [100.01, 200], [100.02, 300], [100.03, 400]]));
    const fills = submit(sim, order('A-1', 1, 450, null, 1000n));
    expect(brief(fills)).toEqual([['A-1-f1', 10000, 100], ['A-1-f2', 10001, 200], ['A-1-f3', 10002, 150]]);
    expect(fills.every((f) => f.tsEvent === 1000n && f.tsRecv === 1000n)).toBe(true);
    // what we took stays taken until the data updates the level
    expect(brief(submit(sim, order('A-2', 1, 200, 10002, 1000n)))).toEqual([['A-2-f1', 10002, 150]]);
    expect(workingOrders(sim).map((o) => [o.id, o.leaves, o.limitPx])).toEqual([['A-2', 50, 10002]]);
    expect(topOfBook(sim)).toEqual({ bid: 9999, bidLots: 100, ask: 10000, askLots: 100 });
    expect([visibleLots(sim, -1, 10000), visibleLots(sim, -1, 10002), visibleLots(sim, -1, 10003)]).toEqual([0, 0, 400]);
    // the data updates 100.00: what we took there is forgotten
    play(sim, [row(2000n, -1, 100.0, 80)]);
    expect(visibleLots(sim, -1, 10000)).toBe(80);
  });

  it('a market order larger than the book: the rest is cancelled (market-unfilled)', () => {
    const sim = sim0();
    play(sim, snapshot(1000n, [[99.99, 100], [99.98, 50]], [[100.0, 10]]));
    const fills = submit(sim, order('S-1', -1, 200, null, 1000n));
    expect(brief(fills)).toEqual([['S-1-f1', 9999, 100], ['S-1-f2', 9998, 50]]);
    const reps = drain(sim, 1000n);
    expect(reps.map((r) => r.type)).toEqual(['ack', 'fill', 'fill', 'cancelled']);
    expect(reps[3]).toMatchObject({ type: 'cancelled', leaves: 50, reason: 'market-unfilled' });
  });
});

describe('passive orders (risk-averse)', () => {
  it('a bid behind 500 lots fills only after 500 traded at its price', () => {
    const sim = sim0();
    play(sim, snapshot(1000n, [[99.99, 500]], [[100.0, 300]]));
    expect(submit(sim, order('B-1', 1, 100, 9999, 1000n))).toEqual([]);
    expect(play(sim, [trade(2000n, 99.99, 200, -1), row(2000n, 1, 99.99, 300)])).toEqual([]);
    expect(play(sim, [trade(3000n, 99.99, 250, -1), row(3000n, 1, 99.99, 50)])).toEqual([]);
    // 450 traded: 50 ahead; a print of 80 gives us 30
    expect(brief(play(sim, [trade(4000n, 99.99, 80, -1)]))).toEqual([['B-1-f1', 9999, 30]]);
    expect(brief(play(sim, [trade(5000n, 99.99, 500, -1)]))).toEqual([['B-1-f2', 9999, 70]]);
    expect(workingOrders(sim)).toEqual([]);
  });

  it('buyer-initiated prints do not fill a resting bid; a sell print below it fills it whole', () => {
    const sim = sim0();
    play(sim, snapshot(1000n, [[99.99, 500]], [[100.0, 300]]));
    submit(sim, order('B-1', 1, 100, 9999, 1000n));
    expect(play(sim, [trade(2000n, 99.99, 1000, 1)])).toEqual([]);
    expect(brief(play(sim, [trade(3000n, 99.98, 1, -1)]))).toEqual([['B-1-f1', 9999, 100]]);
  });
});

describe('the book of one instant', () => {
  it('a book row printed before its trade at the same instant is not counted twice (LOBSTER order)', () => {
    const sim = sim0();
    play(sim, snapshot(1000n, [[99.99, 500]], [[100.0, 300]]));
    submit(sim, order('B-1', 1, 100, 9999, 1000n));
    // an execution of 100: the merge puts the book row (500 -> 400) before the trade
    expect(play(sim, [row(2000n, 1, 99.99, 400), trade(2000n, 99.99, 100, -1)])).toEqual([]);
    // still 400 ahead: 399 more traded leave 1 ahead, and nothing for us
    expect(play(sim, [row(3000n, 1, 99.99, 1), trade(3000n, 99.99, 399, -1)])).toEqual([]);
    expect(brief(play(sim, [row(4000n, 1, 99.99, 0, {}), trade(4000n, 99.99, 3, -1)]))).toEqual([['B-1-f1', 9999, 2]]);
  });

  it('the probabilistic model moves the order up on cancels (power 2)', () => {
    const sim = sim0({ queueModel: { type: 'prob', f: 'power', n: 2 } });
    play(sim, snapshot(1000n, [[99.99, 300]], [[100.0, 300]]));
    submit(sim, order('B-1', 1, 100, 9999, 1000n)); // front 300
    play(sim, [row(1500n, 1, 99.99, 500)]); // 200 join behind: front 300, back 200
    play(sim, [row(2000n, 1, 99.99, 400)]); // 100 cancelled: front 300 - 100·9/13 = 230.77
    expect(workingOrders(sim)[0].q.front).toBe(300); // settled at the next instant
    expect(play(sim, [trade(3000n, 99.99, 230, -1)])).toEqual([]);
    expect(workingOrders(sim)[0].q.front).toBeCloseTo(300 - 900 / 13 - 230, 9);
    // 0.77 ahead: a print of 5 gives floor(5 - 0.77) = 4 lots
    expect(brief(play(sim, [trade(4000n, 99.99, 5, -1)]))).toEqual([['B-1-f1', 9999, 4]]);
  });
});

describe('latency', () => {
  const book = () => snapshot(1000n, [[99.99, 500]], [[100.0, 100], [100.01, 100]]);

  it('entry latency: the order meets the book of its arrival; response latency: the fill is read later', () => {
    const fast = sim0();
    play(fast, book());
    expect(brief(submit(fast, order('A-1', 1, 100, null, 1000n)))).toEqual([['A-1-f1', 10000, 100]]);

    const slow = sim0({ latency: constantLatency({ entryNs: 500n, responseNs: 300n }) });
    play(slow, book());
    expect(submit(slow, order('A-1', 1, 100, null, 1000n))).toEqual([]); // on its way until 1500
    expect(play(slow, [row(1200n, -1, 100.0, 0)])).toEqual([]); // the best ask leaves meanwhile
    const fills = play(slow, [trade(1600n, 100.01, 1, 1)]);
    expect(brief(fills)).toEqual([['A-1-f1', 10001, 100]]);
    expect(fills[0]).toMatchObject({ tsEvent: 1500n, tsRecv: 1800n });
    expect(drain(slow, 1799n)).toEqual([]);
    expect(drain(slow, 1800n).map((r) => r.type)).toEqual(['ack', 'fill']);
  });

  it('an order arriving after its level vanished (and refilled) queues behind the newcomers', () => {
    // 99.99 empties at 1500 and 400 new lots join it at 1700; then 30 trade there
    const evs = (): MarketEvent[] => [row(1500n, 1, 99.99, 0), row(1500n, 1, 99.98, 50), row(1700n, 1, 99.99, 400), trade(2500n, 99.99, 30, -1)];
    const fast = sim0();
    play(fast, book());
    submit(fast, order('B-1', 1, 100, 9999, 1000n)); // behind 500, then first in line once the level empties
    expect(brief(play(fast, evs()))).toEqual([['B-1-f1', 9999, 30]]);
    const slow = sim0({ latency: constantLatency({ entryNs: 1000n }) });
    play(slow, book());
    submit(slow, order('B-1', 1, 100, 9999, 1000n)); // arrives at 2000: behind the 400
    expect(play(slow, evs())).toEqual([]);
    expect(workingOrders(slow)[0].q.front).toBe(370);
  });
});

describe('cancels', () => {
  it('a cancel that arrives before the print saves the order; one that arrives after is rejected', () => {
    const lat = constantLatency({ entryNs: 100n, responseNs: 10n });
    const a = sim0({ latency: lat });
    play(a, snapshot(1000n, [[99.99, 0.0]], [[100.0, 300]]));
    submit(a, order('B-1', 1, 100, 9999, 1000n));
    cancel(a, { id: 'B-1', parentId: 'P', symbol: 'TEST', ts: 1850n, reason: 'test' }); // at 1950
    expect(play(a, [trade(2000n, 99.99, 500, -1)])).toEqual([]);
    expect(drain(a, 10_000n).map((r) => [r.type, r.tsRecv])).toEqual([['ack', 1110n], ['cancelled', 1960n]]);

    const b = sim0({ latency: lat });
    play(b, snapshot(1000n, [[99.99, 0.0]], [[100.0, 300]]));
    submit(b, order('B-1', 1, 100, 9999, 1000n));
    cancel(b, { id: 'B-1', parentId: 'P', symbol: 'TEST', ts: 1950n, reason: 'test' }); // at 2050
    expect(brief(play(b, [trade(2000n, 99.99, 500, -1), trade(2100n, 99.0, 1, 0)]))).toEqual([['B-1-f1', 9999, 100]]);
    const reps = drain(b, 10_000n);
    expect(reps.map((r) => r.type)).toEqual(['ack', 'fill', 'cancel-rejected']);
    expect(reps[2]).toMatchObject({ reason: 'already complete', tsEvent: 2050n, tsRecv: 2060n });
    cancel(b, { id: 'nope', parentId: 'P', symbol: 'TEST', ts: 3000n, reason: 'test' });
    play(b, [trade(3200n, 99.0, 1, 0)]);
    expect(drain(b, 10_000n)).toMatchObject([{ type: 'cancel-rejected', reason: 'unknown order' }]);
  });
});

describe('L1 quotes (no L2 in the data)', () => {
  it('builds a one-level book, sweeps it, and leaves an out-of-view queue estimate alone', () => {
    const sim = sim0();
    play(sim, [quote(1000n, 99.99, 300, 100.0, 200)]);
    expect(brief(submit(sim, order('A-1', 1, 250, 10000, 1000n)))).toEqual([['A-1-f1', 10000, 200]]);
    // the rest (50) rests at 100.00 where the bid side shows nothing: inside the spread, first in line
    expect(workingOrders(sim)[0]).toMatchObject({ leaves: 50, q: { front: 0 } });
    submit(sim, order('B-1', 1, 100, 9999, 1000n)); // behind 300
    // the bid moves up to our 100.00: 99.99 is out of view now and B-1's estimate stands
    play(sim, [quote(2000n, 100.0, 10, 100.01, 100)]);
    play(sim, [quote(3000n, 100.0, 10, 100.01, 100)]);
    expect(workingOrders(sim).find((o) => o.id === 'B-1')!.q.front).toBe(300);
    // a quote whose ask comes down to 100.00 trades through A-1's rest
    expect(brief(play(sim, [quote(4000n, 99.99, 300, 100.0, 20)]))).toEqual([['A-1-f2', 10000, 50]]);
  });
});

describe('fees and ids', () => {
  it('maker and taker bps on the notional, in units of the fee grid', () => {
    const sim = sim0({ fees: { makerBps: -0.5, takerBps: 2, grid: 0.01 }, account: 'acct', strategy: 'vwap' });
    play(sim, snapshot(1000n, [[99.99, 0]], [[100.0, 100]]));
    const [t] = submit(sim, order('A-1', 1, 100, null, 1000n));
    // 100 × 100.00 = 10,000 USD × 2 bps = 2 USD = 200 cents
    expect(t).toMatchObject({ fee: 200, account: 'acct', strategy: 'vwap', symbol: 'TEST', orderId: 'A-1' });
    submit(sim, order('B-1', 1, 10, 9999, 1000n));
    const [m] = play(sim, [trade(2000n, 99.99, 10, -1)]);
    // 10 × 99.99 = 999.90 × -0.5 bps = -0.049995 USD → -5 cents
    expect(m).toMatchObject({ fillId: 'B-1-f1', fee: -5, qty: 10, price: 9999 });
  });

  it('refuses bad orders with the field and value', () => {
    const sim = sim0();
    expect(() => submit(sim, order('X', 1, 0, null, 1n))).toThrow(/qty=0/);
    expect(() => submit(sim, order('X', 1, 1.5, null, 1n))).toThrow(/qty=1.5/);
    expect(() => submit(sim, order('X', 1, 1, 99.99, 1n))).toThrow(/limitPx=99.99/);
    expect(() => submit(sim, { ...order('X', 1, 1, null, 1n), symbol: 'OTHER' })).toThrow(/symbol="OTHER"/);
    submit(sim, order('X', 1, 1, null, 1n));
    expect(() => submit(sim, order('X', 1, 1, null, 2n))).toThrow(/already submitted/);
    expect(() => play(sim, [row(1000n, 1, 99.995, 1)])).toThrow(/99.995 is not on the tick grid/);
  });
});

describe('state', () => {
  it('a structuredClone of the state continues exactly like the original', () => {
    const evs = (t0: bigint): MarketEvent[] => [trade(t0, 99.99, 120, -1), row(t0 + 1n, 1, 99.99, 700), row(t0 + 2n, 1, 99.99, 650), trade(t0 + 3n, 99.99, 300, -1)];
    const a = sim0({ queueModel: { type: 'prob', f: 'log' }, latency: constantLatency({ entryNs: 5n, responseNs: 7n }) });
    play(a, snapshot(1000n, [[99.99, 500]], [[100.0, 300]]));
    submit(a, order('B-1', 1, 400, 9999, 1000n));
    play(a, evs(2000n));
    const b = structuredClone(a);
    const fa = [...play(a, evs(3000n)), ...play(a, evs(4000n))];
    const fb = [...play(b, evs(3000n)), ...play(b, evs(4000n))];
    expect(fb).toEqual(fa);
    expect(fa.length).toBeGreaterThan(0);
    expect(drain(b, 1n << 60n)).toEqual(drain(a, 1n << 60n));
  });
});
