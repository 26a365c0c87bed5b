/**
 * Per-symbol L2 order book: price levels and sizes for both sides, as sorted parallel typed arrays.
 *
 * Layout: each side keeps ascending keys with the best level LAST (bids: key = price; asks:
 * key = -price, negation being exact), because updates cluster at the top of the book and
 * inserting or deleting near the end moves the fewest elements. Updates are a binary search plus a
 * `copyWithin`; arrays double when full (the only allocation).
 *
 * Conventions (the canonical BookEvent, core/events.ts): size 0 deletes a level; the first
 * snapshot row after a non-snapshot row clears the whole book (both sides), and later snapshot
 * rows of the same run add levels to it.
 *
 * Sequence-gap policy: `noteSeq` is fed each book event's per-source sequence number; a number
 * above last + 1 means updates were lost, so the book is marked unsynced (`synced = false`) until
 * the next snapshot row. Book factors output null while unsynced. A crossed book (best bid >= best
 * ask) is not repaired; `checkCrossed` counts how often a complete book was observed crossed.
 */
import { advanceIfSuccessor, setHalves } from './ns-offset.ts';

export interface BookSide {
  /** Ascending; best level last. Bids hold prices, asks hold negated prices. */
  keys: Float64Array;
  sizes: Float64Array;
  n: number;
}

export interface OrderBook {
  bids: BookSide;
  asks: BookSide;
  /** The previous applied row was a snapshot row. */
  inSnapshot: boolean;
  /** False after a sequence gap until the next snapshot row. */
  synced: boolean;
  /** Highest sequence number seen; -2n before the first (so last + 1 is never a real number). */
  lastSeq: bigint;
  /** lastSeq's 32-bit halves, for the per-row successor check (ns-offset.ts advanceIfSuccessor). */
  hi: number;
  lo: number;
  gaps: number;
  crossedCount: number;
}

/** 1 bid, -1 ask (as in BookEvent). */
export type BookSideId = 1 | -1;

function initSide(cap: number): BookSide {
  return { keys: new Float64Array(cap), sizes: new Float64Array(cap), n: 0 };
}

/**
 * An empty book. With `requireSnapshot` the book starts unsynced and becomes usable only after a
 * snapshot; otherwise an empty book is taken as the true starting state (e.g. a feed that builds
 * the book from an empty market).
 */
export function initOrderBook(requireSnapshot = false, initialLevels = 64): OrderBook {
  const cap = Math.max(1, Math.floor(initialLevels));
  const book: OrderBook = {
    bids: initSide(cap),
    asks: initSide(cap),
    inSnapshot: false,
    synced: !requireSnapshot,
    lastSeq: -2n,
    hi: 0,
    lo: 0,
    gaps: 0,
    crossedCount: 0,
  };
  setHalves(book, book.lastSeq);
  return book;
}

/** First index whose key is >= key (n when none). */
function lowerBound(side: BookSide, key: number): number {
  let lo = 0;
  let hi = side.n;
  const keys = side.keys;
  // Most updates hit the top of the book (the end): a new best level, or the best level itself
  // (half the rows of a real feed), before bisecting.
  if (hi > 0) {
    const top = keys[hi - 1];
    if (top < key) return hi;
    if (top === key) return hi - 1;
  }
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid] < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function grow(side: BookSide): void {
  const keys = new Float64Array(side.keys.length * 2);
  const sizes = new Float64Array(side.sizes.length * 2);
  keys.set(side.keys);
  sizes.set(side.sizes);
  side.keys = keys;
  side.sizes = sizes;
}

/**
 * Moves levels [from, n) by one slot (delta -1 deletes at from - 1, +1 opens a slot at from).
 * Updates cluster at the top (the end), so the run is usually a few elements: a plain loop beats
 * copyWithin's builtin call there; long runs still go through copyWithin.
 */
function shift(side: BookSide, from: number, n: number, delta: 1 | -1): void {
  const keys = side.keys;
  const sizes = side.sizes;
  if (n - from > 32) {
    keys.copyWithin(from + delta, from, n);
    sizes.copyWithin(from + delta, from, n);
  } else if (delta < 0) {
    for (let j = from; j < n; j++) {
      keys[j - 1] = keys[j];
      sizes[j - 1] = sizes[j];
    }
  } else {
    for (let j = n - 1; j >= from; j--) {
      keys[j + 1] = keys[j];
      sizes[j + 1] = sizes[j];
    }
  }
}

function setLevel(side: BookSide, key: number, size: number): void {
  const n = side.n;
  const i = lowerBound(side, key);
  if (i < n && side.keys[i] === key) {
    if (size === 0) {
      shift(side, i + 1, n, -1);
      side.n = n - 1;
    } else {
      side.sizes[i] = size;
    }
    return;
  }
  if (size === 0) return; // deleting a level the book does not hold
  if (n === side.keys.length) grow(side);
  shift(side, i, n, 1);
  side.keys[i] = key;
  side.sizes[i] = size;
  side.n = n + 1;
}

