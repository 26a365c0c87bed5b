// Your own factors, for `--factors examples/my-factors.ts` (replay, live, parity run, factors check).
// The default export lists them in column order; 'lockstep' resolves to the running CLI's modules.
import { defineFactor, initRing, ringFull, ringOldest, ringPush } from 'lockstep';

/** Quoted spread in basis points of the mid. Warm-up: none (null until the first valid quote). */
export const spreadBps = defineFactor({
  name: 'spread_bps',
  version: 1,
  description: 'Quoted spread in basis points of the mid',
  params: {},
  rules: {},
  inputs: ['quote'],
  warmup: 'none',
  init: () => null,
  update: (_state, ev) => (ev.kind === 'quote' && ev.bidPx > 0 && ev.askPx >= ev.bidPx ? ((ev.askPx - ev.bidPx) / ((ev.askPx + ev.bidPx) / 2)) * 1e4 : null),
});

/**
 * Change of the mid over the last `quotes` quotes, in basis points; named after its parameter
 * (`mid_change_20q`), so `withParams` or a set file makes other instances under their own names.
 * Warm-up: `quotes` + 1 valid quotes.
 */
export const midChange = defineFactor({
  name: (p) => `mid_change_${p.quotes}q`,
  version: 1,
  description: 'Change of the mid over the last N quotes, in basis points',
  params: { quotes: 20 },
  rules: { quotes: { kind: 'int', min: 1, max: 10_000 } },
  inputs: ['quote'],
  warmup: 'quotes + 1 quotes',
  init: (p) => initRing(p.quotes + 1),
  update: (ring, ev) => {
    if (ev.kind !== 'quote' || !(ev.bidPx > 0) || !(ev.askPx >= ev.bidPx)) return null;
    ringPush(ring, (ev.bidPx + ev.askPx) / 2);
    return ringFull(ring) ? (((ev.bidPx + ev.askPx) / 2) / ringOldest(ring) - 1) * 1e4 : null;
  },
  // the kernels it calls are part of its code hash
  source: [ringPush, ringFull, ringOldest],
});

export default [spreadBps, midChange];
