/**
 * `lockstep execute`'s adapter: one catalog date of one symbol replayed in merge order, with the
 * fill simulator (trading/sim/) as the exchange and the execution fold (exec-fold.ts, the one
 * `execute --redis` and `execute --fills` run) as the algorithm, then the TCA (exec-tca.ts). The
 * simulator's fills and cancel reports enter the fold as its fills and reports streams, so the
 * child orders are what `execute --fills` gives for the same fills (execute-sim-parity.test.ts).
 *
 * The clock is the merge clock, with the simulator's latencies (feed, order entry, response):
 * - the exchange reads the market events of one instant t (every event stamped ts_recv = t) after
 *   the orders and cancels due by t (decided at ts, arriving at ts + entry) and before those
 *   decided on them (with zero latency an order decided on an event trades after every event of
 *   that instant: the exchange's instant is atomic, as one venue message is);
 * - the fold reads a market event at ts_recv + feed and a report at its ts_recv (made + response);
 *   at one instant of its clock it takes the market events, then the fills, the kill-switch
 *   changes, the cancel reports (exec-fold.ts says why). The driver below tells the fold how far
 *   each stream is complete: the market up to the next event the exchange has not read (+ feed),
 *   the kill switch entirely (the changes are given up front), the fills and reports up to the
 *   earliest time the exchange can still make one (next arrival, next market event, or the
 *   fold's next decision + entry) + response.
 * - With zero entry and response latency a report can follow, at the same instant, from a fill or
 *   report of that instant (a fill -> a cancel -> its report); no order by (time, stream) holds such a
 *   chain, so once nothing else can happen at T the fills and reports streams are declared complete
 *   to T + 1 ns and what follows counts 1 ns later (recorded as heartbeats in `inputsOut`, so
 *   `--fills` replays it the same).
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
import { encodeFillFields, heartbeatFields } from '../fills-wire.ts';
import * as sim from '../sim/index.ts';
import type { TcaReport } from '../tca.ts';
import type { Fill, OrderAction } from '../types.ts';
import { FILLS, initExecFold, KILL, MARKET, nextHeldAt, pushFillInput, pushKill, pushMark, pushMarket, pushReport, REPORTS, type ExecOutput } from './exec-fold.ts';
import { execSetup } from './exec-setup.ts';
import { execTca } from './exec-tca.ts';
import { encodeKillFields, encodeReportFields, inputLine } from './exec-wire.ts';
import { queueModel, type ExecuteOptions } from './execute-options.ts';
import type { CancelReport } from './types.ts';

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



/** Beyond any event time: a stream that will deliver nothing more. */
const FAR = 1n << 62n;

/**
 * Runs one parent order through the simulator over a catalog date; returns the TCA and the orders.
 * `inputsOut`: write the simulator's fills and cancel reports and the kill changes as the fold read
 * them, an inputs file for `execute --fills` (with `feedNs` = the feed latency it reproduces the orders).
 */
