import type { QuoteEvent } from '../events.ts';
import { defineFactor } from '../factor.ts';

/**
 * Top-of-book factors from L1 quotes: spread (ask - bid), mid ((bid + ask) / 2), microprice
 * ((bid·askSize + ask·bidSize) / (bidSize + askSize)) and quote imbalance ((bidSize - askSize) /
 * (bidSize + askSize)).
 *
 * Warm-up: one two-sided quote. Policy: a one-sided quote (a price or size of 0 on either side)
 * makes all four null until a two-sided quote arrives. Crossed quotes (bid > ask) and locked quotes
 * (bid = ask) are not repaired; `quote_crossed_flag` (quote-crossed.ts) marks the crossed ones:
 * - spread: reported as is, negative on a crossed quote, 0 on a locked one;
 * - mid: reported as is (the midpoint of the two prices);
 * - microprice: null on a crossed quote (version 2; version 1 gave a size-weighted price outside
 *   the quote, e.g. bid 159.12 / ask 159.07), the common price on a locked one;
 * - quote_imbalance: reported as is (it reads sizes only).
 * Reference: the definitions, checked against the input columns (testing/naive-reference.ts).
 */
function l1Factor(name: string, description: string, f: (q: QuoteEvent) => number, version = 1) {
  return defineFactor({
    name,
    version,
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
export const microprice = l1Factor(
  'microprice',
  'Size-weighted mid (leans toward the thinner side); null on a crossed quote',
  (q) => (q.bidPx > q.askPx ? NaN : (q.bidPx * q.askSz + q.askPx * q.bidSz) / (q.bidSz + q.askSz)),
  2,
);
export const quoteImbalance = l1Factor('quote_imbalance', '(bid size - ask size) / (bid size + ask size)', (q) => (q.bidSz - q.askSz) / (q.bidSz + q.askSz));
