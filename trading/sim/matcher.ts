/**
 * The fill simulator: a pure state machine that plays one symbol's market events (in the replay's
 * merge order) against our child orders, as hftbacktest's `PartialFillExchange` does
 * (hftbacktest/src/backtest/proc/partialfillexchange.rs), with its queue models (queue.ts) and
 * latencies, constant or interpolated from recorded orders (latency.ts).
 *
 * Clock: the merge clock (`tsRecv`). The exchange reads a market event at its `tsRecv`; an order
 * or cancel decided at `ts` takes effect at `ts + entry latency`, before every market event with
 * `tsRecv ≥` that time (and at once when the simulator has already reached it: a caller that
 * submits while processing an event at T with zero latency acts at T, after that event). Reports
 * reach the algorithm `response latency` after they are made (`drain`).
 *
 * Matching rules:
 * - A marketable order (market, or a limit crossing the book on arrival) takes visible depth level
 *   by level from the best price, each fill at the level's price (taker), only whole lots, never
 *   beyond its limit. Taken lots stay consumed until the data updates the level (book.ts). The
 *   rest of a limit order rests at its limit; the rest of a market order is cancelled at once
 *   (`cancelled`, reason `market-unfilled`: market orders are immediate-or-cancel here).
 * - A resting buy at B (sells mirror it) fills, at B (maker):
 *   - fully, when a seller-initiated (or unsided) trade prints below B, or when the book's best
 *     ask with lots we did not take is at or below B (the market traded through the level);
 *   - by queue, when a trade prints at B: the queue model moves the order up by the traded
 *     size, and once the quantity ahead is exhausted the order gets what traded past it
 *     (whole lots, at most the trade's size, shared in arrival order among our orders at B).
 *   Buyer-initiated trades do not touch resting buys; trades with unknown side (0) touch both.
 * - Our own orders never trade with each other (they are not in the data's book), and each of
 *   them queues independently at its level (hftbacktest does the same).
 * - Depth changes feed the queue model once per instant, after that instant's trades (netted
 *   from the level's size when the instant began): a feed that prints the book row of an
 *   execution before its trade (LOBSTER, where both share one time and the merge puts the book
 *   first) would otherwise count the same lots twice, as a trade and as a level shrinking.
 *
 * State is plain data (Maps, arrays, typed arrays, bigints): `structuredClone` snapshots it, and
 * a restored copy continues exactly as the original would. No I/O, clock or randomness.
 */
import type { MarketEvent, TradeEvent } from '../../core/events.ts';
import type { CancelOrder, ChildOrder, Fill, Instrument, OrderSide } from '../types.ts';
import { applyBookRow, applyQuote, availableAt, bestAvailableTick, bestTick, depthAt, initSimBook, levelsWithin, take, usesQuotes, type DepthFrom, type SimBook } from './book.ts';
import { SimInputError } from './errors.ts';
import { arrivalAt, constantLatency, responseAt, type Latency } from './latency.ts';
import { checkQueueModel, newQueuePos, onDepth, onTrade, queueFillable, type QueueModel, type QueuePos } from './queue.ts';
import { checkFees, feeUnits, type FeeConfig, type Liquidity, type SimReport } from './reports.ts';
import { sizeToLots, tradeTicks, wholeLots } from './ticks.ts';

/** The simulator's settings (validated by `createSimulator`). */
export interface SimConfig {
  instrument: Instrument;
  queueModel: QueueModel;
  latency: Latency;
  /** Where depth comes from: `auto` (default) uses quotes until the first L2 book row. */
  depthFrom?: DepthFrom;
  fees?: FeeConfig;
  /** Copied into every Fill. */
  account?: string;
  strategy?: string;
}

/** A child order the exchange holds (resting) or held. */
export interface SimOrder {
  id: string;
  parentId: string;
  side: OrderSide;
  qty: number;
  /** Ticks; null: market. */
  limitPx: number | null;
  /** When it reached the exchange. */
  arrivedAt: bigint;
  leaves: number;
  /** Fills so far (numbers the fill ids). */
  nFills: number;
  /** Lots filled through the queue (passive, at the price). */
  queueFilled: number;
  q: QueuePos;
  /** The level's size the queue estimate last accounted for (null: unknown, outside the view). */
  seenDepth: number | null;
  /** The level changed in the current instant: feed the change to the queue model at its end. */
  dirty: boolean;
}

