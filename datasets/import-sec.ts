/**
 * Importer for quarterly fundamentals extracted from SEC EDGAR (`*_quarterly_fundamentals_sec.csv`)
 * into canonical `fundamental` events, point in time.
 *
 * Conventions, all deliberate:
 * - `ts_event` = `ts_recv` = the instant the numbers became public: the 8-K earnings release
 *   (`announce_accepted_et`) when known, else the 10-Q/10-K acceptance (`filed_accepted_et`), else
 *   `filed_date` at 16:00 New York time (the close; EDGAR gives no time for those filings). Times
 *   are US Eastern wall time, converted to UTC with the DST rules of their date.
 * - Values are AS FIRST REPORTED and NOT split-adjusted (AAPL split 7:1 in 2014 and 4:1 in 2020):
 *   that is what a trader knew at the time. A price-based factor (PER) must join them with prices
 *   on the same basis.
 * - `eps` is diluted EPS (basic when diluted is blank). Q1-Q3 rows are 3-month values. FY rows
 *   hold 12-month values and are emitted as fiscal period Q4 with eps = FY eps - (Q1 + Q2 + Q3 eps
 *   of the same fiscal year, as first reported and public by then); when one of those is missing
 *   the Q4 eps is NaN. A fiscal year that straddles a split mixes share bases in that subtraction.
 * - `eps_ttm` = this quarter's eps plus the three preceding fiscal quarters', using only numbers
 *   public at or before this row's instant; NaN when any of the four is unknown. Derived eps and
 *   sums are rounded to the decimals of their inputs, so 11.89 - 8.82 is 3.07, not 3.0700000000000003.
 * - `book_value_per_share` and `shares_outstanding` come from the CSV as given; `form` (10-Q/10-K)
 *   and `period_end` (days since 1970-01-01) are kept as extras.
 * - Row policy (import-policy.ts, as in every importer): within a file, a row made public before
 *   the previous row is rejected (the file must list quarters in the order they became public);
 *   rows keep their own `symbol`, listed in the notes (with `--symbol`, rows of another are rejected).
 * - `seq` numbers each symbol's rows from 1 in announcement order. Rows land in the catalog date
 *   of their announcement (UTC date of ts_recv).
 */
import type { FundamentalEvent } from '../core/events.ts';
import type { ImportOptions, ImportReport } from './import-report.ts';
import { writeCatalog, type CatalogRow } from '../replay/catalog.ts';
import { easternDateTimeToUtcNs } from './us-eastern.ts';
import { RowSymbols, TimeOrder } from './import-policy.ts';
import { columnIndex, countByKind, forEachRow, listInputs, newRejects, readCsv, RowProblem } from './csv-lines.ts';

const COLS = [
  'symbol', 'fiscal_year', 'fiscal_period', 'form', 'period_end', 'eps_basic', 'eps_diluted',
  'shares_outstanding', 'book_value_per_share', 'announce_accepted_et', 'filed_date', 'filed_accepted_et',
] as const;

const DECIMAL_RE = /^[+-]?(\d+\.?\d*|\.\d+)$/;
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

type TimeSource = 'announce' | 'filed_accepted' | 'filed_date';

/** One parsed CSV row, before the point-in-time derivations. */
interface SecRow {
  symbol: string;
  fiscalYear: number;
  /** 1-4 (FY is 4). */
  quarter: number;
  fy: boolean;
  form: string;
  periodEnd: number | null;
  /** eps as a decimal string ('' when unknown), kept to round derived values to its precision. */
  eps: string;
  bookValuePerShare: number;
  sharesOutstanding: number;
  ts: bigint;
  tsSource: TimeSource;
}

/** A value with the number of decimals it was reported with. */
interface Dec {
  v: number;
  places: number;
}

const decOf = (s: string): Dec => ({ v: Number(s), places: s.includes('.') ? s.length - s.indexOf('.') - 1 : 0 });

const allKnown = (ds: (Dec | null)[]): ds is Dec[] => ds.every((d) => d !== null);

/** f over the values, rounded to the most decimals among them (reported figures are exact decimals). */
function combine(ds: Dec[], f: (vs: number[]) => number): Dec {
  const places = Math.min(20, Math.max(...ds.map((d) => d.places)));
  return { v: Number(f(ds.map((d) => d.v)).toFixed(places)), places };
}

function optionalNumber(field: string, s: string): number {
  if (s === '') return NaN;
  if (!DECIMAL_RE.test(s) || !Number.isFinite(Number(s))) throw new RowProblem(field, s, 'is not a number');
  return Number(s);
}

