/**
 * The TCA (trading/tca.ts) of a parent from the execution fold's own state (exec-fold.ts): the mids
 * it recorded (arrival, first child, the window's end), the fills it applied and the market's
 * volume and notional in the window, so `lockstep execute --redis` (at the end of its run) and
 * `lockstep execute --fills` (its replay) report the same numbers from the same fold.
 *
 * No I/O, clock, randomness or promises.
 */
import { computeTca, type TcaReport } from '../tca.ts';
import type { Instruments } from '../instruments.ts';
import type { ExecFoldState } from './exec-fold.ts';

/** The fold's TCA; fees from the fills' fee units on the instruments' money grid. */
export function execTca(st: ExecFoldState, ins: Instruments): TcaReport {
  const a = st.algo;
  const p = a.parent;
  const inst = ins.bySymbol.get(p.symbol);
  return computeTca({
    side: p.side, qty: p.qty, tick: a.tick, lot: a.lot, multiplier: inst?.multiplier ?? 1,
    arrivalMid: a.arrivalMid, firstChildMid: a.firstChildMid, endMid: st.endMid, fills: st.fills,
    fees: st.fills.reduce((s, f) => s + f.fee * ins.moneyGrid, 0),
    marketVolume: st.volume, marketNotional: st.notional, childOrders: a.sent,
  });
}
