import { defineFactor } from '../factor.ts';

/**
 * Last trade price.
 *
 * Warm-up: null until the symbol's first trade. Bad events: never sees one (the fold only applies
 * validated trades: finite, positive price and size). Reference: the identity on trade prices;
 * checked against the input column in the contract suite.
 */
export const lastPrice = defineFactor({
  name: 'last_price',
  version: 1,
  description: 'Price of the latest trade',
  params: {},
  rules: {},
  inputs: ['trade'],
  warmup: 'one trade',
  init: () => ({ price: NaN }),
  update(state, ev) {
    if (ev.kind === 'trade') state.price = ev.price;
    const v = state.price;
    return v === v ? v : null;
  },
});
