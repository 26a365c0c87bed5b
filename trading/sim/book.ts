/**
 * The simulator's view of one symbol's book, in ticks and lots, built from the raw market events:
 * - L2 `BookEvent` rows (core/events.ts semantics: size 0 deletes a level; the first snapshot row
 *   after a non-snapshot row clears the book; `last` ends an exchange update) through the core's
 *   sorted-array book (core/kernels/order-book.ts), keyed by integer ticks;
 * - L1 `QuoteEvent`s for data without L2 (TAQ quotes, Binance bookTicker, Dukascopy): each quote
 *   replaces the book by its two levels (price 0 / size 0 is an empty side).
 * `depthFrom: 'auto'` reads quotes until the first book row and the L2 book from then on (a feed
 * with both, Binance or LOBSTER, is simulated on its full depth).
 *
 * What the data does not show is not invented: a price outside the visible window of a side
 * (below the deepest bid level held, above the deepest ask level; for L1 anything but the best)
 * has an unknown size (`depthAt` returns null), so a queue estimate there is left alone. LOBSTER's
 * 10-level book is a window: a level pushed below level 10 leaves the view rather than emptying.
 *
 * Our own liquidity taking: a marketable order consumes visible size (`take`), and that size stays
 * consumed until the data updates the level (any new size for it supersedes our estimate), so two
 * marketable orders in a row do not both take the same lots. hftbacktest does not model this
 * (its takers leave the book unchanged; partialfillexchange.rs, "Liquidity-Taking Order").
 */
import { applyLevel, checkCrossed, initOrderBook, noteSeq, type BookSide, type OrderBook } from '../../core/kernels/order-book.ts';
import type { BookEvent, QuoteEvent } from '../../core/events.ts';
import type { Instrument } from '../types.ts';
import { priceToTicks, sizeToLots } from './ticks.ts';

/** 1 bid, -1 ask. */
export type BookSideId = 1 | -1;

/** Where the depth comes from. */
export type DepthFrom = 'auto' | 'book' | 'quote';

/** One symbol's book as the simulator sees it (plain data). */
export interface SimBook {
  /** Keys are ticks (asks negated, as the kernel keeps them), sizes lots. */
  l2: OrderBook;
  /** Which events built the current book: none yet, L1 quotes, or L2 rows. */
  mode: 'none' | 'l1' | 'l2';
  /** False between a non-last L2 row and the last row of its update. */
  complete: boolean;
  /** Lots of a level (by tick) that our own marketable orders took and the data has not refreshed. */
  takenBid: Map<number, number>;
  takenAsk: Map<number, number>;
}

/** An empty book (no depth known yet). */
export function initSimBook(): SimBook {
  return { l2: initOrderBook(false, 64), mode: 'none', complete: true, takenBid: new Map(), takenAsk: new Map() };
}

function sideOf(book: SimBook, side: BookSideId): BookSide {
  return side === 1 ? book.l2.bids : book.l2.asks;
}

const keyOf = (side: BookSideId, tick: number): number => (side === 1 ? tick : -tick);
const tickOf = (side: BookSideId, key: number): number => (side === 1 ? key : -key);

/** Index of `key` in a side (ascending keys), or -1. */
function indexOf(s: BookSide, key: number): number {
  let lo = 0;
  let hi = s.n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (s.keys[mid] < key) lo = mid + 1;
    else hi = mid;
  }
  return lo < s.n && s.keys[lo] === key ? lo : -1;
}

/**
 * Applies one L2 row (a level's new size). Returns the level's tick. A row that changes a level
 * drops our taken lots there; a snapshot's first row drops all of them.
 */
export function applyBookRow(book: SimBook, inst: Instrument, ev: BookEvent): number {
  const tick = priceToTicks(inst, ev.price, `book seq ${ev.seq} price`);
  if (book.mode !== 'l2' || (ev.snapshot && !book.l2.inSnapshot)) {
    if (book.mode !== 'l2') {
      // the first L2 row: whatever L1 levels the quotes left are not part of the L2 book
      book.l2.bids.n = 0;
      book.l2.asks.n = 0;
    }
    book.takenBid.clear();
    book.takenAsk.clear();
  }
  book.mode = 'l2';
  noteSeq(book.l2, ev.seq);
  applyLevel(book.l2, ev.side, tick, sizeToLots(inst, ev.size), ev.snapshot); // the kernel negates ask keys itself
  (ev.side === 1 ? book.takenBid : book.takenAsk).delete(tick);
  book.complete = ev.last;
  if (ev.last) checkCrossed(book.l2);
  return tick;
}

