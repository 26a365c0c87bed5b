/**
 * Transaction cost analysis of one parent order, with the usual definitions. Pure: numbers in,
 * numbers out.
 *
 * Prices: P_d is the arrival price, the mid when the parent order arrived (the decision price of
 * Perold's paper portfolio); P_0 the mid when the first child went out (Wagner's "arrival in the
 * market"; = P_d when the first child leaves at once); P_n the mid at the end of the window; p_j
 * and x_j each fill's price and quantity; X the parent's quantity; s = +1 buy, −1 sell.
 *
 * Implementation shortfall (Perold 1988, "The implementation shortfall: paper versus reality",
 * Journal of Portfolio Management 14(3)): what the real portfolio cost more than the paper one
 * traded at P_d, the unfilled rest valued at P_n. Split as Wagner does (W. H. Wagner, "Defining
 * and measuring trading costs", in Execution Techniques, True Trading Costs, and the Microstructure
 * of Markets, AIMR 1991; in the form of R. Kissell, "The expanded implementation shortfall",
 * Journal of Trading 1(3), 2006):
 *   delay       = s · X · (P_0 − P_d)              (the price moved before trading began)
 *   trading     = s · Σ x_j · (p_j − P_0)          (the price paid while trading, impact included)
 *   opportunity = s · (X − Σ x_j) · (P_n − P_0)     (what the unfilled part missed)
 *   total       = delay + trading + opportunity + fees
 *               = s · (Σ x_j p_j + (X − Σ x_j) P_n − X P_d) + fees        (Perold's shortfall)
 * in the quote currency (price × lots × lot size × multiplier); positive is a cost. In bps of the
 * paper notional X · P_d.
 *
 * Slippage, signed so that positive means better than the benchmark: against arrival
 * s · (P_d − p̄) / P_d · 10⁴ and against the interval VWAP of the market's prints over the window
 * s · (VWAP − p̄) / VWAP · 10⁴, p̄ the average fill price. Participation: filled volume / market
 * volume over the window; fill rate: filled / X.
 */
import type { OrderSide } from './types.ts';

/** What the TCA reads. Prices in ticks (mids may be half ticks), quantities in lots. */
export interface TcaInput {
  side: OrderSide;
  /** Parent quantity, lots. */
  qty: number;
  tick: number;
  lot: number;
  multiplier: number;
  /** P_d, P_0, P_n in ticks; null when no mid was known then. P_0 null: taken as P_d. */
  arrivalMid: number | null;
  firstChildMid: number | null;
  endMid: number | null;
  fills: readonly { qty: number; price: number }[];
  /** Fees of the fills, quote currency (a rebate negative). */
  fees: number;
  /** The market's prints over the window: total size (units) and Σ price × size (currency). */
  marketVolume: number;
  marketNotional: number;
  childOrders: number;
}

/** The report; currency amounts in the quote currency, null where a benchmark is unknown. */
export interface TcaReport {
  side: 'buy' | 'sell';
  qty: number;
  filledQty: number;
  fillRate: number;
  childOrders: number;
  arrivalPrice: number | null;
  firstChildMid: number | null;
  endMid: number | null;
  avgFillPrice: number | null;
  intervalVwap: number | null;
  /** Filled units / market units over the window. */
  participation: number | null;
  shortfall: { delay: number; trading: number; opportunity: number; fees: number; total: number; totalBps: number } | null;
  slippageBps: { vsArrival: number | null; vsIntervalVwap: number | null };
}

/** The TCA of one parent order (see the header for every definition). */
export function computeTca(i: TcaInput): TcaReport {
  const s = i.side;
  const px = (ticks: number | null) => (ticks === null ? null : ticks * i.tick);
  const units = (lots: number) => lots * i.lot * i.multiplier;
  let filled = 0;
  let paidTicksLots = 0;
  for (const f of i.fills) {
    filled += f.qty;
    paidTicksLots += f.qty * f.price;
  }
  const pd = px(i.arrivalMid);
  const p0 = px(i.firstChildMid ?? i.arrivalMid);
  const pn = px(i.endMid);
  const avg = filled > 0 ? (paidTicksLots / filled) * i.tick : null;
  const vwap = i.marketVolume > 0 ? i.marketNotional / i.marketVolume : null;
  let shortfall: TcaReport['shortfall'] = null;
  if (pd !== null && p0 !== null && pn !== null) {
    const delay = s * units(i.qty) * (p0 - pd);
    const trading = s * (units(1) * paidTicksLots * i.tick - units(filled) * p0);
    const opportunity = s * units(i.qty - filled) * (pn - p0);
    const total = delay + trading + opportunity + i.fees;
    shortfall = { delay, trading, opportunity, fees: i.fees, total, totalBps: (total / (units(i.qty) * pd)) * 1e4 };
  }
  const bps = (bench: number | null) => (bench === null || avg === null ? null : ((s * (bench - avg)) / bench) * 1e4);
  return {
    side: s === 1 ? 'buy' : 'sell',
    qty: i.qty,
    filledQty: filled,
    fillRate: filled / i.qty,
    childOrders: i.childOrders,
    arrivalPrice: pd,
    firstChildMid: p0,
    endMid: pn,
    avgFillPrice: avg,
    intervalVwap: vwap,
    participation: i.marketVolume > 0 ? (filled * i.lot) / i.marketVolume : null,
    shortfall,
    slippageBps: { vsArrival: bps(pd), vsIntervalVwap: bps(vwap) },
  };
}

const f2 = (v: number | null, d = 2) => (v === null ? 'n/a' : v.toFixed(d));

/** The report as text, one figure per line. */
export function formatTca(r: TcaReport, symbol: string): string {
  const sf = r.shortfall;
  const lines = [
    `TCA ${symbol} ${r.side} ${r.qty} lots: filled ${r.filledQty} (fill rate ${(r.fillRate * 100).toFixed(1)}%), ${r.childOrders} child orders`,
    `  arrival mid ${f2(r.arrivalPrice, 4)}  first-child mid ${f2(r.firstChildMid, 4)}  end mid ${f2(r.endMid, 4)}`,
    `  average fill ${f2(r.avgFillPrice, 4)}  interval VWAP ${f2(r.intervalVwap, 4)}  participation ${r.participation === null ? 'n/a' : `${(r.participation * 100).toFixed(2)}%`}`,
    sf === null
      ? '  implementation shortfall: n/a (no mid at arrival or at the end)'
      : `  implementation shortfall ${sf.total.toFixed(2)} (${sf.totalBps.toFixed(2)} bps): delay ${sf.delay.toFixed(2)}, trading ${sf.trading.toFixed(2)}, opportunity ${sf.opportunity.toFixed(2)}, fees ${sf.fees.toFixed(2)}`,
    `  slippage (bps, + = better): vs arrival ${f2(r.slippageBps.vsArrival)}, vs interval VWAP ${f2(r.slippageBps.vsIntervalVwap)}`,
  ];
  return lines.join('\n');
}
