/**
 * One symbol's synthetic session: an L2 book of 10 consecutive-tick levels per side, driven by a
 * stream of exchange messages (trades at the touch, size changes, mid moves, spread changes), with
 * the L1 quote always equal to the book's best levels.
 *
 * Each message stamps its events at fixed sub-offsets of its time t: the trade at t (so it sees the
 * quote that prevailed before it), the quote at t+100ns and the book update at t+200ns (so a book
 * update's last row sees the quote it produced). Receive time is t + latency on a FIFO feed; a
 * configurable fraction of messages arrives late (its trade and quote after later messages of the
 * symbol; its book rows stay in sequence, as on a gap-free depth feed) and a
 * fraction of event groups is delivered twice (same seq and content, later ts_recv).
 *
 * Sequence numbers per (kind, symbol) follow event time, contiguous from 1, before any reordering
 * or duplication. Prices are integer ticks / 100, so the same arguments give the same doubles.
 */
import type { BookEvent, QuoteEvent, Side, TradeEvent } from '../core/events.ts';
import { chance, intBelow, uniform, type Rng } from './prng.ts';
import { TICKS_PER_UNIT } from './synthetic-traits.ts';

export const LEVELS = 10;
/** Share of messages that move the mid (the rest: trades, size changes, spread changes). */
export const MID_MOVE_SHARE = 0.12;
/** Largest standard mid move, ticks: bigger steps would turn every move into a full book rewrite. */
export const MAX_MID_STEP_TICKS = 4;

/**
 * Expected trade + quote + book events per message for a mid step size (a model calibrated on
 * generated days), so a preset's event budget can be turned into a message count.
 */
export function expectedEventsPerMessage(midStepTicks: number): number {
  const step = Math.min(midStepTicks, MAX_MID_STEP_TICKS);
  // a mid move rewrites `step` levels at each end of both sides, plus the quote
  const mid = step < 1 ? step * step * 5 + (1 - step * step) * 2 : 1 + 4 * step;
  return OTHER_EVENTS_PER_MESSAGE + MID_MOVE_SHARE * mid;
}
const OTHER_EVENTS_PER_MESSAGE = 1.85;
const QUOTE_OFFSET = 100n;
const BOOK_OFFSET = 200n;
/** Keep the deepest bid well above zero. */
const MIN_BID_TICKS = 50;

export interface SymbolSessionInput {
  symbol: string;
  /** Epoch ns of the session open. */
  openNs: bigint;
  /** Market-content stream (prices, sizes, message types). */
  rng: Rng;
  /** Delivery stream (latencies, late and duplicate choices), separate so fractions do not change prices. */
  deliveryRng: Rng;
  /** Message times, ns after the open, ascending; slot 0 is the opening snapshot (from messageOffsets). */
  offsets: Float64Array;
  /** Initial best bid, ticks. */
  startBidTicks: number;
  typicalSpread: number;
  /** Standard size of one mid move, ticks; below 1 a move of one tick happens with probability step². */
  midStepTicks: number;
  /** Offset (ns after open) of the price gap, or -1; its signed size as a fraction of the mid. */
  jumpOffsetNs: number;
  jumpFraction: number;
  duplicateFraction: number;
  lateFraction: number;
}

export interface SymbolSession {
  trades: TradeEvent[];
  quotes: QuoteEvent[];
  books: BookEvent[];
  /** Messages delivered late (after later messages of the symbol). */
  lateMessages: number;
  /** Events delivered a second time. */
  duplicates: number;
  /** Time of the price gap (ns after open), or -1 when this symbol has none. */
  jumpAtNs: number;
}

interface Sim {
  symbol: string;
  rng: Rng;
  bid: number;
  ask: number;
  bidSz: Int32Array;
  askSz: Int32Array;
  typicalSpread: number;
  midStepTicks: number;
  trades: TradeEvent[];
  quotes: QuoteEvent[];
  books: BookEvent[];
  tradeSeq: number;
  quoteSeq: number;
  bookSeq: number;
  /** Book timestamps of the message being built. */
  bookTe: bigint;
  bookTr: bigint;
}

