/**
 * Exact money for the trading side: decimal prices, quantities and fees become integers of a grid
 * (ticks, lots, fee units) once, at the edge, and anything off the grid is refused with its value.
 *
 * Why integers: a day of fills must give the same PnL to the cent in replay and live, and sums of
 * decimal floats depend on their order. Integer sums below 2^53 are exact in float64, and bigint
 * takes over above that (`ExactSum` below keeps both and switches when it must).
 */
import { UserError } from '../core/errors.ts';

/** A value that is not on its grid (tick, lot or fee unit): names where it came from and the value. */
export class OffGridError extends UserError {
  constructor(
    readonly where: string,
    readonly value: number,
    readonly step: number,
  ) {
    super(`${where}: ${value} is not a multiple of ${step} (off the grid; refused, never rounded)`);
  }
}

/**
 * `value / step` as an integer, refusing a value off the grid. Tolerant only to float
 * representation error: `|n·step − value| ≤ 1e-9 · max(1, |value|)`.
 * @param where what to name in the error (e.g. `fills.csv, row 3, field price`)
 */
export function toGrid(value: number, step: number, where: string): number {
  if (!Number.isFinite(value)) throw new OffGridError(where, value, step);
  const n = Math.round(value / step);
  if (!Number.isSafeInteger(n) || Math.abs(n * step - value) > 1e-9 * Math.max(1, Math.abs(value))) throw new OffGridError(where, value, step);
  return n === 0 ? 0 : n; // no -0
}

/** The number of decimals of a grid `10^-d` (1e-8 → 8), or null when the grid is not a power of ten. */
export function gridDecimals(step: number): number | null {
  for (let d = 0; d <= 12; d++) if (Math.abs(step * 10 ** d - 1) <= 1e-12) return d;
  return null;
}

/**
 * An exact integer sum kept as a float64 part (`acc`, |acc| ≤ 2^53, where integer adds are exact)
 * plus a bigint part (`big`) that takes the overflow: the common case (small deltas) costs one
 * float add, and the sum is exact whatever the magnitudes. Plain data.
 */
export interface ExactSum {
  big: bigint;
  acc: number;
}

const LIMIT = 2 ** 53;

/** A zero sum. */
export function exactSum(): ExactSum {
  return { big: 0n, acc: 0 };
}

/** Adds the integer `a·b` (a, b safe integers) exactly. */
export function addProduct(s: ExactSum, a: number, b: number): void {
  const p = a * b;
  if (Number.isSafeInteger(p)) {
    const t = s.acc + p;
    if (t < LIMIT && t > -LIMIT) {
      s.acc = t;
      return;
    }
  }
  s.big += BigInt(a) * BigInt(b) + BigInt(s.acc);
  s.acc = 0;
}

/** Adds the integer `x` exactly. */
export function addBig(s: ExactSum, x: bigint): void {
  s.big += x;
}

/** The sum as a bigint. */
export function sumValue(s: ExactSum): bigint {
  return s.big + BigInt(s.acc);
}

/** The sum as a float64 (exact while it is below 2^53). */
export function sumNumber(s: ExactSum): number {
  return s.big === 0n ? s.acc : Number(s.big + BigInt(s.acc));
}

/** Greatest common divisor of two bigints (≥ 0). */
export function gcd(a: bigint, b: bigint): bigint {
  if (a < 0n) a = -a;
  if (b < 0n) b = -b;
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

/** Floor division of bigints (toward −∞), for splitting a rational into integer and fraction. */
export function floorDiv(n: bigint, d: bigint): bigint {
  const q = n / d;
  return (n % d !== 0n && (n < 0n) !== (d < 0n)) ? q - 1n : q;
}

/** `units` of a `10^-decimals` grid as a decimal number (display/output only). */
export function unitsToNumber(units: bigint, decimals: number): number {
  return Number(units) / 10 ** decimals;
}
