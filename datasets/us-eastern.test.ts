import { describe, expect, it } from 'vitest';
import { decimalSecondsToNs, easternDateTimeToUtcNs, easternToUtcNs } from './us-eastern.ts';

const utcNs = (iso: string, extraNs = 0n) => BigInt(Date.parse(iso)) * 1_000_000n + extraNs;

/** New York wall time of a UTC instant per the platform's tz database (ICU), as YYYY-MM-DD HH:MM:SS. */
const nyFormat = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'America/New_York',
  year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
});
function nyWall(ms: number): string {
  const p = Object.fromEntries(nyFormat.formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
}

describe('easternToUtcNs', () => {
  it('converts LOBSTER seconds after midnight on an EDT day to exact ns', () => {
    expect(easternToUtcNs('2012-06-21', '34200.015105074')).toBe(utcNs('2012-06-21T13:30:00Z', 15_105_074n));
    expect(easternToUtcNs('2012-06-21', '57600')).toBe(utcNs('2012-06-21T20:00:00Z'));
    expect(easternToUtcNs('2012-06-21', '34200.1')).toBe(utcNs('2012-06-21T13:30:00.100Z'));
  });
  it('uses EST in winter', () => {
    expect(easternToUtcNs('2012-01-03', '34200')).toBe(utcNs('2012-01-03T14:30:00Z'));
  });
  it('rejects malformed input', () => {
    expect(() => easternToUtcNs('2012-02-30', '1')).toThrow(RangeError);
    expect(() => easternToUtcNs('2012-06-21', '1.0000000001')).toThrow(/seconds/);
    expect(() => easternToUtcNs('2012-06-21', '-1')).toThrow(RangeError);
    expect(() => decimalSecondsToNs('1e3')).toThrow(RangeError);
  });
});

describe('easternDateTimeToUtcNs', () => {
  it('handles the 2024 spring-forward day (gap read as EST, i.e. shifted forward)', () => {
    expect(easternDateTimeToUtcNs('2024-03-10 01:59:59')).toBe(utcNs('2024-03-10T06:59:59Z'));
    expect(easternDateTimeToUtcNs('2024-03-10 02:30:00')).toBe(utcNs('2024-03-10T07:30:00Z'));
    expect(easternDateTimeToUtcNs('2024-03-10T03:00:00')).toBe(utcNs('2024-03-10T07:00:00Z'));
  });
  it('handles the 2024 fall-back day (repeated hour read as EDT, the earlier instant)', () => {
    expect(easternDateTimeToUtcNs('2024-11-03 00:59:59')).toBe(utcNs('2024-11-03T04:59:59Z'));
    expect(easternDateTimeToUtcNs('2024-11-03 01:30:00')).toBe(utcNs('2024-11-03T05:30:00Z'));
    expect(easternDateTimeToUtcNs('2024-11-03 02:00:00')).toBe(utcNs('2024-11-03T07:00:00Z'));
  });
  it('applies the 1987-2006 rules before 2007', () => {
    expect(easternDateTimeToUtcNs('2006-03-15 12:00:00')).toBe(utcNs('2006-03-15T17:00:00Z'));
    expect(easternDateTimeToUtcNs('2006-04-02 03:00:00')).toBe(utcNs('2006-04-02T07:00:00Z'));
    expect(easternDateTimeToUtcNs('2006-11-01 12:00:00')).toBe(utcNs('2006-11-01T17:00:00Z'));
    expect(() => easternDateTimeToUtcNs('1980-01-01 00:00:00')).toThrow(/1987/);
  });
  it('keeps fractional seconds exactly', () => {
    expect(easternDateTimeToUtcNs('2015-04-27 16:30:12.123456789')).toBe(utcNs('2015-04-27T20:30:12Z', 123_456_789n));
    expect(() => easternDateTimeToUtcNs('2015-04-27 24:00:00')).toThrow(RangeError);
    expect(() => easternDateTimeToUtcNs('2015-04-27')).toThrow(RangeError);
  });
  it('agrees with the ICU tz database on 20,000 instants from 1990 to 2035', () => {
    let seed = 12345;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const from = Date.UTC(1990, 0, 1);
    const to = Date.UTC(2035, 0, 1);
    for (let i = 0; i < 20_000; i++) {
      const ms = Math.floor((from + next() * (to - from)) / 1000) * 1000;
      const wall = nyWall(ms);
      const back = easternDateTimeToUtcNs(wall);
      // In the repeated fall-back hour the wall time names two instants; we return the earlier.
      if (back !== BigInt(ms) * 1_000_000n) expect(BigInt(ms) * 1_000_000n - back).toBe(3_600_000_000_000n);
    }
  });
});
