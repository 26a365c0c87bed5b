/**
 * When a symbol's exchange messages happen: a U-shaped intraday profile (busy open and close,
 * quiet lunch), bucket-level noise so activity clusters like a real tape, a market-wide burst,
 * and an empty halt window. Only + * / and floor are used, so the times are the same on every
 * machine (no exp/log whose last bit could differ between libm builds).
 */
import { uniform, type Rng } from './prng.ts';
import { BUCKET_NS, BUCKETS } from './synthetic-plan.ts';

/** Smallest gap between two messages of one symbol: its trade/quote/book sub-events fit inside. */
export const MIN_MESSAGE_GAP_NS = 1000;

/** Relative activity at session fraction x in [0, 1]: 1 at midday, ~5.5 at the open, ~4.5 at the close. */
export function intradayWeight(x: number): number {
  const d = 1 - 2 * x;
  const d2 = d * d;
  const d6 = d2 * d2 * d2;
  return x < 0.5 ? 1 + 4.5 * d6 : 1 + 3.5 * d6;
}

export interface ActivityWindows {
  /** Buckets [start, end) with no messages (a halt), or start = end for none. */
  haltStartBucket: number;
  haltEndBucket: number;
  burstStartBucket: number;
  burstEndBucket: number;
  burstFactor: number;
}

/**
 * Times of `count` messages as ns after the open, ascending, at least MIN_MESSAGE_GAP_NS apart.
 * Slot 0 is reserved for the opening book snapshot (time 0), so the array has count + 1 entries
 * (fewer only in the vanishing case where gap enforcement pushes a message into the halt).
 */
export function messageOffsets(rng: Rng, count: number, w: ActivityWindows): Float64Array {
  const weights = new Float64Array(BUCKETS);
  let total = 0;
  for (let b = 0; b < BUCKETS; b++) {
    let wb = intradayWeight((b + 0.5) / BUCKETS) * (0.6 + 0.8 * uniform(rng));
    if (b >= w.burstStartBucket && b < w.burstEndBucket) wb *= w.burstFactor;
    if (b >= w.haltStartBucket && b < w.haltEndBucket) wb = 0;
    weights[b] = wb;
    total += wb;
  }
  const out = new Float64Array(count + 1);
  let n = 1;
  let cum = 0;
  let placed = 0;
  for (let b = 0; b < BUCKETS; b++) {
    cum += weights[b];
    // cumulative rounding: bucket counts sum to exactly `count`
    const upTo = b === BUCKETS - 1 ? count : Math.floor((count * cum) / total);
    const k = upTo - placed;
    if (k <= 0) continue;
    const base = b * BUCKET_NS;
    const from = n;
    for (let j = 0; j < k; j++) out[n++] = base + Math.floor(uniform(rng) * BUCKET_NS);
    out.subarray(from, n).sort();
    placed = upTo;
  }
  const haltFrom = w.haltStartBucket * BUCKET_NS;
  const haltTo = w.haltEndBucket * BUCKET_NS;
  let m = 1;
  let prev = 0;
  for (let i = 1; i < n; i++) {
    let t = out[i];
    if (t < prev + MIN_MESSAGE_GAP_NS) t = prev + MIN_MESSAGE_GAP_NS;
    if (t >= haltFrom && t < haltTo) continue;
    out[m++] = t;
    prev = t;
  }
  return m === out.length ? out : out.slice(0, m);
}
