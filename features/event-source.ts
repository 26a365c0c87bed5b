/**
 * The events of several catalog dates as one stream in core's order, for one fold. This is the one
 * place the training-set builder reads the catalog: it calls replay's `openSelection` once per date,
 * in date order (the multi-day replay's range API can replace this function as a whole).
 *
 * Between dates:
 * - `openSelection` of date D also delivers every earlier date's fundamentals; the first date of
 *   the stream keeps them (point-in-time state), a later date skips those received before D (the
 *   fold has them already), so ts_recv never goes back;
 * - the fold's driver resets sequence guards at each new date (day-boundary.ts), not this reader:
 *   a reader may run ahead of the fold;
 * - `perturbAfter` alters every event received after that instant (the leakage check, leakage.ts),
 *   here at the source, before anything downstream sees it.
 */
import type { MarketEvent } from '../core/events.ts';
import { catalogSymbols, dateStartNs } from '../replay/catalog.ts';
import { EventMerge } from '../replay/merge.ts';
import { openSelection, type OpenedSelection } from '../replay/run-replay.ts';

/** One date of the stream, optionally cut at `toNs` (exclusive, on ts_recv). */
export interface DateSlice {
  date: string;
  toNs?: bigint;
  /** A warm-up or look-ahead date: symbols it lacks are left out instead of refused. */
  optional?: boolean;
}

export interface SourceSpec {
  catalog: string;
  dates: readonly DateSlice[];
  symbols?: readonly string[];
  /** Alter every event with ts_recv > perturbAfter (see perturbEvent). */
  perturbAfter?: bigint;
  perturb?: (ev: MarketEvent) => MarketEvent;
}

/** Events in order; `next()` is null at the end. */
export interface EventSource {
  next(): MarketEvent | null;
  close(): Promise<void>;
}

/** Opens an event source. */
export type OpenSource = (spec: SourceSpec) => Promise<EventSource>;

/** The catalog's events of `spec.dates`, in order, one date after another. */
export const openEventSource: OpenSource = async (spec) => {
  const opened: { sel: OpenedSelection; slice: DateSlice; startNs: bigint }[] = [];
  try {
    for (const slice of spec.dates) {
      let symbols = spec.symbols;
      if (symbols && slice.optional) {
        const present = await catalogSymbols(spec.catalog, slice.date);
        if (present !== undefined) symbols = symbols.filter((s) => present.includes(s));
        if (symbols.length === 0) continue;
      }
      opened.push({ sel: await openSelection({ catalog: spec.catalog, date: slice.date, symbols }), slice, startNs: dateStartNs(slice.date) });
    }
  } catch (e) {
    await Promise.all(opened.map((o) => o.sel.close()));
    throw e;
  }
  let i = -1;
  let merge: EventMerge | null = null;
  let floor = -(1n << 62n);
  let to = 1n << 62n;
  const after = spec.perturbAfter;
  const perturb = spec.perturb;
  const advance = (): boolean => {
    if (++i >= opened.length) return false;
    const o = opened[i];
    merge = new EventMerge(o.sel.cursors);
    if (i > 0) floor = o.startNs;
    to = o.slice.toNs ?? 1n << 62n;
    return true;
  };
  advance();
  return {
    next(): MarketEvent | null {
      for (;;) {
        if (merge === null) return null;
        const ev = merge.next();
        if (ev === null || ev.tsRecv >= to) {
          if (!advance()) {
            merge = null;
            return null;
          }
          continue;
        }
        if (ev.tsRecv < floor) continue;
        return after !== undefined && perturb !== undefined && ev.tsRecv > after ? perturb(ev) : ev;
      }
    },
    close: async () => {
      await Promise.all(opened.map((o) => o.sel.close()));
    },
  };
};