/** Simulates one symbol's session; events come out in seq order per kind (plus duplicates). */
export function simulateSymbol(input: SymbolSessionInput): SymbolSession {
  const { offsets, openNs } = input;
  const { recv, late, lateMessages } = receiveOffsets(input.deliveryRng, offsets, input.lateFraction);
  const spread = Math.max(1, input.typicalSpread);
  const s: Sim = {
    symbol: input.symbol,
    rng: input.rng,
    bid: input.startBidTicks,
    ask: input.startBidTicks + spread,
    bidSz: new Int32Array(LEVELS),
    askSz: new Int32Array(LEVELS),
    typicalSpread: spread,
    midStepTicks: input.midStepTicks,
    trades: [],
    quotes: [],
    books: [],
    tradeSeq: 0,
    quoteSeq: 0,
    bookSeq: 0,
    bookTe: 0n,
    bookTr: 0n,
  };
  const drng = input.deliveryRng;
  const dupP = input.duplicateFraction;
  let duplicates = 0;
  let jumpAt = -1;

  // opening snapshot (message 0, at the open)
  s.bookTe = openNs + BOOK_OFFSET;
  s.bookTr = openNs + BigInt(recv[0]) + BOOK_OFFSET;
  for (let i = 0; i < LEVELS; i++) {
    s.bidSz[i] = levelSize(s.rng);
    s.askSz[i] = levelSize(s.rng);
  }
  for (let i = 0; i < LEVELS; i++) bookRow(s, 1, s.bid - i, s.bidSz[i], true);
  for (let i = 0; i < LEVELS; i++) bookRow(s, -1, s.ask + i, s.askSz[i], true);
  s.books[s.books.length - 1].last = true;
  pushQuote(s, openNs + QUOTE_OFFSET, openNs + BigInt(recv[0]) + QUOTE_OFFSET);

  let onTimeTr = openNs + BigInt(recv[0]);
  for (let m = 1; m < offsets.length; m++) {
    const te = openNs + BigInt(offsets[m]);
    const tr = openNs + BigInt(recv[m]);
    s.bookTe = te + BOOK_OFFSET;
    // The book feed is gap-free (sequenced, with recovery), as real depth feeds are: a late
    // message's trade and quote arrive late, its book rows in their place, between the on-time
    // neighbours. A late book row would only mark the book unsynced until the next snapshot.
    if (late[m] === 0) onTimeTr = tr;
    s.bookTr = (late[m] === 0 ? tr : onTimeTr > te ? onTimeTr : te) + BOOK_OFFSET;
    const t0 = s.trades.length;
    const q0 = s.quotes.length;
    const b0 = s.books.length;
    if (jumpAt < 0 && input.jumpOffsetNs >= 0 && offsets[m] >= input.jumpOffsetNs) {
      jumpAt = offsets[m];
      const mid2 = s.bid + s.ask;
      let k = Math.round((mid2 * input.jumpFraction) / 2);
      if (k === 0) k = input.jumpFraction < 0 ? -1 : 1;
      if (s.bid + k - LEVELS < MIN_BID_TICKS) k = -k;
      moveMid(s, k);
    } else {
      const u = uniform(s.rng);
      if (u < 0.22) trade(s, te, tr);
      else if (u < 0.52) touchChange(s);
      else if (u < 0.8) deepChange(s);
      else if (u < 0.8 + MID_MOVE_SHARE) randomMidMove(s);
      else spreadMove(s);
    }
    const b1 = s.books.length;
    if (b1 > b0) {
      s.books[b1 - 1].last = true;
      // every change of the touch is also an L1 quote
      if (touchChanged(s, b0, b1)) pushQuote(s, te + QUOTE_OFFSET, tr + QUOTE_OFFSET);
    }
    if (dupP > 0 && late[m] === 0) {
      // a re-delivery comes 1 ms – 1 s after the original
      if (s.trades.length > t0 && chance(drng, dupP)) {
        const d = redeliveryDelay(drng);
        for (let i = t0, n = s.trades.length; i < n; i++, duplicates++) s.trades.push(copyTrade(s.trades[i], d));
      }
      if (s.quotes.length > q0 && chance(drng, dupP)) {
        const d = redeliveryDelay(drng);
        for (let i = q0, n = s.quotes.length; i < n; i++, duplicates++) s.quotes.push(copyQuote(s.quotes[i], d));
      }
      if (b1 > b0 && chance(drng, dupP)) {
        const d = redeliveryDelay(drng);
        for (let i = b0; i < b1; i++, duplicates++) s.books.push(copyBook(s.books[i], d));
      }
    }
  }
  return { trades: s.trades, quotes: s.quotes, books: s.books, lateMessages, duplicates, jumpAtNs: jumpAt };
}

