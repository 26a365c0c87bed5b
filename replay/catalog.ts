/**
 * The on-disk catalog: `ROOT/<kind>/<YYYY-MM-DD>/<part>.parquet`.
 *
 * - `kind` is one of core's event kinds (trade, quote, book, fundamental, news, heartbeat).
 * - The date is the UTC date of `ts_recv`, so a replay of one date reads exactly one folder per kind.
 * - A part holds one symbol (named after it) or many (`part-NNN`); every file records the symbols it
 *   holds in its key/value metadata (`lockstep` → `symbols`), so a symbol filter skips files unread.
 * - Rows in a file are sorted by core's event order (ts_recv, then symbol, then seq).
 *
 * Plain Parquet with standard logical types: `duckdb "select * from 'ROOT/trade/*\/*.parquet'"`
 * and `pl.scan_parquet('ROOT/trade/**\/*.parquet')` read it as is.
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { compareEvents, isKind, KINDS, type Kind, type MarketEvent } from '../core/events.ts';
import { eventsToColumns } from './catalog-schema.ts';
import { encodeParquet, lockstepMetadata, openParquet, type ColumnData } from './parquet-io.ts';
import { UsageError } from '../core/errors.ts';
import type { SessionKind } from '../core/kernels/market-sessions.ts';
import { parseSessionTable, sessionTableJson } from '../core/session-table.ts';

export const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
const NS_PER_DAY = 86_400_000_000_000n;

/** Optional per-row columns that importers keep alongside the canonical ones. */
export interface RowExtras {
  exchange?: string | null;
  conditions?: string | null;
  tradeId?: bigint | null;
  updateId?: bigint | null;
  /** Days since 1970-01-01. */
  periodEnd?: number | null;
  form?: string | null;
  headline?: string | null;
  provider?: string | null;
}

export type CatalogRow = MarketEvent & RowExtras;

const EXTRA_COLUMNS: { key: keyof RowExtras; column: string; kind: 'utf8' | 'int64' | 'date' }[] = [
  { key: 'exchange', column: 'exchange', kind: 'utf8' },
  { key: 'conditions', column: 'conditions', kind: 'utf8' },
  { key: 'tradeId', column: 'trade_id', kind: 'int64' },
  { key: 'updateId', column: 'update_id', kind: 'int64' },
  { key: 'periodEnd', column: 'period_end', kind: 'date' },
  { key: 'form', column: 'form', kind: 'utf8' },
  { key: 'headline', column: 'headline', kind: 'utf8' },
  { key: 'provider', column: 'provider', kind: 'utf8' },
];

/** UTC calendar date (YYYY-MM-DD) of an epoch-ns instant. */
export function utcDate(ns: bigint): string {
  const days = Number(ns / NS_PER_DAY);
  if (days === lastDay) return lastDate;
  lastDay = days;
  lastDate = new Date(days * 86_400_000).toISOString().slice(0, 10);
  return lastDate;
}
let lastDay = NaN;
let lastDate = '';

/** Epoch ns of 00:00 UTC on a YYYY-MM-DD date. */
export function dateStartNs(date: string): bigint {
  const ms = Date.parse(`${date}T00:00:00Z`);
  if (!DATE_RE.test(date) || Number.isNaN(ms)) throw new UsageError(`invalid date "${date}": use YYYY-MM-DD`);
  // Date.parse rolls 2024-02-30 over to 2024-03-01: a date must name itself
  if (new Date(ms).toISOString().slice(0, 10) !== date) throw new UsageError(`invalid date "${date}": no such date in the calendar`);
  return BigInt(ms) * 1_000_000n;
}

export function safePartName(s: string): string {
  return s.length === 0 ? '_' : s.replace(/[^A-Za-z0-9._-]/g, '_');
}

export type PartBy = 'symbol' | 'single' | { buckets: number };

export interface WriteCatalogOptions {
  /** How rows of one kind and date are split into files (default: one file per symbol). */
  partBy?: PartBy;
  rowGroupSize?: number;
  /**
   * The market session of every symbol written (an importer knows its market): recorded in the
   * catalog's sessions.json (`recordCatalogSessions`) before any file is written.
   */
  session?: SessionKind;
}

