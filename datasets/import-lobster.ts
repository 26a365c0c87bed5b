/**
 * Importer for LOBSTER samples (a ZIP holding `<SYM>_<date>_<start>_<end>_message_<L>.csv` and
 * `..._orderbook_<L>.csv`) into the canonical catalog: trades, quotes, L2 book rows, heartbeats.
 *
 * Conventions, all deliberate:
 * - Time is seconds after midnight New York time with up to 9 decimals: it is converted exactly
 *   (string → bigint ns) through US Eastern DST rules. ts_event = ts_recv = that instant: LOBSTER
 *   has one (exchange) time per message.
 * - Trades: executions of visible (type 4) and hidden (type 5) orders, price/10000, side = the
 *   opposite of the resting order's direction (executing a sell order is a buyer-initiated trade).
 *   `conditions` is 'hidden' for type 5 (and 'cross' for type 6 cross trades, side 0), null else.
 * - Quotes: one whenever level 1 (best bid/ask price or size) changes from the previous book row.
 *   An empty side is written as price 0 / size 0 (a one-sided quote).
 * - Book: the first row of a file is a snapshot; each later row is diffed against the previous
 *   one (levels that changed, and levels that left, as size 0). The orderbook file only shows L
 *   levels, so the catalog's book is that top-L window: a level pushed below level L reads as a
 *   delete, and one coming back into view as an add. Dummy levels (±9999999999, size 0) are empty.
 * - Trading halts (type 7) produce no event and are counted in the notes.
 * - Row policy (import-policy.ts, as in every importer): a message earlier than the previous one
 *   of its file is rejected ('goes backwards'); the symbol is the message file's name's, or
 *   `--symbol` (only for archives of one symbol); crossed and locked quotes are counted in the notes.
 * - Plausibility (core/plausibility.ts, the rule replay applies): a size of 1e15 or more is a
 *   rejected row.
 * - seq numbers each (kind, symbol) 1, 2, 3, ... in file order.
 * - Heartbeats cover each file's span of messages (the union over files, without duplicates:
 *   a heartbeat's seq is its tick index).
 * - A malformed message or book row rejects the pair (message i goes with book row i); under
 *   onError 'skip' the next row is diffed against the last good one, which stays exact because each
 *   book row is a full state.
 */
import { statSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BookEvent, HeartbeatEvent, Side } from '../core/events.ts';
import { writeCatalog, type CatalogRow } from '../replay/catalog.ts';
import { InputError, UsageError } from '../core/errors.ts';
import { heartbeats } from './heartbeats.ts';
import type { ImportOptions, ImportReport } from './import-report.ts';
import { quoteStateNote } from './import-policy.ts';
import { countByKind, newRejects, rejectRow, RowProblem, type Rejects } from './csv-lines.ts';
import { splitLines, type TextLine } from './text-lines.ts';
import { easternToUtcNs } from './us-eastern.ts';
import { listZipEntries, readZipEntries } from './zip-reader.ts';
import { magnitudeProblem } from '../core/plausibility.ts';

const MESSAGE_RE = /^(?:.*\/)?([^/_]+)_(\d{4}-\d{2}-\d{2})_(\d+)_(\d+)_message_(\d+)\.csv$/;
const PRICE_SCALE = 10_000;
const EMPTY_PX = 9_999_999_999;
const INT_RE = /^-?\d+$/;

/** A catalog row before its sequence number is assigned (distributes over the kinds). */
type Unsequenced<T = CatalogRow> = T extends unknown ? Omit<T, 'seq'> : never;

/** One side of a book row: prices (x10000, exact integers) → sizes, in level order. */
type SideLevels = Map<number, number>;

interface BookRow {
  bids: SideLevels;
  asks: SideLevels;
  /** Level 1: ask px, ask size, bid px, bid size (0 when the side is empty). */
  l1: [number, number, number, number];
}

interface Pair {
  symbol: string;
  date: string;
  levels: number;
  messageFile: string;
  bookFile: string;
  messages: TextLine[];
  book: TextLine[];
}

