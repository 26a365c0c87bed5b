/**
 * Alerts on a private redis-server: the snapshot, the watcher's transitions and the readers with a
 * deployment built by hand, and a watcher that outlives its Redis. Time is injected (stream IDs
 * are written explicitly), so nothing here waits for a clock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertWatcher, followAlerts, readFiringAlerts, takeSnapshot, DEFAULT_THRESHOLDS, type AlertTransition } from './index.ts';
import { alertsStateKey, alertsStream, deadLetterStream, inputStream, killSwitchKey, leaseKey, outputStream, type KeyLayout } from '../keys.ts';
import { openRedis, type RedisClient } from '../redis-connect.ts';
import { RedisClusterHarness, RedisHarness } from '../redis-harness.ts';

const T0 = 1_700_000_000_000;
const AT = T0 + 100_000;

const id = (ms: number, seq = 0) => `${ms}-${seq}`;

/** The deployment of the integration test, built by hand (explicit IDs: times relative to T0). */
async function buildDeployment(r: RedisClient, keys: KeyLayout): Promise<void> {
  const ev = (k: string) => ['k', k, 's', 'AAA', 'q', '1', 'te', '1', 'tr', '1'];
  const consumeAll = async (s: number) => {
    const res = (await r.xreadgroup('GROUP', 'lockstep', 'w1', 'COUNT', 1000, 'STREAMS', inputStream(keys, s), '>')) as [string, [string, string[]][]][] | null;
    const got = res?.[0]?.[1].map(([i]) => i) ?? [];
    if (got.length) await r.xack(inputStream(keys, s), 'lockstep', ...got);
  };
  // shard 0: healthy (consumed, acknowledged, output after the last input, leased)
  for (const ms of [99_000, 99_500, 99_900]) await r.xadd(inputStream(keys, 0), id(T0 + ms), ...ev('trade'));
  await r.xgroup('CREATE', inputStream(keys, 0), 'lockstep', '0');
  await consumeAll(0);
  await r.xadd(outputStream(keys, 0), id(T0 + 99_950), 'rows', 'AAA|trade|1|1|1|x|1');
  await r.set(leaseKey(keys, 0), 'w1:t', 'PX', 60_000);
  // shard 1: five inputs from 10 s ago, never delivered, nobody holds the lease
  for (let i = 0; i < 5; i++) await r.xadd(inputStream(keys, 1), id(T0 + 90_000 + i), ...ev('trade'));
  await r.xgroup('CREATE', inputStream(keys, 1), 'lockstep', '0');
  // shard 2: leased, everything acknowledged, but the last output predates a trade 8 s ago; one dead letter 5 s ago
  await r.xadd(inputStream(keys, 2), id(T0 + 92_000), ...ev('trade'));
  await r.xadd(inputStream(keys, 2), id(T0 + 99_800), 'k', 'heartbeat', 's', '', 'q', '2', 'te', '2', 'tr', '2');
  await r.xgroup('CREATE', inputStream(keys, 2), 'lockstep', '0');
  await consumeAll(2);
  await r.xadd(outputStream(keys, 2), id(T0 + 91_000), 'rows', 'AAA|trade|0|1|1|x|1');
  await r.set(leaseKey(keys, 2), 'w1:t', 'PX', 60_000);
  await r.xadd(deadLetterStream(keys, 2), id(T0 + 95_000), 'id', id(T0 + 94_999), 'reason', 'price=-5: must be a finite number > 0', 'k', 'trade');
  // shard 3: nothing was ever published to it
  await r.set(killSwitchKey(keys), JSON.stringify({ all: null, symbols: { AAPL: { reason: 'venue X feed broken', by: 'oncall', at: T0 } } }));
}

async function streamEntries(r: RedisClient, keys: KeyLayout): Promise<string[]> {
  const es = (await r.xrange(alertsStream(keys), '-', '+')) as [string, string[]][];
  return es.map(([, f]) => `${f[1]}:${f[3]}:${f[5]}`);
}

