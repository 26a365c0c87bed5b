/**
 * Importer for quarterly fundamentals extracted from SEC EDGAR (`*_quarterly_fundamentals_sec.csv`)
 * into canonical `fundamental` events, point in time.
 *
 * Conventions, all deliberate:
 * - `ts_event` = `ts_recv` = the instant the numbers became public: the 8-K earnings release
 *   (`announce_accepted_et`) when known, else the 10-Q/10-K acceptance (`filed_accepted_et`), else
 *   `filed_date` at 16:00 New York time (the close; EDGAR gives no time for those filings). Times
 *   are US Eastern wall time, converted to UTC with the DST rules of their date.
 * - Values are AS FIRST REPORTED, on the share basis in force when the row became public (AAPL
 *   split 7:1 in 2014 and 4:1 in 2020): that is what a trader knew at the time. The valuation
 *   factors restate them to later share bases through the `corporate_action` rows written here.
 * - Splits (sec-splits.ts): from `--splits FILE` (real ex dates and announcements), and derived
 *   from a jump in shares outstanding between consecutive rows that no known split explains (a
 *   whole ratio n:1 or 1:n; known from the row that shows it; the real ex date is not in the data,
 *   so ts_ex is just after the previous row, whose figures were still on the old basis). A split in the file whose ex date lies between the two rows but which the file
 *   says was announced later is known from the row that shows it. Each split is written as a
 *   `corporate_action` row (ts_event = ts_recv = when known, ts_ex = in effect from).
 * - Implausible rows: a share count about 1/1000 (or 1000x, or 1e6) of the previous row's after known
 *   splits is a units error (AAPL FY2014 Q2: 861,745 shares, book value per share 139,460): shares and
 *   book value per share are corrected by that factor and the row is listed in the report's
 *   `corrected` lines. Only earlier rows are compared: nothing announced later is used.
 * - `eps` is diluted EPS (basic when diluted is blank). Q1-Q3 rows are 3-month values. FY rows
 *   hold 12-month values and are emitted as fiscal period Q4 with eps = FY eps - (Q1 + Q2 + Q3 eps
 *   of the same fiscal year, as first reported and public by then, each restated to the FY row's
 *   share basis by the splits known then); when one of those is missing the Q4 eps is NaN.
 * - `eps_ttm` = this quarter's eps plus the three preceding fiscal quarters', restated likewise,
 *   using only numbers (and splits) public at or before this row's instant; NaN when any of the
 *   four is unknown. Derived eps and sums are rounded to the decimals of their inputs, so
 *   11.89 - 8.82 is 3.07, not 3.0700000000000003 (a value restated by a ratio keeps 6 more decimals).
 * - `book_value_per_share` and `shares_outstanding` come from the CSV as given; `form` (10-Q/10-K)
 *   and `period_end` (days since 1970-01-01) are kept as extras.
 * - Row policy (import-policy.ts, as in every importer): within a file, a row made public before
 *   the previous row is rejected (the file must list quarters in the order they became public);
 *   rows keep their own `symbol`, listed in the notes (with `--symbol`, rows of another are rejected).
 * - `seq` numbers each symbol's rows from 1 in announcement order. Rows land in the catalog date
 *   of their announcement (UTC date of ts_recv).
 */
import type { FundamentalEvent } from '../core/events.ts';
import { MAX_EX_DISTANCE_NS } from '../core/plausibility.ts';
import type { CorrectedRow, ImportOptions, ImportReport } from './import-report.ts';
import { ratioLabel, readSplitsFile, SHARE_JUMP, splitEvent, splitFactor, unitsScale, wholeRatio, type KnownSplit } from './sec-splits.ts';
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
  file: string;
  line: number;
  /** book_value_per_share as given, for the decimals of a corrected value. */
  bvpsText: string;
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

function parseRow(f: string[], c: Record<(typeof COLS)[number], number>, file: string, line: number): SecRow {
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
    file,
    line,
    bvpsText: f[c.book_value_per_share],
  };
}

/** Quarter index for stepping back through fiscal quarters: year * 4 + (quarter - 1). */
const qIndex = (year: number, quarter: number): number => year * 4 + quarter - 1;

interface SymbolStats {
  rows: number;
  q4Unknown: number;
  ttmUnknown: number;
  missingQuarters: number;
  times: Record<TimeSource, number>;
}

/** What deriving one symbol's rows found besides its events: report lines. */
interface SymbolFindings {
  notes: string[];
  corrected: CorrectedRow[];
}

