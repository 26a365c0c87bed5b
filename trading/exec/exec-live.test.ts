/**
 * Live execution against a real redis-server and the real CLI, on the real LOBSTER AAPL day
 * (skipped with a message when the real data is not there): `lockstep feed` publishes 13:30-13:52
 * UTC, `lockstep gateway --sim` fills `<ns>:orders` (and reports its cancels), `lockstep execute --redis` runs a TWAP
 * 13:40-13:50 and is SIGKILLed mid-way and started again, and the kill switch is switched on
 * while it runs. Then:
 * - no child order was written twice and none lost: `<ns>:orders` holds exactly the actions of the
 *   finished run's `--orders` file (the fold re-run from the start), in order, ids unique;
 * - the gateway, SIGKILLed and started again too, resumes: each fill written once and applied
 *   once, one cancel report per cancel (a cancelled child's lots wait for it: no fill refused late);
 * - a malformed fill is dead-lettered with its reason;
 * - after the kill switch is read as on, no new child order; the working ones are cancelled; a halt
 *   and its release made while the run is stopped (SIGSTOP) are both read, in order;
 * - parity: `lockstep execute --catalog ... --fills <the live run's inputs>` writes the same
 *   `--orders` file, byte for byte, and its TCA is the one the live run printed and wrote to
 *   `<ns>:exec:<parent>:tca` when the parent ended.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importLobster } from '../../datasets/import-lobster.ts';
import { execClocksKey, execDeadLetterStream, execKillLogStream, execProgressKey, execReportsStream, execTcaKey, fillsStream, ordersStream } from '../../live/keys.ts';
import { openRedis, type RedisClient } from '../../live/redis-connect.ts';
import { RedisHarness } from '../../live/redis-harness.ts';
import { realData } from '../../testing/real-data.ts';
import { dateStartNs } from '../../replay/catalog.ts';
import { decodeOrderFields, decodeReportsEntry, encodeOrderFields, encodeReportFields } from './exec-wire.ts';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const BIN = join(ROOT, 'bin/lockstep.js');
const ZIP = 'equity_lobster/LOBSTER_SampleFile_AAPL_2012-06-21_1.zip';
const LOBSTER = realData('live execution on the real LOBSTER AAPL day', ZIP);
const DATE = '2012-06-21';
const NS = 'ex';
const PARENT = 'AAPL-twap';
const START = dateStartNs(DATE) + (13n * 3600n + 40n * 60n) * 1_000_000_000n;
const PARENT_ARGS = ['--date', DATE, '--symbol', 'AAPL', '--algo', 'twap', '--side', 'buy', '--qty', '600', '--from', '13:40', '--to', '13:50', '--min-child', '10'];

let dir = '';
let redis: RedisHarness;
let r: RedisClient;
const procs: ChildProcess[] = [];
/** Each child's stderr, for the message of a test that timed out. */
const errs: string[] = [];

