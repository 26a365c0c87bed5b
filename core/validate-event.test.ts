import { describe, expect, it } from 'vitest';
import type { TradeEvent } from './events.ts';
import { validateEvent } from './validate-event.ts';

const trade = (over: Partial<TradeEvent> = {}): TradeEvent => ({ kind: 'trade', tsEvent: 1n, tsRecv: 1n, symbol: 'A', seq: 1n, price: 10, size: 1, side: 1, ...over });

describe('bad-event policy', () => {
  it('accepts a good event and names field, value and reason for a bad one', () => {
    expect(validateEvent(trade())).toBeNull();
    expect(validateEvent(trade({ price: NaN }))).toEqual({ field: 'price', value: NaN, reason: 'must be a finite number > 0' });
    expect(validateEvent(trade({ side: 2 as never }))?.field).toBe('side');
  });

  it('sequence numbers must fit an int64: the fold compares them through 32-bit halves', () => {
    expect(validateEvent(trade({ seq: 2n ** 63n - 1n }))).toBeNull();
    expect(validateEvent(trade({ seq: 2n ** 63n }))).toEqual({ field: 'seq', value: 2n ** 63n, reason: 'must fit an int64 (<= 2^63 - 1)' });
    expect(validateEvent(trade({ seq: -1n }))?.field).toBe('seq');
  });
});