/**
 * Receive offsets: t + latency (20–500 µs, skewed low) on a FIFO feed, so arrival order is send
 * order except for the late messages, which arrive just after the 1st–3rd following on-time one.
 */
function receiveOffsets(r: Rng, offsets: Float64Array, lateFraction: number): { recv: Float64Array; late: Uint8Array; lateMessages: number } {
  const n = offsets.length;
  const recv = new Float64Array(n);
  const late = new Uint8Array(n);
  let prev = -Infinity;
  let lateMessages = 0;
  for (let i = 0; i < n; i++) {
    const u = uniform(r);
    const lat = 20_000 + Math.floor(u * u * 480_000);
    if (i > 0 && lateFraction > 0 && chance(r, lateFraction)) {
      late[i] = 1;
      lateMessages++;
      continue;
    }
    let t = offsets[i] + lat;
    if (t < prev + 300) t = prev + 300;
    recv[i] = t;
    prev = t;
  }
  if (lateMessages > 0) {
    for (let i = 1; i < n; i++) {
      if (late[i] === 0) continue;
      let ahead = 1 + intBelow(r, 3);
      let j = i + 1;
      for (; j < n; j++) if (late[j] === 0 && --ahead === 0) break;
      // with nothing after it, the message just arrives a second late
      recv[i] = j < n ? recv[j] + 1000 + intBelow(r, 1_000_000) : offsets[i] + 1e9;
    }
  }
  return { recv, late, lateMessages };
}

function redeliveryDelay(r: Rng): bigint {
  return BigInt(1_000_000 + intBelow(r, 999_000_000));
}

function levelSize(r: Rng): number {
  const u = uniform(r);
  return 100 * (1 + Math.floor(u * u * 30));
}

function tradeSize(r: Rng): number {
  if (chance(r, 0.15)) return 1 + intBelow(r, 99); // odd lot
  const u = uniform(r);
  return 100 * (1 + Math.floor(u * u * u * 20));
}

function bookRow(s: Sim, side: 1 | -1, ticks: number, size: number, snapshot: boolean): void {
  s.books.push({
    kind: 'book',
    tsEvent: s.bookTe,
    tsRecv: s.bookTr,
    symbol: s.symbol,
    seq: BigInt(++s.bookSeq),
    side,
    price: ticks / TICKS_PER_UNIT,
    size,
    snapshot,
    last: false,
  });
}

function pushQuote(s: Sim, te: bigint, tr: bigint): void {
  s.quotes.push({
    kind: 'quote',
    tsEvent: te,
    tsRecv: tr,
    symbol: s.symbol,
    seq: BigInt(++s.quoteSeq),
    bidPx: s.bid / TICKS_PER_UNIT,
    bidSz: s.bidSz[0],
    askPx: s.ask / TICKS_PER_UNIT,
    askSz: s.askSz[0],
  });
}