type PendingOp = { at: bigint; seq: number } & ({ type: 'new'; order: ChildOrder } | { type: 'cancel'; cancel: CancelOrder });

/** The simulator's state (plain data). */
export interface SimState {
  cfg: Required<Omit<SimConfig, 'fees'>> & { fees: Required<FeeConfig> };
  book: SimBook;
  /** The instant the exchange has reached (null before anything happened). */
  now: bigint | null;
  /** Orders and cancels on their way to the exchange, by (arrival time, submission order). */
  pending: PendingOp[];
  opSeq: number;
  /** Resting orders, in arrival order. */
  resting: Map<string, SimOrder>;
  /** Every order id ever submitted → complete (true) or not yet. */
  known: Map<string, boolean>;
  /**
   * When present, every change of `known` is appended here too (id, complete), for a caller that
   * checkpoints `known` by its changes (trading/exec/gateway-checkpoint.ts) and empties it once
   * written. Absent by default (a replay does not need it).
   */
  knownLog?: [string, boolean][];
  /**
   * Interpolated latency only (latency.ts): the session is FIFO, so the latest arrival at the
   * exchange and the latest report's arrival at the algorithm so far (absent under a constant
   * model, whose order is FIFO by itself).
   */
  lastArrival?: bigint;
  lastResponse?: bigint;
  /** Reports not yet drained, in (tsRecv, creation) order from `outHead` on. */
  outbox: SimReport[];
  outHead: number;
}

/** A new simulator for one instrument. */
export function createSimulator(cfg: SimConfig): SimState {
  if (!cfg.instrument || !(cfg.instrument.tick > 0) || !(cfg.instrument.lot > 0) || !(cfg.instrument.multiplier > 0)) throw new SimInputError('instrument', cfg.instrument, 'needs tick > 0, lot > 0 and multiplier > 0');
  const depthFrom = cfg.depthFrom ?? 'auto';
  if (depthFrom !== 'auto' && depthFrom !== 'book' && depthFrom !== 'quote') throw new SimInputError('depthFrom', depthFrom, 'expected auto, book or quote');
  return {
    cfg: {
      instrument: { ...cfg.instrument },
      queueModel: checkQueueModel(cfg.queueModel),
      latency: constantLatency(cfg.latency),
      depthFrom,
      fees: checkFees(cfg.fees),
      account: cfg.account ?? '',
      strategy: cfg.strategy ?? '',
    },
    book: initSimBook(),
    now: null,
    pending: [],
    opSeq: 0,
    resting: new Map(),
    known: new Map(),
    outbox: [],
    outHead: 0,
  };
}

/** When an order or cancel sent at `ts` reaches the exchange: never before one sent earlier. */
function arrival(sim: SimState, ts: bigint): bigint {
  const lat = sim.cfg.latency;
  if (lat.table === undefined) return ts + lat.entryNs;
  let at = arrivalAt(lat, ts);
  if (sim.lastArrival !== undefined && at < sim.lastArrival) at = sim.lastArrival;
  sim.lastArrival = at;
  return at;
}

/** When a report made at exchange time `t` reaches the algorithm: never before one made earlier. */
function response(sim: SimState, t: bigint): bigint {
  const lat = sim.cfg.latency;
  if (lat.table === undefined) return t + lat.responseNs;
  let at = responseAt(lat, t);
  if (sim.lastResponse !== undefined && at < sim.lastResponse) at = sim.lastResponse;
  sim.lastResponse = at;
  return at;
}

function setKnown(sim: SimState, id: string, complete: boolean): void {
  sim.known.set(id, complete);
  sim.knownLog?.push([id, complete]);
}

function checkOrder(sim: SimState, o: ChildOrder): void {
  const sym = sim.cfg.instrument.symbol;
  if (typeof o.id !== 'string' || o.id === '') throw new SimInputError('order.id', o.id, 'must be a non-empty string');
  if (o.symbol !== sym) throw new SimInputError(`order ${o.id} symbol`, o.symbol, `this simulator trades ${sym}`);
  if (o.side !== 1 && o.side !== -1) throw new SimInputError(`order ${o.id} side`, o.side, 'must be 1 (buy) or -1 (sell)');
  if (!Number.isInteger(o.qty) || o.qty <= 0) throw new SimInputError(`order ${o.id} qty`, o.qty, 'must be a whole number of lots > 0');
  if (o.limitPx !== null && (!Number.isInteger(o.limitPx) || o.limitPx <= 0)) throw new SimInputError(`order ${o.id} limitPx`, o.limitPx, 'must be a whole number of ticks > 0, or null (market)');
  if (typeof o.ts !== 'bigint') throw new SimInputError(`order ${o.id} ts`, o.ts, 'must be a bigint (ns)');
  if (sim.known.has(o.id)) throw new SimInputError('order.id', o.id, 'was already submitted (order ids are unique)');
}

