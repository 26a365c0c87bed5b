/**
 * The execution algorithms' vocabulary: a parent order, an algorithm's configuration and its
 * plain-data state (trading/exec/algo.ts is the fold that steps it).
 *
 * Units: prices in integer ticks and quantities in integer lots of the parent's instrument
 * (trading/types.ts); times are event time, epoch ns (bigint).
 */
import { UserError } from '../../core/errors.ts';
import type { Instrument, KillMode, OrderSide } from '../types.ts';

/** The three schedules. */
export const ALGOS = ['twap', 'vwap', 'pov'] as const;
export type AlgoKind = (typeof ALGOS)[number];

/** What to execute: the order a portfolio manager (or the weights step) hands to the desk. */
export interface ParentOrder {
  /** Prefix of every child id (`<id>-<n>`). */
  id: string;
  symbol: string;
  side: OrderSide;
  /** Lots, > 0. */
  qty: number;
  /** Ticks; no child is priced through it (a buy never above, a sell never below). Null: none. */
  limitPx: number | null;
  /** Event time the parent arrives (window start, inclusive) and its end (exclusive). */
  start: bigint;
  end: bigint;
  /** Smallest child (lots) except the parent's last remainder; default 1. */
  minChild?: number;
  /** Largest child (lots); default: the parent's qty. */
  maxChild?: number;
  /**
   * Urgency in [0, 1]: how far the fills may fall behind the schedule before the algorithm crosses
   * the spread. The tolerated lag is `(1 - urgency) × qty` lots: at 1 every lag crosses (the schedule
   * is followed with marketable orders), at 0 it never crosses (passive orders at the near touch
   * only, which may leave part unfilled at the end). Default 0.9 (cross once 10% of the parent behind).
   */
  urgency?: number;
}

/** The VWAP schedule's volume profile over the parent's window, as the curve adapter computes it. */
export interface VolumeCurve {
  /** Bucket width (ns); bucket i covers [start + i·bucketNs, start + (i+1)·bucketNs). */
  bucketNs: bigint;
  /** Expected volume share of each bucket of the window (any non-negative scale; normalized at init). */
  weights: number[];
}

/** How an algorithm runs: its schedule and the desk's constraints. */
export interface ExecConfig {
  algo: AlgoKind;
  instrument: Instrument;
  /** POV: the share of live traded volume (0 < rate ≤ 1). */
  povRate?: number;
  /** VWAP: the target volume curve (required for vwap). */
  curve?: VolumeCurve;
  /**
   * Event time after a cancel until its order's remaining quantity counts as gone: fills for it can
   * still arrive until then (the cancel travels to the venue, the last fill report back). Set it to
   * at least the venue's round trip; default 0 (an instant venue).
   */
  cancelSettleNs?: bigint;
  /**
   * The venue confirms every cancel (a cancel report: lots taken off the book, or too late): a
   * cancelled child's lots then count as working until its confirmation (or its last fill), however
   * long it takes, and `cancelSettleNs` is not used. Default false (the settle time alone).
   * `lockstep execute` sets it unless every latency is zero (an instant venue: a cancel takes
   * effect at once, and its report comes at the same instant anyway).
   */
  cancelAcks?: boolean;
  /** At most this many new child orders per second of event time (cancels are never held back). */
  maxOrdersPerSec?: number;
  /** Signed lots held before the parent starts (reduce-only needs it). Default 0. */
  startPosition?: number;
  /**
   * Anti-churn (algo.ts header): a passive child the near touch has moved away from by at most this
   * many ticks is kept (not re-pegged) until it has rested `minRestNs`. 0: re-peg on every move (the
   * old behaviour). Default 2.
   */
  repegTicks?: number;
  /** Anti-churn: event time a passive child rests before a small touch move re-pegs it. Default 1 s. */
  minRestNs?: bigint;
}

/** A child order the algorithm has sent and not seen filled or cancelled. */
export interface WorkingOrder {
  id: string;
  /** Remaining lots. */
  qty: number;
  px: number;
  ts: bigint;
}

/** A cancelled order whose remaining lots may still fill until `until`. */
export interface CancellingOrder {
  id: string;
  qty: number;
  until: bigint;
}

/**
 * A venue's answer to a cancel (`<ns>:exec:reports`, exec-wire.ts), after any fill of the child
 * it made before the cancel arrived: `cancelled` took `lots` off the book; `too-late`: the child
 * had already completed (lots 0); `unknown`: the venue never had it; `unfilled`: a market child's
 * rest the book could not fill (immediate-or-cancel, no cancel asked).
 */
export interface CancelReport {
  orderId: string;
  parentId: string;
  symbol: string;
  lots: number;
  result: 'cancelled' | 'too-late' | 'unknown' | 'unfilled';
  /** When the venue acted, and when the report reached the algorithm (its place in event time). */
  tsEvent: bigint;
  tsRecv: bigint;
}

/** An algorithm's plain-data state (structured-cloneable; no Maps, functions or classes). */
export interface ExecState {
  parent: Required<ParentOrder>;
  algo: AlgoKind;
  tick: number;
  lot: number;
  povRate: number;
  /** VWAP: cumulative normalized share at the end of each bucket. */
  cumCurve: number[];
  bucketNs: bigint;
  settleNs: bigint;
  /** Cancels are confirmed (ExecConfig.cancelAcks): a cancelling child stays until its report. */
  awaitAcks: boolean;
  maxRate: number;
  /** Tolerated lag behind schedule before crossing, lots. */
  tolerance: number;
  /** Anti-churn: a passive child within this many ticks of where it would go now, and rested less than `minRestNs`, is kept. */
  repegTicks: number;
  minRestNs: bigint;
  /** Near and far touch in ticks (null until known) and their sizes in lots. */
  bid: number | null;
  ask: number | null;
  bidSz: number;
  askSz: number;
  /** True once the symbol's quotes are seen: the L2 book is then not needed for the touch. */
  quoteSeen: boolean;
  /** L2 levels (price ticks → lots) when the symbol has no quotes. */
  bids: Record<number, number>;
  asks: Record<number, number>;
  /** Inside a snapshot's rows (the first snapshot row after a non-snapshot row clears the book). */
  bookInSnapshot: boolean;
  /** Market volume traded in the window so far, lots (POV). */
  marketVol: number;
  filled: number;
  position: number;
  working: WorkingOrder[];
  cancelling: CancellingOrder[];
  /** Children sent so far (the next id is `<parent>-<sent + 1>`). */
  sent: number;
  /** Times of the new orders within the last second (rate limit). */
  recent: bigint[];
  kill: KillMode;
  /** The window has ended (working orders cancelled) or the parent is complete. */
  done: boolean;
  /** Mid (ticks) as it stood when the parent arrived; mid when the first child went out; latest mid. */
  arrivalMid: number | null;
  firstChildMid: number | null;
  lastMid: number | null;
}

/** A parent order or configuration the algorithm cannot run: names the field and value. */
export class ExecConfigError extends UserError {
  constructor(
    readonly field: string,
    readonly value: unknown,
    reason: string,
  ) {
    super(`${field} ${typeof value === 'bigint' ? value.toString() : JSON.stringify(value)}: ${reason}`);
  }
}
