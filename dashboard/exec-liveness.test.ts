/**
 * What the execution page knows of live parents, end to end: real redis-server, the real CLI
 * (`lockstep gateway --sim` and three `lockstep execute --redis` runs over a synthetic market of
 * one symbol), read by the page's own reader (exec-feed.ts). Each run beats every 100 ms
 * (`--heartbeat-ms`), so "stalled" (5 beats missed) comes in half a second: no assertion is on
 * speed, the waits only bound a hung test.
 * - a TWAP whose window ends inside the data: its schedule record is the algorithm's schedule
 *   (each step checked against schedule.ts `scheduleTarget` itself), and it ends `done`, with the
 *   whole parent as its target;
 * - a TWAP whose window outlasts the data: `working` while idle (its heartbeat moves though nothing
 *   is written), then SIGKILLed: `stalled` (not done), with how long it has been silent;
 * - a POV stopped by SIGTERM: `stopped`, with why; its schedule says it has none ahead of time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MarketEvent } from '../core/events.ts';
import { execClocksKey, execProgressKey, execScheduleKey, execTcaKey, inputStream, metaKey } from '../live/keys.ts';
import { openRedis, type RedisClient } from '../live/redis-connect.ts';
import { RedisHarness } from '../live/redis-harness.ts';
import { encodeEvent } from '../live/wire.ts';
import { dateStartNs } from '../replay/catalog.ts';
import { initExecFold } from '../trading/exec/exec-fold.ts';
import { execSetup } from '../trading/exec/exec-setup.ts';
import { scheduleRecord, STALL_BEATS, type ScheduleRecord } from '../trading/exec/exec-status.ts';
import { scheduleTarget } from '../trading/exec/schedule.ts';
import { ExecFeed, type ExecPayload, type ParentView } from './exec-feed.ts';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const BIN = join(ROOT, 'bin/lockstep.js');
const NS = 'lv';
const DATE = '2024-03-15';
const SEC = 1_000_000_000n;
const T = (hh: number, mm: number, ss = 0) => dateStartNs(DATE) + BigInt(hh * 3600 + mm * 60 + ss) * SEC;
const BEAT = 100;

let redis: RedisHarness;
let r: RedisClient;
const procs: ChildProcess[] = [];
const errs: string[] = [];

/** A quote every second 13:29:50-13:37:00 (bid 100.00 / ask 100.01, 500 each side) and a trade every 5 s. */
function market(): MarketEvent[] {
  const out: MarketEvent[] = [];
  let q = 0n;
  let t = 0n;
  for (let ts = T(13, 29, 50); ts <= T(13, 37); ts += SEC) {
    out.push({ kind: 'quote', symbol: 'AAPL', seq: ++q, tsEvent: ts, tsRecv: ts, bidPx: 100, bidSz: 500, askPx: 100.01, askSz: 500 });
    if ((ts / SEC) % 5n === 0n) out.push({ kind: 'trade', symbol: 'AAPL', seq: ++t, tsEvent: ts + 1000n, tsRecv: ts + 1000n, price: 100, size: 200, side: -1 });
  }
  return out;
}

function start(...args: string[]): { p: ChildProcess; exited: Promise<number | null> } {
  const p = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const at = errs.push('') - 1;
  p.stderr!.on('data', (d) => (errs[at] += String(d)));
  p.stdout!.resume();
  procs.push(p);
  return { p, exited: new Promise((res) => p.on('close', (code) => res(code))) };
}

const parentArgs = (id: string, algo: string, to: string, extra: string[] = []) => ['execute', '--redis', redis.url, '--ns', NS, '--id', id, '--date', DATE, '--symbol', 'AAPL', '--algo', algo, '--side', 'buy', '--qty', '300', '--from', '13:30', '--to', to, '--min-child', '10', '--heartbeat-ms', String(BEAT), ...extra];

