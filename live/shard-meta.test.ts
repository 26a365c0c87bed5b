/**
 * Every process that hashes symbols onto shards checks `--shards` against the deployment's
 * `<ns>:meta` (a wrong count serves `missing` while looking healthy): through the real CLI against
 * a real redis-server, a mismatch is one line naming both counts and exit 2.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDay } from '../datasets/generate.ts';
import { openRedis, type RedisClient } from './redis-connect.ts';
import { RedisHarness } from './redis-harness.ts';

const DATE = '2024-03-15';
const ROOT = new URL('..', import.meta.url).pathname;
let dir: string;
let redis: RedisHarness;
let r: RedisClient;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lockstep-shard-meta-test-'));
  await generateDay({ date: DATE, symbols: 2, seed: 5, preset: 'tiny', out: join(dir, 'cat') });
  redis = await RedisHarness.start();
  r = await openRedis(redis.url);
});
afterAll(async () => {
  r?.disconnect();
  await redis?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the CLI; resolves with its exit code and output once it exits or prints `until`. */
function cli(args: string[], until?: RegExp): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [join(ROOT, 'bin/lockstep.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => {
      out += d;
      if (until?.test(out)) p.kill('SIGTERM');
    });
    p.stderr.on('data', (d) => (err += d));
    p.once('exit', (code) => resolve({ code, out, err }));
  });
}

describe('the shard count is checked against <ns>:meta', () => {
  it('serve --shards 3 against a 4-shard deployment exits 2 with one line naming both counts', async () => {
    const fed = await cli(['feed', '--catalog', join(dir, 'cat'), '--date', DATE, '--from', '14:30', '--to', '14:35', '--redis', redis.url, '--ns', 'four', '--shards', '4']);
    expect(fed.code, fed.err).toBe(0);
    const bad = await cli(['serve', '--redis', redis.url, '--ns', 'four', '--shards', '3', '--port', '0'], /serving/);
    expect(bad.code, bad.out + bad.err).toBe(2);
    expect(bad.out).toBe('');
    expect(bad.err).toBe('lockstep: four:meta says this deployment has 4 shards, but serve was started with --shards 3: use --shards 4\n');
    // the right count serves
    const good = await cli(['serve', '--redis', redis.url, '--ns', 'four', '--shards', '4', '--port', '0'], /serving/);
    expect(good.out).toMatch(/^serving http:/);
  });

  it('feed --shards 2 against a 4-shard deployment: the same one line, exit 2', async () => {
    await r.hset('four2:meta', 'shards', '4');
    const bad = await cli(['feed', '--catalog', join(dir, 'cat'), '--date', DATE, '--from', '14:30', '--to', '14:35', '--redis', redis.url, '--ns', 'four2', '--shards', '2']);
    expect(bad.code, bad.err).toBe(2);
    expect(bad.err).toBe('lockstep: four2:meta says this deployment has 4 shards, but the feed was started with --shards 2: use --shards 4\n');
    expect(await r.exists('four2:in:{four2:0}')).toBe(0);
  });
});