/** Where a catalog keeps its session table (core/session-table.ts). */
export function sessionsPath(root: string): string {
  return join(root, 'sessions.json');
}

/**
 * The catalog's session table (symbol → session), empty when it has no sessions.json (a
 * synthetic day, or a catalog imported before sessions were recorded: every symbol then takes the
 * UTC day). A malformed file is a UsageError naming it.
 */
export function readCatalogSessions(root: string): Map<string, SessionKind> {
  let text: string;
  try {
    text = readFileSync(sessionsPath(root), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw new UsageError(`${sessionsPath(root)}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return parseSessionTable(text, sessionsPath(root));
}

/**
 * A session table from `path`: a catalog directory (its sessions.json; empty when it has none) or
 * a sessions.json file itself (`live --sessions`). A missing path is a UsageError.
 */
export function loadSessionTable(path: string): Map<string, SessionKind> {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new UsageError(`--sessions ${path}: no such catalog or file`);
  }
  if (st.isDirectory()) return readCatalogSessions(path);
  return parseSessionTable(readFileSync(path, 'utf8'), path);
}

/**
 * Records `symbols` as trading in `session` in the catalog's sessions.json (merged with what is
 * there; written to a temporary name and renamed). A symbol recorded with another session is a
 * UsageError naming both: one symbol, one market.
 */
export function recordCatalogSessions(root: string, symbols: Iterable<string>, session: SessionKind): void {
  const table = readCatalogSessions(root);
  const before = sessionTableJson(table);
  for (const sym of symbols) {
    const had = table.get(sym);
    if (had !== undefined && had !== session) {
      throw new UsageError(`${sessionsPath(root)}: symbol ${sym} is recorded with session ${had}, this import would make it ${session}: import it into another catalog, or edit the file`);
    }
    table.set(sym, session);
  }
  const text = sessionTableJson(table);
  if (text === before) return;
  mkdirSync(root, { recursive: true });
  const tmp = `${sessionsPath(root)}.tmp-${process.pid}`;
  writeFileSync(tmp, `${text}\n`);
  renameSync(tmp, sessionsPath(root));
}

/** File name (without .parquet) of the part that holds a symbol under a partitioning. */
export function partOf(partBy: PartBy, symbol: string, symbolIndex: number): string {
  if (partBy === 'symbol') return safePartName(symbol);
  if (partBy === 'single') return 'part-000';
  return `part-${String(symbolIndex % partBy.buckets).padStart(3, '0')}`;
}

/**
 * Writes rows into the catalog, grouped by kind, UTC date of ts_recv and part; rows are sorted by
 * core's order first. Returns the paths written. Each file is written to a temporary name and
 * renamed, so a reader never sees half a file.
 */
export function writeCatalog(root: string, rows: readonly CatalogRow[], opts: WriteCatalogOptions = {}): string[] {
  const partBy = opts.partBy ?? 'symbol';
  const symbols = [...new Set(rows.map((r) => r.symbol))].sort();
  // heartbeats have no symbol (and no market)
  if (opts.session) recordCatalogSessions(root, symbols.filter((s) => s !== ''), opts.session);
  const symbolIndex = new Map(symbols.map((s, i) => [s, i]));
  const groups = new Map<string, CatalogRow[]>();
  for (const r of rows) {
    const key = `${r.kind}\u0000${utcDate(r.tsRecv)}\u0000${partOf(partBy, r.symbol, symbolIndex.get(r.symbol)!)}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = []));
    g.push(r);
  }
  const written: string[] = [];
  for (const [key, group] of [...groups].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const [kind, date, part] = key.split('\u0000') as [Kind, string, string];
    written.push(writeCatalogFile(root, kind, date, part, group, opts.rowGroupSize));
  }
  return written;
}

