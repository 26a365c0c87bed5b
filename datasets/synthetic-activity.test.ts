import { describe, expect, it } from 'vitest';
import { rngFor } from './prng.ts';
import { intradayWeight, messageOffsets, MIN_MESSAGE_GAP_NS } from './synthetic-activity.ts';
import { BUCKET_NS, BUCKETS, planDay, SESSION_NS } from './synthetic-plan.ts';

const windows = { haltStartBucket: 1000, haltEndBucket: 1030, burstStartBucket: 1500, burstEndBucket: 1510, burstFactor: 8 };

describe('messageOffsets', () => {
  const t = messageOffsets(rngFor(1, 9), 20_000, windows);

  it('places the requested count after the snapshot slot, ascending and at least 1 µs apart', () => {
    expect(t.length).toBe(20_001);
    expect(t[0]).toBe(0);
    for (let i = 1; i < t.length; i++) {
      expect(Number.isInteger(t[i])).toBe(true);
      expect(t[i] - t[i - 1]).toBeGreaterThanOrEqual(MIN_MESSAGE_GAP_NS);
    }
    expect(t[t.length - 1]).toBeLessThan(SESSION_NS + 1e6);
  });

  it('leaves the halt empty, is busier in the burst and U-shaped', () => {
    const inBuckets = (a: number, b: number) => t.filter((x) => x >= a * BUCKET_NS && x < b * BUCKET_NS).length - (a === 0 ? 1 : 0);
    expect(inBuckets(windows.haltStartBucket, windows.haltEndBucket)).toBe(0);
    const perBucketMid = inBuckets(1100, 1400) / 300;
    expect(inBuckets(windows.burstStartBucket, windows.burstEndBucket) / 10).toBeGreaterThan(4 * perBucketMid);
    expect(inBuckets(0, 180) / 180).toBeGreaterThan(2 * perBucketMid);
    expect(inBuckets(BUCKETS - 180, BUCKETS) / 180).toBeGreaterThan(2 * perBucketMid);
  });

  it('is a pure function of the stream', () => {
    expect(messageOffsets(rngFor(1, 9), 20_000, windows)).toEqual(t);
  });

  it('intradayWeight is lowest at midday', () => {
    expect(intradayWeight(0.5)).toBe(1);
    expect(intradayWeight(0)).toBeGreaterThan(intradayWeight(1));
    expect(intradayWeight(1)).toBeGreaterThan(3);
  });
});

describe('planDay', () => {
  it('is deterministic, keeps windows inside the session and halts/gaps different symbols', () => {
    const p = planDay(5, 19797, 50);
    expect(planDay(5, 19797, 50)).toEqual(p);
    expect(planDay(5, 19798, 50)).not.toEqual(p);
    expect(p.halt.endBucket).toBeLessThan(BUCKETS);
    expect(p.jump.symbolIndex).not.toBe(p.halt.symbolIndex);
    expect(Math.abs(p.jump.fraction)).toBeGreaterThanOrEqual(0.02);
    expect(p.announcers.size).toBe(5);
    expect([...p.announcers.values()]).toContain('pre');
    expect([...p.announcers.values()]).toContain('post');
  });
});