export async function runExecute(o: ExecuteOptions & { inputsOut?: string }): Promise<ExecuteResult & { deadLetters: string[] }> {
  if (!Number.isInteger(o.qty) || o.qty <= 0) throw new UsageError(`--qty ${o.qty}: must be a whole number of lots > 0`);
  const dates = catalogDates(o.catalog);
  if (!dates.includes(o.date)) throw new UsageError(`--date ${o.date}: catalog ${o.catalog} has no data for it; dates present: ${dates.join(', ') || 'none'}`);
  const symbols = await catalogSymbols(o.catalog, o.date);
  if (symbols !== undefined && !symbols.includes(o.symbol)) throw new UsageError(`--symbol ${o.symbol}: not in the catalog ${o.catalog} on ${o.date}; symbols present: ${symbols.join(', ') || 'none'}`);
  // the parent and its configuration as the live run builds them (one definition)
  const { parent, cfg, instrument, ins, latency, notes } = await execSetup(o);
  const { start, end } = parent;
  const st = initExecFold(parent, cfg);
  const ex = sim.createSimulator({ instrument, queueModel: queueModel(o.queue ?? 'risk-averse'), latency, account: 'sim', strategy: parent.id, fees: { makerBps: o.makerBps ?? 0, takerBps: o.takerBps ?? 0, grid: ins.moneyGrid } });
  const actions: OrderAction[] = [];
  const deadLetters: string[] = [];
  const inputs: string[] | null = o.inputsOut ? [] : null;
  const feed = latency.feedNs;
  // (account 'sim', as the test gateway's fills: a fill needs one to be written to an inputs file)
  // the fold's orders go to the exchange as they are decided (they reach it entry later)
  const sink = (x: ExecOutput) => {
    if (x.kind === 'dead') {
      deadLetters.push(`${x.tag ?? ''}: ${x.reason}`);
      return;
    }
    actions.push(x.action);
    if (x.action.type === 'new') sim.submit(ex, x.action.order);
    else sim.cancel(ex, x.action.cancel);
  };
  // the kill-switch changes are known up front: the stream is complete at once
  const kills = [...(o.kills ?? [])].sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
  for (const k of kills) {
    inputs?.push(inputLine('kill', `k${inputs.length + 1}`, encodeKillFields(k)));
    pushKill(st, k, sink);
  }
  pushMark(st, KILL, FAR, sink);
  let nReports = 0;

  /** The exchange's reports due by `bound` into the fold's fills and reports streams. */
  const pushReports = (bound: bigint, incl: boolean) => {
    for (let r = sim.nextReportAt(ex); r !== null && (incl ? r <= bound : r < bound); r = sim.nextReportAt(ex)) {
      for (const rep of sim.drain(ex, r)) {
        const tag = `s${++nReports}`;
        if (rep.type === 'fill') {
          inputs?.push(inputLine('fills', tag, encodeFillFields(rep.fill, ins, parent.id)));
          pushFillInput(st, { kind: 'fill', ts: rep.tsRecv, fill: rep.fill, tag }, sink);
        } else if (rep.type !== 'ack') {
          // as the test gateway reports them (gateway-sim.ts): lots taken off the book, or too late
          const result: CancelReport['result'] = rep.type === 'cancelled' ? (rep.reason === 'cancel' ? 'cancelled' : 'unfilled') : rep.reason === 'already complete' ? 'too-late' : 'unknown';
          const report: CancelReport = { orderId: rep.orderId, parentId: parent.id, symbol: parent.symbol, lots: rep.type === 'cancelled' ? rep.leaves : 0, result, tsEvent: rep.tsEvent, tsRecv: rep.tsRecv };
          inputs?.push(inputLine('reports', tag, encodeReportFields(report)));
          pushReport(st, report, sink);
        }
      }
    }
  };
  /**
   * The fold's streams complete up to what can still come, its decisions being at `t` or later;
   * `rawNext`: the ts_recv of the next market event the exchange will read (null: none).
   */
  const settle = (t: bigint, rawNext: bigint | null) => {
    pushMark(st, MARKET, rawNext === null ? FAR : rawNext + feed, sink);
    let made = t + latency.entryNs;
    const a = sim.nextArrivalAt(ex);
    if (a !== null && a < made) made = a;
    if (rawNext !== null && rawNext < made) made = rawNext;
    let reports = made + latency.responseNs;
    const r = sim.nextReportAt(ex);
    if (r !== null && r < reports) reports = r;
    pushMark(st, FILLS, reports, sink);
    pushMark(st, REPORTS, reports, sink);
  };
  /** Runs the exchange and the fold up to `bound` (exclusive, or inclusive with `incl`). */
  const pump = (bound: bigint, incl: boolean, rawNext: bigint | null) => {
    const within = (t: bigint | null): t is bigint => t !== null && (incl ? t <= bound : t < bound);
    for (;;) {
      pushReports(bound, incl);
      const a = sim.nextArrivalAt(ex);
      const h = nextHeldAt(st);
      const t = within(a) && (!within(h) || a <= h) ? a : within(h) ? h : null;
      if (t === null) break;
      // the exchange first at one instant: what reaches it by t takes effect (its reports may be due at t)
      if (t === a) {
        sim.advance(ex, t);
        continue;
      }
      settle(t, rawNext);
      const a2 = sim.nextArrivalAt(ex);
      const r2 = sim.nextReportAt(ex);
      if (nextHeldAt(st) === t && (a2 === null || a2 > t) && (r2 === null || r2 > t)) {
        // zero entry + response latency: only a same-instant chain holds T (see the header)
        inputs?.push(inputLine('fills', `h${inputs.length + 1}`, heartbeatFields(t + 1n)), inputLine('reports', `h${inputs.length + 2}`, heartbeatFields(t + 1n)));
        pushMark(st, FILLS, t + 1n, sink);
        pushMark(st, REPORTS, t + 1n, sink);
      }
    }
    settle(incl ? bound + 1n : bound, rawNext);
  };
  /** One instant of the market: the exchange reads its events, the fold holds them until feed later. */
  const instant = (evs: readonly MarketEvent[], rawNext: bigint | null) => {
    const t = evs[0].tsRecv;
    pump(t, false, t);
    for (const ev of evs) sim.onMarket(ex, ev);
    for (const ev of evs) pushMarket(st, ev, sink, ev.tsRecv + feed);
    pump(t, true, rawNext);
  };

  const sel = await openSelection({ catalog: o.catalog, date: o.date, symbols: [o.symbol], kinds: ['book', 'quote', 'trade'] });
  const t0 = performance.now();
  let events = 0;
  let first: bigint | null = null;
  let last: bigint | null = null;
  let passedEnd = false;
  let batch: MarketEvent[] = [];
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
      if (batch.length > 0 && batch[0].tsRecv !== ev.tsRecv) {
        instant(batch, ev.tsRecv);
        batch = [];
      }
      batch.push(ev);
    }
  } finally {
    await sel.close();
  }
  if (first === null || last === null) throw new OutsideDataError(`asked to trade outside the data: ${o.symbol} has no events on ${o.date}`);
  const ceilLast = ((last + MINUTE - 1n) / MINUTE) * MINUTE;
  if (start < (first / MINUTE) * MINUTE || (!passedEnd && end > ceilLast)) {
    throw new OutsideDataError(`asked to trade outside the data: window ${o.date} ${o.from}-${o.to} UTC, but ${o.symbol}'s events on ${o.date} span ${span(first)}-${span(last)} UTC`);
  }
  // the exchange reads no market event after the window's
  if (batch.length > 0) instant(batch, null);
  // the fold reads what is left before the end, then the end itself (its timer); in-flight reports land after
  pump(end, false, null);
  const drainUntil = end + 10n * (latency.feedNs + sim.maxRoundTrip(latency)) + 1n;
  pump(drainUntil, true, null);
  const wallMs = performance.now() - t0;
  const tca = execTca(st, ins);
  if (o.ordersOut) writeOrders(o.ordersOut, actions, st.fills);
  if (o.inputsOut) writeFileSync(o.inputsOut, inputs!.join('\n') + (inputs!.length ? '\n' : ''));
  // the simulator's fills are the fold's: one it refused would be a fault of the two, said here
  if (deadLetters.length > 0) notes.push(`${deadLetters.length} simulator report(s) refused by the fold: ${deadLetters.slice(0, 3).join('; ')}`);
  return { tca, actions, fills: st.fills, events, wallMs, eventsPerSec: events / (wallMs / 1000), dataSpan: [first, last], notes, deadLetters };
}

/** Child orders, cancels and fills as JSON lines (times as epoch-ns strings), in decision order then fills. */
export function writeOrders(path: string, actions: readonly OrderAction[], fills: readonly Fill[]): void {
  const big = (_k: string, v: unknown) => (typeof v === 'bigint' ? v.toString() : v);
  const lines = [...actions.map((a) => JSON.stringify(a.type === 'new' ? { type: 'new', ...a.order } : { type: 'cancel', ...a.cancel }, big)), ...fills.map((f) => JSON.stringify({ type: 'fill', ...f }, big))];
  writeFileSync(path, lines.join('\n') + (lines.length ? '\n' : ''));
}