/**
 * Applies an L1 quote: the book becomes its two levels. Our taken lots on a side survive only
 * while that side's price and size are unchanged (a quote that moved only the other side).
 */
export function applyQuote(book: SimBook, inst: Instrument, ev: QuoteEvent): void {
  const b = ev.bidSz > 0 && ev.bidPx > 0 ? { t: priceToTicks(inst, ev.bidPx, `quote seq ${ev.seq} bidPx`), q: sizeToLots(inst, ev.bidSz) } : null;
  const a = ev.askSz > 0 && ev.askPx > 0 ? { t: priceToTicks(inst, ev.askPx, `quote seq ${ev.seq} askPx`), q: sizeToLots(inst, ev.askSz) } : null;
  const l2 = book.l2;
  const sameBid = book.mode === 'l1' && (b === null ? l2.bids.n === 0 : l2.bids.n === 1 && l2.bids.keys[0] === b.t && l2.bids.sizes[0] === b.q);
  const sameAsk = book.mode === 'l1' && (a === null ? l2.asks.n === 0 : l2.asks.n === 1 && l2.asks.keys[0] === -a.t && l2.asks.sizes[0] === a.q);
  if (!sameBid) book.takenBid.clear();
  if (!sameAsk) book.takenAsk.clear();
  book.mode = 'l1';
  book.complete = true;
  l2.bids.n = 0;
  l2.asks.n = 0;
  if (b) applyLevel(l2, 1, b.t, b.q, false);
  if (a) applyLevel(l2, -1, a.t, a.q, false);
  l2.inSnapshot = false;
  checkCrossed(l2);
}

/** Whether a quote / book row feeds the book under `depthFrom` (auto: quotes until the first book row). */
export function usesQuotes(book: SimBook, depthFrom: DepthFrom): boolean {
  return depthFrom === 'quote' || (depthFrom === 'auto' && book.mode !== 'l2');
}

/**
 * Visible size (lots) at `tick` on `side`: the level's size, 0 for an empty price inside the
 * visible window (between the best and the deepest level held, or better than the best), null
 * outside it (unknown). An empty side is unknown everywhere.
 */
export function depthAt(book: SimBook, side: BookSideId, tick: number): number | null {
  const s = sideOf(book, side);
  if (s.n === 0) return null;
  const key = keyOf(side, tick);
  const i = indexOf(s, key);
  if (i >= 0) return s.sizes[i];
  return key > s.keys[0] ? 0 : null;
}

/** Visible size at a level minus what our own orders took from it (never below 0). */
export function availableAt(book: SimBook, side: BookSideId, tick: number): number {
  const d = depthAt(book, side, tick) ?? 0;
  const t = (side === 1 ? book.takenBid : book.takenAsk).get(tick) ?? 0;
  return Math.max(0, d - t);
}

/** Records that our marketable order took `lots` at a level. */
export function take(book: SimBook, side: BookSideId, tick: number, lots: number): void {
  const m = side === 1 ? book.takenBid : book.takenAsk;
  m.set(tick, (m.get(tick) ?? 0) + lots);
}

/** Best price (ticks) of a side, null when empty. */
export function bestTick(book: SimBook, side: BookSideId): number | null {
  const s = sideOf(book, side);
  return s.n > 0 ? tickOf(side, s.keys[s.n - 1]) : null;
}

/** Best price of a side among levels that still hold at least one whole lot we did not take. */
export function bestAvailableTick(book: SimBook, side: BookSideId): number | null {
  const s = sideOf(book, side);
  const taken = side === 1 ? book.takenBid : book.takenAsk;
  for (let i = s.n - 1; i >= 0; i--) {
    const tick = tickOf(side, s.keys[i]);
    if (s.sizes[i] - (taken.get(tick) ?? 0) >= 1 - 1e-9) return tick;
  }
  return null;
}

/**
 * Levels of `side` from the best outward, as long as their price is within `limit` (ticks; null:
 * no limit): for a buy, asks ≤ limit; for a sell, bids ≥ limit. Returns [tick, available lots].
 */
export function levelsWithin(book: SimBook, side: BookSideId, limit: number | null): [number, number][] {
  const s = sideOf(book, side);
  const out: [number, number][] = [];
  for (let i = s.n - 1; i >= 0; i--) {
    const tick = tickOf(side, s.keys[i]);
    if (limit !== null && (side === -1 ? tick > limit : tick < limit)) break;
    out.push([tick, availableAt(book, side, tick)]);
  }
  return out;
}
