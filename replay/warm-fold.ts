/**
 * A fold state built from the catalog up to (not including) a given event: the history a live
 * worker started mid-session needs to serve what a worker running since the open would serve
 * (`lockstep live --warm-from CATALOG`, live/worker/warm-start.ts).
 *
 * The events are the replay's own: the selection of the cutoff's UTC date (`selectReplayFiles`,
 * so earlier dates' fundamentals are in it), merged in core's order by the replay's cursors and
 * merge, folded by core's `applyEvent`. Every event that sorts strictly before the cutoff
 * (`compareEvents`) is folded, none at or after it: with the cutoff taken from the first entry of
 * an input stream that holds a suffix of the same order, the warm fold followed by the stream is
 * the replay's fold, event for event. Rows are not emitted, except that the newest row of each
 * symbol is kept (a worker serves it as the symbol's latest value until the stream updates it).
 */
import { compareEvents, type MarketEvent } from '../core/events.ts';
import { UsageError } from '../core/errors.ts';
import { applyEvent, initFold, type FactorSet, type FoldState } from '../core/fold.ts';
import { catalogDates, dateStartNs, utcDate, type CatalogFile } from './catalog.ts';
import { EventCursor } from './event-cursor.ts';
import { EventMerge } from './merge.ts';
import { lockstepMetadata, openParquet } from './parquet-io.ts';
import { selectReplayFiles } from './run-replay.ts';

/** What to fold: the catalog, the factors, the cutoff and which symbols. */
export interface WarmFoldOptions {
  catalog: string;
  set: FactorSet;
  /** The first event not folded: every catalog event sorting strictly before it is. */
  before: MarketEvent;
  /** Symbols to fold (heartbeats, the clock, are always folded). */
  keep: (symbol: string) => boolean;
  /**
   * Awaited between file opens and, while folding, whenever `tickMs` (default 250) have passed: a
   * live worker renews its shard leases there (a warm-up can take longer than a lease).
   */
  tick?: () => Promise<void>;
  tickMs?: number;
}

/** The newest row the fold produced for a symbol (its event and values). */
export interface WarmRow {
  event: MarketEvent;
  values: (number | null)[];
}

/** The warm fold and what went into it. */
export interface WarmFold {
  fold: FoldState;
  /** The date whose replay selection was read (the UTC date of the cutoff's ts_recv). */
  date: string;
  /** Events folded. */
  events: number;
  /** Files read (those holding none of the kept symbols are skipped unread). */
  files: CatalogFile[];
  /** Per symbol, its newest row. */
  latest: Map<string, WarmRow>;
}

/** Folds the catalog's events before `o.before` (see the top of this file). */
export async function foldCatalogBefore(o: WarmFoldOptions): Promise<WarmFold> {
  const date = utcDate(o.before.tsRecv);
  if (!catalogDates(o.catalog).includes(date)) {
    throw new UsageError(`--warm-from ${o.catalog}: the catalog has no data for ${date}, the date of the input's first event (ts_recv ${o.before.tsRecv}); warm start needs that day's events up to it`);
  }
  const selected = await selectReplayFiles({ catalog: o.catalog, date });
  // a file listing none of the kept symbols holds nothing to fold: skipped unread
  const files: CatalogFile[] = [];
  for (const f of selected) {
    if (f.kind !== 'heartbeat') {
      const listed = lockstepMetadata(await openParquet(f.path)).symbols;
      if (Array.isArray(listed) && !listed.some((s) => o.keep(String(s)))) continue;
    }
    files.push(f);
  }
  // nothing after the cutoff's instant can sort before it: cursors stop there
  const toNs = o.before.tsRecv + 1n;
  const fold = initFold();
  const latest = new Map<string, WarmRow>();
  const keep = new Map<string, boolean>();
  const kept = (s: string): boolean => {
    let k = keep.get(s);
    if (k === undefined) keep.set(s, (k = o.keep(s)));
    return k;
  };
  const sink = (event: MarketEvent, symbol: string, values: readonly (number | null)[]): void => {
    latest.set(symbol, { event, values: [...values] });
  };
  let events = 0;
  const tickMs = o.tickMs ?? 250;
  let lastTick = performance.now();
  // Decoded on this thread, not the replay's decode pool: a pool's worker thread can take seconds
  // to start on a loaded machine, and the merge would block on it for longer than a lease lasts.
  const cursors: EventCursor[] = [];
  for (const f of files) {
    cursors.push(await EventCursor.open(f.path, f.kind, { toNs }));
    await o.tick?.();
  }
  EventCursor.start(cursors);
  const merge = new EventMerge(cursors);
  for (let ev = merge.next(); ev !== null; ev = merge.next()) {
    if (compareEvents(ev, o.before) >= 0) break;
    if (ev.kind !== 'heartbeat' && !kept(ev.symbol)) continue;
    applyEvent(o.set, fold, ev, sink);
    if ((++events & 1023) === 0 && o.tick && performance.now() - lastTick >= tickMs) {
      await o.tick();
      lastTick = performance.now();
    }
  }
  return { fold, date, events, files, latest };
}

/** Epoch ns of HH:MM (UTC) on `date`; a UsageError naming `flag` for anything else. */
export function instantOf(date: string, hhmm: string, flag: string): bigint {
  const m = /^(\d{2}):(\d{2})$/.exec(hhmm);
  if (!m || Number(m[1]) > 23 || Number(m[2]) > 59) throw new UsageError(`${flag} ${JSON.stringify(hhmm)} must be HH:MM (UTC), 00:00 to 23:59`);
  return dateStartNs(date) + BigInt(Number(m[1]) * 3600 + Number(m[2]) * 60) * 1_000_000_000n;
}