const cli = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 240_000 });
const start = (...args: string[]) => {
  const p = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  let out = '';
  const at = errs.push('') - 1;
  p.stderr!.on('data', (d) => (errs[at] = err += String(d)));
  p.stdout!.on('data', (d) => (out += String(d)));
  procs.push(p);
  const exited = new Promise<{ code: number | null; err: string; out: string }>((res) => p.on('close', (code) => res({ code, err, out })));
  return { p, exited };
};
const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));
async function until(what: string, ok: () => Promise<boolean>, ms = 120_000): Promise<void> {
  const t0 = Date.now();
  while (!(await ok())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}; the children said:\n${errs.join('\n---\n')}`);
    await sleep(30);
  }
}
const clock = async () => BigInt((await r.hget(execClocksKey({ ns: NS }), PARENT)) ?? '0');
const written = async () => Number((await r.hget(execProgressKey({ ns: NS }, PARENT), 'n')) ?? 0);

describe('the orders wire', () => {
  it('round-trips a child order and a cancel exactly', () => {
    const order = { id: 'P-1', parentId: 'P', symbol: 'BTCUSDT', side: -1 as const, qty: 12345, limitPx: 6000012, ts: 1723161600123456789n };
    const fields = encodeOrderFields({ type: 'new', order }, 0.01, 0.00001);
    expect(fields).toContain('0.12345');
    expect(fields).toContain('60000.12');
    expect(decodeOrderFields(fields)).toEqual({ type: 'new', order });
    const cancel = { id: 'P-1', parentId: 'P', symbol: 'BTCUSDT', ts: 5n, reason: 'touch moved' };
    expect(decodeOrderFields(encodeOrderFields({ type: 'cancel', cancel }, 0.01, 1))).toEqual({ type: 'cancel', cancel });
    expect(decodeOrderFields(['type', 'new', 'id', 'P-1', 'parent_id', 'P', 'symbol', 'X', 'side', 'buy', 'lots', '-3', 'ticks', '1', 'ts', '1'])).toEqual({ bad: 'lots "-3": must be a whole number of lots > 0' });
  });
  it('round-trips a cancel report exactly and names the field of a bad one', () => {
    const report = { orderId: 'P-1', parentId: 'P', symbol: 'AAPL', lots: 7, result: 'too-late' as const, tsEvent: 1723161600123456789n, tsRecv: 1723161600124456789n };
    expect(decodeReportsEntry(encodeReportFields(report))).toEqual({ kind: 'report', report });
    expect(decodeReportsEntry(['kind', 'heartbeat', 'ts_recv', '12'])).toEqual({ kind: 'heartbeat', ts: 12n });
    expect(decodeReportsEntry([...encodeReportFields(report).slice(0, 10), 'result', 'gone', 'ts_event', '1', 'ts_recv', '2'])).toEqual({ kind: 'bad', reason: 'result "gone": must be one of cancelled, too-late, unknown, unfilled', ts: 2n });
  });
});

describe.skipIf(!LOBSTER.present)('lockstep execute --redis with lockstep gateway --sim on the real LOBSTER AAPL day', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'exec-live-'));
    await importLobster(LOBSTER.path(ZIP), join(dir, 'lob'));
    redis = await RedisHarness.start();
    r = await openRedis(redis.url, { commandTimeoutMs: 60_000 });
    const f = cli('feed', '--catalog', join(dir, 'lob'), '--date', DATE, '--redis', redis.url, '--ns', NS, '--shards', '1', '--to', '13:52');
    expect(f.status, f.stderr).toBe(0);
  }, 240_000);
  afterAll(async () => {
    for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
    r?.disconnect();
    await redis?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('restarts after SIGKILL without an order twice or lost, obeys the kill switch, and replays byte for byte', async () => {
    // a malformed fill for this parent, before anything else: dead-lettered, never fatal
    await r.xadd(fillsStream({ ns: NS }), '*', 'fill_id', 'bad-1', 'account', 'a', 'strategy', 's', 'symbol', 'AAPL', 'side', 'buy', 'qty', '-5', 'price', '585', 'order_id', `${PARENT}-1`, 'parent_id', PARENT, 'ts_event', '1', 'ts_recv', '1');
    // first run: SIGKILLed once it has written orders and is a minute into the window; the
    // gateway starts once the algorithm's clock is there to pace it
    const first = start('execute', '--redis', redis.url, '--ns', NS, ...PARENT_ARGS);
    await until('the first run to read the market', async () => (await clock()) > 0n);
    const gw = start('gateway', '--sim', '--redis', redis.url, '--ns', NS, '--lead-ms', '3000', '--exit-when-idle', '20000');
    await until('the first run to write orders', async () => (await written()) >= 3 && (await clock()) >= START + 60_000_000_000n);
    first.p.kill('SIGKILL');
    await first.exited;
    const n1 = await written();
    // second run: the kill switch goes on while it runs
    const out = join(dir, 'live.jsonl');
    const inputs = join(dir, 'inputs.jsonl');
    const second = start('execute', '--redis', redis.url, '--ns', NS, ...PARENT_ARGS, '--orders', out, '--inputs-out', inputs);
    // the gateway is SIGKILLed too, two minutes in, and started again: it resumes from its checkpoint
    await until('the second run to be 2 minutes into the window', async () => (await clock()) >= START + 120_000_000_000n);
    gw.p.kill('SIGKILL');
    await gw.exited;
    const gw2 = start('gateway', '--sim', '--redis', redis.url, '--ns', NS, '--lead-ms', '3000', '--exit-when-idle', '20000');
    // halted and released while the run is stopped (SIGSTOP): two changes between two polls, both
    // read in order when it goes on (from the switch's changes stream; a sampled state saw none)
    await until('the second run to be 3 minutes into the window', async () => (await clock()) >= START + 180_000_000_000n, 300_000);
    second.p.kill('SIGSTOP');
    for (const args of [['on', '--reason', 'brief halt'], ['off']]) {
      const b = cli('kill-switch', args[0], '--redis', redis.url, '--ns', NS, '--symbols', 'AAPL', ...args.slice(1));
      expect(b.status, b.stderr).toBe(0);
    }
    second.p.kill('SIGCONT');
    // a loaded 2-core machine has taken over 120 s for these two minutes of event time (gateway restart included)
    await until('the second run to be 4 minutes into the window', async () => (await clock()) >= START + 240_000_000_000n, 300_000);
    const k = cli('kill-switch', 'on', '--redis', redis.url, '--ns', NS, '--symbols', 'AAPL', '--reason', 'test halt');
    expect(k.status, k.stderr).toBe(0);
    const done = await second.exited;
    expect(done.code, done.err).toBe(0);
    gw2.p.kill('SIGTERM');
    const g2 = await gw2.exited;
    expect(g2.err).toContain('gateway: resuming from its checkpoint');

    // nothing twice, nothing lost: the stream is exactly the finished run's actions
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    const acts = lines.filter((l) => !l.startsWith('{"type":"fill"'));
    const stream = ((await r.xrange(ordersStream({ ns: NS }), '-', '+')) as [string, string[]][]).map(([, f]) => decodeOrderFields(f));
    const asLine = (a: ReturnType<typeof decodeOrderFields>) => JSON.stringify('bad' in a ? a : a.type === 'new' ? { type: 'new', ...a.order } : { type: 'cancel', ...a.cancel }, (_k, v) => (typeof v === 'bigint' ? String(v) : v));
    expect(stream.map(asLine)).toEqual(acts);
    expect(n1).toBeGreaterThanOrEqual(3);
    expect(stream.length).toBeGreaterThan(n1);
    const ids = stream.flatMap((a) => ('bad' in a || a.type !== 'new' ? [] : [a.order.id]));
    expect(new Set(ids).size).toBe(ids.length);
    expect(lines.some((l) => l.startsWith('{"type":"fill"'))).toBe(true);

    // the kill switch: read at K, no new order from then on, the working ones cancelled at K
    const kills = (await r.xrange(execKillLogStream({ ns: NS }, PARENT), '-', '+')) as [string, string[]][];
    const field = (f: string[], k: string) => f[f.indexOf(k) + 1];
    // the brief halt and its release (read in one poll: one event time), then the halt
    expect(kills.map(([, f]) => `${field(f, 'mode')} ${field(f, 'reason')}`)).toEqual(['halt brief halt', 'off switched off', 'halt test halt']);
    expect(field(kills[0][1], 'ts')).toBe(field(kills[1][1], 'ts'));
    const kf = kills[2][1];
    const K = BigInt(kf[kf.indexOf('ts') + 1]);
    const news = stream.flatMap((a) => ('bad' in a || a.type !== 'new' ? [] : [a.order]));
    expect(news.every((o) => o.ts < K)).toBe(true);
    const atK = stream.flatMap((a) => ('bad' in a || a.type !== 'cancel' || a.cancel.ts !== K ? [] : [a.cancel]));
    expect(atK.every((c) => c.reason === 'kill switch halt: test halt')).toBe(true);

    // the gateway's restart: each fill written once, every one of them applied (a cancelled
    // child's lots wait for its report, so no fill is refused as late), one report per cancel
    const entries = ((await r.xrange(fillsStream({ ns: NS }), '-', '+')) as [string, string[]][]).map(([, f]) => f);
    const fillIds = entries.filter((f) => f.includes('order_id') && f[f.indexOf('fill_id') + 1] !== 'bad-1').map((f) => f[f.indexOf('fill_id') + 1]);
    expect(fillIds.length).toBeGreaterThan(0);
    expect(new Set(fillIds).size).toBe(fillIds.length);
    expect(lines.filter((l) => l.startsWith('{"type":"fill"')).length).toBe(fillIds.length);
    const reports = ((await r.xrange(execReportsStream({ ns: NS }), '-', '+')) as [string, string[]][]).map(([, f]) => decodeReportsEntry(f)).flatMap((e) => (e.kind === 'report' ? [e.report] : []));
    const cancelIds = stream.flatMap((a) => ('bad' in a || a.type !== 'cancel' ? [] : [a.cancel.id]));
    expect(cancelIds.length).toBeGreaterThan(0);
    expect(reports.map((x) => x.orderId).sort()).toEqual([...cancelIds].sort());
    expect(reports.every((x) => x.result === 'cancelled' || x.result === 'too-late')).toBe(true);

    // dead letters with their reasons
    const dlq = ((await r.xrange(execDeadLetterStream({ ns: NS }), '-', '+')) as [string, string[]][]).map(([, f]) => f[f.indexOf('reason') + 1]);
    expect(dlq.some((x) => x.includes('qty') && x.includes('-5') && x.includes('must be > 0'))).toBe(true);
    expect(dlq.filter((x) => x.includes('not a working child'))).toEqual([]);

    // parity: the replay with the live run's fills and kill change writes the same orders file
    const rep = join(dir, 'replay.jsonl');
    const p = cli('execute', '--catalog', join(dir, 'lob'), ...PARENT_ARGS, '--fills', inputs, '--orders', rep, '--json');
    expect(p.status, p.stderr).toBe(0);
    expect(readFileSync(rep, 'utf8')).toBe(readFileSync(out, 'utf8'));

    // the live TCA, written when the run ended, is the replay's, number for number
    const live = JSON.parse((await r.get(execTcaKey({ ns: NS }, PARENT))) ?? 'null') as Record<string, unknown>;
    const replay = JSON.parse(p.stdout) as Record<string, unknown>;
    expect(live).not.toBeNull();
    expect(live.filledQty).toBeGreaterThan(0);
    expect(live.childOrders).toBe(ids.length);
    expect(Object.fromEntries(Object.keys(live).map((k) => [k, replay[k]]))).toEqual(live);
    expect(done.out).toContain(`TCA AAPL buy 600 lots: filled ${live.filledQty}`);
  }, 600_000);
});
