/**
 * The simulated gateway's checkpoint costs what changed, not the orders seen (ckpt-journal.ts),
 * against a real redis-server with `runGatewaySim` in process, on a hand-built market: one quote a
 * second for X and one marketable buy of 1 lot half a second after each (it fills at once).
 * - bounded: the head (`<ns>:gateway` `ckpt`) written after 2,000 finished orders is the size of the
 *   one after 200 (2.8 kB both; before the journal the checkpoint held every id known, its parent
 *   and up to 2,048 reports already drained: 67.6 kB after 200, 40.6 kB after 2,000);
 *   the journal list stays a few segments and its bytes grow with the ids, not with the writes;
 * - exact: each phase is a new run that resumes from the checkpoint, and the last one still
 *   knows every id: a repeated id is refused, and a cancel of a filled child is answered
 *   `too-late` for its parent (an id it had forgotten would read `unknown`, with no parent).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeEvent } from '../../live/wire.ts';
import { execReportsStream, fillsStream, gatewayKey, inputStream, metaKey, ordersStream } from '../../live/keys.ts';
import { openRedis, type RedisClient } from '../../live/redis-connect.ts';
import { RedisHarness } from '../../live/redis-harness.ts';
import { defaultInstruments } from '../instruments.ts';
import { ZERO_LATENCY } from '../sim/index.ts';
import { decodeReportsEntry, encodeOrderFields } from './exec-wire.ts';
import { gatewayJournalKey, runGatewaySim } from './gateway-sim.ts';
import { MAX_SEGS } from './ckpt-journal.ts';

const S = 1_000_000_000n;
const T0 = 1_700_000_000n * S;
const NS = 'gwck';
const keys = { ns: NS, shards: 1 };
let redis: RedisHarness;
let r: RedisClient;

/** Seconds [from, to): a quote at each, and child `P-<i>` buying 1 lot at the ask half a second later. */
async function phase(from: number, to: number): Promise<void> {
  const m = r.multi();
  for (let i = from; i < to; i++) {
    const t = T0 + BigInt(i) * S;
    m.xadd(inputStream(keys, 0), '*', ...encodeEvent({ kind: 'quote', symbol: 'X', tsEvent: t, tsRecv: t, seq: BigInt(i), bidPx: 100, askPx: 100.01, bidSz: 50, askSz: 50 + (i % 2) }));
    m.xadd(ordersStream(keys), '*', ...encodeOrderFields({ type: 'new', order: { id: `P-${i}`, parentId: 'P', symbol: 'X', side: 1, qty: 1, limitPx: 10001, ts: t + S / 2n } }, 0.01, 1));
  }
  // the last child arrives with the next market event
  const end = T0 + BigInt(to) * S;
  m.xadd(inputStream(keys, 0), '*', ...encodeEvent({ kind: 'heartbeat', symbol: '', tsEvent: end, tsRecv: end, seq: 0n }));
  await m.exec();
}

const run = () => runGatewaySim({ url: redis.url, ns: NS, ins: defaultInstruments(), latency: ZERO_LATENCY, leadNs: 0n, idleStopMs: 300, pollMs: 5 });
const headBytes = async () => Number(await r.hstrlen(gatewayKey(keys), 'ckpt'));
const journalBytes = async () => (await r.lrangeBuffer(gatewayJournalKey(keys), 0, -1)).reduce((a, b) => a + b.length, 0);

describe('lockstep gateway --sim: the checkpoint does not grow with the orders finished', () => {
  beforeAll(async () => {
    redis = await RedisHarness.start();
    r = await openRedis(redis.url, { commandTimeoutMs: 30_000 });
    await r.hset(metaKey(keys), 'shards', '1');
  }, 60_000);
  afterAll(async () => {
    r?.disconnect();
    await redis?.close();
  });

  it('keeps the head bounded, the journal proportional to the ids, and restores every id exactly', async () => {
    await phase(0, 200);
    expect((await run()).fills).toBe(200);
    const head200 = await headBytes();
    const journal200 = await journalBytes();

    await phase(200, 2000);
    expect((await run()).fills).toBe(1800);
    const head2000 = await headBytes();
    const journal2000 = await journalBytes();
    expect(await r.xlen(fillsStream(keys))).toBeGreaterThan(2000);
    expect(head2000).toBeLessThan(head200 * 1.2 + 200);
    expect(head2000).toBeLessThan(4000);
    // the ids themselves: ~2 × 10× the entries (known and parent per child), a constant factor, however many writes
    expect(journal2000).toBeGreaterThan(journal200 * 5);
    expect(journal2000).toBeLessThan(2000 * 2 * 40);
    expect(await r.llen(gatewayJournalKey(keys))).toBeLessThanOrEqual(MAX_SEGS);

    // a repeated id, and a cancel of a filled child: the run resumed from the checkpoint knows both
    const t = T0 + 2001n * S;
    await r.xadd(ordersStream(keys), '*', ...encodeOrderFields({ type: 'new', order: { id: 'P-7', parentId: 'P', symbol: 'X', side: 1, qty: 1, limitPx: 10001, ts: t } }, 0.01, 1));
    await r.xadd(ordersStream(keys), '*', ...encodeOrderFields({ type: 'cancel', cancel: { id: 'P-8', parentId: 'Q', symbol: 'X', ts: t, reason: 'test' } }, 0.01, 1));
    await r.xadd(inputStream(keys, 0), '*', ...encodeEvent({ kind: 'heartbeat', symbol: '', tsEvent: t + S, tsRecv: t + S, seq: 0n }));
    const last = await run();
    expect(last.refused).toBe(1);
    const reports = ((await r.xrange(execReportsStream(keys), '-', '+')) as [string, string[]][]).map(([, f]) => decodeReportsEntry(f)).filter((e) => e.kind === 'report');
    expect(reports.map((e) => (e.kind === 'report' ? [e.report.orderId, e.report.parentId, e.report.result] : null))).toEqual([['P-8', 'P', 'too-late']]);
  }, 180_000);
});
