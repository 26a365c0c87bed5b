/**
 * Exact nanosecond differences as float64 without bigint arithmetic.
 *
 * Epoch-ns times do not fit a float64 (they need ~61 bits), but the distance between two times of
 * one window does: any |t - origin| < 2^53 ns (104 days) is an exact float64 integer. Subtracting
 * bigints allocates a heap bigint every time (~20 ns here, plus GC); splitting the int64 into its
 * two 32-bit halves through a typed-array view costs a store and two loads, and the halves'
 * difference, hi·2^32 + lo, is then exact. Kernels keep an origin (its halves) and work on offsets.
 */

const SCRATCH = new BigInt64Array(1);
const LO = new Uint32Array(SCRATCH.buffer);
const HI = new Int32Array(SCRATCH.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const LO_IX = LITTLE_ENDIAN ? 0 : 1;
const HI_IX = LITTLE_ENDIAN ? 1 : 0;

/** Largest offset kept before the owner moves its origin: offsets stay exact below 2^53. */
export const MAX_EXACT_OFFSET = 2 ** 52;

/** High (signed) 32 bits of an int64 time. */
export function nsHigh(t: bigint): number {
  SCRATCH[0] = t;
  return HI[HI_IX];
}

/** Low (unsigned) 32 bits of an int64 time. */
export function nsLow(t: bigint): number {
  SCRATCH[0] = t;
  return LO[LO_IX];
}

/**
 * t - origin as a float64, origin given by its halves (nsHigh, nsLow). Exact while
 * |t - origin| < 2^53; callers keep offsets below MAX_EXACT_OFFSET.
 */
export function nsOffset(t: bigint, originHigh: number, originLow: number): number {
  SCRATCH[0] = t;
  return (HI[HI_IX] - originHigh) * 4294967296 + (LO[LO_IX] - originLow);
}

/**
 * An int64 kept as its 32-bit halves beside the bigint, so the next successor check reads only the
 * new value: dereferencing the held bigint (a separate heap object, often out of cache) cost as
 * much as the check itself on every event.
 */
export interface Int64Halves {
  /** High (signed) 32 bits. */
  hi: number;
  /** Low (unsigned) 32 bits. */
  lo: number;
}

/** Sets `h` to the halves of `x`. */
export function setHalves(h: Int64Halves, x: bigint): void {
  SCRATCH[0] = x;
  h.hi = HI[HI_IX];
  h.lo = LO[LO_IX];
}

/**
 * If x is the value held in `h` plus one, stores x's halves in `h` and returns true; otherwise
 * leaves `h` as it was and returns false. Exact over int64: the halves' difference is x - held
 * exactly when |x - held| < 2^53, and rounds to something of magnitude >= 2^53 (never 1)
 * otherwise. Halves that are not numbers (a state saved before they existed) never match: the
 * caller's slow path then sets them.
 */
export function advanceIfSuccessor(h: Int64Halves, x: bigint): boolean {
  SCRATCH[0] = x;
  const hi = HI[HI_IX];
  const lo = LO[LO_IX];
  if ((hi - h.hi) * 4294967296 + (lo - h.lo) !== 1) return false;
  h.hi = hi;
  h.lo = lo;
  return true;
}