const fmtInt = (x: number) => x.toLocaleString('en-US');
const period = (r: SecRow) => `FY${r.fiscalYear} ${r.fy ? 'FY' : `Q${r.quarter}`}`;
/** An instant as the report writes it: New York wall time (as the CSV gives it). */
const etText = (ns: bigint) =>
  new Date(Number(ns / 1_000_000n)).toLocaleString('sv-SE', { timeZone: 'America/New_York' }) + ' ET';

/** A value divided by a split ratio, with 6 more decimals than reported (1 when no split). */
function restate(d: Dec, factor: number): Dec {
  if (factor === 1) return d;
  const places = Math.min(15, d.places + 6);
  return { v: Number((d.v / factor).toFixed(places)), places };
}

/**
 * Plausibility of a row's share count against the previous row's (after the splits known at the
 * row): a units error is corrected (listed in `found.corrected`); a jump no known split explains
 * becomes a derived split or, for a ratio that is no whole split, a note. Mutates `r` and `splits`.
 */
function checkShares(r: SecRow, prev: SecRow | null, splits: KnownSplit[], found: SymbolFindings): void {
  if (prev === null || !(r.sharesOutstanding > 0)) return;
  let q = r.sharesOutstanding / prev.sharesOutstanding / splitFactor(splits, prev.ts, r.ts, r.ts);
  const scale = unitsScale(q);
  if (scale !== 1) {
    const shares = r.sharesOutstanding * scale;
    const places = r.bvpsText.includes('.') ? r.bvpsText.length - r.bvpsText.indexOf('.') - 1 : 0;
    const bvps = Number((r.bookValuePerShare / scale).toFixed(Math.min(20, places + Math.max(0, Math.round(Math.log10(scale))))));
    const reason = `${period(r)}: ${fmtInt(r.sharesOutstanding)} shares is ${scale > 1 ? `1/${fmtInt(scale)}` : `${fmtInt(1 / scale)}x`} of the previous row's ${fmtInt(prev.sharesOutstanding)} (${period(prev)}): a units error; shares x ${scale}, book_value_per_share ${r.bvpsText} -> ${bvps}`;
    found.corrected.push({ file: r.file, line: r.line, field: 'shares_outstanding', value: String(r.sharesOutstanding), corrected: String(shares), reason });
    r.sharesOutstanding = shares;
    r.bookValuePerShare = bvps;
    q *= scale;
  }
  if (q <= SHARE_JUMP && q >= 1 / SHARE_JUMP) return;
  const moved = `shares outstanding ${fmtInt(prev.sharesOutstanding)} (${period(prev)}) -> ${fmtInt(r.sharesOutstanding)} (${period(r)}, public ${etText(r.ts)})`;
  const later = splits.find((s) => s.known > r.ts && s.tsEx > prev.ts && s.tsEx <= r.ts && Math.abs(s.ratio / q - 1) <= 0.1);
  if (later) {
    later.fileAnnounced = later.known;
    later.known = r.ts;
    found.notes.push(`split ${later.label}: the splits file says announced ${etText(later.fileAnnounced)}, but ${moved} shows it: known from then`);
    return;
  }
  const ratio = wholeRatio(q);
  if (ratio === null) {
    found.notes.push(`${moved} moved ${q.toFixed(2)}x: no whole split ratio and no split known; per-share figures around it may mix share bases`);
    return;
  }
  const label = `${ratioLabel(ratio)} derived`;
  // The ex date is not in the data; the previous row's figures are still on the old basis, so it
  // came after that row was public: ts_ex = just after it (within the catalog's 400-day bound).
  // Known only from this row: the factors apply it from here, and restate a last price traded
  // before ts_ex only (a later one is already on the new basis).
  const earliest = r.ts - MAX_EX_DISTANCE_NS + 86_400_000_000_000n;
  const tsEx = prev.ts + 1n > earliest ? prev.ts + 1n : earliest;
  splits.push({ symbol: r.symbol, tsEx, ratio, known: r.ts, source: 'derived', label });
  found.notes.push(`split ${label} from ${moved}: known from then, ex date after ${etText(prev.ts)} (not in the data: give --splits for it)`);
}

/**
 * Turns one symbol's rows (in announcement order) into events: share counts checked, splits
 * derived, Q4 from FY and eps_ttm point in time on one share basis. `splits` (the file's, for this
 * symbol) gains the derived ones.
 */
