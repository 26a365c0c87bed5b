/**
 * Exact reference arithmetic for checking streaming kernels: the sum, mean and variance of a list
 * of doubles computed with no rounding until the final conversion (every double is an integer
 * times a power of two, so a bigint holds the exact total). Slow (bigint per term); for tests and
 * for "streaming equals a batch recomputation" checks, never for a hot path.
 */

const scratch = new DataView(new ArrayBuffer(8));

/** x = mant · 2^exp exactly (mant a signed bigint). Throws on NaN or an infinity. */
function decompose(x: number): { mant: bigint; exp: number } {
  if (!Number.isFinite(x)) throw new RangeError(`exact arithmetic needs finite values, got ${x}`);
  scratch.setFloat64(0, x);
  const bits = scratch.getBigUint64(0);
  const expBits = Number((bits >> 52n) & 0x7ffn);
  let mant = bits & 0xfffffffffffffn;
  let exp = -1074;
  if (expBits !== 0) {
    mant |= 0x10000000000000n;
    exp = expBits - 1075;
  }
  return { mant: bits >> 63n ? -mant : mant, exp };
}

/** Nearest double to num · 2^exp (one rounding in the usual range). */
function toNumber(num: bigint, exp: number): number {
  const neg = num < 0n;
  let mag = neg ? -num : num;
  const bitLen = mag.toString(2).length;
  if (bitLen > 1000) {
    const drop = bitLen - 1000;
    mag >>= BigInt(drop);
    exp += drop;
  }
  let v = Number(mag);
  // Scale in steps so that 2^exp itself never underflows or overflows.
  while (exp > 0) {
    const e = Math.min(exp, 1000);
    v *= 2 ** e;
    exp -= e;
  }
  while (exp < 0) {
    const e = Math.max(exp, -1000);
    v *= 2 ** e;
    exp -= e;
  }
  return neg ? -v : v;
}

/** The values as integers over one common power of two: x_i = ints[i] · 2^exp. */
function scaled(values: ArrayLike<number>): { ints: bigint[]; exp: number } {
  const parts = Array.from(values, decompose);
  let exp = Infinity;
  for (const p of parts) if (p.mant !== 0n && p.exp < exp) exp = p.exp;
  if (exp === Infinity) exp = 0;
  return { ints: parts.map((p) => p.mant << BigInt(p.exp - exp)), exp };
}

/** Σ values, correctly rounded (0 for an empty list). */
export function exactSum(values: ArrayLike<number>): number {
  const { ints, exp } = scaled(values);
  let total = 0n;
  for (const v of ints) total += v;
  return toNumber(total, exp);
}

/** Mean, within one rounding of the exact value; null for an empty list. */
export function exactMean(values: ArrayLike<number>): number | null {
  if (values.length === 0) return null;
  return exactSum(values) / values.length;
}

/**
 * Variance with `ddof` delta degrees of freedom, from the exact integer identity
 * n·ΣX² - (ΣX)² over n·(n - ddof); within a few roundings of the exact value. Null when n <= ddof.
 */
export function exactVariance(values: ArrayLike<number>, ddof = 1): number | null {
  const n = values.length;
  if (n <= ddof) return null;
  const { ints, exp } = scaled(values);
  let s1 = 0n;
  let s2 = 0n;
  for (const v of ints) {
    s1 += v;
    s2 += v * v;
  }
  const num = BigInt(n) * s2 - s1 * s1;
  return toNumber(num, 2 * exp) / (n * (n - ddof));
}
