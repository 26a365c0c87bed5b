/**
 * `lockstep execute`'s adapter: one catalog date of one symbol, replayed in merge order through the
 * fill simulator (trading/sim/, the exchange) and an execution algorithm (algo.ts), with the
 * simulator's latencies between them, then the TCA (trading/tca.ts).
 *
 * The clock is the merge clock, as a discrete-event loop over three time-ordered inputs:
 * - the exchange reads a market event at its ts_recv (`sim.onMarket`); orders and cancels reach it
 *   at decision time + entry latency (`sim.advance` applies those due before the next event);
 * - the algorithm reads the same event at ts_recv + feed latency, and the simulator's reports
 *   (fills, cancel confirmations) at their ts_recv (made + response latency);
 * - at one instant the exchange acts first, then the reports, then kill-switch changes, then the
 *   algorithm's market events (with zero latency an order decided on an event trades after that
 *   event, as live).
 * Events from 00:00 of the date are read (the book and the touch need them); the algorithm acts
 * only inside [from, to). After the window the loop runs on until every in-flight report is read.
 */
import { writeFileSync } from 'node:fs';
import type { MarketEvent } from '../../core/events.ts';
import { UsageError } from '../../core/errors.ts';
import { catalogDates, catalogSymbols } from '../../replay/catalog.ts';
import { EventMerge } from '../../replay/merge.ts';
import { openSelection } from '../../replay/run-replay.ts';
import { isoNs } from '../../replay/time-format.ts';
import * as sim from '../sim/index.ts';
import { computeTca, type TcaReport } from '../tca.ts';
import type { Fill, OrderAction } from '../types.ts';
import { initExec, onCancelAck, onFill, onKill, onMarket, onTime } from './algo.ts';
import type { ExecState } from './types.ts';
import { execSetup } from './exec-setup.ts';
import { queueModel, type ExecuteOptions } from './execute-options.ts';

// the options and their checks live in execute-options.ts (shared with the live run); kept importable from here
export { checkFlags, hhmm, queueModel, readFlagInstruments, type ExecuteOptions } from './execute-options.ts';


export interface ExecuteResult {
  tca: TcaReport;
  actions: OrderAction[];
  fills: Fill[];
  /** Events of the symbol read (the whole run, from 00:00 to the end of the window). */
  events: number;
  wallMs: number;
  eventsPerSec: number;
  dataSpan: [bigint, bigint];
  notes: string[];
}

/** The window is not inside the data of the symbol on that date. */
export class OutsideDataError extends UsageError {}

const MINUTE = 60_000_000_000n;



const span = (t: bigint) => isoNs(t).slice(11, 19);



