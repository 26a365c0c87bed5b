/**
 * Transitions as `lockstep alerts watch` prints them, against a real redis-server: a resolved
 * alert says it resolved (and after how long), not the numbers it last fired with.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inputStream, type KeyLayout } from '../keys.ts';
import { openRedis, type RedisClient } from '../redis-connect.ts';
import { RedisHarness } from '../redis-harness.ts';
import { alertTransitions } from './transitions.ts';

const ROOT = resolve(new URL('../..', import.meta.url).pathname);
const keys: KeyLayout = { ns: 'al', shards: 1 };
let redis: RedisHarness;
let admin: RedisClient;

beforeAll(async () => {
  redis = await RedisHarness.start();
  admin = await openRedis(redis.url);
}, 60_000);

afterAll(async () => {
  admin?.disconnect();
  await redis?.close();
});

describe('a resolved alert (issue 21 item 21)', () => {
  it('alerts watch: the resolved line says it resolved, not the old "N waiting"', async () => {
    const p = spawn(process.execPath, [join(ROOT, 'bin/lockstep.js'), 'alerts', 'watch', '--redis', redis.url, '--ns', keys.ns, '--shards', '1', '--interval-ms', '100'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] });
    const lines = createInterface({ input: p.stdout! })[Symbol.asyncIterator]();
    const next = async (state: string) => {
      for (;;) {
        const { value, done } = await lines.next();
        if (done) throw new Error('alerts watch exited');
        const t = JSON.parse(value) as { id: string; state: string; summary: string };
        if (t.id === 'no-worker:0' && t.state === state) return t;
      }
    };
    try {
      // three inputs on a shard no worker holds: no-worker fires, counting them
      for (let i = 0; i < 3; i++) await admin.xadd(inputStream(keys, 0), '*', 'k', 'x');
      expect((await next('firing')).summary).toMatch(/3 inputs waiting/);
      // the shard's input goes away: the alert resolves
      await admin.del(inputStream(keys, 0));
      const resolved = await next('resolved');
      expect(resolved.summary).toMatch(/^shard 0 has a worker or no input again: resolved after \d/);
      expect(resolved.summary).not.toMatch(/waiting/);
    } finally {
      p.kill('SIGTERM');
    }
  });

  it('alertTransitions: every kind of alert resolves with its own words', () => {
    const since = 1_000;
    const firing = new Map([
      ['lag:2', { id: 'lag:2', severity: 'critical' as const, summary: 'shard 2 is behind: 9 inputs waiting', shard: 2, value: 9, since }],
      ['kill-switch', { id: 'kill-switch', severity: 'critical' as const, summary: 'ON for AAPL', scope: 'AAPL', since }],
      ['redis-down', { id: 'redis-down', severity: 'critical' as const, summary: 'cannot read', since }],
      ['custom', { id: 'custom', severity: 'warning' as const, summary: 'x', since }],
    ]);
    const { transitions } = alertTransitions(firing, [], 62_500);
    expect(transitions.map((t) => `${t.state}: ${t.summary}`)).toEqual([
      'resolved: shard 2 has caught up: resolved after 1 min 1.5 s',
      'resolved: the kill switch is off: resolved after 1 min 1.5 s',
      'resolved: Redis answers again: resolved after 1 min 1.5 s',
      'resolved: custom: resolved after 1 min 1.5 s',
    ]);
  });
});
