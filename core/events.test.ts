import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareEvents, KINDS, type MarketEvent } from './events.ts';

const arbEvent = fc.record({
  kind: fc.constantFrom(...KINDS),
  tsRecv: fc.bigInt({ min: 0n, max: 20n }),
  symbol: fc.constantFrom('A', 'B', 'C'),
  seq: fc.bigInt({ min: 0n, max: 5n }),
}).map((e) => ({ ...e, tsEvent: e.tsRecv }) as unknown as MarketEvent);

describe('compareEvents', () => {
  it('orders by ts_recv, then source priority, then symbol, then seq', () => {
    const base = { tsEvent: 0n, symbol: 'A', seq: 1n };
    const hb = { ...base, kind: 'heartbeat', tsRecv: 5n } as MarketEvent;
    const tr = { ...base, kind: 'trade', tsRecv: 5n, price: 1, size: 1, side: 1 } as MarketEvent;
    const q = { ...base, kind: 'quote', tsRecv: 5n } as MarketEvent;
    expect([tr, q, hb].sort(compareEvents).map((e) => e.kind)).toEqual(['heartbeat', 'quote', 'trade']);
  });

  it('is a total order: sorting any permutation gives the same sequence of identities', () => {
    fc.assert(
      fc.property(fc.array(arbEvent, { maxLength: 40 }), fc.integer(), (events, seed) => {
        const shuffled = [...events].sort((a, b) => ((Number(a.seq) * 31 + seed) % 7) - ((Number(b.seq) * 31 + seed) % 7));
        const key = (e: MarketEvent) => `${e.tsRecv}/${e.kind}/${e.symbol}/${e.seq}`;
        expect([...shuffled].sort(compareEvents).map(key)).toEqual([...events].sort(compareEvents).map(key));
      }),
    );
  });
});
