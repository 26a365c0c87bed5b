/**
 * Importer for NYSE TAQ-layout trades and quotes (`*_trades_raw.csv.gz`, `*_quotes_raw.csv.gz`, as
 * exported from the highfrequency R package's sample data) into the canonical catalog.
 *
 * Conventions, all deliberate:
 * - `ts_event` = `ts_recv` = `ts_utc_ms` in ns: TAQ gives one (millisecond) time per row and no
 *   separate receive time. Many rows share a millisecond; `seq` keeps their file order.
 * - Trades have side 0 (unknown): TAQ carries no aggressor flag. Classifying by the quote
 *   (Lee-Ready) would be a factor's choice, not a fact of the data.
 * - Trades with CORR != 0 are corrections/cancellations of earlier prints: they are left out (the
 *   original print stays; TAQ does not tell us its replacement) and counted in the report notes.
 * - Trade size is in shares. Quote sizes (BIDSIZ/OFRSIZ) are in round lots and are converted to
 *   shares (x100) so that trade and quote sizes share a unit.
 * - Quotes are per exchange, not a consolidated NBBO; `exchange` (EX) is kept on every row, and
 *   `conditions` (COND) on trades. A side with price 0 is an empty side (one-sided quote), which
 *   core's event policy accepts.
 * - Row policy (import-policy.ts, shared by every importer): a row earlier than the previous row
 *   of its file is rejected; rows keep their own SYMBOL, listed in the notes (with `--symbol`, rows
 *   of another symbol are rejected); crossed and locked quotes are counted in the notes.
 */
import { heartbeatsCovering } from './heartbeats.ts';
import type { ImportOptions, ImportReport } from './import-report.ts';
import { writeCatalog, type CatalogRow } from '../replay/catalog.ts';
import { UsageError } from '../core/errors.ts';
import { quoteStateNote, RowSymbols, TimeOrder } from './import-policy.ts';
import {
  columnIndex,
  countByKind,
  decimalField,
  epochMsField,
  fileName,
  forEachRow,
  listInputs,
  newRejects,
  readCsv,
  RowProblem,
  sequenceByTime,
  type Rejects,
} from './csv-lines.ts';

const TRADES_RE = /_trades_raw\.csv(\.gz)?$/;
const QUOTES_RE = /_quotes_raw\.csv(\.gz)?$/;
/** TAQ quote sizes are round lots of 100 shares. */
const ROUND_LOT = 100;

const TRADE_COLS = ['ts_utc_ms', 'EX', 'SYMBOL', 'COND', 'SIZE', 'PRICE', 'CORR'] as const;
const QUOTE_COLS = ['ts_utc_ms', 'EX', 'BID', 'BIDSIZ', 'OFR', 'OFRSIZ', 'SYMBOL'] as const;

function symbolField(s: string): string {
  if (s.length === 0) throw new RowProblem('SYMBOL', s, 'must not be empty');
  return s;
}

/** Reads one trades file; returns the number of correction rows (CORR != 0) left out. */
function readTrades(file: string, rows: CatalogRow[], rejects: Rejects, symbols: RowSymbols): number {
  const t = readCsv(file);
  const c = columnIndex(t, TRADE_COLS);
  const order = new TimeOrder();
  let corrections = 0;
  forEachRow(t, rejects, (f) => {
    const ts = epochMsField('ts_utc_ms', f[c.ts_utc_ms]);
    order.check('ts_utc_ms', f[c.ts_utc_ms], ts);
    const symbol = symbols.check(symbolField(f[c.SYMBOL]));
    const price = decimalField('PRICE', f[c.PRICE], 'positive');
    const size = decimalField('SIZE', f[c.SIZE], 'positive');
    const corr = f[c.CORR];
    if (!/^\d+$/.test(corr)) throw new RowProblem('CORR', corr, 'is not a correction code (a non-negative integer)');
    order.accept(f[c.ts_utc_ms], ts);
    if (Number(corr) !== 0) {
      corrections++;
      return;
    }
    symbols.accept(symbol, file);
    rows.push({
      kind: 'trade', tsEvent: ts, tsRecv: ts, symbol, seq: 0n, price, size, side: 0,
      exchange: f[c.EX] || null, conditions: f[c.COND] || null,
    });
  });
  return corrections;
}

