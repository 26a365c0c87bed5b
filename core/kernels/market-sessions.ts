/**
 * Market sessions in UTC nanoseconds, for factors that reset once per trading day (issue 21 item
 * 14, first step: `vwap_session`'s `session` parameter). A session kind says where a trading day
 * begins and ends:
 *
 * - `utc`: the UTC calendar day (crypto trades 24/7; the platform's historical default);
 * - `us-equity`: US equities' regular hours, 09:30 to 16:00 America/New_York, DST-aware, Monday
 *   to Friday (no holiday calendar yet: a trade on an exchange holiday would open a session);
 * - `fx-ny17`: the FX day, rolling at 17:00 America/New_York (DST-aware): the session of date D
 *   runs from 17:00 on D-1 to 17:00 on D.
 *
 * New York time follows the US rules since 1987 (EST, UTC-5; EDT, UTC-4 from the second Sunday of
 * March to the first Sunday of November since 2007, first Sunday of April to last Sunday of
 * October before), the same rules as datasets/us-eastern.ts (which core cannot import). The
 * switch happens at 02:00 on a Sunday, outside every session boundary here, so the offset at a
 * boundary is never ambiguous. Pure arithmetic (no Date); calls allocate bigints, so callers
 * cache one day's bounds and recompute only when an event leaves them.
 */

export type SessionKind = 'utc' | 'us-equity' | 'fx-ny17';
export const SESSION_KINDS: readonly SessionKind[] = ['utc', 'us-equity', 'fx-ny17'];

const NS_PER_HOUR = 3_600_000_000_000n;
const NS_PER_MIN = 60_000_000_000n;
const DAY_NS = 24n * NS_PER_HOUR;

/** Days since 1970-01-01 of a proleptic-Gregorian date (month 1-12; 13 is January of y + 1). */
function daysFromCivil(y: number, m: number, d: number): number {
  if (m > 12) {
    y += 1;
    m -= 12;
  }
  // H. Hinnant's days_from_civil: pure arithmetic, no Date (kernels are clock-free)
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** The year of day `z` (days since 1970-01-01). */
function yearOfDays(z: number): number {
  z += 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  return yoe + era * 400 + (mp >= 10 ? 1 : 0);
}

/** Day of the week of day `z`: 0 Sunday .. 6 Saturday (1970-01-01 was a Thursday). */
export function weekday(z: number): number {
  return (((z + 4) % 7) + 7) % 7;
}

/** Day (since 1970-01-01) of the n-th (1-based) Sunday of a month; n = -1 is the last Sunday. */
function nthSunday(y: number, m: number, n: number): number {
  if (n > 0) {
    const first = daysFromCivil(y, m, 1);
    return first + ((7 - weekday(first)) % 7) + (n - 1) * 7;
  }
  const last = daysFromCivil(y, m + 1, 1) - 1;
  return last - weekday(last);
}

/** True when New York wall-clock day `day` (days since 1970-01-01) is in daylight time (at noon). */
function nyDaylight(day: number): boolean {
  const y = yearOfDays(day);
  const [sm, sn, em, en] = y >= 2007 ? [3, 2, 11, 1] : [4, 1, 10, -1];
  return day >= nthSunday(y, sm, sn) && day < nthSunday(y, em, en);
}

/** UTC ns of New York wall time `minutes` after midnight of New York day `day`. */
export function newYorkWallToUtc(day: number, minutes: number): bigint {
  const offsetHours = nyDaylight(day) ? 4n : 5n;
  return BigInt(day) * DAY_NS + BigInt(minutes) * NS_PER_MIN + offsetHours * NS_PER_HOUR;
}

/** The New York calendar day (days since 1970-01-01) of UTC instant `t`. */
export function newYorkDay(t: bigint): number {
  // read as EST first; an instant in daylight time is one hour later on the wall clock
  const est = t - 5n * NS_PER_HOUR;
  let day = Number((est >= 0n ? est : est - DAY_NS + 1n) / DAY_NS);
  if (nyDaylight(day)) {
    const edt = t - 4n * NS_PER_HOUR;
    day = Number((edt >= 0n ? edt : edt - DAY_NS + 1n) / DAY_NS);
  }
  return day;
}

/** Bounds of one trading day: `open` <= t < `close` is in session; [dayStart, dayEnd) is the span they hold for. */
export interface SessionBounds {
  dayStart: bigint;
  dayEnd: bigint;
  open: bigint;
  close: bigint;
}

/**
 * Writes into `out` the session that governs instant `t`: for `utc` and `fx-ny17` the session
 * containing t (dayStart = open, dayEnd = close); for `us-equity` the regular session of t's New
 * York day (open/close), valid for the whole New York day [dayStart, dayEnd); on a Saturday or
 * Sunday open = close (no session).
 */
export function sessionAt(kind: SessionKind, t: bigint, out: SessionBounds): void {
  if (kind === 'utc') {
    const d = (t >= 0n ? t : t - DAY_NS + 1n) / DAY_NS;
    out.open = out.dayStart = d * DAY_NS;
    out.close = out.dayEnd = out.open + DAY_NS;
    return;
  }
  const day = newYorkDay(t);
  if (kind === 'fx-ny17') {
    const roll = newYorkWallToUtc(day, 17 * 60);
    out.open = out.dayStart = t >= roll ? roll : newYorkWallToUtc(day - 1, 17 * 60);
    out.close = out.dayEnd = t >= roll ? newYorkWallToUtc(day + 1, 17 * 60) : roll;
    return;
  }
  out.dayStart = newYorkWallToUtc(day, 0);
  out.dayEnd = newYorkWallToUtc(day + 1, 0);
  const dow = weekday(day);
  if (dow === 0 || dow === 6) {
    out.open = out.close = out.dayStart;
    return;
  }
  out.open = newYorkWallToUtc(day, 9 * 60 + 30);
  out.close = newYorkWallToUtc(day, 16 * 60);
}
