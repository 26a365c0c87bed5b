import { describe, expect, it } from 'vitest';
import { daysFromCivil, isNyseEarlyClose, isNyseHoliday, NYSE_CALENDAR_YEARS } from './market-calendar.ts';
import { sessionAt, weekday, type SessionBounds, type SessionKind } from './market-sessions.ts';

const NS_PER_MIN = 60_000_000_000n;
const utc = (iso: string) => BigInt(Date.parse(iso)) * 1_000_000n;
const day = (iso: string) => daysFromCivil(Number(iso.slice(0, 4)), Number(iso.slice(5, 7)), Number(iso.slice(8, 10)));
const iso = (d: number) => new Date(d * 86_400_000).toISOString().slice(0, 10);

function session(kind: SessionKind, t: bigint): SessionBounds {
  const b: SessionBounds = { dayStart: 0n, dayEnd: -1n, open: 0n, close: 0n };
  sessionAt(kind, t, b);
  return b;
}
const inSession = (kind: SessionKind, t: bigint) => {
  const b = session(kind, t);
  return t >= b.open && t < b.close;
};

/**
 * The NYSE rules, computed here independently of the table (Easter by the anonymous Gregorian
 * algorithm, n-th weekdays, weekend observance), plus the closures no rule predicts.
 */
function ruleHolidays(y: number): Set<number> {
  const nth = (m: number, dow: number, n: number) => {
    const first = daysFromCivil(y, m, 1);
    return first + ((dow - weekday(first) + 7) % 7) + (n - 1) * 7;
  };
  const last = (m: number, dow: number) => {
    const end = daysFromCivil(y, m + 1, 1) - 1;
    return end - ((weekday(end) - dow + 7) % 7);
  };
  const observed = (d: number, saturdayToFriday = true) => (weekday(d) === 0 ? d + 1 : weekday(d) === 6 ? (saturdayToFriday ? d - 1 : NaN) : d);
  const a = y % 19, b = Math.floor(y / 100), c = y % 100, d = Math.floor(b / 4), e = b % 4, f = Math.floor((b + 8) / 25), g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30, i = Math.floor(c / 4), k = c % 4, l = (32 + 2 * e + 2 * i - h - k) % 7, m = Math.floor((a + 11 * h + 22 * l) / 451);
  const easter = daysFromCivil(y, Math.floor((h + l - 7 * m + 114) / 31), ((h + l - 7 * m + 114) % 31) + 1);
  const out = [
    observed(daysFromCivil(y, 1, 1), false), // a Saturday New Year is not moved into the old year
    nth(1, 1, 3), nth(2, 1, 3), easter - 2, last(5, 1),
    ...(y >= 2022 ? [observed(daysFromCivil(y, 6, 19))] : []),
    observed(daysFromCivil(y, 7, 4)), nth(9, 1, 1), nth(11, 4, 4), observed(daysFromCivil(y, 12, 25)),
  ];
  const special: Record<number, string[]> = { 2012: ['2012-10-29', '2012-10-30'], 2018: ['2018-12-05'], 2025: ['2025-01-09'] };
  return new Set([...out.filter((x) => !Number.isNaN(x)), ...(special[y] ?? []).map(day)]);
}

describe('NYSE calendar table', () => {
  it('covers 2012-2027 (every year of the real data, 2012 LOBSTER to 2024 Binance, and the years ahead)', () => {
    expect(NYSE_CALENDAR_YEARS[0]).toBe(2012);
    expect(NYSE_CALENDAR_YEARS.at(-1)).toBe(2027);
  });

  it('holds exactly the holidays the NYSE rules give, year by year', () => {
    for (const y of NYSE_CALENDAR_YEARS) {
      const want = [...ruleHolidays(y)].sort((a, b) => a - b).map(iso);
      const got: string[] = [];
      for (let d = daysFromCivil(y, 1, 1); d < daysFromCivil(y + 1, 1, 1); d++) if (isNyseHoliday(d)) got.push(iso(d));
      expect(got, String(y)).toEqual(want);
    }
  });

  it('early closes fall on the trading day after Thanksgiving, on July 3 and on Christmas Eve only', () => {
    for (const y of NYSE_CALENDAR_YEARS) {
      const thanksgiving = [...ruleHolidays(y)].find((d) => iso(d).slice(5, 7) === '11' && weekday(d) === 4)!;
      const want = [daysFromCivil(y, 7, 3), thanksgiving + 1, daysFromCivil(y, 12, 24)].filter((d) => weekday(d) !== 0 && weekday(d) !== 6 && !isNyseHoliday(d));
      const got: number[] = [];
      for (let d = daysFromCivil(y, 1, 1); d < daysFromCivil(y + 1, 1, 1); d++) if (isNyseEarlyClose(d)) got.push(d);
      // July 3 closes early only when July 4 is a weekday holiday right after it (not a Saturday's Friday, not before a Monday July 4)
      const july4 = daysFromCivil(y, 7, 4);
      const wantHere = want.filter((d) => d !== daysFromCivil(y, 7, 3) || (weekday(july4) >= 2 && weekday(july4) <= 5));
      expect(got.map(iso), String(y)).toEqual(wantHere.map(iso));
    }
  });
});