/** Reads one quotes file; returns the number of one-sided (or empty) quotes. */
function readQuotes(file: string, rows: CatalogRow[], rejects: Rejects, symbols: RowSymbols): number {
  const t = readCsv(file);
  const c = columnIndex(t, QUOTE_COLS);
  const order = new TimeOrder();
  let oneSided = 0;
  forEachRow(t, rejects, (f) => {
    const ts = epochMsField('ts_utc_ms', f[c.ts_utc_ms]);
    order.check('ts_utc_ms', f[c.ts_utc_ms], ts);
    const symbol = symbols.check(symbolField(f[c.SYMBOL]));
    const bidPx = decimalField('BID', f[c.BID], 'zero');
    const bidSz = decimalField('BIDSIZ', f[c.BIDSIZ], 'zero') * ROUND_LOT;
    const askPx = decimalField('OFR', f[c.OFR], 'zero');
    const askSz = decimalField('OFRSIZ', f[c.OFRSIZ], 'zero') * ROUND_LOT;
    order.accept(f[c.ts_utc_ms], ts);
    symbols.accept(symbol, file);
    if (bidPx === 0 || askPx === 0) oneSided++;
    rows.push({ kind: 'quote', tsEvent: ts, tsRecv: ts, symbol, seq: 0n, bidPx, bidSz, askPx, askSz, exchange: f[c.EX] || null });
  });
  return oneSided;
}

/**
 * Imports TAQ trades and quotes from `inPath` (a directory holding `*_trades_raw.csv[.gz]` and/or
 * `*_quotes_raw.csv[.gz]` files, or one such file) into the catalog at `outDir`, with heartbeats
 * (one per second) over the imported span. See the module comment for the conventions.
 */
export async function importTaq(inPath: string, outDir: string, opts: ImportOptions = {}): Promise<ImportReport> {
  const files = listInputs(inPath, /_(trades|quotes)_raw\.csv(\.gz)?$/, 'TAQ trades/quotes');
  const rejects = newRejects(opts.onError);
  const rows: CatalogRow[] = [];
  const symbols = new RowSymbols('SYMBOL', opts.symbol);
  let corrections = 0;
  let oneSided = 0;
  for (const file of files) {
    const name = fileName(file);
    if (TRADES_RE.test(name)) corrections += readTrades(file, rows, rejects, symbols);
    else if (QUOTES_RE.test(name)) oneSided += readQuotes(file, rows, rejects, symbols);
    else throw new UsageError(`${file}: not a TAQ file (expected a name ending in _trades_raw.csv[.gz] or _quotes_raw.csv[.gz])`);
  }
  // Each file is in time order (rows going back are rejected); files of one kind are merged here.
  sequenceByTime(rows);
  const quoteNote = quoteStateNote(rows);
  const events = countByKind(rows);
  const beats = heartbeatsCovering(rows);
  if (beats.length > 0) events.heartbeat = beats.length;
  const all: CatalogRow[] = rows.concat(beats);
  const written = writeCatalog(outDir, all, { rowGroupSize: opts.rowGroupSize, session: 'us-equity' });
  return {
    format: 'taq',
    files: written,
    events,
    rejected: rejects.count,
    rejectedSample: rejects.sample,
    notes: [
      `${corrections} trade correction rows (CORR != 0) left out`,
      'trade side is 0 (unknown): TAQ has no aggressor flag',
      `quote sizes converted from round lots to shares (x${ROUND_LOT}); ${oneSided} one-sided quotes (price 0 on the empty side) kept`,
      ...symbols.notes(),
      ...(quoteNote ? [quoteNote] : []),
    ],
  };
}
