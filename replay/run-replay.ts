/**
 * One replay: catalog files → k-way merge in core's order → the fold → the factor table.
 *
 * The selection for a date D is every file of D for the chosen kinds, plus the fundamentals of
 * every earlier date: a value factor at 09:30 needs the last quarter announced before it (point in
 * time), and those announcements live in their own dates. The live feed uses the same selection
 * (`selectReplayFiles`), so both paths see the same events.
 */
import { writeFileSync, readFileSync, renameSync } from 'node:fs';
import { KINDS, type Kind, type MarketEvent } from '../core/events.ts';
import type { AnyFactor } from '../core/factor.ts';
import { applyEvent, createFactorSet, initFold, type FoldState } from '../core/fold.ts';
import { DEFAULT_FACTORS, factorManifest, featureSetVersion } from '../core/registry.ts';
import { stateFromJson, stateToJson } from '../core/state-codec.ts';
import { catalogSymbols, dateStartNs, listCatalog, selectCatalog, type CatalogFile } from './catalog.ts';
import { UsageError } from '../core/errors.ts';
import { DecodePool } from './decode-pool.ts';
import { EventCursor } from './event-cursor.ts';
import { FactorTableSink, type SinkResult } from './factor-table-sink.ts';
import { lineageOf } from './lineage.ts';
import { EventMerge } from './merge.ts';
import { Pacer, type Speed } from './pacer.ts';
import { Progress } from './progress.ts';

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

/** A replay: the selection, where to write the factor table (`out`) and which factors (default: `DEFAULT_FACTORS`). */
export interface ReplayOptions extends ReplaySelection {
  out: string;
  speed?: Speed;
  factors?: readonly AnyFactor[];
  /** Rows per output batch handed to the Parquet encoder (does not change the bytes). */
  batchRows?: number;
  rowGroupSize?: number;
  /** Stop after this many merged events and write a checkpoint to `checkpoint`. */
  stopAfter?: number;
  checkpoint?: string;
  /** Resume from a checkpoint written by a stopped run (same selection and factors). */
  resume?: string;
  progress?: boolean;
}

/** What a replay did: event and row counts, timings and the output file's hash. */
export interface ReplaySummary {
  events: number;
  applied: number;
  duplicates: number;
  late: number;
  rows: number;
  symbols: number;
  files: number;
  wallMs: number;
  eventsPerSec: number;
  output: SinkResult;
  stoppedAt?: number;
  firstTsRecv?: bigint;
  lastTsRecv?: bigint;
}

function hhmmToNs(date: string, hhmm: string, flag: string): bigint {
  const m = /^(\d{2}):(\d{2})$/.exec(hhmm);
  if (!m || Number(m[1]) > 24 || Number(m[2]) > 59 || (Number(m[1]) === 24 && Number(m[2]) > 0)) throw new UsageError(`${flag} ${JSON.stringify(hhmm)} must be HH:MM (UTC), 00:00 to 24:00`);
  return dateStartNs(date) + BigInt(Number(m[1]) * 3600 + Number(m[2]) * 60) * 1_000_000_000n;
}

/** Catalog files a replay (or the live feed) of one date reads. */
export async function selectReplayFiles(sel: ReplaySelection): Promise<CatalogFile[]> {
  dateStartNs(sel.date); // refuses a malformed date with a usage error
  const kinds = sel.kinds ?? KINDS;
  const all = listCatalog(sel.catalog);
  const dates = [...new Set(all.map((f) => f.date))].sort();
  if (!dates.includes(sel.date)) {
    throw new UsageError(`catalog ${sel.catalog} has no data for ${sel.date}; dates present: ${dates.join(', ') || 'none'}`);
  }
  if (sel.from && sel.to && hhmmToNs(sel.date, sel.from, '--from') >= hhmmToNs(sel.date, sel.to, '--to')) {
    throw new UsageError(`--from ${sel.from} is not before --to ${sel.to}: the window is empty (--to is exclusive)`);
  }
  if (sel.symbols) {
    // a symbol the day does not have is a typo, not an empty replay
    const present = await catalogSymbols(sel.catalog, sel.date);
    const absent = present === undefined ? [] : sel.symbols.filter((s) => !present.includes(s));
    if (present !== undefined && absent.length > 0) {
      const shown = present.length > 20 ? `${present.slice(0, 20).join(', ')}, ... (${present.length} in all)` : present.join(', ') || 'none';
      throw new UsageError(`--symbols ${absent.join(',')}: not in the catalog on ${sel.date}; symbols present: ${shown}`);
    }
  }
  const sameDay = await selectCatalog(sel.catalog, { dates: [sel.date], kinds, symbols: sel.symbols });
  const earlierFundamentals = kinds.includes('fundamental')
    ? (await selectCatalog(sel.catalog, { kinds: ['fundamental'], symbols: sel.symbols })).filter((f) => f.kind === 'fundamental' && f.date < sel.date)
    : [];
  return [...earlierFundamentals, ...sameDay];
}

export interface OpenedSelection {
  files: CatalogFile[];
  cursors: EventCursor[];
  totalRows: number;
  /** Stops the decode worker; call when done with the cursors. */
  close(): Promise<void>;
}