describe('on a real redis-server', () => {
  let h: RedisHarness;
  let r: RedisClient;
  const keys: KeyLayout = { ns: 'al', shards: 4 };

  beforeAll(async () => {
    h = await RedisHarness.start();
    r = await openRedis(h.url);
    await buildDeployment(r, keys);
  });
  afterAll(async () => {
    r?.disconnect();
    await h?.close();
  });

  it('takeSnapshot reads every shard in two round trips', async () => {
    const s = await takeSnapshot(r, keys, AT);
    if (!s.ok) throw new Error(s.error);
    expect(s.at).toBe(AT);
    expect(s.kill.symbols.AAPL.reason).toBe('venue X feed broken');
    const [s0, s1, s2, s3] = s.shards;
    expect(s0).toMatchObject({ input: { length: 3, lastMs: T0 + 99_900 }, group: { lag: 0, pending: 0 }, oldestPendingMs: null, oldestUndeliveredMs: null, lastOutputMs: T0 + 99_950, firstUnansweredMs: null });
    expect(s0.leaseTtlMs).toBeGreaterThan(50_000);
    expect(s1).toMatchObject({ input: { length: 5, lastMs: T0 + 90_004 }, leaseTtlMs: null, group: { lag: 5, pending: 0 }, oldestUndeliveredMs: T0 + 90_000, lastOutputMs: null });
    expect(s2).toMatchObject({ lastOutputMs: T0 + 91_000, firstUnansweredMs: T0 + 92_000, deadLetters: { length: 1, lastMs: T0 + 95_000, lastReason: 'price=-5: must be a finite number > 0' } });
    expect(s3).toMatchObject({ input: null, leaseTtlMs: null, group: null, lastOutputMs: null });
    // default clock: Redis's TIME
    const live = await takeSnapshot(r, keys);
    expect(live.ok && Math.abs(live.at - Date.now()) < 5000).toBe(true);
  });

  it('the watcher writes transitions to the stream and the state hash, resolves them when the condition goes away, and a restarted watcher picks up where it left', async () => {
    let now = AT;
    const seen: AlertTransition[] = [];
    const w = new AlertWatcher(r, { keys, now: () => now, onTransition: (t) => seen.push(t) });
    const first = await w.tick();
    const firing = ['kill-switch:firing:critical', 'no-worker:1:firing:critical', 'lag:1:firing:critical', 'stale:2:firing:warning', 'dead-letters:2:firing:warning'];
    expect(first.map((t) => `${t.id}:${t.state}:${t.severity}`)).toEqual(firing);
    expect(seen).toEqual(first);
    expect(await streamEntries(r, keys)).toEqual(firing);
    const entry = ((await r.xrange(alertsStream(keys), '-', '+')) as [string, string[]][])[2][1];
    expect(entry).toEqual(['id', 'lag:1', 'state', 'firing', 'severity', 'critical', 'summary', first[2].summary, 'at', String(AT), 'since', String(AT), 'shard', '1', 'value', '10000']);
    expect(first[2].summary).toBe('shard 1 is behind: the oldest unprocessed input is 10.0 s old (limit 5.0 s), 5 inputs waiting (5 undelivered + 0 pending; limit 50,000)');
    const stored = await readFiringAlerts(r, keys);
    expect(stored.map((a) => a.id)).toEqual(['kill-switch', 'lag:1', 'no-worker:1', 'dead-letters:2', 'stale:2']);
    expect(stored[1]).toEqual({ id: 'lag:1', severity: 'critical', summary: first[2].summary, shard: 1, value: 10_000, since: AT });

    now += 500; // nothing changed but the numbers
    expect(await w.tick()).toEqual([]);
    expect(await streamEntries(r, keys)).toHaveLength(5);

    // a second watcher (a restart) reads the state: nothing is announced twice
    const again = new AlertWatcher(r, { keys, now: () => now });
    expect(await again.tick()).toEqual([]);

    // remedies: a worker takes shard 1 and drains it, shard 2 writes output, the kill switch goes off
    await r.set(leaseKey(keys, 1), 'w2:t', 'PX', 60_000);
    const res = (await r.xreadgroup('GROUP', 'lockstep', 'w2', 'COUNT', 100, 'STREAMS', inputStream(keys, 1), '>')) as [string, [string, string[]][]][];
    await r.xack(inputStream(keys, 1), 'lockstep', ...res[0][1].map(([i]) => i));
    await r.xadd(outputStream(keys, 2), id(T0 + 100_400), 'rows', 'AAA|trade|2|1|1|x|1');
    await r.del(killSwitchKey(keys));
    now = T0 + 101_000;
    const resolved = await w.tick();
    expect(resolved.map((t) => `${t.id}:${t.state}`)).toEqual(['kill-switch:resolved', 'no-worker:1:resolved', 'lag:1:resolved', 'stale:2:resolved']);
    expect(resolved[2]).toMatchObject({ severity: 'critical', since: AT, at: now });
    expect((await readFiringAlerts(r, keys)).map((a) => a.id)).toEqual(['dead-letters:2']);

    now = T0 + 95_000 + DEFAULT_THRESHOLDS.deadLetterWindowMs + 1; // the dead letter ages out
    expect((await w.tick()).map((t) => `${t.id}:${t.state}`)).toEqual(['dead-letters:2:resolved']);
    expect(await r.hgetall(alertsStateKey(keys))).toEqual({});
    const all = await streamEntries(r, keys);
    expect(all).toEqual([...firing, 'kill-switch:resolved:critical', 'no-worker:1:resolved:critical', 'lag:1:resolved:critical', 'stale:2:resolved:warning', 'dead-letters:2:resolved:warning']);

    // the other watcher, still holding its old view, resolves the same alerts once more at most: never re-fires them
    expect((await again.tick()).every((t) => t.state === 'resolved')).toBe(true);
  });

  it('followAlerts: from an ID, and from "$" (only what is written after it starts)', async () => {
    const k = { ns: 'fol' };
    const ac = new AbortController();
    // its own connection: a blocked XREAD holds up everything behind it on the same one
    const fr = await openRedis(h.url);
    const first = (await r.xadd(alertsStream(k), '*', 'id', 'lag:0', 'state', 'firing', 'severity', 'warning', 'summary', 's0', 'at', '1', 'since', '1', 'shard', '0', 'value', '1500')) as string;
    const fromStart = followAlerts(fr, k, '0', { signal: ac.signal, blockMs: 200 });
    expect((await fromStart.next()).value).toEqual({ entryId: first, id: 'lag:0', state: 'firing', severity: 'warning', summary: 's0', at: 1, since: 1, shard: 0, value: 1500 });
    await fromStart.return(undefined);

    const follower = followAlerts(fr, k, '$', { signal: ac.signal, blockMs: 200 });
    const next = follower.next();
    // wait until the follower is blocked in XREAD (its '$' is pinned), then write
    const deadline = Date.now() + 5000;
    while (!String(await r.client('LIST')).includes('cmd=xread') && Date.now() < deadline) await new Promise((res) => setTimeout(res, 10));
    await r.xadd(alertsStream(k), '*', 'id', 'redis-down', 'state', 'resolved', 'severity', 'critical', 'summary', 'back', 'at', '2', 'since', '1');
    expect((await next).value).toMatchObject({ id: 'redis-down', state: 'resolved', at: 2, since: 1 });
    ac.abort();
    expect((await follower.next()).done).toBe(true);
    fr.disconnect();
  });

  it('start() checks every intervalMs; stop() resolves promptly', async () => {
    const k: KeyLayout = { ns: 'loop', shards: 1 };
    const seen: AlertTransition[] = [];
    const w = new AlertWatcher(r, { keys: k, intervalMs: 20, onTransition: (t) => seen.push(t) });
    w.start();
    await r.set(killSwitchKey(k), JSON.stringify({ all: { reason: 'bad release', by: 'ops', at: T0 }, symbols: {} }));
    const deadline = Date.now() + 5000;
    while (seen.length === 0 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 5));
    expect(seen.map((t) => `${t.id}:${t.state}`)).toEqual(['kill-switch:firing']);
    const t0 = Date.now();
    await w.stop();
    expect(Date.now() - t0).toBeLessThan(500);
    expect(await r.hget(alertsStateKey(k), 'kill-switch')).toContain('bad release');
  });
});