/** Writes one catalog file (rows of a single kind); sorts them by core's order. */
export function writeCatalogFile(root: string, kind: Kind, date: string, part: string, rows: readonly CatalogRow[], rowGroupSize?: number): string {
  const sorted = isSorted(rows) ? rows : [...rows].sort(compareEvents);
  const present = new Set<keyof RowExtras>();
  for (const r of sorted) for (const x of EXTRA_COLUMNS) if (r[x.key] !== undefined && r[x.key] !== null) present.add(x.key);
  const extras: Record<string, ColumnData> = {};
  for (const x of EXTRA_COLUMNS) {
    if (!present.has(x.key)) continue;
    if (x.kind === 'int64') {
      // int64 extras are ids; a missing one is written as -1 (the schema marks the column nullable
      // for other producers, but ours always know them)
      extras[x.column] = BigInt64Array.from(sorted, (r) => (r[x.key] as bigint | null | undefined) ?? -1n);
    } else {
      extras[x.column] = sorted.map((r) => (r[x.key] as string | number | null | undefined) ?? null) as ColumnData;
    }
  }
  const { specs, columns, n } = eventsToColumns(kind, sorted, extras);
  const symbols = [...new Set(sorted.map((r) => r.symbol))].sort();
  const bytes = encodeParquet(specs, columns, n, {
    rowGroupSize,
    metadata: { kind, date, symbols },
  });
  const dir = join(root, kind, date);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${part}.parquet`);
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, path);
  return path;
}

function isSorted(rows: readonly CatalogRow[]): boolean {
  for (let i = 1; i < rows.length; i++) if (compareEvents(rows[i - 1], rows[i]) > 0) return false;
  return true;
}

export interface CatalogFile {
  kind: Kind;
  date: string;
  part: string;
  path: string;
}

/** Lists every Parquet file of the catalog, sorted by kind, date and part. */
export function listCatalog(root: string): CatalogFile[] {
  let st;
  try {
    st = statSync(root);
  } catch {
    throw new UsageError(`catalog ${root} does not exist; create one with "lockstep datasets generate --out ${root}" or "lockstep datasets import"`);
  }
  if (!st.isDirectory()) throw new UsageError(`catalog ${root} is not a directory`);
  const out: CatalogFile[] = [];
  for (const kind of KINDS) {
    const kdir = join(root, kind);
    let dates: string[];
    try {
      dates = readdirSync(kdir).filter((d) => DATE_RE.test(d));
    } catch {
      continue;
    }
    for (const date of dates.sort()) {
      for (const f of readdirSync(join(kdir, date)).filter((f) => f.endsWith('.parquet')).sort()) {
        out.push({ kind, date, part: f.slice(0, -'.parquet'.length), path: join(kdir, date, f) });
      }
    }
  }
  return out;
}

export interface CatalogSelection {
  dates?: readonly string[];
  kinds?: readonly Kind[];
  /** When set, only these symbols (heartbeats are always kept: they are the clock). */
  symbols?: readonly string[];
}

/** Files that can hold rows for the selection; symbol filtering inside a file is the reader's job. */
export async function selectCatalog(root: string, sel: CatalogSelection): Promise<CatalogFile[]> {
  for (const k of sel.kinds ?? []) if (!isKind(k)) throw new UsageError(`unknown kind "${k}"; kinds are ${KINDS.join(', ')}`);
  const files = listCatalog(root).filter(
    (f) => (!sel.dates || sel.dates.includes(f.date)) && (!sel.kinds || sel.kinds.includes(f.kind) || f.kind === 'heartbeat'),
  );
  if (!sel.symbols) return files;
  const wanted = new Set(sel.symbols);
  const out: CatalogFile[] = [];
  for (const f of files) {
    if (f.kind === 'heartbeat') {
      out.push(f);
      continue;
    }
    const src = await openParquet(f.path);
    const listed = lockstepMetadata(src).symbols;
    if (!Array.isArray(listed) || listed.some((s) => wanted.has(String(s)))) out.push(f);
  }
  return out;
}

/**
 * The symbols the catalog's files of `date` list (every kind but heartbeats), sorted; undefined
 * when a file does not list its symbols (written by something else), so nobody can tell.
 */
export async function catalogSymbols(root: string, date: string): Promise<string[] | undefined> {
  const out = new Set<string>();
  for (const f of listCatalog(root)) {
    if (f.date !== date || f.kind === 'heartbeat') continue;
    const listed = lockstepMetadata(await openParquet(f.path)).symbols;
    if (!Array.isArray(listed)) return undefined;
    for (const s of listed) out.add(String(s));
  }
  return [...out].sort();
}

/** Dates present in the catalog (any kind). */
export function catalogDates(root: string): string[] {
  return [...new Set(listCatalog(root).map((f) => f.date))].sort();
}
