import { describe, expect, it } from 'vitest';
import { cancel, createSimulator, drain, onMarket, onMarketBatch, submit, workingOrders } from './matcher.ts';
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