const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));
async function until<T>(what: string, get: () => Promise<T | undefined>, ms = 120_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await get();
    if (v !== undefined) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}; the children said:\n${errs.join('\n---\n')}`);
    await sleep(50);
  }
}

let feed: ExecFeed;
const parentOf = async (id: string): Promise<ParentView | undefined> => ((JSON.parse(await feed.poll()) as ExecPayload).parents.find((p) => p.id === id));

beforeAll(async () => {
  redis = await RedisHarness.start();
  r = await openRedis(redis.url);
  await r.hset(metaKey({ ns: NS, shards: 0 }), 'shards', '1');
  const m = r.multi();
  for (const e of market()) m.xadd(inputStream({ ns: NS, shards: 1 }, 0), '*', ...encodeEvent(e));
  await m.exec();
  feed = new ExecFeed(r, r, { ns: NS });
}, 30_000);

afterAll(async () => {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  r?.disconnect();
  await redis?.close();
});

describe('execution page: the plan, and stalled vs done vs stopped, from real runs', () => {
  it('a TWAP that ends is done, with the algorithm\'s own schedule; one SIGKILLed is stalled; one stopped by SIGTERM says so', async () => {
    // no pacing: the SIGKILLed run's clock would hold the gateway back for the others
    start('gateway', '--sim', '--redis', redis.url, '--ns', NS, '--lead-ms', '0');
    const ends = start(...parentArgs('P-END', 'twap', '13:35'));
    const dies = start(...parentArgs('P-DIE', 'twap', '14:30'));
    const term = start(...parentArgs('P-TERM', 'pov', '14:30', ['--pov', '0.2']));

    // the schedule record: what scheduleRecord makes of the parent the CLI's flags build...
    const setup = await execSetup({ date: DATE, symbol: 'AAPL', algo: 'twap', side: 1, qty: 300, from: '13:30', to: '13:35', minChild: 10, id: 'P-END', latencyMs: 1, queue: 'risk-averse', urgency: 0.9, pov: 0.1, vwapDays: 5 });
    const expected = scheduleRecord(initExecFold(setup.parent, setup.cfg));
    const rec = await until('the schedule of P-END', async () => {
      const t = await r.get(execScheduleKey({ ns: NS }, 'P-END'));
      return t === null ? undefined : (JSON.parse(t) as ScheduleRecord);
    });
    expect(rec).toEqual(expected);
    // ...and each step is where the algorithm's own target first reaches it (one lot a step: 300 lots)
    const st = initExecFold(setup.parent, setup.cfg).algo;
    expect(rec.steps).toHaveLength(301);
    expect(rec.steps![0]).toEqual([String(T(13, 30)), 0]);
    expect(rec.steps![300]).toEqual([expect.any(String), 300]);
    for (const [i, [ts, lots]] of rec.steps!.entries()) {
      expect(lots).toBe(i);
      expect(scheduleTarget(st, BigInt(ts))).toBe(lots);
      if (i > 0) expect(scheduleTarget(st, BigInt(ts) - 1n)).toBe(lots - 1);
    }
    // TWAP's linear plan: 60 lots a minute (the target's 1e-9 lot of slack steps it a nanosecond early)
    expect(T(13, 31) - BigInt(rec.steps![60][0])).toBe(1n);

    // the finished one: done (not stalled, not working), its position the whole parent's target
    const end = await until('P-END done', async () => {
      const p = await parentOf('P-END');
      return p?.state === 'done' ? p : undefined;
    });
    expect(await ends.exited).toBe(0);
    expect(await r.get(execTcaKey({ ns: NS }, 'P-END'))).not.toBeNull();
    expect(await r.hget(execClocksKey({ ns: NS }), 'P-END')).toBeNull();
    expect(end.plan!.series).toHaveLength(301);
    expect(end.plan!.series[60]).toEqual([Number((T(13, 31) - 1n) / 1_000_000n) / 1000, 60]);
    expect(end.position!.target).toBe(300);
    expect(end.position!.ahead).toBe(end.position!.filled - 300);
    expect(end.filled).toBe(end.position!.filled);

    // the one still in its window, idle once the data is read: working, its heartbeat moving while nothing is written
    const progress = execProgressKey({ ns: NS }, 'P-DIE');
    const idle = await until('P-DIE working and idle', async () => {
      const p = await parentOf('P-DIE');
      const [n, at] = await r.hmget(progress, 'n', 'at');
      return p?.state === 'working' && p.position !== null && BigInt(p.position.ts) >= T(13, 36) ? { n, at } : undefined;
    });
    await until('a heartbeat of P-DIE', async () => {
      const [n, at] = await r.hmget(progress, 'n', 'at');
      return Number(at) > Number(idle.at) && n === idle.n ? true : undefined;
    });
    const working = (await parentOf('P-DIE'))!;
    expect(working.state).toBe('working');
    expect(working.heartbeatMs).toBe(BEAT);
    expect(working.silentMs).toBeLessThanOrEqual(STALL_BEATS * BEAT);
    expect(working.plan!.series.at(-1)![1]).toBe(300);
    // behind: the plan wants 6/60 of 300 lots by 13:36, the simulated market filled what it did
    expect(working.position!.target).toBe(scheduleTarget(initExecFold({ ...setup.parent, end: T(14, 30) }, setup.cfg).algo, BigInt(working.position!.ts)));
    expect(working.position!.ahead).toBe(working.position!.filled - working.position!.target);

    dies.p.kill('SIGKILL');
    await dies.exited;
    const stalled = await until('P-DIE stalled', async () => {
      const p = await parentOf('P-DIE');
      return p?.state === 'stalled' ? p : undefined;
    });
    expect(stalled.silentMs).toBeGreaterThan(STALL_BEATS * BEAT);
    // its record still says it was running: the stall is read from its silence, nothing wrote "done"
    expect(await r.hget(progress, 'state')).toBe('running');

    // POV: no plan ahead of time, and why; SIGTERM stops it and it says so
    const pov = await until('P-TERM working', async () => {
      const p = await parentOf('P-TERM');
      return p?.state === 'working' ? p : undefined;
    });
    expect(pov.plan).toEqual({ algo: 'pov', series: [], note: 'pov has no fixed schedule: its target is 20% of the market volume as it trades' });
    term.p.kill('SIGTERM');
    expect(await term.exited).toBe(0);
    const stopped = (await parentOf('P-TERM'))!;
    expect([stopped.state, stopped.why]).toEqual(['stopped', 'stopped by a signal']);
  }, 240_000);
});
