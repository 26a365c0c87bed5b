/**
 * What a replay reads: the catalog files of one date or of several dates (one merged stream, folded
 * in order), the optional HH:MM window and the warm-up before it.
 *
 * - The files of a date D are every file of D for the chosen kinds, plus the fundamentals and corporate actions of every
 *   earlier date (for several dates: of every date before the last that is not read whole): a value factor at 09:30 needs the last quarter announced before it (point in
 *   time), and those announcements live in their own dates.
 * - Several dates (`dates`) are one stream: catalog files partition events by the UTC date of
 *   ts_recv, so merging the files of all the dates gives the same events in the same order as one
 *   file holding them all. Each symbol's state carries from one date to the next: a book snapshot
 *   holds until the next one, and bar windows count bars, not clock time, so `ma_60m` at the
 *   morning's first bars averages the previous evening's last ones (it spans the overnight gap).
 *   Sequence numbers are per date (feeds renumber daily): `runReplay` restarts the sequence guards
 *   at each date's 00:00 (`resetSequenceGuards`), so only factor state carries.
 * - `from` is on the first date, `to` on the last: the window is one span of time.
 * - A warm-up (`warmup`) reads the events before `from` too, so the fold enters the window with
 *   the state a run from earlier would have; the events before the window are folded, not written.
 *   `'date-start'` warms up from 00:00 of the first date; a duration from that long before `from`
 *   (pulling in the catalog's earlier dates when it reaches back past midnight). Fundamentals
 *   before the warm-up's start are always read (point-in-time state).
 *
 * The live feed uses the same selection (`selectReplayFiles`, `openSelection`, always cold), so
 * both paths see the same events.
 */
import { KINDS, REFERENCE_KINDS, type Kind } from '../core/events.ts';
import { UsageError } from '../core/errors.ts';
import { catalogSymbols, dateStartNs, listCatalog, selectCatalog, utcDate, type CatalogFile } from './catalog.ts';
import { resolveDates, splitDates } from './date-range.ts';
import { DecodePool } from './decode-pool.ts';
import { EventCursor } from './event-cursor.ts';

/** Which events to replay: one date of a catalog, optionally some symbols, kinds or hours. */
export interface ReplaySelection {
  catalog: string;
  date: string;
  symbols?: readonly string[];
  kinds?: readonly Kind[];
  /** HH:MM (UTC) window on ts_recv within the date. */
  from?: string;
  to?: string;
}

/**
 * One date (`date`) or several (`dates`, exactly one of the two) of a catalog, folded in date
 * order as one stream; optionally some symbols, kinds or hours, and a warm-up before `from`.
 */
export interface RangeSelection extends Omit<ReplaySelection, 'date'> {
  date?: string;
  /** Dates (`YYYY-MM-DD`) and ranges (`A..B`, the catalog's dates within it), in any order. */
  dates?: readonly string[];
  /** HH:MM (UTC) on the first date: the window's start (inclusive, on ts_recv). */
  from?: string;
  /** HH:MM (UTC) on the last date: the window's end (exclusive). */
  to?: string;
  /**
   * Events folded before the window's start without being written: a duration in nanoseconds
   * before `from` (`0n`, the default of `openSelection`: a cold start), or `'date-start'` (the
   * default of `runReplay`): from 00:00 UTC of the first date.
   */
  warmup?: bigint | 'date-start';
}

/** A selection with its dates resolved against the catalog and its times in ns. */
export interface SelectionPlan {
  /** The dates asked for, sorted. */
  dates: string[];
  /** Earlier catalog dates a warm-up reaches into (read, not written), sorted. */
  warmupDates: string[];
  /** Where writing starts: events before it are warm-up. Undefined when the run does not warm up. */
  windowStartNs?: bigint;
  /** Where reading starts (the warm-up's start, or `from` when cold); undefined: from each file's start. */
  readFromNs?: bigint;
  toNs?: bigint;
  files: CatalogFile[];
}

function hhmmToNs(date: string, hhmm: string, flag: string): bigint {
  const m = /^(\d{2}):(\d{2})$/.exec(hhmm);
  if (!m || Number(m[1]) > 24 || Number(m[2]) > 59 || (Number(m[1]) === 24 && Number(m[2]) > 0)) throw new UsageError(`${flag} ${JSON.stringify(hhmm)} must be HH:MM (UTC), 00:00 to 24:00`);
  return dateStartNs(date) + BigInt(Number(m[1]) * 3600 + Number(m[2]) * 60) * 1_000_000_000n;
}

/** The dates of a selection, checked against the catalog's (`present`). */
function selectedDates(sel: RangeSelection, present: readonly string[]): string[] {
  if ((sel.date === undefined) === (sel.dates === undefined)) {
    throw new UsageError(sel.date === undefined ? 'give the dates to replay: --date YYYY-MM-DD or --dates A..B (or a comma list)' : 'give either --date or --dates, not both');
  }
  if (sel.date !== undefined) {
    dateStartNs(sel.date); // refuses a malformed date with a usage error
    if (!present.includes(sel.date)) throw new UsageError(`catalog ${sel.catalog} has no data for ${sel.date}; dates present: ${present.join(', ') || 'none'}`);
    return [sel.date];
  }
  return resolveDates(splitDates(sel.dates!), present, sel.catalog);
}

