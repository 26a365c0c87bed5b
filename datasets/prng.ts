/**
 * Seeded pseudo-random numbers for the synthetic generator: xoshiro128** on 32-bit ints, seeded
 * through splitmix64. Never Math.random: the same seed and stream path always give the same
 * sequence, on any machine, because only integer ops (Math.imul, shifts) are involved.
 *
 * A stream is named by a path of non-negative integers (e.g. [tag, day, symbolIndex]) so that
 * every symbol, day and purpose draws from its own independent stream and generation order does
 * not matter.
 */

/** xoshiro128** state: four 32-bit words, mutated in place by each draw. */
export type Rng = Uint32Array;

const MASK64 = (1n << 64n) - 1n;
const GOLDEN = 0x9e3779b97f4a7c15n;

/** One splitmix64 output for a 64-bit state (the state is advanced by the caller). */
export function splitmix64(state: bigint): bigint {
  let z = (state + GOLDEN) & MASK64;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  return z ^ (z >> 31n);
}

/**
 * A generator for `seed` and a stream path. The seed may be any safe integer (negative seeds are
 * taken modulo 2^64); path entries must be non-negative safe integers.
 */
export function rngFor(seed: number, ...path: number[]): Rng {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be a safe integer, got ${seed}`);
  let h = splitmix64(BigInt.asUintN(64, BigInt(seed)));
  for (const p of path) {
    if (!Number.isSafeInteger(p) || p < 0) throw new RangeError(`stream path entries must be non-negative integers, got ${p}`);
    h = splitmix64(h ^ BigInt(p));
  }
  const a = splitmix64(h);
  const b = splitmix64(a);
  const s = new Uint32Array([Number(a & 0xffffffffn), Number(a >> 32n), Number(b & 0xffffffffn), Number(b >> 32n)]);
  // the all-zero state is a fixed point of xoshiro
  if ((s[0] | s[1] | s[2] | s[3]) === 0) s[0] = 1;
  return s;
}

/** A generator with an explicit state (for reference vectors). */
export function rngFromState(s0: number, s1: number, s2: number, s3: number): Rng {
  return new Uint32Array([s0, s1, s2, s3]);
}

/** Next 32-bit unsigned output of xoshiro128**. */
export function nextU32(s: Rng): number {
  const s1 = s[1];
  const m = Math.imul(s1, 5);
  const result = Math.imul((m << 7) | (m >>> 25), 9) >>> 0;
  const t = s1 << 9;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  const s3 = s[3];
  s[3] = (s3 << 11) | (s3 >>> 21);
  return result;
}

const INV_2_32 = 1 / 4294967296;

/** Uniform in [0, 1) with 32-bit resolution. */
export function uniform(s: Rng): number {
  return nextU32(s) * INV_2_32;
}

/** Uniform integer in [0, n) for 0 < n <= 2^32. */
export function intBelow(s: Rng, n: number): number {
  return Math.floor(uniform(s) * n);
}

/** Uniform integer in [lo, hi] (inclusive). */
export function intBetween(s: Rng, lo: number, hi: number): number {
  return lo + intBelow(s, hi - lo + 1);
}

/** True with probability p. */
export function chance(s: Rng, p: number): boolean {
  return uniform(s) < p;
}

/** Fisher-Yates shuffle of 0..n-1. */
export function permutation(s: Rng, n: number): number[] {
  const out = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = intBelow(s, i + 1);
    const t = out[i];
    out[i] = out[j];
    out[j] = t;
  }
  return out;
}
