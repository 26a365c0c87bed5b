import { describe, expect, it } from 'vitest';
import type { BookEvent } from '../core/events.ts';
import { rngFor } from './prng.ts';
import { messageOffsets } from './synthetic-activity.ts';
import { expectedEventsPerMessage, simulateSymbol, type SymbolSessionInput } from './synthetic-symbol.ts';

const noWindows = { haltStartBucket: 0, haltEndBucket: 0, burstStartBucket: 0, burstEndBucket: 0, burstFactor: 1 };

function input(over: Partial<SymbolSessionInput> = {}): SymbolSessionInput {
  const rng = rngFor(11, 1);
  return {
    symbol: 'X',
    openNs: 1_000_000_000_000_000_000n,
    rng,
    deliveryRng: rngFor(11, 2),
    offsets: messageOffsets(rng, 3000, noWindows),
    startBidTicks: 5000,
    typicalSpread: 2,
    midStepTicks: 2,
    jumpOffsetNs: 3_600_000_000_000,
    jumpFraction: -0.04,
    duplicateFraction: 0.01,
    lateFraction: 0.01,
    ...over,
  };
}

describe('simulateSymbol', () => {
  const s = simulateSymbol(input());

  it('produces about the modelled number of events per message', () => {
    const n = s.trades.length + s.quotes.length + s.books.length - s.duplicates;
    expect(n / 3000).toBeGreaterThan(expectedEventsPerMessage(2) * 0.85);
    expect(n / 3000).toBeLessThan(expectedEventsPerMessage(2) * 1.15);
  });

  it('rewrites the whole book on a gap of more than 10 ticks and the quote follows it', () => {
    expect(s.jumpAtNs).toBeGreaterThanOrEqual(3_600_000_000_000);
    const at = 1_000_000_000_000_000_000n + BigInt(s.jumpAtNs);
    const rows = s.books.filter((r) => r.tsEvent === at + 200n && !s.books.some((o) => o !== r && o.seq === r.seq && o.tsRecv < r.tsRecv));
    expect(rows.length).toBe(40);
    expect(rows.filter((r) => r.size === 0).length).toBe(20);
    expect(rows[rows.length - 1].last).toBe(true);
    const before = s.quotes.filter((q) => q.tsEvent < at).at(-1)!;
    const after = s.quotes.find((q) => q.tsEvent > at)!;
    expect((after.bidPx + after.askPx) / (before.bidPx + before.askPx) - 1).toBeCloseTo(-0.04, 2);
  });

  it('marks exactly one last row per book update (rows sharing ts_event)', () => {
    const byTime = new Map<bigint, BookEvent[]>();
    const firsts = new Map<bigint, BookEvent>();
    for (const r of s.books) if (!firsts.has(r.seq)) firsts.set(r.seq, r);
    for (const r of firsts.values()) {
      let g = byTime.get(r.tsEvent);
      if (!g) byTime.set(r.tsEvent, (g = []));
      g.push(r);
    }
    for (const g of byTime.values()) {
      expect(g.filter((r) => r.last).length).toBe(1);
      expect(g[g.length - 1].last).toBe(true);
    }
  });

  it('delivery settings do not change the market content', () => {
    const clean = simulateSymbol(input({ duplicateFraction: 0, lateFraction: 0 }));
    expect(clean.duplicates).toBe(0);
    expect(clean.lateMessages).toBe(0);
    const strip = (e: { tsRecv: bigint }) => ({ ...e, tsRecv: 0n });
    const dedupe = <E extends { seq: bigint; tsRecv: bigint }>(a: E[]) => [...new Map(a.map((e) => [e.seq, e] as const)).values()].sort((x, y) => (x.seq < y.seq ? -1 : 1)).map(strip);
    expect(clean.trades.map(strip)).toEqual(dedupe(s.trades));
    expect(clean.books.map(strip)).toEqual(dedupe(s.books));
  });
});
