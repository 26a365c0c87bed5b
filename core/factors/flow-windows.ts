import { defineDerivation, type Derivation } from '../derivation.ts';
import { initTimeWindow, timeWindowAdvance, timeWindowPush, timeWindowPushSided, type TimeWindow } from '../kernels/time-window.ts';

/*
 * Event-time windows shared as derivations (derivation.ts), one per window length, each firing
 * only when a sum or the count may have changed: on a value pushed, when a heartbeat evicts, and on
 * the first heartbeat (the window starts reporting 0). A heartbeat that evicts nothing changes
 * nothing, so readers ('fired') skip it: the heartbeat fan-out to every symbol then costs one
 * window advance per length instead of a call per factor.
 *
 * The same length always returns the same Derivation object, so factors that agree share one.
 */

/** A heartbeat's advance of `w`: true when it changed what the window reports. */
function advanceFires(w: TimeWindow, t: bigint): boolean {
  const first = !w.started;
  return timeWindowAdvance(w, t) || first;
}

const trades = new Map<number, Derivation<TimeWindow>>();

/**
 * The symbol's trades over the trailing `seconds` of event time, as one sided sum-only window
 * (kernels/time-window.ts): volume, trade count and buyer/seller-initiated volume from one ring.
 * Volume power, volume and trade count of the same length read it, so a trade is stored once. The
 * sums are bit-identical to separate windows: each is the same Neumaier sequence over the same
 * terms, re-based on the same schedule (time-window.test.ts).
 */
export function tradeFlow(seconds: number): Derivation<TimeWindow> {
  let d = trades.get(seconds);
  if (d === undefined) {
    const durationNs = BigInt(seconds) * 1_000_000_000n;
    d = defineDerivation<TimeWindow>({
      name: `trade_flow_${seconds}s`,
      inputs: ['trade', 'heartbeat'],
      init: () => initTimeWindow(durationNs, 64, false, true),
      update(w, ev) {
        if (ev.kind !== 'trade') return advanceFires(w, ev.tsEvent);
        timeWindowPushSided(w, ev.tsEvent, ev.size, ev.side);
        return true;
      },
      source: [initTimeWindow, timeWindowPushSided, advanceFires, timeWindowAdvance],
    });
    trades.set(seconds, d);
  }
  return d;
}

const news = new Map<number, Derivation<TimeWindow>>();

/** The symbol's news items over the trailing `minutes` of event time (a count window). */
export function newsFlow(minutes: number): Derivation<TimeWindow> {
  let d = news.get(minutes);
  if (d === undefined) {
    const durationNs = BigInt(minutes) * 60_000_000_000n;
    d = defineDerivation<TimeWindow>({
      name: `news_flow_${minutes}m`,
      inputs: ['news', 'heartbeat'],
      init: () => initTimeWindow(durationNs, 64, false),
      update(w, ev) {
        if (ev.kind !== 'news') return advanceFires(w, ev.tsEvent);
        timeWindowPush(w, ev.tsEvent, 1);
        return true;
      },
      source: [initTimeWindow, timeWindowPush, advanceFires, timeWindowAdvance],
    });
    news.set(minutes, d);
  }
  return d;
}
