import { defineDerivation, type Derivation } from '../derivation.ts';
import { initTimeWindow, timeWindowAdvance, timeWindowPushSided, type TimeWindow } from '../kernels/time-window.ts';

const flows = new Map<number, Derivation<TimeWindow>>();

/**
 * The symbol's trades over the trailing `seconds` of event time, as one sided sum-only window
 * (kernels/time-window.ts): volume, trade count and buyer/seller-initiated volume from one ring.
 * Volume power, volume and trade count of the same length read the same derivation, so a trade
 * is stored once and a heartbeat advances one window per length instead of one per factor (and
 * two for volume power). The sums are bit-identical to separate windows: each is the same
 * Neumaier sequence over the same terms, re-based on the same schedule.
 *
 * Fires when a sum or the count may have changed: on a trade, when a heartbeat evicts, and on the
 * first heartbeat (the window starts reporting 0). A heartbeat that evicts nothing changes nothing,
 * so readers skip it.
 *
 * The same `seconds` always returns the same Derivation object (a factor set shares one per length).
 */
export function tradeFlow(seconds: number): Derivation<TimeWindow> {
  let d = flows.get(seconds);
  if (d === undefined) {
    const durationNs = BigInt(seconds) * 1_000_000_000n;
    d = defineDerivation<TimeWindow>({
      name: `trade_flow_${seconds}s`,
      inputs: ['trade', 'heartbeat'],
      init: () => initTimeWindow(durationNs, 64, false, true),
      update(w, ev) {
        if (ev.kind === 'trade') {
          timeWindowPushSided(w, ev.tsEvent, ev.size, ev.side);
          return true;
        }
        const first = !w.started;
        return timeWindowAdvance(w, ev.tsEvent) || first;
      },
      source: [initTimeWindow, timeWindowPushSided, timeWindowAdvance],
    });
    flows.set(seconds, d);
  }
  return d;
}
