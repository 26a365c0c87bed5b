/**
 * Importer for Dukascopy tick CSVs (`<SYMBOL>_<dates>_ticks.csv[.gz]`, columns
 * `ts_utc_ms,bid,ask,bid_volume_m,ask_volume_m`, as decoded from Dukascopy `.bi5` files) into
 * canonical quotes.
 *
 * Conventions: `ts_event` = `ts_recv` = `ts_utc_ms` in ns (the feed has one time per tick); the
 * symbol is the file name up to the first `_` (EURUSD); `bid_sz` / `ask_sz` are the feed's
 * volumes in MILLIONS of the base currency (1.25 = EUR 1,250,000), kept in that unit as given
 * (they come from float32, so e.g. 2.06 is a rounded float). Dukascopy is a single venue's
 * top of book, so no `exchange` column is written. `--symbol` (opts.symbol) replaces the file
 * name's symbol. A tick earlier than the previous tick of its file is a rejected row
 * (import-policy.ts); crossed and locked quotes are counted in the notes.
 */
import { heartbeatsCovering } from './heartbeats.ts';
import type { ImportOptions, ImportReport } from './import-report.ts';
import { writeCatalog, type CatalogRow } from '../replay/catalog.ts';
import { UsageError } from '../core/errors.ts';
import { quoteStateNote, TimeOrder } from './import-policy.ts';
import { columnIndex, countByKind, decimalField, epochMsField, fileName, forEachRow, listInputs, newRejects, readCsv, sequenceByTime } from './csv-lines.ts';

const COLS = ['ts_utc_ms', 'bid', 'ask', 'bid_volume_m', 'ask_volume_m'] as const;

/** EURUSD from `EURUSD_2019-02-04_05_ticks.csv.gz`. */
export function dukascopySymbol(file: string): string {
  const name = fileName(file);
  const i = name.indexOf('_');
  if (i <= 0) throw new UsageError(`${file}: cannot take a symbol from the file name (expected <SYMBOL>_..._ticks.csv[.gz]); give it with --symbol`);
  return name.slice(0, i);
}

/**
 * Imports Dukascopy ticks from `inPath` (one CSV, or a directory of `*_ticks.csv[.gz]` files)
 * into quotes in the catalog at `outDir`, with heartbeats (one per second) over the imported span.
 */
export async function importDukascopy(inPath: string, outDir: string, opts: ImportOptions = {}): Promise<ImportReport> {
  const files = listInputs(inPath, /_ticks\.csv(\.gz)?$/, 'Dukascopy tick');
  const rejects = newRejects(opts.onError);
  const rows: CatalogRow[] = [];
  for (const file of files) {
    const symbol = opts.symbol ?? dukascopySymbol(file);
    const t = readCsv(file);
    const c = columnIndex(t, COLS);
    const order = new TimeOrder();
    forEachRow(t, rejects, (f) => {
      const ts = epochMsField('ts_utc_ms', f[c.ts_utc_ms]);
      order.check('ts_utc_ms', f[c.ts_utc_ms], ts);
      const row: CatalogRow = {
        kind: 'quote', tsEvent: ts, tsRecv: ts, symbol, seq: 0n,
        bidPx: decimalField('bid', f[c.bid], 'zero'),
        askPx: decimalField('ask', f[c.ask], 'zero'),
        bidSz: decimalField('bid_volume_m', f[c.bid_volume_m], 'zero'),
        askSz: decimalField('ask_volume_m', f[c.ask_volume_m], 'zero'),
      };
      order.accept(f[c.ts_utc_ms], ts);
      rows.push(row);
    });
  }
  sequenceByTime(rows);
  const quoteNote = quoteStateNote(rows);
  const events = countByKind(rows);
  const beats = heartbeatsCovering(rows);
  if (beats.length > 0) events.heartbeat = beats.length;
  const all: CatalogRow[] = rows.concat(beats);
  const written = writeCatalog(outDir, all, { rowGroupSize: opts.rowGroupSize, session: 'fx-ny17' });
  return {
    format: 'dukascopy',
    files: written,
    events,
    rejected: rejects.count,
    rejectedSample: rejects.sample,
    notes: [
      'bid_sz / ask_sz are Dukascopy volumes in millions of the base currency (as given, from float32)',
      `symbols: ${[...new Set(rows.map((r) => r.symbol))].join(', ')} (${opts.symbol !== undefined ? '--symbol' : 'from the file names'})`,
      ...(quoteNote ? [quoteNote] : []),
    ],
  };
}
