/**
 * Decimal prices and sizes of market events → integer ticks and lots of the instrument (a local
 * helper until trading/money.ts holds the shared one; same rule as TRADING.md § Units).
 */
import type { Instrument } from '../types.ts';
import { OffGridPriceError } from './errors.ts';

/** True when `x` is an integer multiple of `step` up to float representation error. */
function onGrid(x: number, step: number, n: number): boolean {
  return Math.abs(n * step - x) <= 1e-9 * Math.max(1, Math.abs(x));
}

/**
 * A decimal price in ticks; refuses an off-grid price with its value (`where` names the event
 * and field, e.g. `book seq 12 price`).
 */
export function priceToTicks(inst: Instrument, px: number, where: string): number {
  const n = Math.round(px / inst.tick);
  if (!Number.isFinite(px) || !onGrid(px, inst.tick, n)) throw new OffGridPriceError(inst.symbol, where, px, inst.tick);
  return n;
}

/**
 * A trade price in ticks, possibly fractional: prints off the grid happen (sub-penny midpoint
 * executions in TAQ), and a fractional tick compares correctly with order prices (a print at
 * 100.005 is above a bid at 100.00 and below one at 100.01), so it is kept instead of refused.
 */
export function tradeTicks(inst: Instrument, px: number): number {
  const x = px / inst.tick;
  const n = Math.round(x);
  return onGrid(px, inst.tick, n) ? n : x;
}

/**
 * A market size in lots. Exact multiples of the lot become integers; anything else stays a
 * fraction (market depth need not be on our lot grid), and our fills take whole lots of it only.
 */
export function sizeToLots(inst: Instrument, size: number): number {
  const x = size / inst.lot;
  const n = Math.round(x);
  return onGrid(size, inst.lot, n) ? n : x;
}

/** Whole lots in a (possibly fractional) depth, tolerant to float error: 2.9999999999 → 3. */
export function wholeLots(x: number): number {
  return x <= 0 ? 0 : Math.floor(x + 1e-9);
}
