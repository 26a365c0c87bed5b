/**
 * Per-symbol constants of the synthetic universe (price level, spread, valuation, share count),
 * drawn from (seed, symbol index) only, so a symbol looks the same on every generated date.
 */
import { chance, intBelow, rngFor, uniform } from './prng.ts';
import { STREAM_TRAITS } from './synthetic-plan.ts';

/** Prices are integer ticks of 1 cent; a price is `ticks / TICKS_PER_UNIT` (the nearest double to the decimal). */
export const TICKS_PER_UNIT = 100;

export interface SymbolTraits {
  /** Reference price in ticks ($10–$300). */
  basePriceTicks: number;
  /** Usual bid-ask spread in ticks; the spread mean-reverts towards it. */
  typicalSpread: number;
  /** Price / annual EPS the fundamentals are built around. */
  pe: number;
  /** Price / book value per share. */
  pb: number;
  sharesOutstanding: number;
  /** Whether the company reports before the open (else after the close). */
  reportsPreOpen: boolean;
}

/** The constants of symbol `index` under `seed`. */
export function symbolTraits(seed: number, index: number): SymbolTraits {
  const r = rngFor(seed, STREAM_TRAITS, index);
  const u = uniform(r);
  const basePriceTicks = 1000 + Math.floor(u * u * 29000);
  return {
    basePriceTicks,
    typicalSpread: 1 + Math.floor(basePriceTicks / 12000) + intBelow(r, 2),
    pe: 8 + Math.round(320 * uniform(r)) / 10,
    pb: 1 + Math.round(70 * uniform(r)) / 10,
    sharesOutstanding: (5000 + Math.floor(495000 * uniform(r) * uniform(r))) * 10000,
    reportsPreOpen: chance(r, 0.5),
  };
}
