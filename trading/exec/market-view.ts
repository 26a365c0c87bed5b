/**
 * The algorithm's view of its symbol's market: the touch (best bid/ask in ticks, sizes in lots)
 * and the window's traded volume, updated in place from the raw events.
 *
 * The touch comes from quotes when the symbol has them; from the L2 book (at the end of each update,
 * `BookEvent.last`) only while no quote has been seen, so a feed with both pays for one. Prices are
 * converted to ticks with `toTicks`, which refuses an off-grid price (a wrong `--tick`).
 */
import type { BookEvent, MarketEvent, QuoteEvent } from '../../core/events.ts';
import { ExecConfigError, type ExecState } from './types.ts';

/** A decimal price as ticks; refuses a price off the grid (beyond float representation error). */
export function toTicks(px: number, tick: number, field: string): number {
  const t = Math.round(px / tick);
  if (Math.abs(t * tick - px) > 1e-9 * Math.max(1, Math.abs(px))) throw new ExecConfigError(field, px, `not on the tick grid of ${tick}`);
  return t;
}

/** A decimal quantity as (possibly fractional) lots: market sizes are not held to the lot grid. */
export function toLots(size: number, lot: number): number {
  return size / lot;
}

function applyQuote(s: ExecState, q: QuoteEvent): void {
  s.quoteSeen = true;
  // a one-sided quote (NaN or 0 price) leaves that side unknown
  s.bid = q.bidPx > 0 ? toTicks(q.bidPx, s.tick, 'quote bid_px') : null;
  s.ask = q.askPx > 0 ? toTicks(q.askPx, s.tick, 'quote ask_px') : null;
  s.bidSz = q.bidSz > 0 ? toLots(q.bidSz, s.lot) : 0;
  s.askSz = q.askSz > 0 ? toLots(q.askSz, s.lot) : 0;
}

function bestOf(levels: Record<number, number>, side: 1 | -1): number | null {
  let best: number | null = null;
  for (const k in levels) {
    const p = Number(k);
    if (best === null || (side === 1 ? p > best : p < best)) best = p;
  }
  return best;
}

function applyBook(s: ExecState, b: BookEvent): void {
  if (b.snapshot && !s.bookInSnapshot) {
    s.bids = {};
    s.asks = {};
  }
  s.bookInSnapshot = b.snapshot && !b.last;
  const levels = b.side === 1 ? s.bids : s.asks;
  const px = toTicks(b.price, s.tick, 'book price');
  if (b.size > 0) levels[px] = toLots(b.size, s.lot);
  else delete levels[px];
  if (!b.last) return;
  s.bid = bestOf(s.bids, 1);
  s.ask = bestOf(s.asks, -1);
  s.bidSz = s.bid === null ? 0 : s.bids[s.bid];
  s.askSz = s.ask === null ? 0 : s.asks[s.ask];
}

/** Mid in ticks (may be a half tick), null while a side is unknown. */
export function midOf(s: ExecState): number | null {
  return s.bid === null || s.ask === null ? null : (s.bid + s.ask) / 2;
}

/**
 * Applies one event of the parent's symbol to the view. Returns false for an event after which the
 * view is not complete (a book row that is not the last of its update): the algorithm then waits.
 * A trade counts in the window's volume when the algorithm reads it (`now`) inside the window.
 */
export function applyMarket(s: ExecState, ev: MarketEvent, now: bigint): boolean {
  switch (ev.kind) {
    case 'quote':
      applyQuote(s, ev);
      return true;
    case 'book':
      if (s.quoteSeen) return ev.last;
      applyBook(s, ev);
      return ev.last;
    case 'trade':
      if (now >= s.parent.start && now < s.parent.end && ev.size > 0) s.marketVol += toLots(ev.size, s.lot);
      return true;
    default:
      return true;
  }
}