/** Runs one parent order through the simulator over a catalog date; returns the TCA and the orders. */
export async function runExecute(o: ExecuteOptions): Promise<ExecuteResult> {
  if (!Number.isInteger(o.qty) || o.qty <= 0) throw new UsageError(`--qty ${o.qty}: must be a whole number of lots > 0`);
  const dates = catalogDates(o.catalog);
  if (!dates.includes(o.date)) throw new UsageError(`--date ${o.date}: catalog ${o.catalog} has no data for it; dates present: ${dates.join(', ') || 'none'}`);
  const symbols = await catalogSymbols(o.catalog, o.date);
  if (symbols !== undefined && !symbols.includes(o.symbol)) throw new UsageError(`--symbol ${o.symbol}: not in the catalog ${o.catalog} on ${o.date}; symbols present: ${symbols.join(', ') || 'none'}`);
  // the parent and its configuration as the live run builds them (one definition)
  const { parent, cfg, instrument, ins, latency, notes } = await execSetup(o);
  const { start, end } = parent;
  const feeGrid = ins.moneyGrid;
  const state: ExecState = initExec(parent, cfg);
  const ex = sim.createSimulator({ instrument, queueModel: queueModel(o.queue ?? 'risk-averse'), latency, strategy: state.parent.id, fees: { makerBps: o.makerBps ?? 0, takerBps: o.takerBps ?? 0, grid: feeGrid } });
  const actions: OrderAction[] = [];
  const fills: Fill[] = [];
  let fees = 0;
  let volume = 0;
  let notional = 0;
  // events the algorithm has yet to read (ts_recv + feed latency, in order)
  const seen: MarketEvent[] = [];
  let seenHead = 0;
  const feed = latency.feedNs;
  const kills = [...(o.kills ?? [])].sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
  let killHead = 0;

  const act = (acts: OrderAction[]) => {
    for (const a of acts) {
      actions.push(a);
      if (a.type === 'new') sim.submit(ex, a.order);
      else sim.cancel(ex, a.cancel);
    }
  };
  /** Runs the exchange and the algorithm up to `bound` (exclusive, or inclusive with `incl`). */
  const pump = (bound: bigint, incl: boolean) => {
    const before = (t: bigint | null) => t !== null && (incl ? t <= bound : t < bound);
    for (;;) {
      const a = sim.nextArrivalAt(ex);
      const r = sim.nextReportAt(ex);
      const e = seenHead < seen.length ? seen[seenHead].tsRecv + feed : null;
      const k = killHead < kills.length ? kills[killHead].ts : null;
      const min = [a, r, k, e].filter(before).reduce<bigint | null>((m, t) => (m === null || t! < m ? t : m), null);
      if (min === null) return;
      if (a === min) sim.advance(ex, min);
      else if (k === min && r !== min) act(onKill(state, kills[killHead++]));
      else if (r === min) {
        for (const rep of sim.drain(ex, min)) {
          if (rep.type === 'fill') {
            fills.push(rep.fill);
            fees += rep.fill.fee * ex.cfg.fees.grid;
            act(onFill(state, rep.fill));
          } else if (rep.type === 'cancelled' || rep.type === 'cancel-rejected') act(onCancelAck(state, rep.orderId, rep.tsRecv));
        }
      } else {
        const ev = seen[seenHead++];
        if (seenHead > 4096) {
          seen.splice(0, seenHead);
          seenHead = 0;
        }
        act(onMarket(state, ev, ev.tsRecv + feed));
      }
    }
  };

  const sel = await openSelection({ catalog: o.catalog, date: o.date, symbols: [o.symbol], kinds: ['book', 'quote', 'trade'] });
  const t0 = performance.now();
  let events = 0;
  let first: bigint | null = null;
  let last: bigint | null = null;
  let passedEnd = false;
  try {
    const merge = new EventMerge(sel.cursors);
    for (let ev = merge.next(); ev !== null; ev = merge.next()) {
      if (ev.symbol !== o.symbol) continue;
      if (first === null) {
        first = ev.tsRecv;
        if (start < (first / MINUTE) * MINUTE) {
          // outside the data: read on (without trading) only to name the data's span
          last = first;
          for (let rest = merge.next(); rest !== null; rest = merge.next()) if (rest.symbol === o.symbol) last = rest.tsRecv;
          break;
        }
      }
      if (ev.tsRecv >= end) {
        passedEnd = true;
        last = ev.tsRecv;
        break;
      }
      last = ev.tsRecv;
      events++;
      pump(ev.tsRecv, false);
      sim.onMarket(ex, ev);
      if (ev.kind === 'trade' && ev.tsRecv >= start && ev.size > 0) {
        volume += ev.size;
        notional += ev.price * ev.size;
      }
      seen.push(ev);
      pump(ev.tsRecv, true);
    }
  } finally {
    await sel.close();
  }
  if (first === null || last === null) throw new OutsideDataError(`asked to trade outside the data: ${o.symbol} has no events on ${o.date}`);
  const ceilLast = ((last + MINUTE - 1n) / MINUTE) * MINUTE;
  if (start < (first / MINUTE) * MINUTE || (!passedEnd && end > ceilLast)) {
    throw new OutsideDataError(`asked to trade outside the data: window ${o.date} ${o.from}-${o.to} UTC, but ${o.symbol}'s events on ${o.date} span ${span(first)}-${span(last)} UTC`);
  }
  // the algorithm reads what is left before the end, then the end itself; in-flight reports land after
  pump(end, false);
  const endMid = state.lastMid;
  act(onTime(state, end));
  const drainUntil = end + 10n * (latency.feedNs + latency.entryNs + latency.responseNs) + 1n;
  pump(drainUntil, true);
  const wallMs = performance.now() - t0;
  const tca = computeTca({
    side: o.side,
    qty: o.qty,
    tick: instrument.tick,
    lot: instrument.lot,
    multiplier: instrument.multiplier,
    arrivalMid: state.arrivalMid,
    firstChildMid: state.firstChildMid,
    endMid,
    fills,
    fees,
    marketVolume: volume,
    marketNotional: notional,
    childOrders: state.sent,
  });
  if (o.ordersOut) writeOrders(o.ordersOut, actions, fills);
  return { tca, actions, fills, events, wallMs, eventsPerSec: events / (wallMs / 1000), dataSpan: [first, last], notes };
}

/** Child orders, cancels and fills as JSON lines (times as epoch-ns strings), in decision order then fills. */
export function writeOrders(path: string, actions: readonly OrderAction[], fills: readonly Fill[]): void {
  const big = (_k: string, v: unknown) => (typeof v === 'bigint' ? v.toString() : v);
  const lines = [...actions.map((a) => JSON.stringify(a.type === 'new' ? { type: 'new', ...a.order } : { type: 'cancel', ...a.cancel }, big)), ...fills.map((f) => JSON.stringify({ type: 'fill', ...f }, big))];
  writeFileSync(path, lines.join('\n') + (lines.length ? '\n' : ''));
}
