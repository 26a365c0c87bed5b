/**
 * Market sessions in UTC nanoseconds, for factors that reset once per trading day (issue 21 item
 * 14: `vwap_session`'s `session` parameter, the bar factors' `session`). A session kind says
 * where a trading day begins and ends:
 *
 * - `utc`: the UTC calendar day, every day (crypto trades 24/7; the platform's historical default);
 * - `us-equity`: US equities' regular hours, 09:30 to 16:00 America/New_York, DST-aware, Monday
 *   to Friday, no session on an NYSE holiday and a session ending at 13:00 on an early close
 *   (market-calendar.ts: the table covers 2012-2027; outside it every weekday trades);
 * - `fx-ny17`: the FX day, rolling at 17:00 America/New_York (DST-aware): the session of date D
 *   runs from 17:00 on D-1 to 17:00 on D, for D Monday to Friday; the market is closed from
 *   Friday 17:00 to Sunday 17:00 (no FX holidays).
 *
 * New York time follows the US rules since 1987 (EST, UTC-5; EDT, UTC-4 from the second Sunday of
 * March to the first Sunday of November since 2007, first Sunday of April to last Sunday of
 * October before). This is the one implementation of those rules: datasets/us-eastern.ts converts
 * importers' wall times through `newYorkOffsetHours`. The switch happens at 02:00 on a Sunday,
 * outside every session boundary here, so the offset at a boundary is never ambiguous. Pure
 * arithmetic (no Date); calls allocate bigints, so callers cache one day's bounds and recompute
 * only when an event leaves them.
 */
import { daysFromCivil, isNyseEarlyClose, isNyseHoliday, NYSE_EARLY_CLOSE_MINUTES } from './market-calendar.ts';

export type SessionKind = 'utc' | 'us-equity' | 'fx-ny17';
export const SESSION_KINDS: readonly SessionKind[] = ['utc', 'us-equity', 'fx-ny17'];
/**
 * A factor's `session` parameter: a kind, or `auto` for the symbol's own session from the factor
 * set's session table (core/fold.ts), resolved when the fold first sees the symbol.
 */
export type SessionParam = SessionKind | 'auto';
export const SESSION_PARAMS: readonly SessionParam[] = [...SESSION_KINDS, 'auto'];
/** The session of a symbol the session table does not list: the UTC day, as before sessions existed. */
export const DEFAULT_SESSION: SessionKind = 'utc';

/** A factor's session parameter as a kind: `auto` the fold did not resolve (no table) is the default. */
export function unresolvedAsDefault(p: SessionParam): SessionKind {
  return p === 'auto' ? DEFAULT_SESSION : p;
}

/** True when `s` names a session kind. */
export function isSessionKind(s: unknown): s is SessionKind {
  return s === 'utc' || s === 'us-equity' || s === 'fx-ny17';
}

const NS_PER_HOUR = 3_600_000_000_000n;
const NS_PER_MIN = 60_000_000_000n;
const DAY_NS = 24n * NS_PER_HOUR;

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

/** [first, last) New York days of daylight time in year `y` (the Sundays of the switches). */
function daylightDays(y: number): [number, number] {
  const [sm, sn, em, en] = y >= 2007 ? [3, 2, 11, 1] : [4, 1, 10, -1];
  return [nthSunday(y, sm, sn), nthSunday(y, em, en)];
}

/** True when New York wall-clock day `day` (days since 1970-01-01) is in daylight time (at noon). */
function nyDaylight(day: number): boolean {
  const [from, to] = daylightDays(yearOfDays(day));
  return day >= from && day < to;
}

/**
 * Hours New York wall time `minutes` after midnight of New York day `day` is behind UTC (4 or 5).
 * On the switch Sundays: the skipped 02:00-03:00 of spring reads with the offset before the change
 * (02:30 becomes 03:30 EDT), the repeated 01:00-02:00 of autumn as the earlier instant (EDT), as
 * java.time and JavaScript's Date resolve them.
 */
export function newYorkOffsetHours(day: number, minutes: number): 4 | 5 {
  const [from, to] = daylightDays(yearOfDays(day));
  if (day === from) return minutes < 180 ? 5 : 4;
  if (day === to) return minutes < 120 ? 4 : 5;
  return day > from && day < to ? 4 : 5;
}

/** UTC ns of New York wall time `minutes` after midnight of New York day `day`. */
export function newYorkWallToUtc(day: number, minutes: number): bigint {
  return BigInt(day) * DAY_NS + BigInt(minutes) * NS_PER_MIN + BigInt(newYorkOffsetHours(day, minutes)) * NS_PER_HOUR;
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
 * Writes into `out` the session that governs instant `t`: the span [dayStart, dayEnd) holding t
 * and the session open <= close inside it (t is in session when open <= t < close; open = close
 * when the span has none). For `utc` the span is t's UTC day and the session all of it. For
 * `fx-ny17` the span runs from the 17:00 New York roll before t to the next one and is the
 * session, except from Friday 17:00 to Sunday 17:00 (two spans without a session). For
 * `us-equity` the span is t's New York day and the session its regular hours; none on a Saturday,
 * Sunday or NYSE holiday, ending at 13:00 on an early close.
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
    // the trading date is the New York day of the roll that ends the span
    const date = t >= roll ? day + 1 : day;
    out.dayStart = newYorkWallToUtc(date - 1, 17 * 60);
    out.dayEnd = newYorkWallToUtc(date, 17 * 60);
    // (a name of its own: esbuild renames a block's `dow` that shadows another, and code hashes would differ by runner)
    const fxDow = weekday(date);
    out.open = out.dayStart;
    out.close = fxDow === 0 || fxDow === 6 ? out.dayStart : out.dayEnd;
    return;
  }
  out.dayStart = newYorkWallToUtc(day, 0);
  out.dayEnd = newYorkWallToUtc(day + 1, 0);
  const dow = weekday(day);
  if (dow === 0 || dow === 6 || isNyseHoliday(day)) {
    out.open = out.close = out.dayStart;
    return;
  }
  out.open = newYorkWallToUtc(day, 9 * 60 + 30);
  out.close = newYorkWallToUtc(day, isNyseEarlyClose(day) ? NYSE_EARLY_CLOSE_MINUTES : 16 * 60);
}