function epsField(basic: string, diluted: string): string {
  const [field, s] = diluted !== '' ? ['eps_diluted', diluted] : ['eps_basic', basic];
  if (s !== '' && !DECIMAL_RE.test(s)) throw new RowProblem(field, s, 'is not a number');
  return s;
}

function daysSinceEpoch(field: string, s: string): number | null {
  if (s === '') return null;
  const m = DATE_RE.exec(s);
  const t = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : NaN;
  if (!m || Number.isNaN(t) || new Date(t).toISOString().slice(0, 10) !== s) throw new RowProblem(field, s, 'is not a date (YYYY-MM-DD)');
  return t / 86_400_000;
}

function eastern(field: string, s: string): bigint {
  try {
    return easternDateTimeToUtcNs(s);
  } catch (e) {
    throw new RowProblem(field, s, `is not a US Eastern date-time (${(e as Error).message})`);
  }
}

/** The instant the row's numbers became public, and which column gave it. */
function publicAt(announce: string, filedAccepted: string, filedDate: string): [bigint, TimeSource] {
  if (announce !== '') return [eastern('announce_accepted_et', announce), 'announce'];
  if (filedAccepted !== '') return [eastern('filed_accepted_et', filedAccepted), 'filed_accepted'];
  if (filedDate === '') throw new RowProblem('filed_date', filedDate, 'no announcement or filing time: the row has no point in time');
  daysSinceEpoch('filed_date', filedDate);
  return [eastern('filed_date', `${filedDate} 16:00:00`), 'filed_date'];
}

function parseRow(f: string[], c: Record<(typeof COLS)[number], number>): SecRow {
  const symbol = f[c.symbol];
  if (symbol === '') throw new RowProblem('symbol', symbol, 'must not be empty');
  const year = f[c.fiscal_year];
  if (!/^\d{4}$/.test(year)) throw new RowProblem('fiscal_year', year, 'is not a year');
  const period = f[c.fiscal_period];
  const pm = /^(?:Q([1-4])|FY)$/.exec(period);
  if (!pm) throw new RowProblem('fiscal_period', period, 'must be Q1, Q2, Q3, Q4 or FY');
  const [ts, tsSource] = publicAt(f[c.announce_accepted_et], f[c.filed_accepted_et], f[c.filed_date]);
  return {
    symbol,
    fiscalYear: Number(year),
    quarter: pm[1] ? Number(pm[1]) : 4,
    fy: !pm[1],
    form: f[c.form],
    periodEnd: daysSinceEpoch('period_end', f[c.period_end]),
    eps: epsField(f[c.eps_basic], f[c.eps_diluted]),
    bookValuePerShare: optionalNumber('book_value_per_share', f[c.book_value_per_share]),
    sharesOutstanding: optionalNumber('shares_outstanding', f[c.shares_outstanding]),
    ts,
    tsSource,
  };
}

/** Quarter index for stepping back through fiscal quarters: year * 4 + (quarter - 1). */
const qIndex = (year: number, quarter: number): number => year * 4 + quarter - 1;

interface SymbolStats {
  rows: number;
  q4Unknown: number;
  ttmUnknown: number;
  missingQuarters: number;
  /** Fiscal years whose derived Q4 eps likely spans a split (shares outstanding moved > 1.5x). */
  splitYears: number[];
  times: Record<TimeSource, number>;
}

/**
 * Turns one symbol's rows (in announcement order) into events: Q4 from FY, eps_ttm point in time.
 */
