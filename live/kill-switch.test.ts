/**
 * The kill switch, end to end on a real redis-server: switched by the real CLI, read by the client
 * (lean reader and ioredis) and the HTTP API in the same round trip as the values, concurrent
 * switches both sticking, and an unreadable key failing closed.
 */
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getOnlineFeatures, getOnlineFeaturesJson, type OnlineQuery } from './client.ts';
import { startApi } from './http-api.ts';
import { killSwitchKey, latestKey, metaKey, type KeyLayout } from './keys.ts';
import { applyKillChange, formatKillState, KILL_OFF, killChangesKey, killFor, killModeFor, parseKillState, readKillChanges, readKillSwitch, setKillSwitch } from './kill-switch.ts';
import { openRedis, type RedisClient } from './redis-connect.ts';
import { RedisHarness } from './redis-harness.ts';
import { openFeatureSource, type FeatureSource } from './row-reader.ts';

const ROOT = resolve(new URL('..', import.meta.url).pathname);
const keys: KeyLayout = { ns: 'ks', shards: 2 };
const AT = 1_732_700_000_000;
const stringify = (x: unknown) => JSON.stringify(x, (_k, v) => (typeof v === 'bigint' ? v.toString() : v));

describe('kill switch state', () => {
  it('on for symbols, on for all, off for some, off for everything', () => {
    const a = applyKillChange(KILL_OFF, { on: true, symbols: ['AAA', 'BBB'], reason: ' bad feed ', by: 'ops', now: 1 });
    expect(a).toEqual({ all: null, symbols: { AAA: { reason: 'bad feed', by: 'ops', at: 1 }, BBB: { reason: 'bad feed', by: 'ops', at: 1 } } });
    const b = applyKillChange(a, { on: true, reason: 'release 1.2 is bad', by: 'lead', now: 2 });
    expect(b.all).toEqual({ reason: 'release 1.2 is bad', by: 'lead', at: 2 });
    expect(Object.keys(b.symbols)).toEqual(['AAA', 'BBB']);
    expect(applyKillChange(b, { on: false, symbols: ['AAA'] })).toEqual({ all: b.all, symbols: { BBB: a.symbols.BBB } });
    expect(applyKillChange(b, { on: false })).toEqual(KILL_OFF);
    expect(() => applyKillChange(KILL_OFF, { on: true, symbols: ['AAA'] })).toThrow(/a reason is required/);
    expect(() => applyKillChange(KILL_OFF, { on: true, symbols: ['A A'], reason: 'x' })).toThrow(/invalid symbol "A A"/);
  });

  it('modes: an entry without one (stored before modes) is a halt; reduce-only is recorded with its cause', () => {
    const old = parseKillState('{"all":null,"symbols":{"AAA":{"reason":"r","by":"ops","at":1}}}');
    expect(old.unreadable).toBeUndefined();
    expect(killModeFor(old, 'AAA')).toBe('halt');
    expect(killModeFor(old, 'BBB')).toBe('off');
    const cause = { rule: 'price_collar_flag', symbol: 'BBB', tsRecv: '1710511200123456789', streamId: '1-0', value: 1 };
    const ro = applyKillChange(old, { on: true, symbols: ['BBB'], reason: 'collar', by: 'guard', now: 2, mode: 'reduce-only', cause });
    expect(ro.symbols.BBB).toEqual({ reason: 'collar', by: 'guard', at: 2, mode: 'reduce-only', cause });
    expect(killModeFor(parseKillState(JSON.stringify(ro)), 'BBB')).toBe('reduce-only');
    // a halt is stored without a mode field: older readers read it unchanged
    expect(JSON.stringify(applyKillChange(KILL_OFF, { on: true, reason: 'x', by: 'a', now: 3, mode: 'halt' }))).toBe('{"all":{"reason":"x","by":"a","at":3},"symbols":{}}');
    expect(formatKillState(ro)).toMatch(/ON for BBB, \(reduce-only\) since .* by guard: collar \[price_collar_flag=1 on BBB at ts_recv 1710511200123456789 \(entry 1-0\)\]/);
    // the automatic switch never weakens a halt; an operator may
    expect(applyKillChange(ro, { on: true, symbols: ['AAA'], reason: 'y', by: 'guard', mode: 'reduce-only', escalateOnly: true }).symbols.AAA).toEqual(old.symbols.AAA);
    expect(applyKillChange(ro, { on: true, symbols: ['AAA'], reason: 'y', by: 'ops', now: 4, mode: 'reduce-only' }).symbols.AAA.mode).toBe('reduce-only');
    expect(applyKillChange(ro, { on: true, symbols: ['BBB'], reason: 'z', by: 'guard', now: 5, escalateOnly: true }).symbols.BBB.mode).toBeUndefined();
    // a deployment-wide reduce-only does not hide a symbol's halt
    const both = applyKillChange(old, { on: true, reason: 'all ro', by: 'ops', now: 6, mode: 'reduce-only' });
    expect(killFor(both, 'AAA')).toBe(both.symbols.AAA);
    expect(killModeFor(both, 'CCC')).toBe('reduce-only');
    for (const bad of ['{"all":{"reason":"r","by":"o","at":1,"mode":"soft"}}', '{"all":{"reason":"r","by":"o","at":1,"cause":{"rule":1}}}']) expect(parseKillState(bad).unreadable).toBe(true);
    expect(() => applyKillChange(KILL_OFF, { on: true, reason: 'x', mode: 'soft' as 'halt' })).toThrow(/invalid mode "soft"/);
  });

  it('an unreadable key fails closed: everything reads as killed, saying why', () => {
    for (const bad of ['{', '[]', '{"all": {"reason": 1}}', '{"symbols": {"AAA": "x"}}']) {
      const s = parseKillState(bad);
      expect(s.all?.reason).toMatch(/the kill switch key is unreadable .*failing closed/);
      expect(s.unreadable).toBe(true);
    }
    expect(parseKillState(null)).toBe(KILL_OFF);
    expect(formatKillState(KILL_OFF)).toBe('off for the deployment');
  });
});

