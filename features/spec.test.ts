import { describe, expect, it } from 'vitest';
import { parseTimestamp } from './entities.ts';
import { durationName, parseDates, parseDuration, parseLabels, parsePartition, parseSample, parseSplits } from './spec.ts';
import { planSplits, splitOf } from './split.ts';

const M = 60_000_000_000n;

describe('training-set arguments', () => {
  it('durations are exact and named back the shortest way', () => {
    expect(parseDuration('5m', 'x')).toBe(5n * M);
    expect(parseDuration('250ms', 'x')).toBe(250_000_000n);
    expect(durationName(300_000_000_000n)).toBe('5m');
    expect(durationName(90_000_000_000n)).toBe('90s');
    for (const bad of ['5', 'm', '0s', '1.5m', '-1s', '5 min']) expect(() => parseDuration(bad, '--halt-gap')).toThrow(`--halt-gap: ${JSON.stringify(bad)} is not a duration`);
  });

  it('labels: families and horizons to column names, strictly', () => {
    expect(parseLabels('fwd_return:5m,fwd_vol:300s,fwd_sign:1h').map((l) => l.name)).toEqual(['fwd_ret_mid_5m', 'fwd_ret_last_5m', 'fwd_vol_mid_5m', 'fwd_sign_mid_1h', 'fwd_sign_last_1h']);
    expect(() => parseLabels('fwd_return:5m,fwd_return:300s')).toThrow(/asked twice/);
    expect(() => parseLabels('fwd_return:later')).toThrow('--labels fwd_return: "later" is not a duration');
    expect(() => parseLabels('alpha:5m')).toThrow(/unknown label "alpha:5m"/);
  });

  it('samples, dates, partitions', () => {
    expect(parseSample('every:1s')).toEqual({ kind: 'every', stepNs: 1_000_000_000n });
    expect(parseSample('entities:a:b.csv')).toEqual({ kind: 'entities', file: 'a:b.csv' });
    expect(() => parseSample('hourly')).toThrow(/--sample "hourly": use every:DURATION/);
    expect(parseDates('2024-02-28..2024-03-01', '--dates')).toEqual(['2024-02-28', '2024-02-29', '2024-03-01']);
    expect(() => parseDates('2024-02-30', '--date')).toThrow(/invalid date/);
    expect(parsePartition('1/4')).toEqual({ index: 1, count: 4 });
    expect(() => parsePartition('4/4')).toThrow(/0 <= i < N/);
  });

  it('splits: purged when the longest horizon reaches the next split, embargoed after a boundary', () => {
    const plan = planSplits(parseSplits('test:2024-03-13,train:2024-03-11..2024-03-12'), 5n * M, 30n * M);
    const at = (d: string, hhmm: string) => BigInt(Date.parse(`${d}T${hhmm}:00Z`)) * 1_000_000n;
    expect(splitOf(plan, '2024-03-11', at('2024-03-11', '23:00'))).toBe('train');
    expect(splitOf(plan, '2024-03-12', at('2024-03-12', '23:54'))).toBe('train');
    expect(splitOf(plan, '2024-03-12', at('2024-03-12', '23:55'))).toBe('purged');
    expect(splitOf(plan, '2024-03-13', at('2024-03-13', '00:29'))).toBe('embargoed');
    expect(splitOf(plan, '2024-03-13', at('2024-03-13', '00:30'))).toBe('test');
    expect(() => parseSplits('a:2024-03-11..2024-03-12,b:2024-03-12')).toThrow(/overlap/);
  });

  it('entity timestamps are exact to the nanosecond', () => {
    expect(parseTimestamp('2024-03-15T14:30:00.123456789Z')).toBe(1_710_513_000_123_456_789n);
    expect(parseTimestamp('2024-03-15T10:30:00.1-04:00')).toBe(1_710_513_000_100_000_000n);
    expect(parseTimestamp('1710513000123456789')).toBe(1_710_513_000_123_456_789n);
    for (const bad of ['2024-03-15', '2024-02-30T00:00:00Z', '2024-03-15T14:30:00.1234567890Z', 'noon']) expect(parseTimestamp(bad)).toBeNull();
  });
});
