/**
 * The kill switch's cause record on a real Redis Cluster (3 masters): the record key named with
 * `killRecordKey` shares the kill key's slot, so the switch and its record are written by one
 * script, atomically; a record key outside the tag (the older `<ns>:kill:fired`, another slot) is
 * refused with both keys named before anything is written, instead of Redis's CROSSSLOT.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killSwitchKey } from './keys.ts';
import { killChangesKey, killRecordKey, KillSwitchError, readKillChanges, readKillSwitch, setKillSwitch } from './kill-switch.ts';
import { openRedis, type RedisClient } from './redis-connect.ts';
import { RedisClusterHarness } from './redis-harness.ts';

const keys = { ns: 'kc' };
let cluster: RedisClusterHarness;
let r: RedisClient;

beforeAll(async () => {
  cluster = await RedisClusterHarness.start(3);
  r = await openRedis(cluster.url);
}, 120_000);

afterAll(async () => {
  r?.disconnect();
  await cluster?.close();
});

describe('kill switch record on a Redis Cluster', () => {
  it('killRecordKey lands in the kill key\'s slot: switch and record in one script; a key of another slot is refused, nothing written', async () => {
    const rec = killRecordKey(keys, 'fired');
    expect(rec).toBe('{kc:kill}:fired');
    const slot = async (k: string) => Number(await r.call('CLUSTER', 'KEYSLOT', k));
    expect(await slot(rec)).toBe(await slot(killSwitchKey(keys)));
    // the older name sits elsewhere (why the record key moved)
    expect(await slot('kc:kill:fired')).not.toBe(await slot(killSwitchKey(keys)));

    await setKillSwitch(r, keys, { on: true, symbols: ['AAA'], reason: 'auto: spread blow-out', by: 'guard', escalateOnly: true }, { key: rec, field: 'ep1', value: '{"rule":"spread_blowout"}' });
    expect(await r.hget(rec, 'ep1')).toBe('{"rule":"spread_blowout"}');
    expect((await readKillSwitch(r, keys)).symbols.AAA.reason).toBe('auto: spread blow-out');

    const old = setKillSwitch(r, keys, { on: true, symbols: ['BBB'], reason: 'auto', by: 'guard' }, { key: 'kc:kill:fired', field: 'ep2', value: 'x' });
    await expect(old).rejects.toThrow(KillSwitchError);
    await expect(old).rejects.toThrow('the record key kc:kill:fired is not in the slot of the kill switch kc:kill on this Redis Cluster: name it killRecordKey(keys, name) = {kc:kill}:<name>');
    expect(await r.hget('kc:kill:fired', 'ep2')).toBeNull();
    expect(Object.keys((await readKillSwitch(r, keys)).symbols)).toEqual(['AAA']);

    // switching it off (a human's action) needs no record
    await setKillSwitch(r, keys, { on: false });
    expect(await r.exists(killSwitchKey(keys))).toBe(0);

    // the changes stream shares the slot: written by the same script, read with the state in one MULTI
    expect(await slot(killChangesKey(keys))).toBe(await slot(killSwitchKey(keys)));
    const read = await readKillChanges(r, keys, '0-0');
    expect(read.changes.map((c) => Object.keys(c.state.symbols))).toEqual([['AAA'], []]);
    expect(read).toMatchObject({ complete: true, state: { all: null, symbols: {} } });
  }, 60_000);
});