describe('us-equity session on the calendar', () => {
  it('Thanksgiving 2024 has no session; the day after closes at 13:00 New York (18:00 UTC, EST)', () => {
    expect(inSession('us-equity', utc('2024-11-28T15:00:00Z'))).toBe(false);
    const b = session('us-equity', utc('2024-11-28T15:00:00Z'));
    expect(b.open).toBe(b.close);
    const fri = session('us-equity', utc('2024-11-29T15:00:00Z'));
    expect(fri.open).toBe(utc('2024-11-29T14:30:00Z'));
    expect(fri.close).toBe(utc('2024-11-29T18:00:00Z'));
    expect(inSession('us-equity', utc('2024-11-29T18:00:00Z') - 1n)).toBe(true);
    expect(inSession('us-equity', utc('2024-11-29T18:00:00Z'))).toBe(false);
    expect(inSession('us-equity', utc('2024-11-29T20:59:00Z'))).toBe(false);
  });

  it('July 3 2024 closes at 13:00 EDT (17:00 UTC); July 4 has no session; July 5 is a full day', () => {
    expect(session('us-equity', utc('2024-07-03T14:00:00Z')).close).toBe(utc('2024-07-03T17:00:00Z'));
    expect(inSession('us-equity', utc('2024-07-04T15:00:00Z'))).toBe(false);
    expect(session('us-equity', utc('2024-07-05T14:00:00Z')).close).toBe(utc('2024-07-05T20:00:00Z'));
  });

  it('Good Friday (2018-03-30, the TAQ sample\'s year) has no session; the Thursday before is a full day', () => {
    expect(inSession('us-equity', utc('2018-03-30T15:00:00Z'))).toBe(false);
    expect(session('us-equity', utc('2018-03-29T15:00:00Z')).close).toBe(utc('2018-03-29T20:00:00Z'));
  });

  it('a DST switch week: Friday 2024-03-08 opens at 14:30 UTC (EST), Monday 2024-03-11 at 13:30 UTC (EDT)', () => {
    expect(session('us-equity', utc('2024-03-08T15:00:00Z')).open).toBe(utc('2024-03-08T14:30:00Z'));
    expect(session('us-equity', utc('2024-03-11T15:00:00Z')).open).toBe(utc('2024-03-11T13:30:00Z'));
    // the switch Sunday itself has no session, and its span is the New York day (23 hours long)
    const sun = session('us-equity', utc('2024-03-10T12:00:00Z'));
    expect(sun.open).toBe(sun.close);
    expect(sun.dayEnd - sun.dayStart).toBe(23n * 60n * NS_PER_MIN);
  });

  it('the national day of mourning 2025-01-09 and Hurricane Sandy (2012-10-29/30) have no session', () => {
    for (const t of ['2025-01-09T16:00:00Z', '2012-10-29T15:00:00Z', '2012-10-30T15:00:00Z']) expect(inSession('us-equity', utc(t)), t).toBe(false);
    expect(inSession('us-equity', utc('2012-10-31T15:00:00Z'))).toBe(true);
  });
});

describe('fx-ny17 session: the 17:00 New York roll and the weekend', () => {
  it('a weekend: closed from Friday 17:00 New York to Sunday 17:00 New York (EST: 22:00 UTC)', () => {
    // 2019-02-08 is a Friday (EST)
    expect(inSession('fx-ny17', utc('2019-02-08T21:59:59.999Z'))).toBe(true);
    expect(inSession('fx-ny17', utc('2019-02-08T22:00:00Z'))).toBe(false);
    expect(inSession('fx-ny17', utc('2019-02-09T12:00:00Z'))).toBe(false);
    expect(inSession('fx-ny17', utc('2019-02-10T21:59:59.999Z'))).toBe(false);
    // Sunday 17:00 opens Monday's session, which rolls Monday 17:00
    const mon = session('fx-ny17', utc('2019-02-10T22:00:00Z'));
    expect([mon.open, mon.close]).toEqual([utc('2019-02-10T22:00:00Z'), utc('2019-02-11T22:00:00Z')]);
  });

  it('rolls at 17:00 New York in summer too (EDT: 21:00 UTC)', () => {
    const b = session('fx-ny17', utc('2024-07-10T21:00:00Z'));
    expect([b.open, b.close]).toEqual([utc('2024-07-10T21:00:00Z'), utc('2024-07-11T21:00:00Z')]);
  });
});

describe('utc session: crypto trades 24/7', () => {
  it('every UTC day is a session, weekends and holidays included', () => {
    for (const t of ['2024-11-28T15:00:00Z', '2024-08-10T12:00:00Z', '2024-12-25T00:00:00Z']) {
      const b = session('utc', utc(t));
      expect(b.close - b.open, t).toBe(24n * 60n * NS_PER_MIN);
      expect(inSession('utc', utc(t))).toBe(true);
    }
  });
});