function deriveSymbol(rows: SecRow[], stats: SymbolStats): CatalogRow[] {
  /** First-reported quarterly eps by quarter index, with the instant it became public. */
  const known = new Map<number, { eps: Dec; ts: bigint; shares: number }>();
  const knownAt = (q: number, ts: bigint): Dec | null => {
    const k = known.get(q);
    return k && k.ts <= ts ? k.eps : null;
  };
  const out: CatalogRow[] = [];
  for (const r of rows) {
    const qi = qIndex(r.fiscalYear, r.quarter);
    let eps: Dec | null = r.eps === '' ? null : decOf(r.eps);
    if (r.fy && eps) {
      const parts = [1, 2, 3].map((q) => knownAt(qIndex(r.fiscalYear, q), r.ts));
      eps = allKnown(parts) ? combine([eps, ...parts], ([fy, q1, q2, q3]) => fy - q1 - q2 - q3) : null;
      const ratio = r.sharesOutstanding / (known.get(qIndex(r.fiscalYear, 1))?.shares ?? NaN);
      if (eps && (ratio > 1.5 || ratio < 1 / 1.5)) stats.splitYears.push(r.fiscalYear);
    }
    if (r.fy && !eps) stats.q4Unknown++;
    if (eps && !known.has(qi)) known.set(qi, { eps, ts: r.ts, shares: r.sharesOutstanding });
    const ttmParts = [0, 1, 2, 3].map((back) => (back === 0 ? eps : knownAt(qi - back, r.ts)));
    const epsTtm = allKnown(ttmParts) ? combine(ttmParts, (vs) => vs.reduce((a, v) => a + v, 0)).v : NaN;
    if (Number.isNaN(epsTtm)) stats.ttmUnknown++;
    stats.rows++;
    stats.times[r.tsSource]++;
    const e: FundamentalEvent = {
      kind: 'fundamental',
      tsEvent: r.ts,
      tsRecv: r.ts,
      symbol: r.symbol,
      seq: BigInt(out.length + 1),
      fiscalYear: r.fiscalYear,
      fiscalPeriod: `Q${r.quarter}`,
      eps: eps ? eps.v : NaN,
      epsTtm,
      bookValuePerShare: r.bookValuePerShare,
      sharesOutstanding: r.sharesOutstanding,
    };
    out.push({ ...e, form: r.form || null, periodEnd: r.periodEnd });
  }
  const quarters = [...new Set(rows.map((r) => qIndex(r.fiscalYear, r.quarter)))].sort((a, b) => a - b);
  stats.missingQuarters = quarters.length === 0 ? 0 : quarters[quarters.length - 1] - quarters[0] + 1 - quarters.length;
  return out;
}

/**
 * Imports SEC quarterly fundamentals from `inPath` (one CSV, or a directory of
 * `*_quarterly_fundamentals_sec.csv` files) into `fundamental` events in the catalog at `outDir`.
 * No heartbeats: fundamentals are reference data, not a market-data clock. See the module comment
 * for the point-in-time conventions.
 */
export async function importSec(inPath: string, outDir: string, opts: ImportOptions = {}): Promise<ImportReport> {
  const files = listInputs(inPath, /_quarterly_fundamentals_sec\.csv(\.gz)?$/, 'SEC quarterly fundamentals');
  const rejects = newRejects(opts.onError);
  const bySymbol = new Map<string, SecRow[]>();
  const symbols = new RowSymbols('symbol', opts.symbol);
  const timeColumn = { announce: 'announce_accepted_et', filed_accepted: 'filed_accepted_et', filed_date: 'filed_date' } as const;
  for (const file of files) {
    const t = readCsv(file);
    const c = columnIndex(t, COLS);
    const order = new TimeOrder();
    forEachRow(t, rejects, (f) => {
      const r = parseRow(f, c);
      const col = timeColumn[r.tsSource];
      symbols.check(r.symbol);
      order.check(col, f[c[col]], r.ts);
      order.accept(`${col} ${f[c[col]]}`, r.ts);
      symbols.accept(r.symbol, file);
      let g = bySymbol.get(r.symbol);
      if (!g) bySymbol.set(r.symbol, (g = []));
      g.push(r);
    });
  }
  const rows: CatalogRow[] = [];
  const notes: string[] = [
    'ts = announce_accepted_et (8-K), else filed_accepted_et, else filed_date 16:00 ET; US Eastern -> UTC with DST',
    'values as first reported, NOT split-adjusted; FY rows emitted as Q4 (eps = FY - Q1 - Q2 - Q3)',
  ];
  notes.push(...symbols.notes());
  for (const symbol of [...bySymbol.keys()].sort()) {
    // Stable sort: rows announced at the same instant keep file order.
    const g = bySymbol.get(symbol)!.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
    const stats: SymbolStats = { rows: 0, q4Unknown: 0, ttmUnknown: 0, missingQuarters: 0, splitYears: [], times: { announce: 0, filed_accepted: 0, filed_date: 0 } };
    rows.push(...deriveSymbol(g, stats));
    notes.push(
      `${symbol}: ${stats.rows} rows; ${stats.missingQuarters} fiscal quarters missing between the first and last; ` +
        `Q4 eps unknown in ${stats.q4Unknown} (Q1-Q3 missing); eps_ttm unknown in ${stats.ttmUnknown}; ` +
        `time from announce ${stats.times.announce}, filed_accepted ${stats.times.filed_accepted}, filed_date 16:00 ET ${stats.times.filed_date}` +
        (stats.splitYears.length ? `; shares outstanding moved > 1.5x within fiscal ${stats.splitYears.join(', ')} (likely a split: that Q4 eps mixes share bases)` : ''),
    );
  }
  const written = writeCatalog(outDir, rows, { rowGroupSize: opts.rowGroupSize, session: 'us-equity' });
  return { format: 'sec', files: written, events: countByKind(rows), rejected: rejects.count, rejectedSample: rejects.sample, notes };
}
