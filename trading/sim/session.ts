/**
 * A simulated session: the simulator (the exchange's view, at `ts_recv`) and an algorithm (its own
 * view, `feed` later) on one event-time line, so a runner such as `lockstep execute` need not
 * interleave the two clocks itself. Pure: the algorithm is a function from an input to the order
 * actions it takes; everything happens in event time.
 *
 * The one timeline, at each instant:
 * 1. the exchange processes what is due there: orders and cancels arriving (`ts + entry`), then the
 *    market event (`ts_recv`);
 * 2. then the algorithm reads what reached it by then, in time order: market events at
 *    `ts_recv + feed`, reports at `tsRecv` (a market event before a report at the same time);
 *    its actions carry the input's time as `ts`, and reach the exchange `entry` later.
 * Ties go to the exchange: with zero latency the algorithm reads an event just after the exchange
 * processed it, and its order takes effect before the exchange's next event.
 *
 * The session never looks ahead: inputs up to the time of the last market event fed are
 * delivered; `finish(s, t)` lets the clock run to `t` in a quiet market (end of the window).
 */
import type { MarketEvent } from '../../core/events.ts';
import type { Fill, OrderAction } from '../types.ts';
import { advance, cancel, drain, nextReportAt, onMarket, submit, type SimState } from './matcher.ts';
import type { SimReport } from './reports.ts';

/** What the algorithm reads, at `at` (its own clock). */
export type AlgoInput = { kind: 'market'; at: bigint; ev: MarketEvent } | { kind: 'report'; at: bigint; report: SimReport };

/** The algorithm: reads one input, returns the orders/cancels it sends (their `ts` should be `input.at`). */
export type Algo = (input: AlgoInput) => readonly OrderAction[];

/** The session's state (plain data besides the algorithm function). */
export interface Session {
  sim: SimState;
  algo: Algo;
  /** Market events the algorithm has not read yet (FIFO: the feed latency is constant). */
  feedQueue: MarketEvent[];
  feedHead: number;
  /** Every fill made, in exchange order. */
  fills: Fill[];
  /** Inputs delivered to the algorithm (a count, for reports). */
  delivered: number;
}

/** A session over a fresh simulator (`createSimulator`) and an algorithm. */
export function createSession(sim: SimState, algo: Algo): Session {
  return { sim, algo, feedQueue: [], feedHead: 0, fills: [], delivered: 0 };
}

function act(s: Session, actions: readonly OrderAction[]): void {
  for (const a of actions) {
    const made = a.type === 'new' ? submit(s.sim, a.order) : cancel(s.sim, a.cancel);
    for (const f of made) s.fills.push(f);
  }
}

/**
 * Delivers to the algorithm every input due at `t` or before (`strict`: before `t` only), in
 * time order, letting the exchange reach each input's time first.
 */
function deliver(s: Session, t: bigint, strict: boolean): void {
  const feedNs = s.sim.cfg.latency.feedNs;
  for (;;) {
    const ev = s.feedHead < s.feedQueue.length ? s.feedQueue[s.feedHead] : null;
    const evAt = ev ? ev.tsRecv + feedNs : null;
    const repAt = nextReportAt(s.sim);
    let at: bigint | null = evAt;
    if (repAt !== null && (at === null || repAt < at)) at = repAt;
    if (at === null || (strict ? at >= t : at > t)) return;
    // the exchange first: what arrives by `at` takes effect (its reports may come due at `at` too)
    for (const f of advance(s.sim, at)) s.fills.push(f);
    if (evAt !== null && evAt === at) {
      s.feedHead++;
      if (s.feedHead > 4096 && s.feedHead * 2 > s.feedQueue.length) {
        s.feedQueue.splice(0, s.feedHead);
        s.feedHead = 0;
      }
      s.delivered++;
      act(s, s.algo({ kind: 'market', at, ev: ev! }));
      continue;
    }
    // reports are FIFO by tsRecv: the head is the one due at `at`
    const report = s.sim.outbox[s.sim.outHead++];
    s.delivered++;
    act(s, s.algo({ kind: 'report', at, report }));
  }
}

/**
 * Feeds one market event (merge order). Returns the fills the exchange made meanwhile (including
 * those of orders the algorithm sent while reading earlier inputs).
 */
export function feed(s: Session, ev: MarketEvent): Fill[] {
  const from = s.fills.length;
  deliver(s, ev.tsRecv, true);
  for (const f of onMarket(s.sim, ev)) s.fills.push(f);
  s.feedQueue.push(ev);
  deliver(s, ev.tsRecv, false);
  return s.fills.slice(from);
}

/** Lets the clock run to `t` with no market event: pending inputs, orders and reports due by `t`. */
export function finish(s: Session, t: bigint): Fill[] {
  const from = s.fills.length;
  deliver(s, t, false);
  for (const f of advance(s.sim, t)) s.fills.push(f);
  deliver(s, t, false);
  return s.fills.slice(from);
}

/** Reports the algorithm has not read yet (after `finish`: those due after its time). */
export function undelivered(s: Session, t: bigint): SimReport[] {
  return drain(s.sim, t);
}
