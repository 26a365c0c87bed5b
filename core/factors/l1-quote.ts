import type { QuoteEvent } from '../events.ts';
import { defineFactor } from '../factor.ts';

/**
 * Top-of-book factors from L1 quotes: spread (ask - bid), mid ((bid + ask) / 2), microprice
 * ((bid·askSize + ask·bidSize) / (bidSize + askSize)) and quote imbalance ((bidSize - askSize) /
 * (bidSize + askSize)).
 *
 * Warm-up: one two-sided quote. Policy: a one-sided quote (a price or size of 0 on either side)
 * makes all four null until a two-sided quote arrives; a crossed quote is reported as is (negative
 * spread) rather than hidden. Reference: the definitions, checked against the input columns.
 */
function l1Factor(name: string, description: string, f: (q: QuoteEvent) => number) {
  return defineFactor({
    name,
    version: 1,
    description,
    params: {},
    rules: {},
    inputs: ['quote'],
    warmup: 'one two-sided quote',
    init: () => ({ v: NaN }),
    update(s, ev) {
      let v = NaN;
      if (ev.kind === 'quote' && ev.bidPx > 0 && ev.askPx > 0 && ev.bidSz > 0 && ev.askSz > 0) v = f(ev);
      s.v = v;
      return v === v ? v : null;
    },
    source: [f],
  });
}

export const spread = l1Factor('spread', 'Ask minus bid', (q) => q.askPx - q.bidPx);
export const mid = l1Factor('mid', 'Mid price', (q) => (q.bidPx + q.askPx) / 2);
export const microprice = l1Factor('microprice', 'Size-weighted mid (leans toward the thinner side)', (q) => (q.bidPx * q.askSz + q.askPx * q.bidSz) / (q.bidSz + q.askSz));
export const quoteImbalance = l1Factor('quote_imbalance', '(bid size - ask size) / (bid size + ask size)', (q) => (q.bidSz - q.askSz) / (q.bidSz + q.askSz));
