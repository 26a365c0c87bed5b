/**
 * The live deployment log on a Redis Cluster (3 masters): appends choose their `at` under WATCH on
 * the log's key and retry when another append came first. On a Cluster the WATCH, the read and the
 * MULTI must reach the node owning `<ns>:models:log` on one connection; this checks that they do
 * (appenders racing from several Cluster clients, and the real CLI), and that the log stays in
 * time order with every append in it exactly once.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerVersion } from '../../models/registry.ts';
import { inputStream, metaKey } from '../keys.ts';
import { openRedis } from '../redis-connect.ts';
import { RedisClusterHarness } from '../redis-harness.ts';
import { encodeEvent } from '../wire.ts';
import { appendLiveDeployment, mergeLiveLog, readLiveLog } from './live-log.ts';

const S = 1_000_000_000n;
const ROOT = new URL('../..', import.meta.url).pathname;
let cluster: RedisClusterHarness;
let dir: string;

function cli(...args: string[]): Promise<{ status: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [join(ROOT, 'bin/lockstep.js'), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    p.on('close', (status) => resolve({ status, out }));
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lockstep-live-log-cluster-'));
  cluster = await RedisClusterHarness.start(3);
}, 60_000);
afterAll(async () => {
  await cluster?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the live deployment log on a Redis Cluster', () => {
  it('appenders racing from several Cluster clients and the CLI: every entry once, in time order, each after the newest input fed', async () => {
    const keys = { ns: 'clog', shards: 3 };
    const admin = (await openRedis(cluster.url)) as Redis;
    const reg = join(dir, 'registry');
    const f = join(dir, 'm1.json');
    writeFileSync(f, JSON.stringify({ lockstep_model: 1, name: 'momo', version: 1, kind: 'logistic', inputs: ['last_price'], standardize: { mean: [100], std: [3] }, coef: [0.5], intercept: 0 }));
    registerVersion(reg, f);
    const clients: Redis[] = [];
    try {
      await admin.hset(metaKey(keys), 'shards', String(keys.shards));
      // input streams on (likely) other nodes than the log: `at` follows the newest one fed
      const fedAt = [7n, 42n, 19n].map((x) => x * S);
      for (let s = 0; s < keys.shards; s++) {
        const ev = { kind: 'trade', tsEvent: fedAt[s], tsRecv: fedAt[s], symbol: 'AAA', seq: 1n, price: 100, size: 1, side: 1 } as const;
        await admin.xadd(inputStream(keys, s), '*', ...encodeEvent(ev));
      }
      for (let i = 0; i < 4; i++) clients.push((await openRedis(cluster.url)) as Redis);
      const perClient = 8;
      const api = Promise.all(
        clients.map((c, k) =>
          (async () => {
            for (let i = 0; i < perClient; i++) await appendLiveDeployment(c, keys.ns, { slot: 'momo', action: 'rollback', reason: `c${k}-${i}` }, 1n * S);
          })(),
        ),
      );
      const viaCli = Promise.all([0, 1].map((k) => cli('models', 'deploy', 'momo@1', '--mode', 'live', '--registry', reg, '--redis', cluster.url, '--ns', keys.ns, '--lead', '1s', '--reason', `cli-${k}`)));
      const [, outs] = await Promise.all([api, viaCli]);
      for (const o of outs) expect(o.status, o.out).toBe(0);

      const entries = mergeLiveLog((await readLiveLog(admin, keys.ns)).records);
      expect(entries.length).toBe(clients.length * perClient + 2);
      const reasons = entries.map((e) => (e as { reason?: string }).reason);
      expect(new Set(reasons).size).toBe(entries.length);
      for (let k = 0; k < clients.length; k++) for (let i = 0; i < perClient; i++) expect(reasons).toContain(`c${k}-${i}`);
      // strictly increasing `at` in stream order, the first one past the newest input fed + lead
      expect(entries[0].at).toBe(42n * S + 1n * S);
      for (let i = 1; i < entries.length; i++) expect(entries[i].at).toBeGreaterThan(entries[i - 1].at);
    } finally {
      for (const c of clients) c.disconnect();
      admin.disconnect();
    }
  }, 120_000);
});