/** Whether rows [b0, b1) of the current update touched either best level. */
function touchChanged(s: Sim, b0: number, b1: number): boolean {
  const bid = s.bid / TICKS_PER_UNIT;
  const ask = s.ask / TICKS_PER_UNIT;
  for (let i = b0; i < b1; i++) {
    const row = s.books[i];
    if (row.price === bid || row.price === ask || row.size === 0) return true;
  }
  return false;
}

/**
 * Moves one side's best price to `newBest`, keeping 10 consecutive levels: levels that fall out of
 * the window are deleted (size 0), new ones are added with fresh sizes, the rest keep theirs.
 */
function moveSide(s: Sim, side: 1 | -1, newBest: number): void {
  const sz = side === 1 ? s.bidSz : s.askSz;
  const old = side === 1 ? s.bid : s.ask;
  // > 0: the side improves (moves towards the other side)
  const d = (newBest - old) * side;
  if (d === 0) return;
  if (d >= LEVELS || d <= -LEVELS) {
    for (let i = 0; i < LEVELS; i++) bookRow(s, side, old - side * i, 0, false);
    for (let i = LEVELS - 1; i >= 0; i--) {
      sz[i] = levelSize(s.rng);
      bookRow(s, side, newBest - side * i, sz[i], false);
    }
  } else if (d > 0) {
    for (let j = LEVELS - d; j < LEVELS; j++) bookRow(s, side, old - side * j, 0, false);
    for (let i = LEVELS - 1; i >= d; i--) sz[i] = sz[i - d];
    for (let i = d - 1; i >= 0; i--) {
      sz[i] = levelSize(s.rng);
      bookRow(s, side, newBest - side * i, sz[i], false);
    }
  } else {
    const e = -d;
    for (let j = 0; j < e; j++) bookRow(s, side, old - side * j, 0, false);
    for (let i = 0; i < LEVELS - e; i++) sz[i] = sz[i + e];
    for (let i = LEVELS - e; i < LEVELS; i++) {
      sz[i] = levelSize(s.rng);
      bookRow(s, side, newBest - side * i, sz[i], false);
    }
  }
  if (side === 1) s.bid = newBest;
  else s.ask = newBest;
}

/** Shifts both sides by k ticks (the mid's random walk, or a gap). */
function moveMid(s: Sim, k: number): void {
  if (k > 0) {
    moveSide(s, -1, s.ask + k);
    moveSide(s, 1, s.bid + k);
  } else {
    moveSide(s, 1, s.bid + k);
    moveSide(s, -1, s.ask + k);
  }
}

function randomMidMove(s: Sim): void {
  const r = s.rng;
  const step = s.midStepTicks;
  let k = 1;
  if (step < 1) {
    // tick-constrained: move one tick less often, same variance
    if (!chance(r, step * step)) return touchChange(s);
  } else k = Math.max(1, Math.round(Math.min(step, MAX_MID_STEP_TICKS) * (0.5 + uniform(r))));
  if (chance(r, 0.5)) k = -k;
  if (s.bid + k - LEVELS < MIN_BID_TICKS) k = Math.abs(k);
  moveMid(s, k);
}

/** Widens or narrows the spread by one tick on one side, mean-reverting to the typical spread. */
function spreadMove(s: Sim): void {
  const r = s.rng;
  const spread = s.ask - s.bid;
  const narrow = spread > 1 && (spread > s.typicalSpread ? chance(r, 0.9) : chance(r, 0.4));
  const bidSide = chance(r, 0.5);
  if (narrow) {
    if (bidSide) moveSide(s, 1, s.bid + 1);
    else moveSide(s, -1, s.ask - 1);
  } else if (bidSide && s.bid - LEVELS > MIN_BID_TICKS) moveSide(s, 1, s.bid - 1);
  else moveSide(s, -1, s.ask + 1);
}

