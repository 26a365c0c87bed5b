/**
 * The ledger's memory of fill ids, bounded by a window of exchange time (the rule is on
 * `applyFill`, ledger.ts): the ids of the fills applied, oldest first, forgotten once their
 * ts_event is before the latest ts_recv of a fill minus the window.
 *
 * No I/O, clock, randomness or promises.
 */
import type { Ledger } from './ledger.ts';
import type { Fill } from './types.ts';

/** One hour: a gateway's resend of a fill comes within it; the ids kept are those of the last hour or two of fills, not the day's. */
export const FILL_ID_WINDOW_NS = 3_600_000_000_000n;

/** The id window in force (the configuration's, or the default). */
export const windowOf = (l: Ledger) => l.cfg.fillIdWindowNs ?? FILL_ID_WINDOW_NS;

/** The oldest ts_event a fill received at `tsRecv` may have (see `applyFill`). */
export function fillCutoff(l: Ledger, tsRecv: bigint): bigint {
  const c = l.fillClock === null || tsRecv > l.fillClock ? tsRecv : l.fillClock;
  return c - windowOf(l);
}

/** Remembers an applied fill's id and forgets those whose ts_event fell out of the window (oldest applied first: bounded, see `applyFill`). */
export function rememberFill(l: Ledger, f: Fill): void {
  if (l.fillClock === null || f.tsRecv > l.fillClock) l.fillClock = f.tsRecv;
  l.fillIds.set(f.fillId, f.tsEvent);
  l.fillQueue.push({ id: f.fillId, tsEvent: f.tsEvent });
  const cut = l.fillClock - windowOf(l);
  const q = l.fillQueue;
  while (l.fillHead < q.length && q[l.fillHead].tsEvent < cut) l.fillIds.delete(q[l.fillHead++].id);
  if (l.fillHead > 1024 && l.fillHead * 2 > q.length) {
    l.fillQueue = q.slice(l.fillHead);
    l.fillHead = 0;
  }
}

/** Why `f` is stale (its ts_event is before the window), or null. */
export function staleFill(l: Ledger, f: Fill): string | null {
  const cut = fillCutoff(l, f.tsRecv);
  if (f.tsEvent >= cut) return null;
  return `fill_id ${JSON.stringify(f.fillId)}: ts_event ${f.tsEvent} is more than ${windowOf(l)} ns before the latest ts_recv ${cut + windowOf(l)}: outside the window in which a repeat is recognised`;
}
