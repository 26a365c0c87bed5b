import { defineDerivation, type Derivation } from '../derivation.ts';
import type { MarketEvent } from '../events.ts';
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

const windows = new Map<string, Derivation<TimeWindow>>();

/**
 * The window derivation `name` (made once): a sum-only window of `durationNs` fed by `push` on
 * events of `kind` and advanced by heartbeats.
 */
function flowWindow(name: string, kind: 'trade' | 'news', durationNs: bigint, sided: boolean, push: (w: TimeWindow, ev: MarketEvent) => void): Derivation<TimeWindow> {
  let d = windows.get(name);
  if (d === undefined) {
    d = defineDerivation<TimeWindow>({
      name,
      inputs: [kind, 'heartbeat'],
      init: () => initTimeWindow(durationNs, 64, false, sided),
      update(w, ev) {
        if (ev.kind === 'heartbeat') return advanceFires(w, ev.tsEvent);
        push(w, ev);
        return true;
      },
      source: [initTimeWindow, push, advanceFires, timeWindowAdvance],
    });
    windows.set(name, d);
  }
  return d;
}

function pushTrade(w: TimeWindow, ev: MarketEvent): void {
  if (ev.kind === 'trade') timeWindowPushSided(w, ev.tsEvent, ev.size, ev.side);
}

function pushNews(w: TimeWindow, ev: MarketEvent): void {
  timeWindowPush(w, ev.tsEvent, 1);
}

/**
 * The symbol's trades over the trailing `seconds` of event time, as one sided sum-only window
 * (kernels/time-window.ts): volume, trade count and buyer/seller-initiated volume from one ring.
 * Volume power, volume and trade count of the same length read it, so a trade is stored once. The
 * sums are bit-identical to separate windows: each is the same Neumaier sequence over the same
 * terms, re-based on the same schedule (time-window.test.ts).
 */
export function tradeFlow(seconds: number): Derivation<TimeWindow> {
  return flowWindow(`trade_flow_${seconds}s`, 'trade', BigInt(seconds) * 1_000_000_000n, true, pushTrade);
}

/** The symbol's news items over the trailing `minutes` of event time (a count window). */
export function newsFlow(minutes: number): Derivation<TimeWindow> {
  return flowWindow(`news_flow_${minutes}m`, 'news', BigInt(minutes) * 60_000_000_000n, false, pushNews);
}
