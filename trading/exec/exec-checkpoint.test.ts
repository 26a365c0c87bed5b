/**
 * `lockstep execute --redis` resumes from its checkpoint (exec-codec.ts) after SIGKILL with its input
 * streams trimmed away, against a real redis-server and the real CLI on the real LOBSTER AAPL day
 * (skipped with a message when the data is not there). Two deployments get the same market:
 * - A: the fills and reports streams' heartbeats are past the window from the start; one run;
 * - B: they stop at 13:42:30 (the fold holds the market after it back), the run is SIGKILLed once
 *   its checkpoint covers every entry it read, the input, fills and reports streams are trimmed to
 *   nothing, the heartbeats go on past the window and a second run finishes it.
 * B's `<ns>:orders` equals A's: the second run went on from the checkpoint (a refold from the start
 * would see no market at all and decide otherwise).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importLobster } from '../../datasets/import-lobster.ts';
import { execProgressKey, execReportsStream, fillsStream, inputStream, ordersStream } from '../../live/keys.ts';
import { openRedis, type RedisClient } from '../../live/redis-connect.ts';
import { RedisHarness } from '../../live/redis-harness.ts';
import { dateStartNs } from '../../replay/catalog.ts';
import { realData } from '../../testing/real-data.ts';
import { decodeState } from '../../core/state-codec.ts';
import type { ExecCursor } from './exec-codec.ts';
import { decodeOrderFields } from './exec-wire.ts';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const BIN = join(ROOT, 'bin/lockstep.js');
const ZIP = 'equity_lobster/LOBSTER_SampleFile_AAPL_2012-06-21_1.zip';
const LOBSTER = realData('execute --redis checkpoint on the real LOBSTER AAPL day', ZIP);
const DATE = '2012-06-21';
const PARENT = 'AAPL-twap';
const at = (h: bigint, m: bigint, s: bigint) => dateStartNs(DATE) + (h * 3600n + m * 60n + s) * 1_000_000_000n;
const MID = at(13n, 42n, 30n);
const AFTER = at(13n, 47n, 0n);
const PARENT_ARGS = ['--date', DATE, '--symbol', 'AAPL', '--algo', 'twap', '--side', 'buy', '--qty', '300', '--from', '13:40', '--to', '13:45', '--min-child', '10'];

let dir = '';
let redis: RedisHarness;
let r: RedisClient;
const cli = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 240_000 });
const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));
const heartbeats = async (ns: string, ts: bigint) => {
  const ids: string[] = [];
  for (const k of [fillsStream({ ns }), execReportsStream({ ns })]) ids.push((await r.xadd(k, '*', 'kind', 'heartbeat', 'ts_recv', String(ts))) as string);
  return ids;
};
const orders = async (ns: string) => ((await r.xrange(ordersStream({ ns }), '-', '+')) as [string, string[]][]).map(([, f]) => JSON.stringify(decodeOrderFields(f), (_k, v) => (typeof v === 'bigint' ? String(v) : v)));

describe.skipIf(!LOBSTER.present)('lockstep execute --redis resumes from its checkpoint with its streams trimmed', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'exec-ckpt-'));
    await importLobster(LOBSTER.path(ZIP), join(dir, 'lob'));
    redis = await RedisHarness.start();
    r = await openRedis(redis.url, { commandTimeoutMs: 60_000 });
    for (const ns of ['a', 'b']) {
      const f = cli('feed', '--catalog', join(dir, 'lob'), '--date', DATE, '--redis', redis.url, '--ns', ns, '--shards', '1', '--to', '13:47');
      expect(f.status, f.stderr).toBe(0);
    }
  }, 240_000);
  afterAll(async () => {
    r?.disconnect();
    await redis?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('after SIGKILL, with its streams trimmed, writes the orders of an uninterrupted run', async () => {
    // A: uninterrupted
    await heartbeats('a', AFTER);
    const a = cli('execute', '--redis', redis.url, '--ns', 'a', ...PARENT_ARGS);
    expect(a.status, a.stderr).toBe(0);
    const want = await orders('a');
    expect(want.length).toBeGreaterThan(3);

    // B: SIGKILLed once its checkpoint covers every entry it read up to the 13:42:30 heartbeats
    const [fillsHb, reportsHb] = await heartbeats('b', MID);
    const p = spawn(process.execPath, [BIN, 'execute', '--redis', redis.url, '--ns', 'b', ...PARENT_ARGS], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr!.on('data', (d) => (err += String(d)));
    const exited = new Promise((res) => p.on('exit', res));
    const inKey = inputStream({ ns: 'b', shards: 1 }, 0);
    const lastIn = ((await r.xrevrange(inKey, '+', '-', 'COUNT', 1)) as [string, string[]][])[0][0];
    const t0 = Date.now();
    for (;;) {
      const bytes = await r.hgetBuffer(execProgressKey({ ns: 'b' }, PARENT), 'ckpt');
      const cur = bytes === null ? null : decodeState<{ cur: ExecCursor }>(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)).cur;
      if (cur && cur.market === `(${lastIn}` && cur.fills === `(${fillsHb}` && cur.reports === `(${reportsHb}`) break;
      if (Date.now() - t0 > 120_000) throw new Error(`no checkpoint covering the input; the run said:\n${err}`);
      await sleep(50);
    }
    p.kill('SIGKILL');
    await exited;
    const before = await orders('b');
    expect(before.length).toBeGreaterThan(0);
    expect(before.length).toBeLessThan(want.length);
    for (const k of [inKey, fillsStream({ ns: 'b' }), execReportsStream({ ns: 'b' })]) await r.xtrim(k, 'MAXLEN', 0);
    expect(await r.xlen(inKey)).toBe(0);
    await heartbeats('b', AFTER);
    const b = cli('execute', '--redis', redis.url, '--ns', 'b', ...PARENT_ARGS);
    expect(b.status, b.stderr).toBe(0);
    expect(b.stderr).toContain('resuming from its checkpoint');
    expect(await orders('b')).toEqual(want);
  }, 600_000);
});
