/**
 * The execution algorithms on hand-built event sequences, where the right child orders are known:
 * TWAP slices evenly, POV tracks its share of prints, VWAP follows its curve, the limit holds, the
 * kill switch halts and reduces, and a run split anywhere (state copied in between) emits the same
 * orders as one uninterrupted run.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { MarketEvent, QuoteEvent, TradeEvent } from '../../core/events.ts';
import type { ChildOrder, Fill, OrderAction } from '../types.ts';
import { initExec, onFill, onKill, onMarket } from './algo.ts';
import type { ExecConfig, ExecState, ParentOrder } from './types.ts';

const S = 1_000_000_000n;
const MIN = 60n * S;
const T0 = 1_700_000_000n * S;
const INSTR = { symbol: 'X', tick: 0.01, lot: 1, multiplier: 1 };

let seq = 0n;
function quote(t: bigint, bid: number, ask: number, sz = 1000): QuoteEvent {
  return { kind: 'quote', symbol: 'X', tsEvent: t, tsRecv: t, seq: ++seq, bidPx: bid, askPx: ask, bidSz: sz, askSz: sz };
}
function trade(t: bigint, px: number, size: number): TradeEvent {
  return { kind: 'trade', symbol: 'X', tsEvent: t, tsRecv: t, seq: ++seq, price: px, size, side: 1 };
}

function parent(over: Partial<ParentOrder> = {}): ParentOrder {
  return { id: 'P', symbol: 'X', side: 1, qty: 100, limitPx: null, start: T0, end: T0 + 10n * MIN, ...over };
}
function cfg(over: Partial<ExecConfig> = {}): ExecConfig {
  return { algo: 'twap', instrument: INSTR, ...over };
}
const news = (acts: OrderAction[]): ChildOrder[] => acts.flatMap((a) => (a.type === 'new' ? [a.order] : []));
const cancels = (acts: OrderAction[]) => acts.flatMap((a) => (a.type === 'cancel' ? [a.cancel] : []));

/** A quote every 30 s over the window (bid 100.00 / ask 100.02), and one after it. */
function quotesEvery30s(): MarketEvent[] {
  const evs: MarketEvent[] = [];
  for (let i = 0n; i <= 21n; i++) evs.push(quote(T0 + i * 30n * S, 100, 100.02));
  return evs;
}

function run(s: ExecState, evs: readonly MarketEvent[]): OrderAction[] {
  return evs.flatMap((e) => onMarket(s, e));
}

function fill(o: ChildOrder, qty: number, px: number, t: bigint): Fill {
  return { fillId: `${o.id}-f`, account: 'a', strategy: 's', symbol: o.symbol, side: o.side, qty, price: px, fee: 0, orderId: o.id, tsEvent: t, tsRecv: t };
}

