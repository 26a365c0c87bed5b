/**
 * Sum, mean, count and variance over an event-time window of fixed duration (ns): the values whose
 * time t satisfies now - duration < t <= now, e.g. a 5-minute average of trade prices or a 20-minute
 * volume. "now" is the latest event time handed in (a trade, a quote or a heartbeat): eviction is
 * driven by event time only, never by a wall clock, which is what lets live reproduce replay.
 *
 * Storage is plain data: a BigInt64Array of times and a Float64Array of values used as a ring
 * (head/len), doubled when full (the only allocation, amortized to nothing). The time of the
 * oldest value plus the duration is cached as `expiry`, so a push that evicts nothing costs one
 * bigint comparison and no bigint arithmetic.
 *
 * Out-of-order policy: times are clamped to be non-decreasing. A value whose time is earlier than
 * the newest one held is stored at the newest time (it leaves the window with it), so eviction
 * stays first-in first-out. Same drift protection as rolling-sum.ts (window-moments.ts): Neumaier
 * (1974) compensated add/remove, shifted variance sums, and an exact re-base once the pushes since
 * the last re-base reach the number of values held (the window has turned over; O(1) amortized).
 */
import {
  initMoments,
  momentsAdd,
  momentsMean,
  momentsNeedRebase,
  momentsRebase,
  momentsRemove,
  momentsSum,
  momentsVariance,
  type WindowMoments,
} from './window-moments.ts';

/** Larger than any epoch-ns time: the expiry of an empty window. */
const NEVER = 0x7fffffffffffffffn;
/** Earliest representable time: "nothing seen yet". */
const NO_TIME = -0x8000000000000000n;

export interface TimeWindow {
  durationNs: bigint;
  times: BigInt64Array;
  vals: Float64Array;
  /** Slot of the oldest entry. */
  head: number;
  len: number;
  /** Newest time pushed or advanced to (the window's "now"). */
  now: bigint;
  /** times[head] + durationNs, or NEVER when empty: the first `now` at which the head leaves. */
  expiry: bigint;
  m: WindowMoments;
  since: number;
  rebases: number;
}

/**
 * An empty window of `durationNs` (> 0) nanoseconds, with room for `initialCapacity` values before
 * the first growth.
 */
export function initTimeWindow(durationNs: bigint, initialCapacity = 64): TimeWindow {
  if (durationNs <= 0n) throw new RangeError(`time window duration ${durationNs} ns must be > 0`);
  const cap = Math.max(1, Math.floor(initialCapacity));
  return {
    durationNs,
    times: new BigInt64Array(cap),
    vals: new Float64Array(cap),
    head: 0,
    len: 0,
    now: NO_TIME,
    expiry: NEVER,
    m: initMoments(),
    since: 0,
    rebases: 0,
  };
}

/**
 * Moves the window's clock to `now` (if later) and evicts every value with t <= now - duration.
 * Call it on events that carry time but no value (heartbeats, other kinds) so reads reflect the
 * present. An earlier `now` is ignored.
 */
export function timeWindowAdvance(w: TimeWindow, now: bigint): void {
  if (now > w.now) w.now = now;
  if (now < w.expiry) return;
  const cutoff = now - w.durationNs;
  const cap = w.vals.length;
  const times = w.times;
  while (w.len > 0 && times[w.head] <= cutoff) {
    momentsRemove(w.m, w.vals[w.head]);
    w.head = w.head + 1 === cap ? 0 : w.head + 1;
    w.len--;
  }
  w.expiry = w.len > 0 ? times[w.head] + w.durationNs : NEVER;
  // An eviction without a push (e.g. a heartbeat after a quiet spell) can turn the window over or
  // move its mean far from the shift; re-base now so reads before the next push are as exact.
  if (w.len > 0 && (w.since >= w.len || momentsNeedRebase(w.m))) rebase(w);
}

/** Adds value `x` at event time `t` (clamped to the newest time seen), evicting what `t` expires. */
export function timeWindowPush(w: TimeWindow, t: bigint, x: number): void {
  if (t < w.now) t = w.now;
  timeWindowAdvance(w, t);
  if (w.len === w.vals.length) grow(w);
  let slot = w.head + w.len;
  if (slot >= w.vals.length) slot -= w.vals.length;
  w.times[slot] = t;
  w.vals[slot] = x;
  if (w.len++ === 0) w.expiry = t + w.durationNs;
  momentsAdd(w.m, x);
  w.since++;
  if (w.since >= w.len || momentsNeedRebase(w.m)) rebase(w);
}

function grow(w: TimeWindow): void {
  const cap = w.vals.length;
  const times = new BigInt64Array(cap * 2);
  const vals = new Float64Array(cap * 2);
  const first = cap - w.head; // entries from head to the end of the old arrays
  times.set(w.times.subarray(w.head));
  times.set(w.times.subarray(0, w.head), first);
  vals.set(w.vals.subarray(w.head));
  vals.set(w.vals.subarray(0, w.head), first);
  w.times = times;
  w.vals = vals;
  w.head = 0;
}

function rebase(w: TimeWindow): void {
  momentsRebase(w.m);
  const cap = w.vals.length;
  for (let i = 0, slot = w.head; i < w.len; i++) {
    momentsAdd(w.m, w.vals[slot]);
    if (++slot === cap) slot = 0;
  }
  w.since = 0;
  w.rebases++;
}

/** Σ of the values in the window (0 when empty). */
export function timeWindowSum(w: TimeWindow): number {
  return momentsSum(w.m);
}

/** Mean of the values in the window; null when empty. */
export function timeWindowMean(w: TimeWindow): number | null {
  return momentsMean(w.m);
}

/** Number of values in the window. */
export function timeWindowCount(w: TimeWindow): number {
  return w.len;
}

/** Variance with `ddof` (default 1, sample); null while count <= ddof. */
export function timeWindowVariance(w: TimeWindow, ddof = 1): number | null {
  return momentsVariance(w.m, ddof);
}

/** Time of the oldest value held, or null when empty. */
export function timeWindowOldestTime(w: TimeWindow): bigint | null {
  return w.len > 0 ? w.times[w.head] : null;
}