function intField(field: string, s: string): number {
  if (!INT_RE.test(s)) throw new RowProblem(field, s, 'is not an integer');
  const v = Number(s);
  if (!Number.isSafeInteger(v)) throw new RowProblem(field, s, 'is too large');
  return v;
}

/**
 * A size: an integer below the plausibility bound (core/plausibility.ts, the rule replay applies).
 * Prices need no such check: a safe integer / 10000 is far below the bound.
 */
function sizeField(field: string, s: string): number {
  const v = intField(field, s);
  const absurd = magnitudeProblem(field, v);
  if (absurd) throw new RowProblem(field, s, absurd.reason);
  return v;
}

/** Parses orderbook columns `ask_px_i, ask_sz_i, bid_px_i, bid_sz_i` for i = 1..L. */
function parseBookRow(text: string, levels: number): BookRow {
  const f = text.split(',');
  if (f.length !== 4 * levels) throw new RowProblem('(row)', text.slice(0, 80), `has ${f.length} columns; a level-${levels} orderbook row has ${4 * levels}`);
  const bids: SideLevels = new Map();
  const asks: SideLevels = new Map();
  for (let i = 0; i < levels; i++) {
    for (const [side, off, name] of [[asks, 0, 'ask'], [bids, 2, 'bid']] as const) {
      const px = intField(`${name}_px_${i + 1}`, f[4 * i + off]);
      const sz = sizeField(`${name}_sz_${i + 1}`, f[4 * i + off + 1]);
      if (sz < 0) throw new RowProblem(`${name}_sz_${i + 1}`, f[4 * i + off + 1], 'must be >= 0');
      if (sz === 0) continue; // an empty level (LOBSTER fills it with ±9999999999)
      if (px <= 0 || px === EMPTY_PX) throw new RowProblem(`${name}_px_${i + 1}`, f[4 * i + off], 'must be a positive price for a level with size > 0');
      side.set(px, sz);
    }
  }
  const best = (m: SideLevels): [number, number] => {
    for (const [px, sz] of m) return [px / PRICE_SCALE, sz];
    return [0, 0];
  };
  const [askPx, askSz] = best(asks);
  const [bidPx, bidSz] = best(bids);
  return { bids, asks, l1: [askPx, askSz, bidPx, bidSz] };
}

/** Level changes from `prev` to `cur` (null prev: everything, as a snapshot), bids then asks. */
function bookChanges(prev: BookRow | null, cur: BookRow): [side: 1 | -1, px: number, size: number][] {
  const out: [1 | -1, number, number][] = [];
  for (const [side, key] of [[1, 'bids'], [-1, 'asks']] as const) {
    const before = prev?.[key];
    for (const [px, sz] of cur[key]) if (before?.get(px) !== sz) out.push([side, px, sz]);
    if (before) for (const px of before.keys()) if (!cur[key].has(px)) out.push([side, px, 0]);
  }
  return out;
}

/** The message/orderbook pairs of one archive, read and split into lines. */
function readPairs(zip: string): Pair[] {
  const names = listZipEntries(zip);
  const pairs: Omit<Pair, 'messages' | 'book'>[] = [];
  for (const name of names) {
    const m = MESSAGE_RE.exec(name);
    if (!m) continue;
    const bookName = name.replace(/_message_(\d+)\.csv$/, '_orderbook_$1.csv');
    if (!names.includes(bookName)) throw new InputError({ file: zip, field: name, reason: `message file has no orderbook file ${bookName} beside it` });
    pairs.push({ symbol: m[1], date: m[2], levels: Number(m[5]), messageFile: name, bookFile: bookName });
  }
  if (pairs.length === 0) throw new InputError({ file: zip, reason: 'holds no LOBSTER message file (<SYM>_<YYYY-MM-DD>_<start>_<end>_message_<L>.csv)' });
  const wanted = new Set(pairs.flatMap((p) => [p.messageFile, p.bookFile]));
  const data = new Map(readZipEntries(zip, (n) => wanted.has(n)).map((e) => [e.name, splitLines(e.data.toString('utf8'))]));
  return pairs.map((p) => ({ ...p, messages: data.get(p.messageFile)!, book: data.get(p.bookFile)! }));
}

