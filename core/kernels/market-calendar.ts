/**
 * The NYSE holiday calendar, as data: the days US equities do not trade and the days they close
 * early (13:00 America/New_York), 2012 to 2027. The `us-equity` session (market-sessions.ts)
 * reads it: no session on a holiday, the session ends at 13:00 on an early close.
 *
 * Source: NYSE's published holiday and trading-hours schedules (nyse.com/markets/hours-calendars,
 * and the NYSE press releases announcing each year's schedule), including the unscheduled closures:
 * Hurricane Sandy (2012-10-29 and -30) and the national days of mourning for George H. W. Bush
 * (2018-12-05) and Jimmy Carter (2025-01-09). Juneteenth is a holiday from 2022. A New Year's Day
 * on a Saturday is not observed on the Friday before (2022). core/kernels/market-calendar.test.ts
 * checks the table against the holiday rules computed independently (Easter, n-th weekdays,
 * weekend observance).
 *
 * Outside 2012-2027 nothing is known: every weekday has a regular session there
 * (`NYSE_CALENDAR_YEARS` says which years are covered). Extend the table when NYSE publishes a
 * year (usually two or three years ahead).
 */

/** Full-day closures, by year. */
const NYSE_HOLIDAYS: Readonly<Record<number, readonly string[]>> = {
  2012: ['01-02', '01-16', '02-20', '04-06', '05-28', '07-04', '09-03', '10-29', '10-30', '11-22', '12-25'],
  2013: ['01-01', '01-21', '02-18', '03-29', '05-27', '07-04', '09-02', '11-28', '12-25'],
  2014: ['01-01', '01-20', '02-17', '04-18', '05-26', '07-04', '09-01', '11-27', '12-25'],
  2015: ['01-01', '01-19', '02-16', '04-03', '05-25', '07-03', '09-07', '11-26', '12-25'],
  2016: ['01-01', '01-18', '02-15', '03-25', '05-30', '07-04', '09-05', '11-24', '12-26'],
  2017: ['01-02', '01-16', '02-20', '04-14', '05-29', '07-04', '09-04', '11-23', '12-25'],
  2018: ['01-01', '01-15', '02-19', '03-30', '05-28', '07-04', '09-03', '11-22', '12-05', '12-25'],
  2019: ['01-01', '01-21', '02-18', '04-19', '05-27', '07-04', '09-02', '11-28', '12-25'],
  2020: ['01-01', '01-20', '02-17', '04-10', '05-25', '07-03', '09-07', '11-26', '12-25'],
  2021: ['01-01', '01-18', '02-15', '04-02', '05-31', '07-05', '09-06', '11-25', '12-24'],
  2022: ['01-17', '02-21', '04-15', '05-30', '06-20', '07-04', '09-05', '11-24', '12-26'],
  2023: ['01-02', '01-16', '02-20', '04-07', '05-29', '06-19', '07-04', '09-04', '11-23', '12-25'],
  2024: ['01-01', '01-15', '02-19', '03-29', '05-27', '06-19', '07-04', '09-02', '11-28', '12-25'],
  2025: ['01-01', '01-09', '01-20', '02-17', '04-18', '05-26', '06-19', '07-04', '09-01', '11-27', '12-25'],
  2026: ['01-01', '01-19', '02-16', '04-03', '05-25', '06-19', '07-03', '09-07', '11-26', '12-25'],
  2027: ['01-01', '01-18', '02-15', '03-26', '05-31', '06-18', '07-05', '09-06', '11-25', '12-24'],
};

/** Early closes at 13:00 New York: July 3, the day after Thanksgiving, Christmas Eve (when trading days). */
const NYSE_EARLY_CLOSES: Readonly<Record<number, readonly string[]>> = {
  2012: ['07-03', '11-23', '12-24'],
  2013: ['07-03', '11-29', '12-24'],
  2014: ['07-03', '11-28', '12-24'],
  2015: ['11-27', '12-24'],
  2016: ['11-25'],
  2017: ['07-03', '11-24'],
  2018: ['07-03', '11-23', '12-24'],
  2019: ['07-03', '11-29', '12-24'],
  2020: ['11-27', '12-24'],
  2021: ['11-26'],
  2022: ['11-25'],
  2023: ['07-03', '11-24'],
  2024: ['07-03', '11-29', '12-24'],
  2025: ['07-03', '11-28', '12-24'],
  2026: ['11-27', '12-24'],
  2027: ['11-26'],
};

/** Years the table covers, ascending. */
export const NYSE_CALENDAR_YEARS: readonly number[] = Object.keys(NYSE_HOLIDAYS).map(Number).sort((a, b) => a - b);

/** Minutes after New York midnight at which an early-close session ends. */
export const NYSE_EARLY_CLOSE_MINUTES = 13 * 60;

/** Days since 1970-01-01 of a proleptic-Gregorian date (month 1-12; 13 is January of y + 1). */
export function daysFromCivil(y: number, m: number, d: number): number {
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

function dayNumbers(table: Readonly<Record<number, readonly string[]>>): Set<number> {
  const out = new Set<number>();
  for (const [year, days] of Object.entries(table)) {
    for (const md of days) out.add(daysFromCivil(Number(year), Number(md.slice(0, 2)), Number(md.slice(3, 5))));
  }
  return out;
}

// built once at load from the constant tables above: a pure function of the source text
const HOLIDAY_DAYS = dayNumbers(NYSE_HOLIDAYS);
const EARLY_CLOSE_DAYS = dayNumbers(NYSE_EARLY_CLOSES);

/** True when New York day `day` (days since 1970-01-01) is an NYSE full-day holiday. */
export function isNyseHoliday(day: number): boolean {
  return HOLIDAY_DAYS.has(day);
}

/** True when New York day `day` is an NYSE early close (the session ends at 13:00). */
export function isNyseEarlyClose(day: number): boolean {
  return EARLY_CLOSE_DAYS.has(day);
}