function enqueue(sim: SimState, op: PendingOp): Fill[] {
  // ops arrive nearly in time order: insert from the end
  let i = sim.pending.length;
  while (i > 0 && sim.pending[i - 1].at > op.at) i--;
  sim.pending.splice(i, 0, op);
  // an op whose time the exchange already reached takes effect now
  return sim.now !== null && op.at <= sim.now ? advance(sim, sim.now) : [];
}

/**
 * Sends a child order: it reaches the exchange at `order.ts + entry latency`. Returns the fills
 * made now (when the exchange has already reached that time), else [] (they come with `onMarket`
 * / `advance`). Refuses a malformed order or a repeated id.
 */
export function submit(sim: SimState, order: ChildOrder): Fill[] {
  checkOrder(sim, order);
  setKnown(sim, order.id, false);
  return enqueue(sim, { at: arrival(sim, order.ts), seq: sim.opSeq++, type: 'new', order: { ...order } });
}

/** Sends a cancel: it takes effect at `c.ts + entry latency` (a fill before then stands). */
export function cancel(sim: SimState, c: CancelOrder): Fill[] {
  if (c.symbol !== sim.cfg.instrument.symbol) throw new SimInputError(`cancel ${c.id} symbol`, c.symbol, `this simulator trades ${sim.cfg.instrument.symbol}`);
  if (typeof c.ts !== 'bigint') throw new SimInputError(`cancel ${c.id} ts`, c.ts, 'must be a bigint (ns)');
  return enqueue(sim, { at: arrival(sim, c.ts), seq: sim.opSeq++, type: 'cancel', cancel: { ...c } });
}

/**
 * Moves the exchange to time `t`: applies every pending order and cancel due by then, each at its
 * own time. Returns the fills made. (`onMarket` calls it; call it directly to let orders arrive in
 * a quiet period.) A `t` before the exchange's time changes nothing.
 */
export function advance(sim: SimState, t: bigint): Fill[] {
  const fills: Fill[] = [];
  while (sim.pending.length > 0 && sim.pending[0].at <= t) {
    const op = sim.pending.shift()!;
    const at = sim.now !== null && op.at < sim.now ? sim.now : op.at;
    moveClock(sim, at);
    if (op.type === 'new') arrive(sim, op.order, at, fills);
    else applyCancel(sim, op.cancel, at);
  }
  moveClock(sim, t);
  return fills;
}

/**
 * Plays one market event (events of other symbols are ignored). Orders and cancels due at or
 * before its `tsRecv` take effect first. Returns the fills made, in order. Events must come in
 * merge order: one earlier than the exchange's time is refused.
 */
export function onMarket(sim: SimState, ev: MarketEvent): Fill[] {
  if (ev.symbol !== sim.cfg.instrument.symbol) return [];
  if (sim.now !== null && ev.tsRecv < sim.now) throw new SimInputError(`${ev.kind} seq ${ev.seq} tsRecv`, ev.tsRecv, `is before the simulator's time ${sim.now} (events must come in merge order)`);
  const fills = advance(sim, ev.tsRecv);
  const t = ev.tsRecv;
  switch (ev.kind) {
    case 'book':
      if (sim.cfg.depthFrom === 'quote') break;
      {
        const tick = applyBookRow(sim.book, sim.cfg.instrument, ev);
        for (const o of sim.resting.values()) if (o.side === ev.side ? o.limitPx === tick : false) o.dirty = true;
        if (ev.snapshot) for (const o of sim.resting.values()) o.dirty = true;
      }
      if (ev.last) crossFills(sim, t, fills);
      break;
    case 'quote':
      if (!usesQuotes(sim.book, sim.cfg.depthFrom)) break;
      applyQuote(sim.book, sim.cfg.instrument, ev);
      for (const o of sim.resting.values()) o.dirty = true;
      crossFills(sim, t, fills);
      break;
    case 'trade':
      tradeFills(sim, ev, t, fills);
      break;
    default:
      break;
  }
  return fills;
}

