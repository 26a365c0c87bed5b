/**
 * The pure parts of the models and kill-policy feeds: a slot's state and history from a deployment
 * log (the same `applyEntry` fold the workers run, cross-checked against `assignmentAt`), and the
 * kill guard's fired records (a field that is not a guard's record is skipped, newest first).
 * And the execution feed over a real redis-server: two reads at once (the hub's and a parent
 * page's) count each order once; a parent's state from its run's status and the feed's clock
 * (exec-status.ts `parentState`): done and stopped as written, stalled once silent for 5 of its
 * heartbeats, never done for a run that only went quiet.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execKillLogStream, execProgressKey, ordersStream } from '../live/keys.ts';
import { openRedis, type RedisClient } from '../live/redis-connect.ts';
import { RedisHarness } from '../live/redis-harness.ts';
import { encodeKillFields, encodeOrderFields } from '../trading/exec/exec-wire.ts';
import { STALL_BEATS } from '../trading/exec/exec-status.ts';
import { ExecFeed, type ExecPayload } from './exec-feed.ts';
import { assignmentAt, type DeploymentEntry } from '../models/deployment.ts';
import { slotViews } from './models-feed.ts';
import { firedViews } from './kill-feed.ts';

const LOG: DeploymentEntry[] = [
  { at: 10n, slot: 'momo', action: 'deploy', version: 1, mode: 'live' },
  { at: 20n, slot: 'rev', action: 'deploy', version: 7, mode: 'live' },
  { at: 30n, slot: 'momo', action: 'deploy', version: 2, mode: 'shadow' },
  { at: 40n, slot: 'momo', action: 'promote' },
  { at: 50n, slot: 'rev', action: 'deploy', version: 8, mode: 'canary', percent: 10 },
  { at: 60n, slot: 'momo', action: 'rollback', reason: 'operator: bad fills' },
  { at: 70n, slot: 'rev', action: 'rollback', reason: 'automatic: rev@8: evaluation error rate 2.00% over 500 rows > 1.00%', late: { shards: 4, at: { 1: 75n, 3: 72n } } },
];

describe('models feed: slotViews', () => {
  const views = slotViews(LOG, LOG.map((_, i) => `${i + 1}-0`));

  it("each slot's state is the log's assignment after every entry", () => {
    expect(views.map((v) => v.slot)).toEqual(['momo', 'rev']);
    for (const v of views) expect(v.assignment).toEqual(assignmentAt(LOG, v.slot, 1n << 62n));
    expect(views[0].assignment).toEqual({ incumbent: 1, candidate: null, mode: null, percent: 0, previous: [] });
    expect(views[1].assignment).toEqual({ incumbent: 7, candidate: null, mode: null, percent: 0, previous: [] });
  });

  it('history newest first, with what each change did, its reason and late shards', () => {
    expect(views[0].history.map((h) => [h.id, h.action, h.effect])).toEqual([
      ['6-0', 'rollback', 'back from 2 to 1'],
      ['4-0', 'promote', 'shadow 2 promoted: it serves every symbol'],
      ['3-0', 'deploy', 'version 2 computed beside 1, not served'],
      ['1-0', 'deploy', 'version 1 serves every symbol'],
    ]);
    expect(views[0].rollbacks).toBe(1);
    expect(views[1].history[0]).toEqual({ id: '7-0', at: '70', action: 'rollback', version: null, mode: null, percent: null, reason: 'automatic: rev@8: evaluation error rate 2.00% over 500 rows > 1.00%', lateShards: 2, effect: 'canary 8 dropped; 7 serves' });
    expect(views[1].history[1].effect).toBe('version 8 served to 10% of the symbols (canary), 7 to the rest');
  });
});

describe('kill feed: firedViews', () => {
  it("parses the guard's records, skips anything else, newest event first", () => {
    const h = {
      'spread_blowout:AAPL:1': JSON.stringify({ action: 'reduce-only-symbol', rule: 'spread_blowout', symbol: 'AAPL', ts: '1710509400000000000', value: 0.42, input: '1710509400001-0' }),
      'stale_feed:MSFT:1': JSON.stringify({ action: 'alert', rule: 'stale_feed', symbol: 'MSFT', ts: '1710509460000000000', value: 61, input: null }),
      junk: 'not json',
      other: JSON.stringify({ rule: 'x', action: 'alert', ts: 'soon' }),
    };
    expect(firedViews(h)).toEqual([
      { episode: 'stale_feed:MSFT:1', action: 'alert', rule: 'stale_feed', symbol: 'MSFT', ts: '1710509460000000000', value: 61, input: null },
      { episode: 'spread_blowout:AAPL:1', action: 'reduce-only-symbol', rule: 'spread_blowout', symbol: 'AAPL', ts: '1710509400000000000', value: 0.42, input: '1710509400001-0' },
    ]);
  });
});

describe('exec feed over a real redis-server', () => {
  let redis: RedisHarness;
  let r: RedisClient;
  beforeAll(async () => {
    redis = await RedisHarness.start();
    r = await openRedis(redis.url);
  }, 30_000);
  afterAll(async () => {
    r?.disconnect();
    await redis?.close();
  });

  it('two reads at once share one: each order is counted once', async () => {
    const keys = { ns: 'ex' };
    for (let n = 1; n <= 3; n++) await r.xadd(ordersStream(keys), '*', ...encodeOrderFields({ type: 'new', order: { id: `P-${n}`, parentId: 'P', symbol: 'AAPL', side: 1, qty: 10, limitPx: null, ts: BigInt(n) * 1_000_000_000n } }, 0.01, 1));
    const feed = new ExecFeed(r, r, keys);
    const [a, b] = (await Promise.all([feed.poll(), feed.poll()])).map((t) => JSON.parse(t) as ExecPayload);
    expect(a).toEqual(b);
    const again = JSON.parse(await feed.poll()) as ExecPayload;
    // orders but no status from its run: never heard from, so stalled (not done)
    expect(again.parents.map((p) => [p.id, p.children, p.sent, p.state, p.silentMs])).toEqual([['P', 3, 30, 'stalled', null]]);
  });

  it("a parent's state: its run's word for done and stopped, its silence for stalled, at the feed's clock", async () => {
    const keys = { ns: 'st' };
    const T = 1_000_000;
    let now = T;
    const feed = new ExecFeed(r, r, keys, () => now);
    for (const id of ['A', 'B', 'C', 'D']) await r.xadd(ordersStream(keys), '*', ...encodeOrderFields({ type: 'new', order: { id: `${id}-1`, parentId: id, symbol: 'AAPL', side: 1, qty: 10, limitPx: null, ts: 1_000_000_000n } }, 0.01, 1));
    const status = (id: string, ...f: string[]) => r.hset(execProgressKey(keys, id), 'beat_ms', '200', 'at', String(T), ...f);
    await status('A', 'state', 'running');
    await status('B', 'state', 'done');
    await status('C', 'state', 'stopped', 'why', 'stopped by a signal');
    await status('D', 'state', 'running');
    await r.xadd(execKillLogStream(keys, 'D'), '*', ...encodeKillFields({ symbol: 'AAPL', mode: 'halt', reason: 'test', ts: 2_000_000_000n }));
    const states = async () => (JSON.parse(await feed.poll()) as ExecPayload).parents.map((p) => [p.id, p.state, p.silentMs, p.why]);
    now = T + STALL_BEATS * 200;
    expect(await states()).toEqual([
      ['A', 'working', 1000, null],
      ['B', 'done', null, null],
      ['C', 'stopped', null, 'stopped by a signal'],
      ['D', 'killed', 1000, null],
    ]);
    // one millisecond past 5 beats: the runs that did not say they ended are stalled, killed or not
    now = T + STALL_BEATS * 200 + 1;
    expect(await states()).toEqual([
      ['A', 'stalled', 1001, null],
      ['B', 'done', null, null],
      ['C', 'stopped', null, 'stopped by a signal'],
      ['D', 'stalled', 1001, null],
    ]);
  });
});