/** Opens every selected file as a cursor, positioned on its first event; decoding runs on a worker. */
export async function openSelection(sel: ReplaySelection): Promise<OpenedSelection> {
  const files = await selectReplayFiles(sel);
  const symbols = sel.symbols ? new Set(sel.symbols) : undefined;
  const fromNs = sel.from ? hhmmToNs(sel.date, sel.from, '--from') : undefined;
  const toNs = sel.to ? hhmmToNs(sel.date, sel.to, '--to') : undefined;
  const pool = new DecodePool();
  const cursors: EventCursor[] = [];
  try {
    for (const f of files) {
      // earlier-dated fundamentals are point-in-time state, not subject to the intraday window
      const window = f.date === sel.date ? { fromNs, toNs } : {};
      cursors.push(await EventCursor.open(f.path, f.kind, { symbols, ...window }, pool));
    }
    EventCursor.start(cursors);
  } catch (e) {
    await pool.close();
    throw e;
  }
  return { files, cursors, totalRows: cursors.reduce((a, c) => a + c.src.numRows, 0), close: () => pool.close() };
}

interface Checkpoint {
  consumed: number;
  featureSetVersion: string;
  selection: string;
  fold: FoldState;
}

function selectionKey(sel: ReplaySelection): string {
  return JSON.stringify([sel.date, sel.symbols ?? null, sel.kinds ?? null, sel.from ?? null, sel.to ?? null]);
}

/** The checkpoint at `path` (written by --stop-after), or a UsageError saying why it cannot be used. */
function readCheckpoint(path: string): Checkpoint {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(`--resume ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : `cannot read it (${code ?? (e as Error).message})`}`);
  }
  let cp: Checkpoint;
  try {
    cp = stateFromJson<Checkpoint>(text);
  } catch (e) {
    throw new UsageError(`--resume ${path}: not a checkpoint written by --stop-after (${(e as Error).message})`);
  }
  if (typeof cp !== 'object' || cp === null || typeof cp.consumed !== 'number' || typeof cp.featureSetVersion !== 'string') {
    throw new UsageError(`--resume ${path}: not a checkpoint written by --stop-after`);
  }
  return cp;
}

/** Runs a replay to its end (or to `stopAfter`) and returns the summary. */
export async function runReplay(opts: ReplayOptions): Promise<ReplaySummary> {
  const factors = opts.factors ?? DEFAULT_FACTORS;
  const set = createFactorSet(factors);
  const fsVersion = featureSetVersion(factors);
  // the checkpoint is read before the catalog files are opened: a bad --resume leaves nothing open
  let fold = initFold();
  let skip = 0;
  if (opts.resume) {
    const cp = readCheckpoint(opts.resume);
    if (cp.featureSetVersion !== fsVersion) throw new UsageError(`checkpoint ${opts.resume} was made by feature set ${cp.featureSetVersion}, this run uses ${fsVersion}`);
    if (cp.selection !== selectionKey(opts)) throw new UsageError(`checkpoint ${opts.resume} was made for another selection (${cp.selection})`);
    fold = cp.fold;
    skip = cp.consumed;
  }
  const opened = await openSelection(opts);
  const merge = new EventMerge(opened.cursors);

  const sink = new FactorTableSink(opts.out, set.columns, {
    batchRows: opts.batchRows,
    rowGroupSize: opts.rowGroupSize,
    metadata: {
      featureSetVersion: fsVersion,
      factors: factorManifest(factors),
      date: opts.date,
      // what made the table and from which files (lineage.ts; `lockstep lineage FILE` prints it)
      lineage: lineageOf({ factors, files: opened.files, root: opts.catalog }),
    },
  });
  const pacer = new Pacer(opts.speed ?? 'max', undefined, dateStartNs(opts.date));
  const progress = new Progress(opened.totalRows, process.stderr, opts.progress ?? process.stderr.isTTY === true);
  const started = performance.now();
  let consumed = 0;
  let first: bigint | undefined;
  let last: bigint | undefined;
  let stoppedAt: number | undefined;
  const row = sink.row;
  try {
    for (let ev: MarketEvent | null = merge.next(); ev !== null; ev = merge.next()) {
      consumed++;
      if (consumed <= skip) continue;
      first ??= ev.tsRecv;
      last = ev.tsRecv;
      const wait = pacer.pace(ev.tsRecv);
      if (wait) await wait;
      applyEvent(set, fold, ev, row);
      if (sink.full) await sink.drain();
      if ((consumed & 0x3fff) === 0) progress.update(consumed, ev.tsRecv);
      if (opts.stopAfter !== undefined && consumed >= opts.stopAfter) {
        stoppedAt = consumed;
        break;
      }
    }
  } catch (e) {
    await opened.close();
    await sink.abort();
    throw e;
  }
  await opened.close();
  const output = await sink.close();
  progress.done();
  if (stoppedAt !== undefined && opts.checkpoint) {
    const cp: Checkpoint = { consumed, featureSetVersion: fsVersion, selection: selectionKey(opts), fold };
    const tmp = `${opts.checkpoint}.tmp`;
    writeFileSync(tmp, stateToJson(cp));
    renameSync(tmp, opts.checkpoint);
  }
  const wallMs = performance.now() - started;
  const events = consumed - skip;
  return {
    events,
    applied: fold.stats.applied,
    duplicates: fold.stats.duplicates,
    late: fold.stats.late,
    rows: output.rows,
    symbols: fold.order.length,
    files: opened.files.length,
    wallMs,
    eventsPerSec: events / (wallMs / 1000),
    output,
    stoppedAt,
    firstTsRecv: first,
    lastTsRecv: last,
  };
}
