import { describe, expect, it } from 'vitest';
import type { CorporateActionEvent, TradeEvent } from './events.ts';
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

describe('corporate actions', () => {
  const ca = (over: Partial<CorporateActionEvent> = {}): CorporateActionEvent => ({
    kind: 'corporate_action', tsEvent: 10n, tsRecv: 10n, symbol: 'A', seq: 1n, action: 'split', tsEx: 20n, ratio: 4, amount: NaN, ...over,
  });
  it('a split has a plausible ratio and no amount; a dividend a positive amount and no ratio', () => {
    expect(validateEvent(ca())).toBeNull();
    expect(validateEvent(ca({ action: 'dividend', ratio: NaN, amount: 0.24 }))).toBeNull();
    expect(validateEvent(ca({ ratio: 0.5 }))).toBeNull();
    expect(validateEvent(ca({ ratio: NaN }))?.field).toBe('ratio');
    expect(validateEvent(ca({ ratio: 1e5 }))?.reason).toMatch(/split ratio in \[1\/10000, 10000\]/);
    expect(validateEvent(ca({ amount: 1 }))).toEqual({ field: 'amount', value: 1, reason: 'must be null for a split' });
    expect(validateEvent(ca({ action: 'dividend', ratio: NaN, amount: -1 }))?.field).toBe('amount');
    expect(validateEvent(ca({ action: 'dividend', ratio: 2, amount: 1 }))?.field).toBe('ratio');
    expect(validateEvent(ca({ action: 'merger' as never }))).toEqual({ field: 'action', value: 'merger', reason: "must be 'split' or 'dividend'" });
  });
  it('ts_ex lies within 400 days of the announcement, either way', () => {
    const day = 86_400_000_000_000n;
    expect(validateEvent(ca({ tsEvent: 500n * day, tsRecv: 500n * day, tsEx: 101n * day }))).toBeNull();
    expect(validateEvent(ca({ tsEvent: 500n * day, tsRecv: 500n * day, tsEx: 99n * day }))?.field).toBe('ts_ex');
    expect(validateEvent(ca({ tsEx: 401n * day }))?.field).toBe('ts_ex');
    expect(validateEvent(ca({ tsEx: -1n }))?.field).toBe('ts_ex');
  });
});
