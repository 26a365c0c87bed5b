/**
 * Builders of hand-made market events for the simulator's tests (prices and sizes as decimals,
 * like the catalog's; times in ns).
 */
import type { BookEvent, QuoteEvent, TradeEvent } from '../../core/events.ts';
import type { ChildOrder, Instrument } from '../types.ts';

export const SYM = 'TEST';
export const INST: Instrument = { symbol: SYM, tick: 0.01, lot: 1, multiplier: 1 };

let seq = 0n;
const next = (): bigint => ++seq;

/** One L2 row; `snapshot` rows start a new book. */
export function row(t: bigint, side: 1 | -1, price: number, size: number, opts: { snapshot?: boolean; last?: boolean } = {}): BookEvent {
  return { kind: 'book', symbol: SYM, tsEvent: t, tsRecv: t, seq: next(), side, price, size, snapshot: opts.snapshot ?? false, last: opts.last ?? true };
}

/** A snapshot of both sides at `t` (levels as [price, size], best first); the last row is `last`. */
export function snapshot(t: bigint, bids: [number, number][], asks: [number, number][]): BookEvent[] {
  const rows = [...bids.map(([p, s]) => row(t, 1, p, s, { snapshot: true, last: false })), ...asks.map(([p, s]) => row(t, -1, p, s, { snapshot: true, last: false }))];
  rows[rows.length - 1].last = true;
  return rows;
}

export function trade(t: bigint, price: number, size: number, side: 1 | -1 | 0): TradeEvent {
  return { kind: 'trade', symbol: SYM, tsEvent: t, tsRecv: t, seq: next(), price, size, side };
}

export function quote(t: bigint, bidPx: number, bidSz: number, askPx: number, askSz: number): QuoteEvent {
  return { kind: 'quote', symbol: SYM, tsEvent: t, tsRecv: t, seq: next(), bidPx, bidSz, askPx, askSz };
}

export function order(id: string, side: 1 | -1, qty: number, limitPx: number | null, ts: bigint): ChildOrder {
  return { id, parentId: 'P', symbol: SYM, side, qty, limitPx, ts };
}
