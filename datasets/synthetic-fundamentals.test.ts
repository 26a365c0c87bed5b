import { describe, expect, it } from 'vitest';
import { fundamentalsFor, quarterIndexOfDay, quarterOf } from './synthetic-fundamentals.ts';
import { symbolTraits } from './synthetic-traits.ts';

const day = (s: string) => Date.parse(`${s}T00:00:00Z`) / 86_400_000;

describe('synthetic fundamentals', () => {
  const traits = symbolTraits(3, 2);

  it('quarters end on calendar quarter ends and are announced on a weekday 3–7 weeks later', () => {
    expect(quarterIndexOfDay(day('2024-03-31'))).toBe(2024 * 4);
    expect(quarterIndexOfDay(day('2024-04-01'))).toBe(2024 * 4 + 1);
    for (let i = 2020 * 4; i < 2025 * 4; i++) {
      const q = quarterOf(3, 2, traits, i);
      expect(new Date(q.periodEnd * 86_400_000).toISOString().slice(5, 10)).toMatch(/^(03-31|06-30|09-30|12-31)$/);
      expect(q.naturalDay - q.periodEnd).toBeGreaterThanOrEqual(21);
      expect(q.naturalDay - q.periodEnd).toBeLessThanOrEqual(47);
      expect([1, 2, 3, 4, 5]).toContain((q.naturalDay + 4) % 7);
    }
  });

  it('a quarter has the same numbers whichever day is generated', () => {
    const a = fundamentalsFor(3, 2, 'SYM002', traits, day('2024-03-15'), undefined).rows;
    const b = fundamentalsFor(3, 2, 'SYM002', traits, day('2024-04-20'), 'post').rows;
    const key = (r: (typeof a)[number]) => `${r.fiscalYear}${r.fiscalPeriod}`;
    const common = a.filter((r) => b.some((s) => key(s) === key(r)));
    expect(common.length).toBeGreaterThanOrEqual(3);
    for (const r of common) {
      const s = b.find((x) => key(x) === key(r))!;
      expect([s.eps, s.epsTtm, s.bookValuePerShare, s.sharesOutstanding]).toEqual([r.eps, r.epsTtm, r.bookValuePerShare, r.sharesOutstanding]);
    }
  });

  it('an announcer gets 4 past quarters plus one today at the requested time of day, seq 1..5', () => {
    const d = day('2024-05-08');
    const { rows, announcement } = fundamentalsFor(3, 2, 'SYM002', traits, d, 'pre');
    expect(rows.map((r) => r.seq)).toEqual([1n, 2n, 3n, 4n, 5n]);
    const dayNs = BigInt(d) * 86_400_000_000_000n;
    expect(rows.slice(0, 4).every((r) => r.tsEvent < dayNs)).toBe(true);
    expect(announcement!.tsEvent).toBe(rows[4].tsEvent);
    const hour = Number(rows[4].tsEvent - dayNs) / 3.6e12;
    expect(hour).toBeGreaterThan(11.9);
    expect(hour).toBeLessThan(12.1);
    expect(rows[4].fiscalPeriod).toBe('Q1');
    expect(rows[4].form).toBe('10-Q');
    for (const r of rows) expect(r.tsRecv > r.tsEvent).toBe(true);
  });
});