/** One import run: rows, per-(kind, symbol) sequence, heartbeats by tick index, counters. */
class LobsterRun {
  readonly rows: CatalogRow[] = [];
  readonly notes: string[] = [];
  readonly clock = new Map<bigint, HeartbeatEvent>();
  private readonly seqs = new Map<string, bigint>();

  constructor(private readonly rejects: Rejects) {}

  private push(row: Unsequenced): void {
    const key = `${row.kind}\u0000${row.symbol}`;
    const seq = (this.seqs.get(key) ?? 0n) + 1n;
    this.seqs.set(key, seq);
    this.rows.push({ ...row, seq } as CatalogRow);
  }

  pair(zip: string, p: Pair): void {
    const msgFile = `${zip}!${p.messageFile}`;
    const bookFile = `${zip}!${p.bookFile}`;
    if (p.book.length !== p.messages.length) {
      throw new InputError({ file: bookFile, reason: `has ${p.book.length} rows but the message file has ${p.messages.length}: row i of the book must be the state after message i` });
    }
    const counts = { trade: 0, quote: 0, book: 0, halt: 0, resume: 0, quoting: 0 };
    let prev: BookRow | null = null;
    let prevTs: bigint | null = null;
    let first: bigint | null = null;
    for (let i = 0; i < p.messages.length; i++) {
      const msg = p.messages[i];
      const bk = p.book[i];
      if (msg.line !== bk.line) throw new InputError({ file: bookFile, row: bk.line, rowLabel: 'line', reason: `blank-line layout differs from the message file (message line ${msg.line})` });
      let ts: bigint;
      let cur: BookRow;
      let fields: string[];
      try {
        fields = msg.text.split(',');
        if (fields.length !== 6) throw new RowProblem('(row)', msg.text, `has ${fields.length} columns; a message row has 6 (time, type, order id, size, price, direction)`);
        try {
          ts = easternToUtcNs(p.date, fields[0]);
        } catch (e) {
          throw new RowProblem('time', fields[0], (e as Error).message);
        }
        if (prevTs !== null && ts < prevTs) throw new RowProblem('time', fields[0], 'goes backwards');
        checkMessage(fields);
      } catch (e) {
        if (!(e instanceof RowProblem)) throw e;
        rejectRow(this.rejects, { file: msgFile, line: msg.line, field: e.field, value: e.value, reason: e.reason });
        continue;
      }
      try {
        cur = parseBookRow(bk.text, p.levels);
      } catch (e) {
        if (!(e instanceof RowProblem)) throw e;
        rejectRow(this.rejects, { file: bookFile, line: bk.line, field: e.field, value: e.value, reason: e.reason });
        continue;
      }
      prevTs = ts;
      first ??= ts;
      this.message(p.symbol, ts, fields, counts);
      if (!prev || cur.l1.some((v, k) => v !== prev!.l1[k])) {
        const [askPx, askSz, bidPx, bidSz] = cur.l1;
        this.push({ kind: 'quote', tsEvent: ts, tsRecv: ts, symbol: p.symbol, bidPx, bidSz, askPx, askSz });
        counts.quote++;
      }
      const changes = bookChanges(prev, cur);
      changes.forEach(([side, px, size], k) => {
        const row: Omit<BookEvent, 'seq'> = { kind: 'book', tsEvent: ts, tsRecv: ts, symbol: p.symbol, side, price: px / PRICE_SCALE, size, snapshot: prev === null, last: k === changes.length - 1 };
        this.push(row);
      });
      counts.book += changes.length;
      prev = cur;
    }
    if (first !== null && prevTs !== null) for (const h of heartbeats(first, prevTs)) this.clock.set(h.seq, h);
    this.notes.push(
      `${p.symbol} ${p.date} (level ${p.levels}): ${p.messages.length} messages → ${counts.trade} trades, ${counts.quote} quotes, ${counts.book} book rows; ` +
        `${counts.halt + counts.quoting + counts.resume} trading-halt messages (type 7: ${counts.halt} halt, ${counts.quoting} quoting, ${counts.resume} resume)`,
    );
  }

