import { defineFactor } from '../factor.ts';

/**
 * Crossed-quote flag: 1 when the symbol's latest quote is crossed (both sides priced and bid >
 * ask), 0 otherwise (a normal, locked (bid = ask) or one-sided quote), null before its first quote.
 *
 * A crossed quote is a fact of the feed (per-exchange quotes, a stale side, a bad print), not
 * something the fold repairs: the L1 factors report it as documented in l1-quote.ts (spread
 * negative, mid as is, microprice null, quote_imbalance as is), and this column says which rows
 * those are. Importers count crossed and locked quotes in their notes.
 *
 * Warm-up: one quote. Bad events: never sees one (the fold only applies validated quotes).
 * Reference: the flag of the latest quote (testing/naive-reference.ts, contract suite, whose
 * streams hold crossed and one-sided quotes).
 */
export const quoteCrossedFlag = defineFactor({
  name: 'quote_crossed_flag',
  version: 1,
  description: '1 when the latest quote is crossed (bid > ask), else 0',
  params: {},
  rules: {},
  inputs: ['quote'],
  warmup: 'one quote',
  init: () => ({ v: NaN }),
  update(s, ev) {
    if (ev.kind === 'quote') s.v = ev.bidPx > 0 && ev.askPx > 0 && ev.bidPx > ev.askPx ? 1 : 0;
    const v = s.v;
    return v === v ? v : null;
  },
});
