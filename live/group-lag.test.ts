/**
 * kedaStreamMetric against a real redis-server: what KEDA's redis-streams scaler reads for a
 * consumer group in each state the scaler's code distinguishes, including the null lag the
 * deploy/README.md caveat is about, and the worker's own trimming (XTRIM MINID), which keeps it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { desiredReplicas, kedaStreamMetric, type KedaReading } from './group-lag.ts';
import { openRedis, type RedisClient } from './redis-connect.ts';
import { RedisHarness } from './redis-harness.ts';

let redis: RedisHarness;
let r: RedisClient;

beforeAll(async () => {
  redis = await RedisHarness.start();
  r = await openRedis(redis.url);
});

afterAll(async () => {
  r?.disconnect();
  await redis?.close();
});

const lag = (stream: string, nullLagAs?: -1 | 0) => kedaStreamMetric(r, { stream, consumerGroup: 'g', mode: 'lagCount', nullLagAs });
const pending = (stream: string) => kedaStreamMetric(r, { stream, consumerGroup: 'g', mode: 'pendingEntriesCount' });
const add = async (s: string, n: number) => {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push((await r.xadd(s, '*', 'i', String(i))) as string);
  return ids;
};

describe("KEDA's redis-streams reading (live/group-lag.ts)", () => {
  it('no stream: 0; a stream without the group: its length; then the group lag, falling as the group reads', async () => {
    expect(await lag('s1')).toEqual({ value: 0, active: false, lagWasNull: false });
    await add('s1', 5);
    expect(await lag('s1')).toEqual({ value: 5, active: true, lagWasNull: false });
    await r.xgroup('CREATE', 's1', 'g', '0');
    expect((await lag('s1')).value).toBe(5);
    await r.xreadgroup('GROUP', 'g', 'c', 'COUNT', 2, 'STREAMS', 's1', '>');
    expect((await lag('s1')).value).toBe(3);
    // pendingEntriesCount counts only what was delivered and not acknowledged
    expect((await pending('s1')).value).toBe(2);
  });

  it('the workers trimming up to their checkpoint (XTRIM MINID) leaves the lag known', async () => {
    const ids = await add('s2', 10);
    await r.xgroup('CREATE', 's2', 'g', '0');
    await r.xreadgroup('GROUP', 'g', 'c', 'COUNT', 6, 'STREAMS', 's2', '>');
    await r.xack('s2', 'g', ...ids.slice(0, 6));
    await r.xtrim('s2', 'MINID', ids[4]);
    expect(await lag('s2')).toEqual({ value: 4, active: true, lagWasNull: false });
  });

  it('an entry deleted ahead of the group makes Redis report the lag as null: KEDA reads -1 (0 before 2.18), inactive, while the backlog is there', async () => {
    const ids = await add('s3', 10);
    await r.xgroup('CREATE', 's3', 'g', '0');
    await r.xreadgroup('GROUP', 'g', 'c', 'COUNT', 2, 'STREAMS', 's3', '>');
    await r.xdel('s3', ids[5]);
    expect(await lag('s3')).toEqual({ value: -1, active: false, lagWasNull: true });
    expect(await lag('s3', 0)).toEqual({ value: 0, active: false, lagWasNull: true });
    expect(await r.xlen('s3')).toBe(9);
    // nor does pendingEntriesCount see the 7 unread entries
    expect((await pending('s3')).value).toBe(2);
    // once the group has read past the deleted entry, the lag is known again
    await r.xreadgroup('GROUP', 'g', 'c', 'COUNT', 100, 'STREAMS', 's3', '>');
    await add('s3', 3);
    expect(await lag('s3')).toEqual({ value: 3, active: true, lagWasNull: false });
  });

  it('a user without +xinfo|groups reads the stream length, as KEDA falls back to XLEN on any XINFO failure', async () => {
    await add('s4', 4);
    await r.xgroup('CREATE', 's4', 'g', '$');
    await r.call('ACL', 'SETUSER', 'noxinfo', 'on', '>pw', '~s4', '+info', '+xlen');
    const u = await openRedis(redis.url.replace('redis://', 'redis://noxinfo:pw@'));
    try {
      expect(await kedaStreamMetric(u, { stream: 's4', consumerGroup: 'g', mode: 'lagCount' })).toEqual({ value: 4, active: true, lagWasNull: false });
      expect((await lag('s4')).value).toBe(0);
    } finally {
      u.disconnect();
    }
  });

  it("desiredReplicas: the HPA's ceil(sum of max(lag, 0) / target), within [min, max]", () => {
    const at = (...v: number[]): KedaReading[] => v.map((value) => ({ value, active: value > 0, lagWasNull: value < 0 }));
    expect(desiredReplicas(at(0, 0, 0, 0), 1000, 1, 4)).toBe(1);
    expect(desiredReplicas(at(600, 600, -1, 0), 1000, 1, 4)).toBe(2);
    expect(desiredReplicas(at(5000, 0, 0, 0), 1000, 1, 4)).toBe(4);
  });
});