/** Orders added or cancelled at the best bid or ask; a wide spread attracts orders inside it. */
function touchChange(s: Sim): void {
  if (s.ask - s.bid > s.typicalSpread && chance(s.rng, 0.7)) {
    if (chance(s.rng, 0.5)) moveSide(s, 1, s.bid + 1);
    else moveSide(s, -1, s.ask - 1);
    return;
  }
  const size = levelSize(s.rng);
  if (chance(s.rng, 0.5)) {
    s.bidSz[0] = size;
    bookRow(s, 1, s.bid, size, false);
  } else {
    s.askSz[0] = size;
    bookRow(s, -1, s.ask, size, false);
  }
}

/** Orders added or cancelled behind the touch (no L1 change). */
function deepChange(s: Sim): void {
  const level = 1 + intBelow(s.rng, LEVELS - 1);
  const size = levelSize(s.rng);
  if (chance(s.rng, 0.5)) {
    s.bidSz[level] = size;
    bookRow(s, 1, s.bid - level, size, false);
  } else {
    s.askSz[level] = size;
    bookRow(s, -1, s.ask + level, size, false);
  }
}

/**
 * A trade: usually a buyer lifting the ask or a seller hitting the bid (consuming the level when
 * the trade is at least its size); when the spread is wider than a tick, sometimes a hidden order
 * fills strictly inside the spread and leaves the book unchanged.
 */
function trade(s: Sim, te: bigint, tr: bigint): void {
  const r = s.rng;
  const spread = s.ask - s.bid;
  if (spread >= 2 && chance(r, 0.12)) {
    const px = s.bid + 1 + intBelow(r, spread - 1);
    pushTrade(s, te, tr, px, tradeSize(r), chance(r, 0.5) ? 1 : -1);
    return;
  }
  let size = tradeSize(r);
  if (chance(r, 0.5)) {
    const px = s.ask;
    if (size >= s.askSz[0]) {
      size = s.askSz[0];
      pushTrade(s, te, tr, px, size, 1);
      moveSide(s, -1, s.ask + 1);
    } else {
      pushTrade(s, te, tr, px, size, 1);
      s.askSz[0] -= size;
      bookRow(s, -1, s.ask, s.askSz[0], false);
    }
  } else {
    const px = s.bid;
    if (size >= s.bidSz[0]) {
      size = s.bidSz[0];
      pushTrade(s, te, tr, px, size, -1);
      if (s.bid - LEVELS > MIN_BID_TICKS) moveSide(s, 1, s.bid - 1);
      else {
        // at the price floor the level refills instead of moving
        s.bidSz[0] = levelSize(r);
        bookRow(s, 1, s.bid, s.bidSz[0], false);
      }
    } else {
      pushTrade(s, te, tr, px, size, -1);
      s.bidSz[0] -= size;
      bookRow(s, 1, s.bid, s.bidSz[0], false);
    }
  }
}

function pushTrade(s: Sim, te: bigint, tr: bigint, ticks: number, size: number, side: Side): void {
  s.trades.push({ kind: 'trade', tsEvent: te, tsRecv: tr, symbol: s.symbol, seq: BigInt(++s.tradeSeq), price: ticks / TICKS_PER_UNIT, size, side });
}

function copyTrade(e: TradeEvent, delay: bigint): TradeEvent {
  return { kind: 'trade', tsEvent: e.tsEvent, tsRecv: e.tsRecv + delay, symbol: e.symbol, seq: e.seq, price: e.price, size: e.size, side: e.side };
}

function copyQuote(e: QuoteEvent, delay: bigint): QuoteEvent {
  return { kind: 'quote', tsEvent: e.tsEvent, tsRecv: e.tsRecv + delay, symbol: e.symbol, seq: e.seq, bidPx: e.bidPx, bidSz: e.bidSz, askPx: e.askPx, askSz: e.askSz };
}

function copyBook(e: BookEvent, delay: bigint): BookEvent {
  return { kind: 'book', tsEvent: e.tsEvent, tsRecv: e.tsRecv + delay, symbol: e.symbol, seq: e.seq, side: e.side, price: e.price, size: e.size, snapshot: e.snapshot, last: e.last };
}
