import { describe, expect, it } from 'vitest';
import { isNyseEarlyClose, isNyseHoliday } from './market-calendar.ts';
import { newYorkDay, sessionAt, type SessionBounds } from './market-sessions.ts';

const MS = 1_000_000n;

/** New York wall clock of an instant by the tz database (Intl), as an independent oracle. */
function nyWall(ms: number): { date: string; minutes: number; weekday: string } {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', { timeZone: 'America/New_York', hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', weekday: 'short' })
      .formatToParts(new Date(ms))
      .map((p) => [p.type, p.value]),
  );
  return { date: `${parts.year}-${parts.month}-${parts.day}`, minutes: Number(parts.hour) * 60 + Number(parts.minute), weekday: parts.weekday };
}

describe('market sessions against the tz database', () => {
  // every 37 minutes over 1995-2030 would be large: sample every 7h13m, which walks through all hours
  const step = (7 * 60 + 13) * 60_000;
  const from = Date.UTC(1995, 0, 1);
  const to = Date.UTC(2030, 11, 31);

  it('us-equity: in session exactly when New York shows 09:30-16:00 on a weekday; the day is New York\'s', () => {
    const b: SessionBounds = { dayStart: 0n, dayEnd: -1n, open: 0n, close: 0n };
    let inSession = 0;
    for (let ms = from; ms < to; ms += step) {
      const t = BigInt(ms) * MS;
      const w = nyWall(ms);
      // skip the DST switch hour (Sunday 01:00-03:00 New York), outside every session
      if (w.weekday === 'Sun' && w.minutes < 180) continue;
      expect(new Date(Number(newYorkDay(t)) * 86_400_000).toISOString().slice(0, 10), `${new Date(ms).toISOString()}`).toBe(w.date);
      sessionAt('us-equity', t, b);
      const day = Date.parse(`${w.date}T00:00:00Z`) / 86_400_000;
      const close = isNyseEarlyClose(day) ? 780 : 960;
      const want = w.weekday !== 'Sat' && w.weekday !== 'Sun' && !isNyseHoliday(day) && w.minutes >= 570 && w.minutes < close;
      expect(t >= b.open && t < b.close, `${new Date(ms).toISOString()} (${w.date} ${w.minutes} min NY)`).toBe(want);
      if (want) inSession++;
    }
    expect(inSession).toBeGreaterThan(1000);
  });

  it('fx-ny17: each span runs from 17:00 New York to 17:00 New York the next day; closed from Friday 17:00 to Sunday 17:00', () => {
    const b: SessionBounds = { dayStart: 0n, dayEnd: -1n, open: 0n, close: 0n };
    for (let ms = from; ms < to; ms += step * 3) {
      const t = BigInt(ms) * MS;
      sessionAt('fx-ny17', t, b);
      expect(t >= b.dayStart && t < b.dayEnd).toBe(true);
      for (const edge of [b.dayStart, b.dayEnd]) expect(nyWall(Number(edge / MS)).minutes).toBe(17 * 60);
      const w = nyWall(ms);
      const weekend = w.weekday === 'Sat' || (w.weekday === 'Fri' && w.minutes >= 17 * 60) || (w.weekday === 'Sun' && w.minutes < 17 * 60);
      expect(t >= b.open && t < b.close, `${new Date(ms).toISOString()} (${w.weekday} ${w.minutes} min NY)`).toBe(!weekend);
    }
  });
});