/** Plays a batch of events in order (the same as one `onMarket` per event). */
export function onMarketBatch(sim: SimState, evs: Iterable<MarketEvent>): Fill[] {
  const out: Fill[] = [];
  for (const ev of evs) for (const f of onMarket(sim, ev)) out.push(f);
  return out;
}

/** Reports that reached the algorithm by time `t` (tsRecv ≤ t), in order; each is handed out once. */
export function drain(sim: SimState, t: bigint): SimReport[] {
  const out: SimReport[] = [];
  while (sim.outHead < sim.outbox.length && sim.outbox[sim.outHead].tsRecv <= t) out.push(sim.outbox[sim.outHead++]);
  if (sim.outHead > 1024 && sim.outHead * 2 > sim.outbox.length) {
    sim.outbox.splice(0, sim.outHead);
    sim.outHead = 0;
  }
  return out;
}

/** When the next undrained report reaches the algorithm (null: none waiting). */
export function nextReportAt(sim: SimState): bigint | null {
  return sim.outHead < sim.outbox.length ? sim.outbox[sim.outHead].tsRecv : null;
}

/** When the next pending order or cancel reaches the exchange (null: none). */
export function nextArrivalAt(sim: SimState): bigint | null {
  return sim.pending.length > 0 ? sim.pending[0].at : null;
}

/** The resting orders, in arrival order (copies). */
export function workingOrders(sim: SimState): SimOrder[] {
  return [...sim.resting.values()].map((o) => ({ ...o, q: { ...o.q } }));
}

// ---- internals ----------------------------------------------------------------------------

/** Enters instant `t`: the previous instant's depth changes reach the queue model first. */
function moveClock(sim: SimState, t: bigint): void {
  if (sim.now !== null && t <= sim.now) return;
  settleDepth(sim);
  sim.now = t;
}

function settleDepth(sim: SimState): void {
  const m = sim.cfg.queueModel;
  for (const o of sim.resting.values()) {
    if (!o.dirty) continue;
    o.dirty = false;
    const d = depthAt(sim.book, o.side, o.limitPx!);
    if (d === null) continue; // outside the visible window: unknown, the estimate stands
    if (o.seenDepth === null) o.q.front = Math.min(o.q.front, d);
    else onDepth(m, o.q, o.seenDepth, d);
    o.seenDepth = d;
  }
}

function report(sim: SimState, r: SimReport): void {
  sim.outbox.push(r);
}

function fill(sim: SimState, o: SimOrder, price: number, lots: number, t: bigint, liq: Liquidity, out: Fill[]): void {
  const c = sim.cfg;
  o.leaves -= lots;
  o.nFills++;
  const tsRecv = response(sim, t);
  const f: Fill = {
    fillId: `${o.id}-f${o.nFills}`,
    account: c.account,
    strategy: c.strategy,
    symbol: c.instrument.symbol,
    side: o.side,
    qty: lots,
    price,
    fee: feeUnits(c.instrument, c.fees, price, lots, liq),
    orderId: o.id,
    tsEvent: t,
    tsRecv,
  };
  out.push(f);
  report(sim, { type: 'fill', fill: f, liquidity: liq, leaves: o.leaves, tsEvent: t, tsRecv });
  if (o.leaves === 0) {
    sim.resting.delete(o.id);
    setKnown(sim, o.id, true);
  }
}