function deriveSymbol(rows: SecRow[], splits: KnownSplit[], stats: SymbolStats, found: SymbolFindings): CatalogRow[] {
  /** First-reported quarterly eps by quarter index, with the instant it became public. */
  const known = new Map<number, { eps: Dec; ts: bigint }>();
  /** Quarter q's eps as public at `ts`, restated to the share basis at `ts`. */
  const knownAt = (q: number, ts: bigint): Dec | null => {
    const k = known.get(q);
    return k && k.ts <= ts ? restate(k.eps, splitFactor(splits, k.ts, ts, ts)) : null;
  };
  const out: CatalogRow[] = [];
  let prev: SecRow | null = null;
  for (const r of rows) {
    checkShares(r, prev, splits, found);
    if (r.sharesOutstanding > 0) prev = r;
    const qi = qIndex(r.fiscalYear, r.quarter);
    let eps: Dec | null = r.eps === '' ? null : decOf(r.eps);
    if (r.fy && eps) {
      const parts = [1, 2, 3].map((q) => knownAt(qIndex(r.fiscalYear, q), r.ts));
      eps = allKnown(parts) ? combine([eps, ...parts], ([fy, q1, q2, q3]) => fy - q1 - q2 - q3) : null;
    }
    if (r.fy && !eps) stats.q4Unknown++;
    if (eps && !known.has(qi)) known.set(qi, { eps, ts: r.ts });
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
    forEachRow(t, rejects, (f, line) => {
      const r = parseRow(f, c, file, line);
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
  const fileSplits = opts.splits === undefined ? [] : readSplitsFile(opts.splits);
  const rows: CatalogRow[] = [];
  const corrected: CorrectedRow[] = [];
  const notes: string[] = [
    'ts = announce_accepted_et (8-K), else filed_accepted_et, else filed_date 16:00 ET; US Eastern -> UTC with DST',
    'values as first reported, on the share basis of their instant; FY rows emitted as Q4 (eps = FY - Q1 - Q2 - Q3, restated to the FY basis by the splits known then)',
  ];
  if (opts.splits !== undefined) notes.push(`splits file ${opts.splits}: ${fileSplits.length} splits`);
  notes.push(...symbols.notes());
  const unused = [...new Set(fileSplits.map((x) => x.symbol).filter((x) => !bySymbol.has(x)))].sort();
  if (unused.length > 0) notes.push(`splits file: no fundamentals imported for ${unused.join(', ')}: their splits are not written`);
  for (const symbol of [...bySymbol.keys()].sort()) {
    // Stable sort: rows announced at the same instant keep file order.
    const g = bySymbol.get(symbol)!.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
    const stats: SymbolStats = { rows: 0, q4Unknown: 0, ttmUnknown: 0, missingQuarters: 0, times: { announce: 0, filed_accepted: 0, filed_date: 0 } };
    const splits = fileSplits.filter((x) => x.symbol === symbol).sort((a, b) => (a.tsEx < b.tsEx ? -1 : a.tsEx > b.tsEx ? 1 : 0));
    const found: SymbolFindings = { notes: [], corrected: [] };
    rows.push(...deriveSymbol(g, splits, stats, found));
    splits.sort((a, b) => (a.known < b.known ? -1 : a.known > b.known ? 1 : a.tsEx < b.tsEx ? -1 : a.tsEx > b.tsEx ? 1 : 0));
    rows.push(...splits.map((x, i) => splitEvent(x, BigInt(i + 1))));
    corrected.push(...found.corrected);
    notes.push(
      `${symbol}: ${stats.rows} rows; ${stats.missingQuarters} fiscal quarters missing between the first and last; ` +
        `Q4 eps unknown in ${stats.q4Unknown} (Q1-Q3 missing); eps_ttm unknown in ${stats.ttmUnknown}; ` +
        `time from announce ${stats.times.announce}, filed_accepted ${stats.times.filed_accepted}, filed_date 16:00 ET ${stats.times.filed_date}; ` +
        `${splits.length} splits (${splits.filter((x) => x.source === 'file').length} from the splits file, ${splits.filter((x) => x.source === 'derived').length} derived)`,
      ...found.notes.map((n) => `${symbol}: ${n}`),
    );
  }
  const written = writeCatalog(outDir, rows, { rowGroupSize: opts.rowGroupSize, session: 'us-equity' });
  return { format: 'sec', files: written, events: countByKind(rows), rejected: rejects.count, rejectedSample: rejects.sample, corrected, notes };
}