/**
 * Applies one L2 row: sets the level at `price` on `side` (1 bid, -1 ask) to `size`, deleting it
 * when size is 0. A snapshot row that follows a non-snapshot row first clears the book; any
 * snapshot row marks the book synced.
 */
export function applyLevel(book: OrderBook, side: BookSideId, price: number, size: number, snapshot: boolean): void {
  if (snapshot) {
    if (!book.inSnapshot) {
      book.bids.n = 0;
      book.asks.n = 0;
      book.inSnapshot = true;
    }
    book.synced = true;
  } else {
    book.inSnapshot = false;
  }
  // one call site: the JIT inlines setLevel once, not once per side, which leaves the fold's
  // inlining budget to the factors that read the book
  setLevel(side === 1 ? book.bids : book.asks, side === 1 ? price : -price, size);
}

/**
 * Records a book event's sequence number. Any number other than the expected one marks the book
 * unsynced until the next snapshot: above it, updates were lost (a gap); below it, a late row the
 * fold still applies, whose update later rows have already overtaken (applying it would write a
 * stale level). Returns the `synced` flag after the check.
 */
export function noteSeq(book: OrderBook, seq: bigint): boolean {
  // keeps the event's own bigint and compares through 32-bit halves: no per-row allocation
  // the usual case first: one halves comparison against the kept halves, no bigint compare
  if (advanceIfSuccessor(book, seq)) {
    book.lastSeq = seq;
    return book.synced;
  }
  const last = book.lastSeq;
  if (seq === last + 1n) {
    // the next number after all: the halves were missing (a book saved before they existed)
    book.lastSeq = seq;
    setHalves(book, seq);
    return book.synced;
  }
  if (last !== -2n) {
    book.synced = false;
    book.gaps++;
  }
  if (seq > last) {
    book.lastSeq = seq;
    setHalves(book, seq);
  }
  return book.synced;
}

/** Best (highest) bid price; null when the bid side is empty. */
export function bestBid(book: OrderBook): number | null {
  const s = book.bids;
  return s.n > 0 ? s.keys[s.n - 1] : null;
}

/** Best (lowest) ask price; null when the ask side is empty. */
export function bestAsk(book: OrderBook): number | null {
  const s = book.asks;
  return s.n > 0 ? -s.keys[s.n - 1] : null;
}

/** Size at the best bid; null when empty. */
export function bestBidSize(book: OrderBook): number | null {
  const s = book.bids;
  return s.n > 0 ? s.sizes[s.n - 1] : null;
}

/** Size at the best ask; null when empty. */
export function bestAskSize(book: OrderBook): number | null {
  const s = book.asks;
  return s.n > 0 ? s.sizes[s.n - 1] : null;
}

/** Number of price levels on a side. */
export function levelCount(book: OrderBook, side: BookSideId): number {
  return side === 1 ? book.bids.n : book.asks.n;
}

/** Price of the i-th level from the top (0 = best); null when there is no such level. */
export function levelPrice(book: OrderBook, side: BookSideId, i: number): number | null {
  const s = side === 1 ? book.bids : book.asks;
  if (i < 0 || i >= s.n) return null;
  const k = s.keys[s.n - 1 - i];
  return side === 1 ? k : -k;
}

/** Size of the i-th level from the top (0 = best); null when there is no such level. */
export function levelSize(book: OrderBook, side: BookSideId, i: number): number | null {
  const s = side === 1 ? book.bids : book.asks;
  if (i < 0 || i >= s.n) return null;
  return s.sizes[s.n - 1 - i];
}

/** Σ size over the top `levels` levels of a side (fewer when the side is shallower; 0 when empty). */
export function depth(book: OrderBook, side: BookSideId, levels: number): number {
  return sideDepth(side === 1 ? book.bids : book.asks, levels);
}

/** depth() of one side's levels. */
export function sideDepth(s: BookSide, levels: number): number {
  const n = s.n;
  const sizes = s.sizes;
  const stop = n > levels ? n - levels : 0;
  let sum = 0;
  for (let i = n - 1; i >= stop; i--) sum += sizes[i];
  return sum;
}

/** True when both sides are non-empty and best bid >= best ask. */
export function isCrossed(book: OrderBook): boolean {
  const b = book.bids;
  const a = book.asks;
  return b.n > 0 && a.n > 0 && b.keys[b.n - 1] >= -a.keys[a.n - 1];
}

/**
 * Observes a complete book (call it on the last row of an update): returns whether it is crossed
 * and counts it in `crossedCount` if so.
 */
export function checkCrossed(book: OrderBook): boolean {
  if (!isCrossed(book)) return false;
  book.crossedCount++;
  return true;
}
