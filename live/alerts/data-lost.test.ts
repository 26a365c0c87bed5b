/**
 * `lockstep alerts watch` when Redis loses the deployment's data (FLUSHALL; a restart without
 * persistence is the same to it), on a real redis-server with a real `lockstep live`: the input
 * streams go with the rest, so the per-shard checks see a shard nothing was published to. The
 * `data-lost` alert fires from what the watcher saw before (`<ns>:meta` was there), or, for a
 * watcher started after the loss, from the record the stopped worker leaves (`<ns>:data-lost`);
 * it resolves when a worker records the deployment again.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataLostKey, inputStream, killSwitchKey, type KeyLayout } from '../keys.ts';
import { openRedis, type RedisClient } from '../redis-connect.ts';
import { RedisHarness } from '../redis-harness.ts';
import type { AlertTransition } from './model.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A CLI process whose stdout lines and stderr are collected. */
interface Proc {
  child: ChildProcess;
  lines: string[];
  err: () => string;
  exited: Promise<number | null>;
}

function cli(...args: string[]): Proc {
  const child = spawn(process.execPath, [join(ROOT, 'bin/lockstep.js'), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => {
    out += d;
    const parts = out.split('\n');
    out = parts.pop()!;
    lines.push(...parts);
  });
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, lines, err: () => err, exited };
}

/** Polls `ok` with a generous deadline (a loaded 2-core machine), failing with `what`. */
async function until(what: string, ok: () => boolean | Promise<boolean>, timeoutMs = 45_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

const transitions = (p: Proc): AlertTransition[] => p.lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as AlertTransition);
const seen = (p: Proc, id: string, state: string) => transitions(p).find((t) => t.id === id && t.state === state);

let h: RedisHarness;
let r: RedisClient;
const procs: Proc[] = [];
const start = (...args: string[]) => {
  const p = cli(...args);
  procs.push(p);
  return p;
};

beforeAll(async () => {
  h = await RedisHarness.start();
  r = await openRedis(h.url);
});
afterAll(async () => {
  for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  r?.disconnect();
  await h?.close();
});

/** A worker on `keys` with one trade to apply; resolves once it runs its shards. */
async function startWorker(keys: KeyLayout, consumer: string, ...extra: string[]): Promise<Proc> {
  await r.xadd(inputStream(keys, 0), '*', 'k', 'trade', 's', 'AAA', 'q', '1', 'te', '1', 'tr', '1', 'p', '10', 'z', '1', 'd', '1');
  const w = start('live', '--redis', h.url, '--ns', keys.ns, '--shards', String(keys.shards), '--consumer', consumer, '--lease-ms', '1000', ...extra);
  await until(`worker ${consumer} to run its shards`, () => /running shards/.test(w.err()));
  return w;
}

const watch = (keys: KeyLayout) => start('alerts', 'watch', '--redis', h.url, '--ns', keys.ns, '--shards', String(keys.shards), '--interval-ms', '100');

describe('alerts watch sees Redis lose the deployment\'s data', () => {
  it('a running watcher: FLUSHALL under a worker fires data-lost (critical), where the shard checks see nothing', async () => {
    const keys: KeyLayout = { ns: 'lost1', shards: 1 };
    const worker = await startWorker(keys, 'w1');
    const watcher = watch(keys);
    // a transition proves the watcher has checked the deployment (with its meta key) at least once
    await r.set(killSwitchKey(keys), JSON.stringify({ all: { reason: 'test', by: 'test', at: 1 }, symbols: {} }));
    await until('the watcher to report the kill switch', () => seen(watcher, 'kill-switch', 'firing') !== undefined);

    await r.flushall();
    await until('the watcher to report data-lost', () => seen(watcher, 'data-lost', 'firing') !== undefined);
    const t = seen(watcher, 'data-lost', 'firing')!;
    expect(t.severity).toBe('critical');
    expect(t.summary).toMatch(/^Redis lost the deployment's data: lost1:meta is gone \(it was there at an earlier check\), and the input streams and checkpoints with it/);
    expect(await Promise.race([worker.exited, sleep(45_000).then(() => 'still running')]), worker.err()).toBe(2);
    // recorded in Redis like every transition (after the flush)
    expect(Object.keys(await r.hgetall(`${keys.ns}:alerts:state`))).toContain('data-lost');
  });

  it('a watcher started after the loss sees it from the stopped worker\'s record; it resolves when a worker records the deployment again', async () => {
    await r.flushall();
    const keys: KeyLayout = { ns: 'lost2', shards: 1 };
    const worker = await startWorker(keys, 'w2');
    await r.flushall();
    expect(await Promise.race([worker.exited, sleep(45_000).then(() => 'still running')]), worker.err()).toBe(2);
    expect(JSON.parse((await r.get(dataLostKey(keys)))!)).toMatchObject({ consumer: 'w2', reason: expect.stringMatching(/^Redis lost its data: /) });

    const watcher = watch(keys);
    await until('the watcher to report data-lost', () => seen(watcher, 'data-lost', 'firing') !== undefined);
    expect(seen(watcher, 'data-lost', 'firing')!.summary).toMatch(/^Redis lost the deployment's data: lost2:meta is gone, .*; worker w2 stopped for it at \d{4}-/);

    // the day is fed again and a worker restarted: it records the deployment and clears the record
    const again = await startWorker(keys, 'w3', '--exit-when-idle', '500');
    await until('the watcher to resolve data-lost', () => seen(watcher, 'data-lost', 'resolved') !== undefined);
    expect(seen(watcher, 'data-lost', 'resolved')!.summary).toMatch(/^the deployment runs again .*: resolved after /);
    expect(await r.exists(dataLostKey(keys))).toBe(0);
    expect(await Promise.race([again.exited, sleep(45_000).then(() => 'still running')]), again.err()).toBe(0);
  });
});