describe('kill switch on a real redis-server', () => {
  let redis: RedisHarness;
  let r: RedisClient;
  let lean: FeatureSource;
  const lockstep = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin/lockstep.js'), ...args, '--redis', redis.url, '--ns', keys.ns], { encoding: 'utf8', cwd: ROOT });

  beforeAll(async () => {
    redis = await RedisHarness.start();
    r = await openRedis(redis.url);
    lean = await openFeatureSource(redis.url);
    await r.hset(metaKey(keys), 'columns', 'mid,spread', 'featureSetVersion', 'fsv1', 'shards', '2');
    await r.hset(latestKey(keys, 'AAA'), '_row', `1710511200123456789|1710511200123456999|7|quote|${AT}|fsv1|100.5,0.25`);
    await r.hset(latestKey(keys, 'BBB'), '_row', `1710511200123456789|1710511200123456999|8|quote|${AT}|fsv1|20,0.5`);
  });
  afterAll(async () => {
    r?.disconnect();
    (lean as { disconnect(): void })?.disconnect();
    await redis?.close();
  });

  const q: OnlineQuery = { symbols: ['AAA', 'BBB', 'NOPE'], features: ['mid', 'spread'], now: AT, maxAgeMs: 5000 };

  it('the CLI switches it for one symbol: its values read as killed, with the reason, through both clients', async () => {
    const noReason = lockstep('kill-switch', 'on', '--symbols', 'AAA');
    expect(noReason.status).toBe(2);
    expect(noReason.stderr).toMatch(/a reason is required to switch it on \(--reason\)/);
    const on = lockstep('kill-switch', 'on', '--symbols', 'AAA', '--reason', 'feed from venue X is broken', '--by', 'ops');
    expect(on.status).toBe(0);
    expect(on.stdout).toMatch(/^off for the deployment\nON for AAA, since 20\d\d-.*Z by ops: feed from venue X is broken\n$/);
    for (const src of [lean, r]) {
      const [a, b, none] = await getOnlineFeatures(src, keys, q);
      expect(a.features).toEqual({ mid: { value: null, status: 'killed' }, spread: { value: null, status: 'killed' } });
      expect(a.killed).toMatchObject({ reason: 'feed from venue X is broken', by: 'ops' });
      expect(a.tsEvent).toBe(1710511200123456789n);
      expect(b.features.mid).toEqual({ value: 20, status: 'present' });
      expect('killed' in b).toBe(false);
      expect(none.features.mid.status).toBe('missing');
      expect(await getOnlineFeaturesJson(src, keys, q)).toBe(stringify({ symbols: [a, b, none] }));
    }
    expect(lockstep('kill-switch', 'status').stdout).toMatch(/ON for AAA/);
    const ro = lockstep('kill-switch', 'on', '--symbols', 'RO1', '--reduce-only', '--reason', 'wide spreads', '--by', 'ops');
    expect([ro.status, ro.stderr]).toEqual([0, '']);
    expect(ro.stdout).toMatch(/ON for RO1, \(reduce-only\) since .* by ops: wide spreads\n/);
    expect(killModeFor(await readKillSwitch(r, keys), 'RO1')).toBe('reduce-only');
    const bad = lockstep('kill-switch', 'off', '--symbols', 'RO1', '--reduce-only');
    expect([bad.status, bad.stderr.trim()]).toEqual([2, "lockstep: kill-switch off takes no --reduce-only (it qualifies 'on')"]);
    expect(lockstep('kill-switch', 'off', '--symbols', 'RO1').status).toBe(0);
  }, 60_000);

  it('a record written in the same atomic step as the switch', async () => {
    await setKillSwitch(r, keys, { on: true, symbols: ['REC'], reason: 'auto', by: 'guard' }, { key: 'ks:kill:fired', field: 'ep1', value: 'x' });
    expect(await r.hget('ks:kill:fired', 'ep1')).toBe('x');
    expect((await readKillSwitch(r, keys)).symbols.REC.reason).toBe('auto');
    await setKillSwitch(r, keys, { on: false, symbols: ['REC'] });
  });

  it('every change is appended to {<ns>:kill}:changes in the same step, in order; readKillChanges reads them after a position with the state', async () => {
    const ns = { ns: 'kch' };
    expect(killChangesKey(ns)).toBe('{kch:kill}:changes');
    // a first read: no position yet, so the state and the stream's end (empty: 0-0)
    expect(await readKillChanges(r, ns, null)).toEqual({ state: KILL_OFF, changes: [], upto: '0-0', complete: true });
    await setKillSwitch(r, ns, { on: true, symbols: ['AAA'], reason: 'bad prints', by: 'ops', now: 5 });
    await setKillSwitch(r, ns, { on: false, symbols: ['AAA'], by: 'ops', now: 6 });
    // switching off what is off changes nothing: no entry
    await setKillSwitch(r, ns, { on: false, by: 'ops', now: 7 });
    await setKillSwitch(r, ns, { on: true, reason: 'desk closed', by: 'lead', now: 8, mode: 'reduce-only' });
    const all = (await r.xrange(killChangesKey(ns), '-', '+')) as [string, string[]][];
    expect(all.map(([, f]) => f)).toEqual([
      ['state', '{"all":null,"symbols":{"AAA":{"reason":"bad prints","by":"ops","at":5}}}', 'by', 'ops', 'at', '5'],
      ['state', '', 'by', 'ops', 'at', '6'],
      ['state', '{"all":{"reason":"desk closed","by":"lead","at":8,"mode":"reduce-only"},"symbols":{}}', 'by', 'lead', 'at', '8'],
    ]);
    // the state alone reads the last one: the on and off of AAA between two reads are not in it
    const read = await readKillChanges(r, ns, '0-0');
    expect(read.changes.map((c) => [c.id, killModeFor(c.state, 'AAA')])).toEqual([[all[0][0], 'halt'], [all[1][0], 'off'], [all[2][0], 'reduce-only']]);
    expect(read).toMatchObject({ upto: all[2][0], complete: true, state: await readKillSwitch(r, ns) });
    // after a position: only what came later; a count that stops short is not complete
    expect((await readKillChanges(r, ns, all[0][0])).changes.map((c) => c.id)).toEqual([all[1][0], all[2][0]]);
    expect(await readKillChanges(r, ns, all[0][0], 1)).toMatchObject({ upto: all[1][0], complete: false });
    expect(await readKillChanges(r, ns, all[2][0])).toMatchObject({ changes: [], upto: all[2][0], complete: true });
    // a first read takes the stream's last entry as its position
    expect((await readKillChanges(r, ns, null)).upto).toBe(all[2][0]);
    // a record goes with it in the same step
    await setKillSwitch(r, ns, { on: false, by: 'ops', now: 9 }, { key: '{kch:kill}:fired', field: 'ep', value: 'y' });
    expect(await r.hget('{kch:kill}:fired', 'ep')).toBe('y');
    expect(await r.xlen(killChangesKey(ns))).toBe(4);
    // a changes key of another type: the state alone, saying why
    await r.del(killChangesKey(ns));
    await r.set(killChangesKey(ns), 'x');
    expect(await readKillChanges(r, ns, '0-0')).toMatchObject({ changes: [], complete: true, streamError: expect.stringMatching(/^\{kch:kill\}:changes: WRONGTYPE/) });
    await r.del(killChangesKey(ns));
  });

  it('two operators switching different symbols at once both stick (WATCH/MULTI)', async () => {
    const other = await openRedis(redis.url);
    try {
      await Promise.all([
        setKillSwitch(r, keys, { on: true, symbols: ['C1', 'C2'], reason: 'one', by: 'a' }),
        setKillSwitch(other, keys, { on: true, symbols: ['D1'], reason: 'two', by: 'b' }),
        setKillSwitch(r, keys, { on: true, symbols: ['E1'], reason: 'three', by: 'a' }),
      ]);
    } finally {
      other.disconnect();
    }
    expect(Object.keys((await readKillSwitch(r, keys)).symbols).sort()).toEqual(['AAA', 'C1', 'C2', 'D1', 'E1']);
    await setKillSwitch(r, keys, { on: false, symbols: ['C1', 'C2', 'D1', 'E1'] });
  });

  it('on for the whole deployment: every value killed, /healthz 503, metrics; off serves the values again', async () => {
    const api = await startApi(lean, { keys, port: 0 });
    const base = `http://127.0.0.1:${api.port}`;
    try {
      let health = await fetch(`${base}/healthz`);
      expect([health.status, await health.json()]).toEqual([200, { status: 'ok', killedSymbols: ['AAA'] }]);
      expect(lockstep('kill-switch', 'on', '--reason', 'release 1.2 computes rsi wrong', '--by', 'lead').status).toBe(0);
      const res = await getOnlineFeatures(lean, keys, { ...q, symbols: ['BBB', 'NOPE'] });
      expect(res.map((s) => [s.features.mid.status, s.killed?.reason])).toEqual([
        ['killed', 'release 1.2 computes rsi wrong'],
        ['killed', 'release 1.2 computes rsi wrong'],
      ]);
      const body = (await (await fetch(`${base}/v1/features?symbols=BBB&features=mid`)).json()) as { symbols: { features: { mid: { value: unknown; status: string } }; killed: { reason: string } }[] };
      expect(body.symbols[0].features.mid).toEqual({ value: null, status: 'killed' });
      expect(body.symbols[0].killed.reason).toBe('release 1.2 computes rsi wrong');
      health = await fetch(`${base}/healthz`);
      expect(health.status).toBe(503);
      expect(await health.json()).toMatchObject({ status: 'killed', killed: { reason: 'release 1.2 computes rsi wrong', by: 'lead' } });
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toMatch(/^lockstep_kill_switch 1$/m);
      expect(metrics).toMatch(/^lockstep_killed_symbols 1$/m);
      const off = lockstep('kill-switch', 'off');
      expect([off.status, off.stdout]).toEqual([0, 'off for the deployment\n']);
      expect(await r.exists(killSwitchKey(keys))).toBe(0);
      health = await fetch(`${base}/healthz`);
      expect([health.status, await health.json()]).toEqual([200, { status: 'ok' }]);
      expect((await getOnlineFeatures(lean, keys, q))[0].features.mid).toEqual({ value: 100.5, status: 'present' });
      expect(await (await fetch(`${base}/metrics`)).text()).toMatch(/^lockstep_kill_switch 0$/m);
    } finally {
      await api.close();
    }
  }, 60_000);

  it('a corrupted key fails closed for readers, and the CLI can still switch it off', async () => {
    await r.set(killSwitchKey(keys), 'not json');
    const [a] = await getOnlineFeatures(lean, keys, q);
    expect(a.features.mid.status).toBe('killed');
    expect(a.killed?.reason).toMatch(/unreadable/);
    expect(lockstep('kill-switch', 'off').status).toBe(0);
    expect((await getOnlineFeatures(lean, keys, q))[0].features.mid.status).toBe('present');
  }, 60_000);
});