describe('when the transitions cannot be written', () => {
  it('they are kept, reported through onError, and written once the watcher may write again', async () => {
    const h = await RedisHarness.start();
    const admin = await openRedis(h.url);
    const keys: KeyLayout = { ns: 'acl', shards: 1 };
    // a user that may read everything but not append to a stream
    await admin.call('ACL', 'SETUSER', 'watcher', 'on', '>pw', '~*', '&*', '+@all', '-xadd');
    const r = await openRedis(h.url.replace('//', '//watcher:pw@'));
    try {
      const errors: Error[] = [];
      const w = new AlertWatcher(r, { keys, now: () => AT, onError: (e) => errors.push(e) });
      await admin.set(killSwitchKey(keys), JSON.stringify({ all: { reason: 'bad release', by: 'ops', at: T0 }, symbols: {} }));
      expect((await w.tick()).map((t) => t.id)).toEqual(['kill-switch']);
      expect(errors.map((e) => e.message)).toEqual([expect.stringMatching(/^cannot write alerts to acl:alerts: .*NOPERM.*xadd.* \(kept; trying again at the next check\)$/)]);
      expect(w.unwrittenCount).toBe(1);
      expect(await admin.exists(alertsStream(keys), alertsStateKey(keys))).toBe(0); // MULTI: nothing half-written
      await admin.call('ACL', 'SETUSER', 'watcher', '+xadd');
      expect(await w.tick()).toEqual([]);
      expect(w.unwrittenCount).toBe(0);
      expect(await streamEntries(admin, keys)).toEqual(['kill-switch:firing:critical']);
      expect(Object.keys(await admin.hgetall(alertsStateKey(keys)))).toEqual(['kill-switch']);
    } finally {
      r.disconnect();
      admin.disconnect();
      await h.close();
    }
  });
});

