/**
 * What the simulated exchange tells the algorithm, and when: every report carries the exchange
 * time it was made at (`tsEvent`, in the merge clock) and the time the algorithm receives it
 * (`tsRecv` = tsEvent + response latency). Reports are queued in the simulator's outbox in
 * (tsRecv, creation) order and handed out by `drain(sim, t)`.
 */
import type { Fill, Instrument } from '../types.ts';
import { SimInputError } from './errors.ts';

/** Maker: the order rested and was hit; taker: it crossed the book on arrival. */
export type Liquidity = 'maker' | 'taker';

/** A report from the simulated exchange to the algorithm. */
export type SimReport =
  /** The order reached the exchange and was accepted (before any fill of it). */
  | { type: 'ack'; orderId: string; tsEvent: bigint; tsRecv: bigint }
  /** An execution; `leaves` is what is still working after it (0: the order is complete). */
  | { type: 'fill'; fill: Fill; liquidity: Liquidity; leaves: number; tsEvent: bigint; tsRecv: bigint }
  /**
   * The order's rest is off the book: `cancel` (our cancel took effect) or `market-unfilled` (a
   * market order's part the visible book could not fill: market orders are immediate-or-cancel).
   */
  | { type: 'cancelled'; orderId: string; leaves: number; reason: 'cancel' | 'market-unfilled'; tsEvent: bigint; tsRecv: bigint }
  /** A cancel that found nothing to cancel: the order was already complete, or never known. */
  | { type: 'cancel-rejected'; orderId: string; reason: 'unknown order' | 'already complete'; tsEvent: bigint; tsRecv: bigint };

/** Maker/taker fees in basis points of the notional (negative: a rebate), on a fee grid. */
export interface FeeConfig {
  makerBps: number;
  takerBps: number;
  /** The ledger's fee unit in the quote currency (TRADING.md: default 1e-8). */
  grid?: number;
}

/** Checks a fee config (finite bps, grid > 0); returns it with the grid filled in. */
export function checkFees(f: FeeConfig | undefined): Required<FeeConfig> {
  const out = { makerBps: f?.makerBps ?? 0, takerBps: f?.takerBps ?? 0, grid: f?.grid ?? 1e-8 };
  if (!Number.isFinite(out.makerBps)) throw new SimInputError('fees.makerBps', out.makerBps, 'must be a finite number of basis points');
  if (!Number.isFinite(out.takerBps)) throw new SimInputError('fees.takerBps', out.takerBps, 'must be a finite number of basis points');
  if (!(out.grid > 0)) throw new SimInputError('fees.grid', out.grid, 'must be > 0');
  return out;
}

/**
 * Fee of an execution, in units of the fee grid: notional (price·tick × lots·lot × multiplier) ×
 * bps / 10⁴, rounded to the nearest unit (Math.round: halves up, deterministic).
 */
export function feeUnits(inst: Instrument, fees: Required<FeeConfig>, priceTicks: number, lots: number, liq: Liquidity): number {
  const bps = liq === 'maker' ? fees.makerBps : fees.takerBps;
  if (bps === 0) return 0;
  const notional = priceTicks * inst.tick * lots * inst.lot * inst.multiplier;
  return Math.round((notional * bps) / 1e4 / fees.grid);
}
