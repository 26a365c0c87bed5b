/**
 * Stock splits for the SEC importer (import-sec.ts): the optional `--splits FILE`, the splits it
 * derives from jumps in the shares outstanding, and the plausibility rule for share counts.
 *
 * The share-basis model: per-share figures of a row are on the share basis in force at the row's
 * instant (issuers restate EPS and share counts for a split effective before they report: SEC SAB
 * Topic 4C), so a split with ex instant in (a, b] separates figures public at a from those at b.
 * The importer may only use what is known at the row it writes: a split counts for a row at t when
 * it is known (announced) at or before t.
 *
 * Splits file: CSV with header `symbol,ex_date,ratio,announced`; `ratio` is new shares per old
 * (`4`, `4:1`, `1:10` for a reverse split); `ex_date` is YYYY-MM-DD and the split takes effect at
 * 00:00 New York time that day; `announced` is a US Eastern date-time (YYYY-MM-DDTHH:MM:SS) or a date
 * (then 16:00 New York time, the importer's rule for filings without a time).
 */
import type { CorporateActionEvent } from '../core/events.ts';
import { exDistanceProblem, splitRatioProblem } from '../core/plausibility.ts';
import { columnIndex, forEachRow, newRejects, readCsv, RowProblem } from './csv-lines.ts';
import { easternDateTimeToUtcNs } from './us-eastern.ts';

/** A split as the importer knows it. */
export interface KnownSplit {
  symbol: string;
  /** Instant it takes effect (00:00 New York time of the ex date; for a derived split, the row that shows it). */
  tsEx: bigint;
  /** New shares per old share. */
  ratio: number;
  /** Instant it is known from: the announcement, or the first row whose figures show it. */
  known: bigint;
  source: 'file' | 'derived';
  /** How the report names it: `4:1 ex 2020-08-31`. */
  label: string;
  /** The splits file's announcement, when `known` was moved earlier by a row that shows the split. */
  fileAnnounced?: bigint;
}

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
const RATIO_RE = /^(\d+(?:\.\d+)?)(?::(\d+(?:\.\d+)?))?$/;

/** `4`, `4:1` or `1:10` as new shares per old share. */
function parseRatio(s: string): number {
  const m = RATIO_RE.exec(s);
  const r = m ? Number(m[1]) / Number(m[2] ?? '1') : NaN;
  if (!m || !Number.isFinite(r) || r <= 0) throw new RowProblem('ratio', s, 'is not a split ratio (new shares per old: 4, 4:1 or 1:10)');
  return r;
}

/** The ratio as the report writes it: 4:1, 1:10, 3:2 or the decimal. */
export function ratioLabel(r: number): string {
  if (Number.isInteger(r)) return `${r}:1`;
  if (Number.isInteger(1 / r)) return `1:${1 / r}`;
  if (Number.isInteger(r * 2)) return `${r * 2}:2`;
  return String(r);
}

function eastern(field: string, s: string): bigint {
  try {
    return easternDateTimeToUtcNs(s);
  } catch (e) {
    throw new RowProblem(field, s, `is not a US Eastern date-time (${(e as Error).message})`);
  }
}

/** Reads a splits file; a malformed row fails the import with file, line, field and value. */
export function readSplitsFile(path: string): KnownSplit[] {
  const t = readCsv(path);
  const c = columnIndex(t, ['symbol', 'ex_date', 'ratio', 'announced'] as const);
  const out: KnownSplit[] = [];
  forEachRow(t, newRejects('fail'), (f) => {
    const symbol = f[c.symbol];
    if (symbol === '') throw new RowProblem('symbol', symbol, 'must not be empty');
    const ex = f[c.ex_date];
    if (!DATE_RE.test(ex)) throw new RowProblem('ex_date', ex, 'is not a date (YYYY-MM-DD)');
    const tsEx = eastern('ex_date', `${ex} 00:00:00`);
    const ratio = parseRatio(f[c.ratio]);
    const a = f[c.announced];
    const known = DATE_RE.test(a) ? eastern('announced', `${a} 16:00:00`) : eastern('announced', a);
    // the catalog's own bounds (core/plausibility.ts), named in the file's terms
    const rp = splitRatioProblem(ratio);
    if (rp) throw new RowProblem('ratio', f[c.ratio], rp.reason);
    if (exDistanceProblem(tsEx, known)) throw new RowProblem('ex_date', ex, `is more than 400 days from the announcement ${a}`);
    out.push({ symbol, tsEx, ratio, known, source: 'file', label: `${ratioLabel(ratio)} ex ${ex}` });
  });
  return out;
}

/** The catalog event of a split: public at `known`, in effect from `tsEx`. */
export function splitEvent(s: KnownSplit, seq: bigint): CorporateActionEvent {
  return { kind: 'corporate_action', tsEvent: s.known, tsRecv: s.known, symbol: s.symbol, seq, action: 'split', tsEx: s.tsEx, ratio: s.ratio, amount: NaN };
}

/** Product of the ratios of the splits known at `at` with ex instant in (from, to]. */
export function splitFactor(splits: readonly KnownSplit[], from: bigint, to: bigint, at: bigint): number {
  let f = 1;
  for (const s of splits) if (s.known <= at && s.tsEx > from && s.tsEx <= to) f *= s.ratio;
  return f;
}

/** A share count this far from the previous one (after known splits) is a split or an error. */
export const SHARE_JUMP = 1.5;

/**
 * The units error a share-count ratio shows: 1000 when the count was given in thousands (a
 * thousandth of the previous row's), 1e6 for millions, 1/1000 and 1/1e6 the other way; 1 when
 * none. Within a factor of 1.25, for the buybacks and issuance of a quarter.
 */
export function unitsScale(q: number): number {
  const l = Math.log10(q);
  const k = Math.round(l / 3) * 3;
  if (k === 0 || Math.abs(k) > 6 || Math.abs(l - k) > Math.log10(1.25)) return 1;
  return 10 ** -k;
}

/** The whole split ratio (n:1 or 1:n) a share-count ratio shows, within 10%; null when none. */
export function wholeRatio(q: number): number | null {
  const up = q >= 1;
  const n = Math.round(up ? q : 1 / q);
  if (n < 2 || Math.abs((up ? q : 1 / q) / n - 1) > 0.1) return null;
  return up ? n : 1 / n;
}