describe('TWAP', () => {
  it('slices evenly: 10 children of 10 lots, one per minute, passive at the bid', () => {
    const s = initExec(parent({ minChild: 10, maxChild: 10, urgency: 0 }), cfg());
    const acts = run(s, quotesEvery30s());
    const kids = news(acts);
    expect(kids.map((k) => k.qty)).toEqual(Array(10).fill(10));
    // each slice goes out at the start of its minute (0..9)
    expect(kids.map((k) => Number((k.ts - T0) / MIN))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(kids.every((k) => k.limitPx === 10000)).toBe(true);
    expect(kids.map((k) => k.id)).toEqual(Array.from({ length: 10 }, (_, i) => `P-${i + 1}`));
    // at the end every unfilled child is cancelled
    expect(cancels(acts).length).toBe(10);
    expect(s.done).toBe(true);
  });

  it('crosses the spread once behind by more than the tolerance', () => {
    const s = initExec(parent({ minChild: 10, maxChild: 10, urgency: 0.85 }), cfg());
    const acts = run(s, quotesEvery30s().slice(0, 5));
    const kids = news(acts);
    // 0 s and 60 s: passive slices (lag ≤ 15); 120 s: lag 20 > 15 → cancel both, cross at the ask
    expect(kids.map((k) => [Number((k.ts - T0) / S), k.qty, k.limitPx])).toEqual([
      [0, 10, 10000],
      [60, 10, 10000],
      [120, 10, 10002],
    ]);
    expect(cancels(acts).map((c) => [c.id, Number((c.ts - T0) / S)])).toEqual([
      ['P-1', 120],
      ['P-2', 120],
    ]);
  });
});

describe('POV', () => {
  it('tracks 10% of the prints', () => {
    const s = initExec(parent({ qty: 1000, urgency: 1 }), cfg({ algo: 'pov', povRate: 0.1 }));
    const evs: MarketEvent[] = [quote(T0 - S, 100, 100.02)];
    const sizes = [100, 250, 30, 70, 500];
    sizes.forEach((z, i) => evs.push(trade(T0 + BigInt(i + 1) * S, 100.01, z)));
    const acts: OrderAction[] = [];
    for (const e of evs) {
      for (const o of news(onMarket(s, e))) {
        acts.push({ type: 'new', order: o });
        onFill(s, fill(o, o.qty, o.limitPx!, e.tsRecv));
      }
    }
    // cumulative prints 100, 350, 380, 450, 950 → targets 10, 35, 38, 45, 95
    expect(news(acts).map((o) => o.qty)).toEqual([10, 25, 3, 7, 50]);
    expect(s.filled).toBe(95);
  });
});

describe('VWAP', () => {
  it('follows its curve (and TWAP inside a bucket)', () => {
    const weights = [1, 3, 0, 6, 0, 0, 0, 0, 0, 0];
    const s = initExec(parent({ urgency: 0 }), cfg({ algo: 'vwap', curve: { bucketNs: MIN, weights } }));
    const evs = [quote(T0, 100, 100.02), quote(T0 + MIN, 100, 100.02), quote(T0 + MIN + 30n * S, 100, 100.02), quote(T0 + 2n * MIN, 100, 100.02), quote(T0 + 4n * MIN, 100, 100.02), quote(T0 + 9n * MIN, 100, 100.02)];
    const kids: ChildOrder[] = [];
    for (const e of evs) {
      for (const o of news(onMarket(s, e))) {
        kids.push(o);
        onFill(s, fill(o, o.qty, o.limitPx!, e.tsRecv));
      }
    }
    // cumulative shares at 0, 1, 1.5, 2, 4 minutes: 0, 0.1, 0.25, 0.4, 1.0; one minimum child (1 lot) ahead
    expect(kids.map((k) => [Number((k.ts - T0) / S), k.qty])).toEqual([[0, 1], [60, 10], [90, 15], [120, 15], [240, 59]]);
  });
});

describe('limit price', () => {
  it('never prices a buy child above the limit, even when crossing', () => {
    const s = initExec(parent({ urgency: 1, limitPx: 10001 }), cfg());
    const kids = news(run(s, quotesEvery30s()));
    expect(kids.length).toBeGreaterThan(0);
    expect(kids.every((k) => k.limitPx !== null && k.limitPx <= 10001)).toBe(true);
    // passive at the bid while on schedule; once behind, crossing is blocked at ask 100.02: the children rest at the limit
    expect(kids[0].limitPx).toBe(10000);
    expect(kids.some((k) => k.limitPx === 10001)).toBe(true);
  });
  it('never prices a sell child below the limit', () => {
    const s = initExec(parent({ side: -1, urgency: 1, limitPx: 10001 }), cfg());
    const kids = news(run(s, quotesEvery30s()));
    expect(kids.every((k) => k.limitPx !== null && k.limitPx >= 10001)).toBe(true);
  });
});

describe('kill switch', () => {
  it('halt cancels every working child at once and no child order follows', () => {
    const s = initExec(parent({ minChild: 10, maxChild: 10, urgency: 0 }), cfg());
    const evs = quotesEvery30s();
    const before = news(run(s, evs.slice(0, 7)));
    expect(before.length).toBe(4);
    const acts = onKill(s, { symbol: null, mode: 'halt', reason: 'test', ts: T0 + 3n * MIN + 1n });
    expect(cancels(acts).map((c) => c.id)).toEqual(['P-1', 'P-2', 'P-3', 'P-4']);
    expect(news(acts)).toEqual([]);
    expect(run(s, evs.slice(7))).toEqual([]);
  });
  it('a kill for another symbol changes nothing', () => {
    const s = initExec(parent({ minChild: 10, maxChild: 10, urgency: 0 }), cfg());
    run(s, quotesEvery30s().slice(0, 3));
    expect(onKill(s, { symbol: 'Y', mode: 'halt', reason: 'x', ts: T0 + MIN + 1n })).toEqual([]);
    expect(s.working.length).toBe(2);
  });
  it('reduce-only: a buy parent from flat is cancelled; from a short it buys back no more than the short', () => {
    const flat = initExec(parent({ minChild: 10, maxChild: 10, urgency: 0 }), cfg());
    const evs = quotesEvery30s();
    run(flat, evs.slice(0, 5));
    const acts = onKill(flat, { symbol: 'X', mode: 'reduce-only', reason: 'r', ts: T0 + 2n * MIN + 1n });
    expect(cancels(acts).length).toBe(3);
    expect(news(run(flat, evs.slice(5)))).toEqual([]);

    const short = initExec(parent({ minChild: 10, maxChild: 10, urgency: 0 }), cfg({ startPosition: -25 }));
    run(short, evs.slice(0, 7)); // 4 children of 10 working
    const acts2 = onKill(short, { symbol: 'X', mode: 'reduce-only', reason: 'r', ts: T0 + 3n * MIN + 1n });
    expect(cancels(acts2).map((c) => c.id)).toEqual(['P-3', 'P-4']); // 10 + 10 ≤ 25; a third would pass flat
    const later = news(run(short, evs.slice(7)));
    // 5 lots more reach flat: the minimum child of 10 gives way to what may still be bought
    expect(later.map((k) => k.qty)).toEqual([5]);
  });
});

describe('anti-churn (repegTicks, minRestNs)', () => {
  /** One passive child of 10 at the 100.00 bid, then the bid steps up by `up` ticks at `dt`. */
  function step(over: Partial<ExecConfig>, up: number, dt: bigint, urgency = 0) {
    const s = initExec(parent({ minChild: 10, maxChild: 10, urgency }), cfg(over));
    const first = news(run(s, [quote(T0, 100, 100.05)]));
    expect(first.map((k) => [k.qty, k.limitPx])).toEqual([[10, 10000]]);
    const acts = onMarket(s, quote(T0 + dt, (10000 + up) / 100, 100.05 + up / 100));
    return { s, acts };
  }
  it('keeps a child the bid left by ≤ repegTicks while it has rested less than minRestNs', () => {
    const { s, acts } = step({ repegTicks: 2, minRestNs: S }, 2, 500_000_000n);
    expect(acts).toEqual([]);
    expect(s.working.map((o) => o.px)).toEqual([10000]);
  });
  it('re-pegs it once it has rested minRestNs (event time), or at once on a larger move', () => {
    const rested = step({ repegTicks: 2, minRestNs: S }, 1, S).acts;
    expect(cancels(rested).map((c) => c.reason)).toEqual(['touch moved']);
    expect(news(rested).map((k) => k.limitPx)).toEqual([10001]);
    const jump = step({ repegTicks: 2, minRestNs: S }, 3, 1n).acts;
    expect(news(jump).map((k) => k.limitPx)).toEqual([10003]);
  });
  it('repegTicks 0 re-pegs on every move (the rule off)', () => {
    expect(news(step({ repegTicks: 0, minRestNs: S }, 1, 1n).acts).map((k) => k.limitPx)).toEqual([10001]);
  });
  it('a schedule lag that forces crossing is not held back', () => {
    // urgency 1: any lag crosses; 30 s in, TWAP wants 5 of 100 and nothing is filled
    const s = initExec(parent({ minChild: 1, maxChild: 100, urgency: 1 }), cfg({ repegTicks: 5, minRestNs: 60n * S }));
    run(s, [quote(T0, 100, 100.05)]);
    const acts = onMarket(s, quote(T0 + 30n * S, 100.01, 100.05));
    expect(news(acts).every((k) => k.limitPx === 10005)).toBe(true);
    expect(news(acts).length).toBeGreaterThan(0);
  });
  it('refuses a negative or fractional repegTicks and a negative minRestNs', () => {
    expect(() => initExec(parent(), cfg({ repegTicks: -1 }))).toThrow(/repegTicks -1/);
    expect(() => initExec(parent(), cfg({ repegTicks: 1.5 }))).toThrow(/repegTicks 1.5/);
    expect(() => initExec(parent(), cfg({ minRestNs: -1n }))).toThrow(/minRestNs -1/);
  });
});

describe('determinism', () => {
  /** A random-ish but fixed day: quotes and trades every few seconds. */
  function day(n: number): MarketEvent[] {
    const evs: MarketEvent[] = [];
    let px = 10000;
    for (let i = 0; i < n; i++) {
      const t = T0 - 5n * S + BigInt(i) * 2n * S;
      px += ((i * 7919) % 5) - 2;
      evs.push(i % 3 === 0 ? trade(t, px / 100, 10 + ((i * 31) % 90)) : quote(t, px / 100, (px + 1 + (i % 2)) / 100, 5 + (i % 40)));
    }
    return evs;
  }
  /** Runs the algorithm over `evs` in chunks, copying the state between chunks; fills every crossing child at once. */
  function chunked(evs: MarketEvent[], cuts: number[], algo: ExecConfig['algo'], extra: Partial<ExecConfig> = {}): string {
    let s = initExec(parent({ minChild: 5, maxChild: 30, urgency: 0.9 }), cfg({ algo, povRate: 0.2, curve: { bucketNs: MIN, weights: [3, 1, 1, 2, 5, 1, 1, 1, 4, 2] }, cancelSettleNs: 3n * S, maxOrdersPerSec: 1, ...extra }));
    const out: OrderAction[] = [];
    let from = 0;
    for (const cut of [...cuts, evs.length]) {
      for (const e of evs.slice(from, cut)) {
        const acts = onMarket(s, e);
        out.push(...acts);
        for (const o of news(acts)) if (o.limitPx === (s.parent.side === 1 ? s.ask : s.bid)) out.push(...onFill(s, fill(o, o.qty, o.limitPx!, e.tsRecv)));
      }
      s = structuredClone(s);
      from = cut;
    }
    return JSON.stringify(out, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));
  }
  // the default anti-churn rule, and a wider one (3 ticks, 7 s rest: longer than the 2 s between events)
  it.each([
    ['twap', {}],
    ['vwap', {}],
    ['pov', {}],
    ['twap', { repegTicks: 3, minRestNs: 7n * S }],
    ['pov', { repegTicks: 3, minRestNs: 7n * S }],
  ] as const)('%s %o: the same child orders whatever the chunking', (algo, extra) => {
    const evs = day(400);
    const whole = chunked(evs, [], algo, extra);
    expect(whole.length).toBeGreaterThan(100);
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: evs.length - 1 }), { maxLength: 6 }), (cuts) => {
        expect(chunked(evs, [...cuts].sort((a, b) => a - b), algo, extra)).toBe(whole);
      }),
      { numRuns: 25 },
    );
  });
});

describe('bad parents', () => {
  it.each([
    [{ qty: 0 }, /qty 0/],
    [{ qty: -5 }, /qty -5/],
    [{ start: T0 + MIN, end: T0 }, /must be before end/],
    [{ urgency: 2 }, /urgency 2/],
  ] as const)('%o is refused', (over, re) => {
    expect(() => initExec(parent(over as Partial<ParentOrder>), cfg())).toThrow(re);
  });
});
