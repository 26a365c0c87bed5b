import { defineFactor } from '../factor.ts';

/**
 * Number of market events (trades, quotes, book rows) applied for the symbol so far, after
 * duplicate removal. A plumbing check as much as a factor: replay and live must agree on it
 * exactly, and it moves on every row, so any dropped or doubled event shows.
 *
 * Warm-up: none. Reference: a count of input rows per symbol.
 */
export const eventCount = defineFactor({
  name: 'event_count',
  version: 1,
  description: 'Events applied for the symbol so far',
  params: {},
  rules: {},
  inputs: ['trade', 'quote', 'book'],
  warmup: 'none',
  init: () => ({ n: 0 }),
  update(state) {
    state.n++;
    return state.n;
  },
});