describe('on Redis Cluster', () => {
  it('per-shard pipelines for the snapshot, and the stream and state hash written in a MULTI each', async () => {
    const c = await RedisClusterHarness.start(3);
    const r = await openRedis(c.url);
    const keys: KeyLayout = { ns: 'cl', shards: 4 };
    try {
      for (let s = 0; s < 4; s++) await r.xadd(inputStream(keys, s), id(T0 + 99_000 + s), 'k', 'trade');
      await r.xgroup('CREATE', inputStream(keys, 1), 'lockstep', '0');
      for (const s of [0, 2, 3]) await r.set(leaseKey(keys, s), 'w', 'PX', 60_000);
      await r.xadd(deadLetterStream(keys, 2), id(T0 + 99_500), 'id', id(T0 + 99_002), 'reason', 'k=alien: unknown kind');
      await r.set(killSwitchKey(keys), JSON.stringify({ all: null, symbols: { AAPL: { reason: 'halted', by: 'ops', at: T0 } } }));
      const s = await takeSnapshot(r, keys, AT);
      if (!s.ok) throw new Error(s.error);
      expect(s.shards.map((x) => [x.input?.length, x.leaseTtlMs === null, x.group?.lag ?? null, x.deadLetters.length])).toEqual([[1, false, null, 0], [1, true, 1, 0], [1, false, null, 1], [1, false, null, 0]]);
      const w = new AlertWatcher(r, { keys, now: () => AT });
      expect((await w.tick()).map((t) => t.id)).toEqual(['kill-switch', 'no-worker:1', 'dead-letters:2']);
      expect((await readFiringAlerts(r, keys)).map((a) => a.id)).toEqual(['kill-switch', 'no-worker:1', 'dead-letters:2']);
      await r.del(killSwitchKey(keys));
      expect((await w.tick()).map((t) => `${t.id}:${t.state}`)).toEqual(['kill-switch:resolved']);
      expect(await streamEntries(r, keys)).toEqual(['kill-switch:firing:critical', 'no-worker:1:firing:critical', 'dead-letters:2:firing:warning', 'kill-switch:resolved:critical']);
      expect(Object.keys(await r.hgetall(alertsStateKey(keys))).sort()).toEqual(['dead-letters:2', 'no-worker:1']);
    } finally {
      r.disconnect();
      await c.close();
    }
  });
});

describe('when Redis goes away', () => {
  it('a failed snapshot is redis-down: reported at once, written when Redis is back; the watcher survives', async () => {
    const h = await RedisHarness.start();
    const r = await openRedis(h.url, { commandTimeoutMs: 500 });
    const keys: KeyLayout = { ns: 'down', shards: 2 };
    try {
      await r.xadd(inputStream(keys, 0), id(T0 + 99_000), 'k', 'heartbeat');
      let now = AT;
      const seen: AlertTransition[] = [];
      const errors: Error[] = [];
      const w = new AlertWatcher(r, { keys, now: () => now, onTransition: (t) => seen.push(t), onError: (e) => errors.push(e) });
      expect((await w.tick()).map((t) => t.id)).toEqual(['no-worker:0']);

      await h.stop();
      now += 1000;
      const down = await w.tick();
      expect(down.map((t) => `${t.id}:${t.state}`)).toEqual(['redis-down:firing']);
      expect(down[0].summary).toMatch(/^cannot read the deployment from Redis: /);
      expect(seen.at(-1)).toBe(down[0]);
      expect(w.unwrittenCount).toBe(1);
      // what cannot be seen stays as last seen
      expect(w.firingNow().map((a) => a.id).sort()).toEqual(['no-worker:0', 'redis-down']);
      now += 1000;
      expect(await w.tick()).toEqual([]);

      await h.restart(); // an empty Redis (no persistence): the deployment is gone as well
      const deadline = Date.now() + 10_000;
      while (r.status !== 'ready' && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
      now += 1000;
      const back = await w.tick();
      expect(back.map((t) => `${t.id}:${t.state}`).sort()).toEqual(['no-worker:0:resolved', 'redis-down:resolved']);
      expect(w.unwrittenCount).toBe(0);
      const es = ((await r.xrange(alertsStream(keys), '-', '+')) as [string, string[]][]).map(([, f]) => `${f[1]}:${f[3]}:${f[9]}`);
      expect(es).toEqual([`redis-down:firing:${AT + 1000}`, `no-worker:0:resolved:${AT + 3000}`, `redis-down:resolved:${AT + 3000}`]);
      expect(await r.hgetall(alertsStateKey(keys))).toEqual({});
      expect(errors).toEqual([]);
    } finally {
      r.disconnect();
      await h.close();
    }
  });
});