  private message(symbol: string, ts: bigint, f: string[], counts: Record<string, number>): void {
    const type = Number(f[1]);
    if (type === 4 || type === 5 || type === 6) {
      const dir = Number(f[5]);
      const side: Side = type === 6 ? 0 : dir === -1 ? 1 : -1;
      this.push({ kind: 'trade', tsEvent: ts, tsRecv: ts, symbol, price: Number(f[4]) / PRICE_SCALE, size: Number(f[3]), side, conditions: type === 5 ? 'hidden' : type === 6 ? 'cross' : null });
      counts.trade++;
    } else if (type === 7) {
      const px = Number(f[4]);
      if (px === -1) counts.halt++;
      else if (px === 0) counts.quoting++;
      else counts.resume++;
    }
  }
}

/** Validates a message row's type, order id, size, price and direction (time is checked apart). */
function checkMessage(f: string[]): void {
  const type = intField('type', f[1]);
  if (![1, 2, 3, 4, 5, 6, 7].includes(type)) throw new RowProblem('type', f[1], 'must be 1-7 (add, cancel, delete, visible/hidden execution, cross, halt)');
  intField('order_id', f[2]);
  const size = sizeField('size', f[3]);
  const price = intField('price', f[4]);
  const dir = intField('direction', f[5]);
  if (dir !== 1 && dir !== -1) throw new RowProblem('direction', f[5], 'must be 1 (buy) or -1 (sell)');
  if (type === 7) {
    if (price !== -1 && price !== 0 && price !== 1) throw new RowProblem('price', f[4], 'a halt message (type 7) has price -1, 0 or 1');
    return;
  }
  if (size <= 0) throw new RowProblem('size', f[3], 'must be > 0');
  if (price <= 0) throw new RowProblem('price', f[4], 'must be > 0');
}

function listZips(inPath: string): string[] {
  let st;
  try {
    st = statSync(inPath);
  } catch {
    throw new UsageError(`input ${inPath} does not exist`);
  }
  if (!st.isDirectory()) return [inPath];
  const zips = readdirSync(inPath).filter((f) => f.toLowerCase().endsWith('.zip')).sort().map((f) => join(inPath, f));
  if (zips.length === 0) throw new UsageError(`no LOBSTER .zip files in ${inPath}`);
  return zips;
}

/**
 * Imports LOBSTER archives (one `.zip`, or a directory of them read in name order) into the catalog
 * at `outDir`, with heartbeats over each file's span of messages.
 */
export async function importLobster(inPath: string, outDir: string, opts: ImportOptions = {}): Promise<ImportReport> {
  const rejects = newRejects(opts.onError);
  const run = new LobsterRun(rejects);
  const pairs = listZips(inPath).flatMap((zip) => readPairs(zip).map((p) => [zip, p] as const));
  const named = [...new Set(pairs.map(([, p]) => p.symbol))];
  if (opts.symbol !== undefined && named.length > 1) throw new UsageError(`--symbol ${opts.symbol}: the input holds several symbols (${named.join(', ')}); import them one archive at a time`);
  for (const [zip, p] of pairs) run.pair(zip, opts.symbol === undefined ? p : { ...p, symbol: opts.symbol });
  run.notes.push(`symbols: ${opts.symbol !== undefined ? `${opts.symbol} (--symbol; the file names say ${named.join(', ')})` : `${named.join(', ')} (from the message file names)`}`);
  const q = quoteStateNote(run.rows);
  if (q) run.notes.push(q);
  const rows = run.rows;
  for (const h of [...run.clock.values()].sort((a, b) => (a.seq < b.seq ? -1 : 1))) rows.push(h);
  const written = writeCatalog(outDir, rows, { rowGroupSize: opts.rowGroupSize, session: 'us-equity' });
  return { format: 'lobster', files: written, events: countByKind(rows), rejected: rejects.count, rejectedSample: rejects.sample, notes: run.notes };
}