function arrive(sim: SimState, order: ChildOrder, t: bigint, out: Fill[]): void {
  const book = sim.book;
  const o: SimOrder = {
    id: order.id,
    parentId: order.parentId,
    side: order.side,
    qty: order.qty,
    limitPx: order.limitPx,
    arrivedAt: t,
    leaves: order.qty,
    nFills: 0,
    queueFilled: 0,
    q: newQueuePos(0),
    seenDepth: null,
    dirty: false,
  };
  report(sim, { type: 'ack', orderId: o.id, tsEvent: t, tsRecv: response(sim, t) });
  // marketable part: sweep the opposite side within the limit
  const opp = o.side === 1 ? -1 : 1;
  for (const [tick, avail] of levelsWithin(book, opp, o.limitPx)) {
    const lots = Math.min(o.leaves, wholeLots(avail));
    if (lots <= 0) continue;
    take(book, opp, tick, lots);
    fill(sim, o, tick, lots, t, 'taker', out);
    if (o.leaves === 0) return;
  }
  if (o.limitPx === null) {
    report(sim, { type: 'cancelled', orderId: o.id, leaves: o.leaves, reason: 'market-unfilled', tsEvent: t, tsRecv: response(sim, t) });
    setKnown(sim, o.id, true);
    return;
  }
  // the rest joins the back of its level's queue
  const d = depthAt(book, o.side, o.limitPx);
  o.q = newQueuePos(d ?? 0);
  o.seenDepth = d;
  sim.resting.set(o.id, o);
}

function applyCancel(sim: SimState, c: CancelOrder, t: bigint): void {
  const tsRecv = response(sim, t);
  const o = sim.resting.get(c.id);
  if (o) {
    sim.resting.delete(c.id);
    setKnown(sim, c.id, true);
    report(sim, { type: 'cancelled', orderId: c.id, leaves: o.leaves, reason: 'cancel', tsEvent: t, tsRecv });
    return;
  }
  report(sim, { type: 'cancel-rejected', orderId: c.id, reason: sim.known.get(c.id) === true ? 'already complete' : 'unknown order', tsEvent: t, tsRecv });
}

/** Resting orders the book now trades through (best opposite level with lots left at or beyond their price). */
function crossFills(sim: SimState, t: bigint, out: Fill[]): void {
  if (sim.resting.size === 0) return;
  const bestAsk = bestAvailableTick(sim.book, -1);
  const bestBid = bestAvailableTick(sim.book, 1);
  for (const o of [...sim.resting.values()]) {
    const px = o.limitPx!;
    if (o.side === 1 ? bestAsk !== null && bestAsk <= px : bestBid !== null && bestBid >= px) fill(sim, o, px, o.leaves, t, 'maker', out);
  }
}

function tradeFills(sim: SimState, ev: TradeEvent, t: bigint, out: Fill[]): void {
  if (sim.resting.size === 0) return;
  const inst = sim.cfg.instrument;
  const px = tradeTicks(inst, ev.price);
  const qty = sizeToLots(inst, ev.size);
  if (!(qty > 0)) return;
  // what this print can still give to our orders at its price (shared in arrival order)
  let budgetBuy = qty;
  let budgetSell = qty;
  for (const o of [...sim.resting.values()]) {
    const lim = o.limitPx!;
    // a seller-initiated print (-1) hits bids, a buyer-initiated one (1) asks; unknown (0) both
    if (ev.side === o.side) continue;
    const through = o.side === 1 ? px < lim : px > lim;
    if (through) {
      fill(sim, o, lim, o.leaves, t, 'maker', out);
      continue;
    }
    if (px !== lim) continue;
    onTrade(sim.cfg.queueModel, o.q, qty);
    const budget = o.side === 1 ? budgetBuy : budgetSell;
    const lots = Math.min(o.leaves, wholeLots(budget), queueFillable(o.q) - o.queueFilled);
    if (lots <= 0) continue;
    o.queueFilled += lots;
    if (o.side === 1) budgetBuy -= lots;
    else budgetSell -= lots;
    fill(sim, o, lim, lots, t, 'maker', out);
  }
}

/**
 * The touch as the exchange sees it now, in ticks and lots (null on an empty side): best bid and
 * ask with their visible sizes (before our own taking). For an algorithm, read it through its own
 * (feed-delayed) view of the events instead; this is the exchange's.
 */
export function topOfBook(sim: SimState): { bid: number | null; bidLots: number; ask: number | null; askLots: number } {
  const bid = bestTick(sim.book, 1);
  const ask = bestTick(sim.book, -1);
  return { bid, bidLots: bid === null ? 0 : depthAt(sim.book, 1, bid) ?? 0, ask, askLots: ask === null ? 0 : depthAt(sim.book, -1, ask) ?? 0 };
}

/** Visible lots at a price on a side minus our own taking (for callers sizing an order). */
export function visibleLots(sim: SimState, side: OrderSide, tick: number): number {
  return wholeLots(availableAt(sim.book, side, tick));
}
