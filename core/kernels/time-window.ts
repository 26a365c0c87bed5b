/**
 * Sum, mean, count and variance over an event-time window of fixed duration (ns): the values whose
 * time t satisfies now - duration < t <= now, e.g. a 5-minute average of trade prices or a 20-minute
 * volume. "now" is the latest event time handed in (a trade, a quote or a heartbeat): eviction is
 * driven by event time only, never by a wall clock, which is what lets live reproduce replay.
 *
 * Storage is plain data: Float64Arrays of times and values used as a ring (head/len), doubled when
 * full (the only allocation, amortized to nothing). Times are kept as exact float64 offsets from an
 * origin (the first time seen; see ns-offset.ts): bigint arithmetic allocates on every operation
 * and cost more than the window itself when a heartbeat visits every symbol's windows. Offsets
 * stay below 2^52 ns (52 days) by moving the origin forward when needed, so every comparison is
 * exact. The time of the oldest value plus the duration is cached as `expiry`, so a push that
 * evicts nothing costs two float comparisons.
 *
 * Out-of-order policy: times are clamped to be non-decreasing. A value whose time is earlier than
 * the newest one held is stored at the newest time (it leaves the window with it), so eviction
 * stays first-in first-out. Same drift protection as rolling-sum.ts (window-moments.ts): Neumaier
 * (1974) compensated add/remove, shifted variance sums, and an exact re-base once the pushes since
 * the last re-base reach the number of values held (the window has turned over; O(1) amortized).
 */
import { MAX_EXACT_OFFSET, nsHigh, nsLow, nsOffset } from './ns-offset.ts';
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

export interface TimeWindow {
  durationNs: bigint;
  /** durationNs as a float64 (exact: durations are far below 2^53 ns). */
  dur: number;
  /** Epoch ns that offset 0 stands for, and its 32-bit halves; set by the first time seen. */
  origin: bigint;
  originHigh: number;
  originLow: number;
  started: boolean;
  /** Offsets from `origin` (exact integers) and values, as a ring. */
  times: Float64Array;
  vals: Float64Array;
  /** Slot of the oldest entry. */
  head: number;
  len: number;
  /** Offset of the newest time pushed or advanced to (the window's "now"); -Infinity before any. */
  now: number;
  /** times[head] + dur, or +Infinity when empty: the first `now` at which the head leaves. */
  expiry: number;
  m: WindowMoments;
  /**
   * Sided windows (trade flow): each value's aggressor side (1 buy, -1 sell, 0 unknown) and the
   * sums of buyer- and seller-initiated values, kept beside `m` so one ring serves volume, count and
   * buy/sell volume. Null for plain windows (same object shape either way).
   */
  sides: Int8Array | null;
  buy: WindowMoments | null;
  sell: WindowMoments | null;
  since: number;
  rebases: number;
}

/** Longest window: keeps `dur` and every offset sum far inside float64's exact integers. */
const MAX_DURATION_NS = 2n ** 50n;

/**
 * An empty window of `durationNs` (> 0, < 2^50 ns ≈ 13 days) nanoseconds, with room for
 * `initialCapacity` values before the first growth. `variance: false` keeps only the sum and count
 * (timeWindowVariance is then null), which is cheaper per push and eviction.
 */
export function initTimeWindow(durationNs: bigint, initialCapacity = 64, variance = true, sided = false): TimeWindow {
  if (durationNs <= 0n || durationNs >= MAX_DURATION_NS) throw new RangeError(`time window duration ${durationNs} ns must be > 0 and < 2^50`);
  const cap = Math.max(1, Math.floor(initialCapacity));
  return {
    durationNs,
    dur: Number(durationNs),
    origin: 0n,
    originHigh: 0,
    originLow: 0,
    started: false,
    times: new Float64Array(cap),
    vals: new Float64Array(cap),
    head: 0,
    len: 0,
    now: -Infinity,
    expiry: Infinity,
    m: initMoments(variance),
    sides: sided ? new Int8Array(cap) : null,
    buy: sided ? initMoments(false) : null,
    sell: sided ? initMoments(false) : null,
    since: 0,
    rebases: 0,
  };
}

function setOrigin(w: TimeWindow, origin: bigint): void {
  w.origin = origin;
  w.originHigh = nsHigh(origin);
  w.originLow = nsLow(origin);
}

/**
 * `t` as an offset from the window's origin, moving the origin to "now" first when `t` is too far
 * ahead for the offset to be exact (after ~52 days of continuous use, or a jump that long).
 * Small on purpose, so the JIT inlines it: a float64 returned from a call that is not inlined is
 * boxed on the heap, on every push and heartbeat.
 */
function offsetOf(w: TimeWindow, t: bigint): number {
  if (w.started) {
    const x = nsOffset(t, w.originHigh, w.originLow);
    if (x <= MAX_EXACT_OFFSET) return x;
  }
  return offsetSlow(w, t);
}

/** offsetOf's rare cases: the first time seen, and an offset past MAX_EXACT_OFFSET. */
function offsetSlow(w: TimeWindow, t: bigint): number {
  if (!w.started) {
    w.started = true;
    setOrigin(w, t);
    return 0;
  }
  // re-express everything held relative to now (exact: held offsets are within dur of now)
  const shift = w.now > 0 ? w.now : 0;
  setOrigin(w, w.origin + BigInt(shift));
  const cap = w.vals.length;
  for (let i = 0, slot = w.head; i < w.len; i++) {
    w.times[slot] -= shift;
    if (++slot === cap) slot = 0;
  }
  w.now -= shift;
  w.expiry -= shift;
  const y = nsOffset(t, w.originHigh, w.originLow);
  if (y <= MAX_EXACT_OFFSET) return y;
  // a jump of more than 2^52 ns past now: everything held leaves; start afresh at t
  while (w.len > 0) evictHead(w);
  w.expiry = Infinity;
  w.now = -Infinity;
  setOrigin(w, t);
  return 0;
}