/** Resolves a selection: its dates, window, warm-up and the files to read. */
export async function planSelection(sel: RangeSelection): Promise<SelectionPlan> {
  const kinds = sel.kinds ?? KINDS;
  const all = listCatalog(sel.catalog);
  const present = [...new Set(all.map((f) => f.date))].sort();
  const dates = selectedDates(sel, present);
  const first = dates[0];
  const last = dates[dates.length - 1];
  const fromNs = sel.from ? hhmmToNs(first, sel.from, '--from') : undefined;
  const toNs = sel.to ? hhmmToNs(last, sel.to, '--to') : undefined;
  if (fromNs !== undefined && toNs !== undefined && fromNs >= toNs) {
    throw new UsageError(`--from ${sel.from} is not before --to ${sel.to}: the window is empty (--to is exclusive)`);
  }
  const windowStart = fromNs ?? dateStartNs(first);
  const warmup = sel.warmup ?? 0n;
  if (typeof warmup === 'bigint' && warmup < 0n) throw new UsageError(`--warmup must not be negative`);
  const warmStart = warmup === 'date-start' ? dateStartNs(first) : windowStart - warmup;
  const warm = warmStart < windowStart;
  // dates with market data only: a date of reference data alone is read as the earlier fundamentals are
  const marketDates = new Set(all.filter((f) => !REFERENCE_KINDS.includes(f.kind)).map((f) => f.date));
  const warmupDates = warm ? present.filter((d) => d < first && d >= utcDate(warmStart) && marketDates.has(d)) : [];
  if (sel.symbols) {
    // a symbol the dates do not have is a typo, not an empty replay
    const found = new Set<string>();
    let known = true;
    for (const d of dates) {
      const s = await catalogSymbols(sel.catalog, d);
      if (s === undefined) known = false;
      else for (const x of s) found.add(x);
    }
    const absent = known ? sel.symbols.filter((s) => !found.has(s)) : [];
    if (absent.length > 0) {
      const list = [...found].sort();
      const shown = list.length > 20 ? `${list.slice(0, 20).join(', ')}, ... (${list.length} in all)` : list.join(', ') || 'none';
      throw new UsageError(`--symbols ${absent.join(',')}: not in the catalog on ${dates.length === 1 ? first : dates.join(', ')}; symbols present: ${shown}`);
    }
  }
  const readDates = [...warmupDates, ...dates];
  const sameDays = await selectCatalog(sel.catalog, { dates: readDates, kinds, symbols: sel.symbols });
  // fundamentals and corporate actions (REFERENCE_KINDS) of every earlier date are point-in-time
  // state: a value factor at 09:30 needs the last quarter, and the splits, announced before it
  const reference = REFERENCE_KINDS.filter((k) => kinds.includes(k));
  const earlierReference = reference.length > 0
    ? (await selectCatalog(sel.catalog, { kinds: reference, symbols: sel.symbols })).filter((f) => reference.includes(f.kind) && f.date < last && !readDates.includes(f.date))
    : [];
  return {
    dates,
    warmupDates,
    windowStartNs: warm ? windowStart : undefined,
    readFromNs: warm ? warmStart : fromNs,
    toNs,
    files: [...earlierReference, ...sameDays],
  };
}

/**
 * 00:00 UTC of each date read after the first (warm-up dates included), in order: where a fold of
 * the selection calls `resetSequenceGuards` (core/fold.ts) before the first event at or after it,
 * as `runReplay` does. Empty for one date.
 */
export function sequenceSessionStarts(plan: SelectionPlan): bigint[] {
  return [...plan.warmupDates, ...plan.dates].slice(1).map(dateStartNs);
}

/** Catalog files a replay (or the live feed) of a selection reads. */
export async function selectReplayFiles(sel: RangeSelection): Promise<CatalogFile[]> {
  return (await planSelection(sel)).files;
}

/** The selection's files opened as cursors (see `openSelection`). */
export interface OpenedSelection {
  files: CatalogFile[];
  cursors: EventCursor[];
  totalRows: number;
  /** The resolved selection: dates, warm-up and window. */
  plan: SelectionPlan;
  /** Stops the decode worker; call when done with the cursors. */
  close(): Promise<void>;
}

/**
 * Opens every selected file as a cursor, positioned on its first event; decoding runs on a worker.
 * Merged (`EventMerge`), the cursors give the selection's events in core's order; with a warm-up,
 * those before `plan.windowStartNs` are the warm-up (fold them, do not write them). `planned`:
 * the selection's plan when the caller has already made it.
 */
export async function openSelection(sel: RangeSelection, planned?: SelectionPlan): Promise<OpenedSelection> {
  const plan = planned ?? (await planSelection(sel));
  const { files, readFromNs, toNs } = plan;
  const firstRead = plan.warmupDates[0] ?? plan.dates[0];
  const warm = plan.windowStartNs !== undefined;
  const symbols = sel.symbols ? new Set(sel.symbols) : undefined;
  const pool = new DecodePool();
  const cursors: EventCursor[] = [];
  try {
    for (const f of files) {
      // earlier-dated fundamentals and corporate actions are point-in-time state, not subject to the
      // intraday window; when warming up, neither are those before the warm-up's start. Those of a
      // date between the ones read (a list with gaps) are before `to` and after a cold `from`.
      const window = f.date < firstRead ? {} : warm && REFERENCE_KINDS.includes(f.kind) ? { toNs } : { fromNs: readFromNs, toNs };
      cursors.push(await EventCursor.open(f.path, f.kind, { symbols, ...window }, pool));
    }
    EventCursor.start(cursors);
  } catch (e) {
    await pool.close();
    throw e;
  }
  return { files, cursors, plan, totalRows: cursors.reduce((a, c) => a + c.src.numRows, 0), close: () => pool.close() };
}
