/**
 * TLS and ACL pass-through against a real redis-server that serves TLS only (a throwaway CA made
 * by openssl): the feed and a worker run as real CLI processes over `rediss://`, and the client
 * reads the served values over TLS as an ACL user. Plain connections and untrusted servers fail.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDay } from '../datasets/generate.ts';
import { readFactorTable } from '../replay/read-factor-table.ts';
import { runReplay } from '../replay/run-replay.ts';
import { getOnlineFeatures } from './client.ts';
import type { KeyLayout } from './keys.ts';
import { readOutputRows } from './read-output.ts';
import { openRedis, tlsFromUrl, type RedisClient } from './redis-connect.ts';
import { RedisHarness } from './redis-harness.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DATE = '2024-03-15';
const keys: KeyLayout = { ns: 'tls', shards: 2 };
let dir: string;
let redis: RedisHarness;
let admin: RedisClient;

function cli(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [join(ROOT, 'bin/lockstep.js'), ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (d) => (stderr += d.toString()));
    p.on('exit', (code) => resolve({ code, stderr }));
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lockstep-tls-'));
  await generateDay({ date: DATE, symbols: 2, seed: 9, preset: 'tiny', out: join(dir, 'cat') });
  redis = await RedisHarness.start({ tls: true });
  admin = await openRedis(redis.url);
  await admin.call('ACL', 'SETUSER', 'pipeline', 'on', '>pipelinepw', `~${keys.ns}:*`, `~{${keys.ns}:*`, '+@all');
}, 60_000);

afterAll(async () => {
  admin?.disconnect();
  await redis?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('TLS', () => {
  it('refuses a plain connection to the TLS port and a server whose CA is not trusted', async () => {
    const plain = `redis://127.0.0.1:${redis.port}`;
    await expect(openRedis(plain, { connectTimeoutMs: 1000, commandTimeoutMs: 1000 })).rejects.toThrow();
    await expect(openRedis(`rediss://127.0.0.1:${redis.port}`, { connectTimeoutMs: 1000 })).rejects.toThrow(/self[- ]signed|certificate/i);
  });

  it('names a bad TLS parameter or file', () => {
    expect(() => tlsFromUrl('redis://h:1/?tls_ca=/x.pem')).toThrow(/use rediss:\/\//);
    expect(() => tlsFromUrl('rediss://h:1/?tls_ca=/no/such/ca.pem')).toThrow(/tls_ca=\/no\/such\/ca\.pem: cannot read it \(ENOENT\)/);
    expect(() => tlsFromUrl('rediss://h:1/?tls_verify=0')).toThrow(/unknown TLS parameter\(s\) tls_verify/);
    expect(tlsFromUrl('redis://h:1')).toBeUndefined();
    expect(tlsFromUrl('rediss://h:1')).toEqual({});
  });

  it('feeds, computes and serves over TLS as an ACL user: the same values as the replay', async () => {
    const url = redis.url.replace('rediss://', 'rediss://pipeline:pipelinepw@');
    const common = ['--redis', url, '--ns', keys.ns, '--shards', String(keys.shards)];
    const feed = await cli(['feed', '--catalog', join(dir, 'cat'), '--date', DATE, ...common]);
    expect(feed.stderr).toBe('');
    expect(feed.code).toBe(0);
    const live = await cli(['live', ...common, '--consumer', 'w', '--exit-when-idle', '500']);
    expect(live.code, live.stderr).toBe(0);

    const out = join(dir, 'replay.parquet');
    const summary = await runReplay({ catalog: join(dir, 'cat'), date: DATE, out });
    const { rows: streamed } = await readOutputRows(admin, keys);
    expect(streamed.length).toBe(summary.rows);

    // the newest replay row of each symbol is what the worker serves
    const t = await readFactorTable(out);
    const lastRow = new Map<string, number>();
    t.symbol.forEach((s, i) => lastRow.set(s, i));
    const reader = await openRedis(url);
    try {
      const features = ['last_price', 'mid', 'vwap_session', 'ema_12'];
      const res = await getOnlineFeatures(reader, keys, { symbols: [...lastRow.keys()], features, maxAgeMs: 3_600_000 });
      expect(res.length).toBe(2);
      for (const r of res) {
        const i = lastRow.get(r.symbol)!;
        expect(r.seq).toBe(t.seq[i]);
        for (const f of features) expect(r.features[f].value, `${r.symbol} ${f}`).toBe(t.values[f][i]);
      }
    } finally {
      reader.disconnect();
    }
  }, 120_000);
});