function evictHead(w: TimeWindow): void {
  const x = w.vals[w.head];
  momentsRemove(w.m, x);
  if (w.sides !== null) {
    // the same terms (x or 0) as were added: a sided sum is bit-identical to a window of its own
    const side = w.sides[w.head];
    momentsRemove(w.buy!, side === 1 ? x : 0);
    momentsRemove(w.sell!, side === -1 ? x : 0);
  }
  w.head = w.head + 1 === w.vals.length ? 0 : w.head + 1;
  w.len--;
}

/** Advance on an offset (see timeWindowAdvance); true when a value left the window. */
function advanceTo(w: TimeWindow, now: number): boolean {
  if (now > w.now) w.now = now;
  // the usual case, nothing expires, stays small enough to inline (see offsetOf)
  if (now < w.expiry) return false;
  // here w.now === now: an earlier now is always before expiry (all t <= w.now - dur are gone)
  evictExpired(w);
  return true;
}

/** Evicts what `w.now` expires (w.now >= expiry: the head at least) and re-bases if due. */
function evictExpired(w: TimeWindow): void {
  const cutoff = w.now - w.dur;
  const times = w.times;
  while (w.len > 0 && times[w.head] <= cutoff) evictHead(w);
  w.expiry = w.len > 0 ? times[w.head] + w.dur : Infinity;
  // An eviction without a push (e.g. a heartbeat after a quiet spell) can turn the window over or
  // move its mean far from the shift; re-base now so reads before the next push are as exact.
  if (w.len > 0 && (w.since >= w.len || momentsNeedRebase(w.m))) rebase(w);
}

/**
 * Moves the window's clock to `now` (if later) and evicts every value with t <= now - duration.
 * Call it on events that carry time but no value (heartbeats, other kinds) so reads reflect the
 * present. An earlier `now` is ignored. Returns true when a value left the window (its sums and
 * count changed); false means every read is as before.
 */
export function timeWindowAdvance(w: TimeWindow, now: bigint): boolean {
  return advanceTo(w, offsetOf(w, now));
}

/** Adds value `x` at event time `t` (clamped to the newest time seen), evicting what `t` expires. */
export function timeWindowPush(w: TimeWindow, t: bigint, x: number): void {
  timeWindowPushSided(w, t, x, 0);
}

/**
 * timeWindowPush with the value's aggressor side (1 buy, -1 sell, 0 unknown), for a window made
 * with `sided`: the value also counts in timeWindowBuySum or timeWindowSellSum. Plain windows
 * ignore the side.
 */
export function timeWindowPushSided(w: TimeWindow, t: bigint, x: number, side: number): void {
  let at = offsetOf(w, t);
  if (at < w.now) at = w.now;
  advanceTo(w, at);
  if (w.len === w.vals.length) grow(w);
  let slot = w.head + w.len;
  if (slot >= w.vals.length) slot -= w.vals.length;
  w.times[slot] = at;
  w.vals[slot] = x;
  if (w.len++ === 0) w.expiry = at + w.dur;
  momentsAdd(w.m, x);
  if (w.sides !== null) {
    w.sides[slot] = side;
    momentsAdd(w.buy!, side === 1 ? x : 0);
    momentsAdd(w.sell!, side === -1 ? x : 0);
  }
  w.since++;
  if (w.since >= w.len || momentsNeedRebase(w.m)) rebase(w);
}

function grow(w: TimeWindow): void {
  const cap = w.vals.length;
  const first = cap - w.head; // entries from head to the end of the old arrays
  const unwrap = <A extends Float64Array | Int8Array>(old: A, fresh: A): A => {
    fresh.set(old.subarray(w.head) as never);
    fresh.set(old.subarray(0, w.head) as never, first);
    return fresh;
  };
  w.times = unwrap(w.times, new Float64Array(cap * 2));
  w.vals = unwrap(w.vals, new Float64Array(cap * 2));
  if (w.sides !== null) w.sides = unwrap(w.sides, new Int8Array(cap * 2));
  w.head = 0;
}

function rebase(w: TimeWindow): void {
  momentsRebase(w.m);
  const sides = w.sides;
  if (sides !== null) {
    momentsRebase(w.buy!);
    momentsRebase(w.sell!);
  }
  const cap = w.vals.length;
  for (let i = 0, slot = w.head; i < w.len; i++) {
    const x = w.vals[slot];
    momentsAdd(w.m, x);
    if (sides !== null) {
      momentsAdd(w.buy!, sides[slot] === 1 ? x : 0);
      momentsAdd(w.sell!, sides[slot] === -1 ? x : 0);
    }
    if (++slot === cap) slot = 0;
  }
  w.since = 0;
  w.rebases++;
}

/** Σ of the values in the window (0 when empty). */
export function timeWindowSum(w: TimeWindow): number {
  return momentsSum(w.m);
}

/** Σ of the buyer-initiated values of a sided window (0 when empty or not sided). */
export function timeWindowBuySum(w: TimeWindow): number {
  return w.buy === null ? 0 : momentsSum(w.buy);
}

/** Σ of the seller-initiated values of a sided window (0 when empty or not sided). */
export function timeWindowSellSum(w: TimeWindow): number {
  return w.sell === null ? 0 : momentsSum(w.sell);
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
  return w.len > 0 ? w.origin + BigInt(w.times[w.head]) : null;
}
