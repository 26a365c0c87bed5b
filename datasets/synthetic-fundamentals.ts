/**
 * Quarterly fundamentals of a synthetic symbol. A quarter's numbers and its natural announcement
 * date come from a stream of (seed, symbol, fiscal quarter) only, so the same quarter has the same
 * EPS whichever date is generated. Each generated day writes the 4 quarters public before it (on
 * their own past dates) and, for symbols announcing today, the new quarter on this date.
 *
 * EPS is built from the symbol's price and P/E in integer cents, so epsTtm (the sum of the last 4
 * quarters) is exact.
 */
import type { FundamentalEvent } from '../core/events.ts';
import type { RowExtras } from '../replay/catalog.ts';
import { intBetween, rngFor, uniform } from './prng.ts';
import { NS_PER_SECOND, STREAM_FUNDAMENTAL, type AnnounceTime } from './synthetic-plan.ts';
import type { SymbolTraits } from './synthetic-traits.ts';

export type FundamentalRow = FundamentalEvent & RowExtras;

const MS_PER_DAY = 86_400_000;
const NS_PER_DAY = 86_400n * 1_000_000_000n;
const SEASONAL = [0.9, 1.0, 1.0, 1.1];

export interface Quarter {
  /** year * 4 + (quarter - 1). */
  index: number;
  fiscalYear: number;
  fiscalPeriod: string;
  /** Days since 1970-01-01 of the quarter's last day. */
  periodEnd: number;
  epsCents: number;
  bookValueCents: number;
  shares: number;
  /** Day the results would be announced (21–45 days after the quarter end, on a weekday). */
  naturalDay: number;
  /** Nanoseconds after midnight of the announcement: ~12:00 UTC pre-open or ~20:05 after the close. */
  preOpenTimeNs: number;
  postCloseTimeNs: number;
  /** Delay from publication to receipt (50–250 ms). */
  wireLatencyNs: number;
}

export interface Announcement {
  tsEvent: bigint;
  /** Year-over-year EPS change as a fraction of |last year's EPS| (drives news sentiment). */
  surprise: number;
}

/** Index (year * 4 + quarter - 1) of the calendar quarter holding a day (days since 1970-01-01). */
export function quarterIndexOfDay(day: number): number {
  const d = new Date(day * MS_PER_DAY);
  return d.getUTCFullYear() * 4 + Math.floor(d.getUTCMonth() / 3);
}

/** A fiscal quarter's numbers for a symbol (calendar fiscal year). */
export function quarterOf(seed: number, symbolIndex: number, traits: SymbolTraits, index: number): Quarter {
  const r = rngFor(seed, STREAM_FUNDAMENTAL, symbolIndex, index);
  const year = Math.floor(index / 4);
  const q = (index % 4) + 1;
  const periodEnd = Date.UTC(year, 3 * q, 0) / MS_PER_DAY;
  let naturalDay = periodEnd + intBetween(r, 21, 45);
  const dow = (naturalDay + 4) % 7; // 1970-01-01 was a Thursday; 0 = Sunday
  if (dow === 6) naturalDay += 2;
  else if (dow === 0) naturalDay += 1;
  // price in cents / PE = annual EPS in cents
  const quarterlyCents = traits.basePriceTicks / traits.pe / 4;
  const epsCents = Math.round(quarterlyCents * SEASONAL[q - 1] * (0.75 + 0.5 * uniform(r)));
  const bookValueCents = Math.round((traits.basePriceTicks / traits.pb) * (0.95 + 0.1 * uniform(r)));
  const shares = Math.round((traits.sharesOutstanding * (0.98 + 0.04 * uniform(r))) / 10000) * 10000;
  const preOpenTimeNs = (11 * 3600 + 55 * 60) * NS_PER_SECOND + Math.floor(uniform(r) * 600 * NS_PER_SECOND);
  const postCloseTimeNs = (20 * 3600 + 60) * NS_PER_SECOND + Math.floor(uniform(r) * 540 * NS_PER_SECOND);
  const wireLatencyNs = 50_000_000 + Math.floor(uniform(r) * 200_000_000);
  return { index, fiscalYear: year, fiscalPeriod: `Q${q}`, periodEnd, epsCents, bookValueCents, shares, naturalDay, preOpenTimeNs, postCloseTimeNs, wireLatencyNs };
}

/**
 * Fundamental rows for one symbol as of `day`: the 4 quarters public before it on their own dates,
 * plus, when `today` is set (or a quarter's natural date is today), this day's announcement.
 * Rows are in ts_event order with seq 1.. .
 */
export function fundamentalsFor(
  seed: number,
  symbolIndex: number,
  symbol: string,
  traits: SymbolTraits,
  day: number,
  today: AnnounceTime | undefined,
): { rows: FundamentalRow[]; announcement: Announcement | null } {
  const q = (i: number) => quarterOf(seed, symbolIndex, traits, i);
  const natural = traits.reportsPreOpen ? 'pre' : 'post';
  type Pub = { quarter: Quarter; day: number; when: AnnounceTime };
  const pubs: Pub[] = [];
  let todayIndex = -1;
  if (today) {
    // the latest quarter that ended at least two weeks ago is announced today
    let a = quarterIndexOfDay(day);
    while (q(a).periodEnd > day - 14) a--;
    for (let i = a - 4; i < a; i++) pubs.push({ quarter: q(i), day: q(i).naturalDay, when: natural });
    pubs.push({ quarter: q(a), day, when: today });
    todayIndex = a;
  } else {
    let a = quarterIndexOfDay(day);
    while (q(a).naturalDay > day) a--;
    for (let i = a - 3; i <= a; i++) pubs.push({ quarter: q(i), day: q(i).naturalDay, when: natural });
    if (q(a).naturalDay === day) todayIndex = a;
  }
  const rows: FundamentalRow[] = [];
  let announcement: Announcement | null = null;
  for (const p of pubs) {
    const qt = p.quarter;
    const tsEvent = BigInt(p.day) * NS_PER_DAY + BigInt(p.when === 'pre' ? qt.preOpenTimeNs : qt.postCloseTimeNs);
    const tsRecv = tsEvent + BigInt(qt.wireLatencyNs);
    let ttmCents = 0;
    for (let i = qt.index - 3; i <= qt.index; i++) ttmCents += i === qt.index ? qt.epsCents : q(i).epsCents;
    rows.push({
      kind: 'fundamental',
      tsEvent,
      tsRecv,
      symbol,
      seq: BigInt(rows.length + 1),
      fiscalYear: qt.fiscalYear,
      fiscalPeriod: qt.fiscalPeriod,
      eps: qt.epsCents / 100,
      epsTtm: ttmCents / 100,
      bookValuePerShare: qt.bookValueCents / 100,
      sharesOutstanding: qt.shares,
      periodEnd: qt.periodEnd,
      form: qt.fiscalPeriod === 'Q4' ? '10-K' : '10-Q',
    });
    if (qt.index === todayIndex) {
      const lastYear = q(qt.index - 4).epsCents;
      announcement = { tsEvent, surprise: (qt.epsCents - lastYear) / Math.max(1, Math.abs(lastYear)) };
    }
  }
  return { rows, announcement };
}
