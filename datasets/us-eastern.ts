/**
 * US Eastern (America/New_York) wall time → UTC epoch nanoseconds, exactly (bigint, no floats).
 *
 * US exchanges and the SEC stamp times in New York wall time. Node's Intl could resolve the zone,
 * but only to milliseconds and through Date; this keeps nanoseconds and needs no tz database:
 * since 1987 the zone is EST (UTC-5) with EDT (UTC-4) in summer, under two rule sets:
 * - 2007 on: second Sunday of March 02:00 to first Sunday of November 02:00;
 * - 1987-2006: first Sunday of April 02:00 to last Sunday of October 02:00.
 * The rules live in one place, core/kernels/market-sessions.ts (`newYorkOffsetHours`), which the
 * market sessions use too.
 *
 * Wall times that do not exist (the spring-forward hour) are read with the offset before the
 * change, so 02:30 becomes 03:30 EDT; wall times that occur twice (the fall-back hour) take the
 * earlier one (EDT). java.time and JavaScript's Date resolve both cases the same way.
 */

import { newYorkOffsetHours } from '../core/kernels/market-sessions.ts';

const NS_PER_SEC = 1_000_000_000n;
const NS_PER_MIN = 60n * NS_PER_SEC;
const NS_PER_HOUR = 3_600n * NS_PER_SEC;
const NS_PER_DAY = 24n * NS_PER_HOUR;
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const SECONDS_RE = /^(\d+)(?:\.(\d{1,9}))?$/;
const DATETIME_RE = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?$/;

/** Days since 1970-01-01 of a proleptic-Gregorian date (month 1-12). */
function daysFromCivil(y: number, m: number, d: number): number {
  return Math.round(Date.UTC(y, m - 1, d) / 86_400_000);
}

function parseDate(date: string): bigint {
  const m = DATE_RE.exec(date);
  if (!m) throw new RangeError(`invalid date "${date}": use YYYY-MM-DD`);
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const t = new Date(Date.UTC(y, mo - 1, d));
  if (t.getUTCFullYear() !== y || t.getUTCMonth() !== mo - 1 || t.getUTCDate() !== d) throw new RangeError(`invalid date "${date}"`);
  return BigInt(daysFromCivil(y, mo, d)) * NS_PER_DAY;
}

/** Exact ns of a decimal-seconds string ("34200.015105074"), digit by digit. */
export function decimalSecondsToNs(s: string): bigint {
  const m = SECONDS_RE.exec(s);
  if (!m) throw new RangeError(`invalid seconds "${s}": use digits with up to 9 decimals`);
  return BigInt(m[1]) * NS_PER_SEC + BigInt((m[2] ?? '').padEnd(9, '0'));
}

/** Naive wall-clock ns (wall time read as if it were UTC) → UTC epoch ns. */
function wallToUtc(naive: bigint): bigint {
  const day = naive >= 0n ? naive / NS_PER_DAY : (naive - NS_PER_DAY + 1n) / NS_PER_DAY;
  const year = new Date(Number(day) * 86_400_000).getUTCFullYear();
  if (year < 1987) throw new RangeError(`US Eastern conversion supports years from 1987, got ${year}`);
  const minutes = Number((naive - day * NS_PER_DAY) / NS_PER_MIN);
  return naive + BigInt(newYorkOffsetHours(Number(day), minutes)) * NS_PER_HOUR;
}

/**
 * UTC epoch ns of `secondsAfterMidnight` (decimal string, up to 9 decimals) New York wall time on
 * `date` (YYYY-MM-DD). This is LOBSTER's time column. Throws RangeError on a malformed input.
 */
export function easternToUtcNs(date: string, secondsAfterMidnight: string): bigint {
  return wallToUtc(parseDate(date) + decimalSecondsToNs(secondsAfterMidnight));
}

/**
 * UTC epoch ns of a New York wall time written `YYYY-MM-DD HH:MM:SS[.fffffffff]` (or with `T`).
 * Throws RangeError on a malformed or out-of-range input.
 */
export function easternDateTimeToUtcNs(s: string): bigint {
  const m = DATETIME_RE.exec(s);
  if (!m) throw new RangeError(`invalid date-time "${s}": use YYYY-MM-DD HH:MM:SS[.fff]`);
  const [h, mi, sec] = [Number(m[2]), Number(m[3]), Number(m[4])];
  if (h > 23 || mi > 59 || sec > 59) throw new RangeError(`invalid time of day in "${s}"`);
  const frac = BigInt((m[5] ?? '').padEnd(9, '0'));
  return wallToUtc(parseDate(m[1]) + BigInt(h * 3600 + mi * 60 + sec) * NS_PER_SEC + frac);
}
