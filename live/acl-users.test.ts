/**
 * Every ACL user the docs give (`ACL SETUSER ...` in README.md and docs/*.md), created verbatim on
 * a real redis-server, running the commands the docs say that user runs, through the real CLI:
 * nothing may fail for a permission the documented ACL does not grant (CLIENT SETNAME, INFO), and
 * no library warning ("Skipping the ready check") may reach the user.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDay } from '../datasets/generate.ts';
import { getOnlineFeatures } from './client.ts';
import { pnlKey, pnlLogKey, positionsKey, riskKey, weightsKey } from './keys.ts';
import { encodeDeskFields } from './pnl-record.ts';
import { encodeWeightsFields } from './weights-record.ts';
import { runFeed } from './feed.ts';
import { openRedis, type RedisClient } from './redis-connect.ts';
import { RedisHarness } from './redis-harness.ts';
import { openFeatureSource } from './row-reader.ts';
import { LiveWorker } from './worker/index.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DATE = '2024-03-15';
// the docs' ACL lines name the default namespace `ls`: each test run has its own redis-server
const keys = { ns: 'ls', shards: 2 };
const PASSWORD = 'documented-pw';

/** Every `ACL SETUSER` line of the README and docs/*.md, by user name. */
function documentedAcls(): Map<string, string[]> {
  const files = [join(ROOT, 'README.md'), ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join(ROOT, 'docs', f))];
  const out = new Map<string, string[]>();
  for (const f of files) {
    for (const line of readFileSync(f, 'utf8').split('\n')) {
      const m = /^\s*ACL SETUSER (\S+) (.*)$/.exec(line.replace(/`/g, ''));
      if (m) out.set(m[1], m[2].trim().split(/\s+/).map((t) => t.replace('PASSWORD', PASSWORD)));
    }
  }
  return out;
}

let dir: string;
let redis: RedisHarness;
let admin: RedisClient;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lockstep-acl-'));
  await generateDay({ date: DATE, symbols: 2, seed: 3, preset: 'tiny', out: join(dir, 'cat') });
  redis = await RedisHarness.start();
  admin = await openRedis(redis.url);
  await runFeed({ catalog: join(dir, 'cat'), date: DATE, redis: redis.url, ns: keys.ns, shards: keys.shards });
  const w = new LiveWorker({ redis: redis.url, ns: keys.ns, shards: keys.shards, consumer: 'w' });
  await w.start();
  await w.run({ idleStopMs: 200 });
  await w.close();
  await admin.hset(`${keys.ns}:alerts:state`, 'no-worker:1', JSON.stringify({ id: 'no-worker:1', severity: 'critical', since: 1, summary: 'test alert' }));
  // the latest target weights, as `lockstep weights --redis` writes them (served by /v1/weights)
  // the desk's latest PnL, risk and positions, as `lockstep desk` writes them (served by /v1/pnl, ...)
  for (const k of [pnlKey(keys), riskKey(keys), positionsKey(keys)]) await admin.hset(k, ...encodeDeskFields(1710532800000000000n, { books: [{ account: '*', strategy: '*', dayPnl: 1.5 }] }, 1));
  await admin.xadd(pnlLogKey(keys), '*', ...encodeDeskFields(1710532800000000000n, { books: [{ account: '*', strategy: '*', dayPnl: 1.5 }] }, 1));
  await admin.hset(weightsKey(keys), ...encodeWeightsFields({ t: 1710532800000000000n, trigger: 'every', symbols: ['SYM000', 'SYM001'], weights: [0.5, -0.5], signal: [1, -1], excluded: [null, null], gross: 1, net: 0, turnover: 1 }, 1));
  for (const [user, rules] of documentedAcls()) await admin.call('ACL', 'SETUSER', user, ...rules);
});

afterAll(async () => {
  admin?.disconnect();
  await redis?.close();
  rmSync(dir, { recursive: true, force: true });
});

function userUrl(user: string): string {
  return redis.url.replace('redis://', `redis://${user}:${PASSWORD}@`);
}

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [join(ROOT, 'bin/lockstep.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d.toString()));
    p.stderr.on('data', (d) => (stderr += d.toString()));
    p.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Starts `lockstep serve`, returns its base URL once it prints it (or its output if it exits). */
function serve(args: string[]): Promise<{ proc: ChildProcess; base: string; output: () => string }> {
  const proc = spawn(process.execPath, [join(ROOT, 'bin/lockstep.js'), 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const output = () => out;
  return new Promise((resolve, reject) => {
    proc.stdout!.on('data', (d) => {
      out += d.toString();
      const m = /serving (http:\/\/[^/]+)/.exec(out);
      if (m) resolve({ proc, base: m[1], output });
    });
    proc.stderr!.on('data', (d) => (out += d.toString()));
    proc.on('exit', (code) => reject(new Error(`serve exited ${code}: ${out}`)));
  });
}

/** What each documented user is documented to do; a documented user missing here fails the test. */
const scenarios: Record<string, (url: string) => Promise<void>> = {
  // docs/live-operations.md "Running it": feed, the workers, alerts watch and the kill switch
  pipeline: async (userUrl) => {
    // the documented namespace `ls`, in database 1 (the reader's data is in database 0)
    const url = `${userUrl}/1`;
    const common = ['--redis', url, '--shards', '2'];
    const feed = await cli(['feed', '--catalog', join(dir, 'cat'), '--date', DATE, ...common]);
    expect(feed.stderr).toBe('');
    expect(feed.code).toBe(0);
    const live = await cli(['live', ...common, '--consumer', 'w', '--exit-when-idle', '500']);
    expect(live.stderr).not.toMatch(/NOPERM|Skipping the ready check|Error/);
    expect(live.code, live.stderr).toBe(0);
    expect(live.stdout).toMatch(/stopped: applied [1-9]\d* events/);
    const on = await cli(['kill-switch', 'on', '--redis', url, '--symbols', 'SYM000', '--reason', 'acl test', '--by', 'test']);
    expect(on.stderr).toBe('');
    expect(on.code).toBe(0);
    const off = await cli(['kill-switch', 'off', '--redis', url]);
    expect(off.code, off.stderr).toBe(0);
    // alerts watch: one check, then stopped
    const watch = spawn(process.execPath, [join(ROOT, 'bin/lockstep.js'), 'alerts', 'watch', ...common, '--interval-ms', '200'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    watch.stdout!.on('data', (d) => (out += d.toString()));
    watch.stderr!.on('data', (d) => (out += d.toString()));
    const deadline = Date.now() + 20_000;
    while (!out.includes('no-worker') && Date.now() < deadline && watch.exitCode === null) await new Promise((r) => setTimeout(r, 100));
    watch.kill('SIGTERM');
    await new Promise((r) => watch.once('exit', r));
    expect(out).toMatch(/no-worker/);
    expect(out).not.toMatch(/NOPERM|Skipping the ready check|Error/);
  },
  // docs/live-operations.md "Reading values": the HTTP API and the TypeScript client
  reader: async (url) => {
    const s = await serve(['--redis', url, '--shards', String(keys.shards), '--port', '0']);
    try {
      const res = await fetch(`${s.base}/v1/features?symbols=SYM000,SYM001&features=mid,rsi_14`);
      const body = (await res.json()) as { symbols: { features: { mid: { status: string } } }[] };
      expect(res.status).toBe(200);
      expect(body.symbols).toHaveLength(2);
      for (const r of body.symbols) expect(r.features.mid.status).toMatch(/present|stale/);
      expect((await fetch(`${s.base}/healthz`)).status).toBe(200);
      const weights = await fetch(`${s.base}/v1/weights`);
      expect(weights.status).toBe(200);
      expect(((await weights.json()) as { weights: Record<string, number> }).weights).toEqual({ SYM000: 0.5, SYM001: -0.5 });
      for (const p of ['/v1/pnl', '/v1/risk', '/v1/positions']) {
        const res = await fetch(`${s.base}${p}`);
        expect(res.status, p).toBe(200);
        expect(((await res.json()) as { books: { dayPnl: number }[] }).books[0].dayPnl).toBe(1.5);
      }
      const metrics = await (await fetch(`${s.base}/metrics`)).text();
      expect(metrics).toMatch(/lockstep_alerts_read_ok 1/);
    } finally {
      s.proc.kill('SIGTERM');
      await new Promise((r) => s.proc.once('exit', r));
    }
    expect(s.output()).not.toMatch(/NOPERM|Skipping the ready check|Error/);
    // the client, with a connection name as the CLI gives one
    const lean = await openFeatureSource(url, { name: 'lockstep-client' });
    try {
      const rows = await getOnlineFeatures(lean, keys, { symbols: ['SYM000'], features: ['mid'], maxAgeMs: 1e15 });
      expect(rows[0].features.mid.status).toBe('present');
    } finally {
      lean.disconnect();
    }
    // the dashboard's PnL chart: the day's PnL log (XREVRANGE once, then XRANGE), through ioredis
    const full = await openRedis(url, { name: 'lockstep-dashboard' });
    try {
      const [[id, fields]] = await full.xrevrange(pnlLogKey(keys), '+', '-', 'COUNT', 1);
      expect(fields).toContain('1710532800000000000');
      expect(await full.xrange(pnlLogKey(keys), `(${id}`, '+')).toEqual([]);
    } finally {
      full.disconnect();
    }
    // the alerts firing now (HGETALL ls:alerts:state), through ioredis
    const list = await cli(['alerts', 'list', '--redis', url]);
    expect(list.stderr).toBe('');
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/no-worker:1/);
  },
};

describe('documented ACL users', () => {
  const acls = documentedAcls();
  it('the docs give at least the read-only user', () => {
    expect([...acls.keys()]).toContain('reader');
  });
  it.each([...acls.keys()])('%s: the documented commands work with the documented ACL, without warnings', async (user) => {
    const run = scenarios[user];
    expect(run, `no scenario for the documented ACL user ${user}: add one to this test`).toBeDefined();
    await run(userUrl(user));
  }, 60_000);
});
