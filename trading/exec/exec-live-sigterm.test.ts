/**
 * `lockstep execute --redis` stopped by SIGTERM before its parent ended prints and writes the TCA
 * of what it did so far (it used to write none): a real redis-server, the real CLI, a generated
 * catalog fed to 14:10 while the window runs to 14:30 (so only the signal ends the run), and
 * `lockstep gateway --sim` filling the orders.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execClocksKey, execProgressKey, execTcaKey } from '../../live/keys.ts';
import { openRedis, type RedisClient } from '../../live/redis-connect.ts';
import { RedisHarness } from '../../live/redis-harness.ts';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const BIN = join(ROOT, 'bin/lockstep.js');
const NS = 'st';
const PARENT = 'SYM000-twap';

let dir = '';
let redis: RedisHarness;
let r: RedisClient;
const procs: ChildProcess[] = [];
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
async function until(what: string, ok: () => Promise<boolean>, ms = 180_000): Promise<void> {
  const t0 = Date.now();
  while (!(await ok())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}; the children said:\n${errs.join('\n---\n')}`);
    await sleep(30);
  }
}

describe('lockstep execute --redis stopped by SIGTERM', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'exec-sigterm-'));
    const g = cli('datasets', 'generate', '--date', '2024-03-15', '--symbols', '1', '--out', join(dir, 'cat'));
    expect(g.status, g.stderr).toBe(0);
    redis = await RedisHarness.start();
    r = await openRedis(redis.url, { commandTimeoutMs: 60_000 });
    const f = cli('feed', '--catalog', join(dir, 'cat'), '--date', '2024-03-15', '--redis', redis.url, '--ns', NS, '--shards', '1', '--to', '14:10');
    expect(f.status, f.stderr).toBe(0);
  }, 240_000);
  afterAll(async () => {
    for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
    r?.disconnect();
    await redis?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('prints the TCA of what was done and writes it with stopped: true', async () => {
    const ex = start('execute', '--redis', redis.url, '--ns', NS, '--date', '2024-03-15', '--symbol', 'SYM000', '--algo', 'twap', '--side', 'buy', '--qty', '500', '--from', '14:00', '--to', '14:30', '--min-child', '10');
    const gw = start('gateway', '--sim', '--redis', redis.url, '--ns', NS, '--exit-when-idle', '20000');
    const written = async () => Number((await r.hget(execProgressKey({ ns: NS }, PARENT), 'n')) ?? 0);
    const clock = async () => BigInt((await r.hget(execClocksKey({ ns: NS }), PARENT)) ?? '0');
    // the fed data ends at 14:10: the run has read it all once its clock stops moving there
    await until('orders written and the market read to 14:09', async () => (await written()) >= 2 && (await clock()) >= 1_710_511_740_000_000_000n);
    expect(await r.get(execTcaKey({ ns: NS }, PARENT))).toBeNull();
    ex.p.kill('SIGTERM');
    const done = await ex.exited;
    expect(done.code, done.err).toBe(0);
    expect(done.err).toMatch(/stopped at event time \d+ before the parent ended: the TCA of what was done so far/);
    const tca = JSON.parse((await r.get(execTcaKey({ ns: NS }, PARENT))) ?? 'null') as { stopped: boolean; childOrders: number; filledQty: number; qty: number; eventTime: string; arrivalPrice: number | null };
    expect(tca).not.toBeNull();
    expect(tca.stopped).toBe(true);
    expect(tca.qty).toBe(500);
    expect(tca.childOrders).toBeGreaterThanOrEqual(2);
    expect(tca.filledQty).toBeLessThan(500);
    expect(tca.arrivalPrice).toBeGreaterThan(0);
    expect(BigInt(tca.eventTime)).toBeLessThan(1_710_513_000_000_000_000n);
    expect(done.out).toContain(`TCA SYM000 buy 500 lots: filled ${tca.filledQty}`);
    gw.p.kill('SIGTERM');
    await gw.exited;
  }, 400_000);
});
