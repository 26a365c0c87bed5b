// A factor Lockstep refuses: it reads the wall clock, so a replay could never reproduce live.
// `lockstep factors check examples/impure-factor.ts` (or any --factors) names it and exits 2.
import { defineFactor } from 'lockstep';

export default defineFactor({
  name: 'quote_age_ms',
  version: 1,
  description: 'How old a quote is when it is processed (wall clock: not allowed)',
  params: {},
  rules: {},
  inputs: ['quote'],
  warmup: 'none',
  init: () => null,
  update: (_state, ev) => Date.now() - Number(ev.tsEvent / 1_000_000n),
});
