/**
 * The trading side's shared vocabulary: orders, fills and instruments, as the pure folds of
 * trading/ (the PnL/risk ledger, the execution algorithms, the fill simulator, the automatic kill
 * policy) and their adapters (Redis streams `<ns>:fills` / `<ns>:orders`, Parquet/CSV files)
 * exchange them.
 *
 * Money is exact: a price is an integer number of the instrument's ticks and a quantity an integer
 * number of its lots, so sums and PnL are integer arithmetic (bigint where it can pass 2^53) and a
 * day of fills gives the same PnL to the cent in replay and live. Decimal prices from a feed are
 * converted once, at the edge (`toTicks`), and a price that is not on the tick grid is refused
 * there with its value, never rounded silently.
 *
 * Times are epoch nanoseconds (bigint); event time (ts_recv, the merge clock) is the only clock.
 */

/** 1 buy, -1 sell. */
export type OrderSide = 1 | -1;

/** One instrument's grid: what a tick and a lot are worth. */
export interface Instrument {
  symbol: string;
  /** Price increment, in the quote currency (0.01 for US equities, 0.01 for BTCUSDT, 0.00001 EUR/USD). */
  tick: number;
  /** Quantity increment, in units (1 share, 0.00001 BTC, 1000 EUR). */
  lot: number;
  /** Currency value of one unit per one currency of price (1 for cash equities/spot). */
  multiplier: number;
}

/** A child order as an execution algorithm emits it and the order gateway (or the simulator) takes it. */
export interface ChildOrder {
  /** Unique per deployment: `<parent id>-<n>`, n from 1 in emission order (deterministic). */
  id: string;
  parentId: string;
  symbol: string;
  side: OrderSide;
  /** Lots, > 0. */
  qty: number;
  /** Ticks; null = market order (marketable at any price, within the parent's limit if it has one). */
  limitPx: number | null;
  /** Event time at which the algorithm decided it (the triggering event's ts_recv). */
  ts: bigint;
}

/** A cancel request for a working child order. */
export interface CancelOrder {
  id: string;
  parentId: string;
  symbol: string;
  ts: bigint;
  reason: string;
}

/** What an algorithm asks the gateway to do. */
export type OrderAction = { type: 'new'; order: ChildOrder } | { type: 'cancel'; cancel: CancelOrder };

/** An execution, as the gateway (live, `<ns>:fills`) or the simulator (replay) reports it. */
export interface Fill {
  /** Unique; a repeated id is a duplicate and is dead-lettered, never applied twice. */
  fillId: string;
  account: string;
  strategy: string;
  symbol: string;
  side: OrderSide;
  /** Lots, > 0. */
  qty: number;
  /** Ticks, > 0. */
  price: number;
  /** Fee in the quote currency's smallest unit used by the ledger (see trading/money.ts); may be negative (a rebate). */
  fee: number;
  /** The child order it fills (empty when unknown, e.g. a manual trade). */
  orderId: string;
  /** Exchange time of the execution. */
  tsEvent: bigint;
  /** When Lockstep received it: its place in the merge with market data. */
  tsRecv: bigint;
}

/**
 * What the kill switch means for one symbol's orders, as the trading folds read it.
 * - `off`: trade normally;
 * - `reduce-only`: no order that would increase the absolute position (an execution algorithm
 *   cancels its working orders that would, and sends no new ones);
 * - `halt`: no new order at all, and every working order is cancelled at once.
 * Switching it off again is a human action (trader or risk staff), never a fold's.
 */
export type KillMode = 'off' | 'reduce-only' | 'halt';

/** A change of the kill mode of a symbol (or of everything), as a fold input in event time. */
export interface KillInput {
  /** Null: the whole deployment. */
  symbol: string | null;
  mode: KillMode;
  reason: string;
  /** Event time at which it is in force (live: the receive time of the event that read it as on). */
  ts: bigint;
}
