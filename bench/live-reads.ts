/**
 * The read side of `lockstep bench live`: the client (1 x 30, 100 x 30, over the lean connection and
 * over ioredis), the HTTP API as its own process, and a raw ioredis HMGET as the peer, all against
 * latest values laid out exactly as a worker writes them.
 */
import { spawn } from 'node:child_process';
import { Agent, get } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getOnlineFeatures } from '../live/client.ts';
import { latestKey, metaKey, type KeyLayout } from '../live/keys.ts';
import { openRedis, type RedisClient } from '../live/redis-connect.ts';
import { openFeatureSource } from '../live/row-reader.ts';
import { percentiles, type LiveBenchResult } from './live-bench.ts';

const HERE = fileURLToPath(new URL('.', import.meta.url));

/**
 * Times `n` sequential reads after `warmup` untimed ones. The warm-up is long enough for the JIT
 * of the reader and of the API process to settle (~1 s of traffic): right after start, the first
 * ~2,000 HTTP requests run partly unoptimized code and their p99 is ~4x the steady state's, which
 * is a start-up cost, not the latency a long-running server gives.
 */
async function timeReads(name: string, n: number, fn: () => Promise<unknown>, warmup = 3000): Promise<{ name: string; p50Ms: number; p99Ms: number; n: number; warmup: number }> {
  for (let i = 0; i < warmup; i++) await fn();
  const xs: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    xs.push(performance.now() - t);
  }
  const p = percentiles(xs);
  return { name, p50Ms: p.p50, p99Ms: p.p99, n, warmup };
}

export async function readRuns(url: string): Promise<LiveBenchResult['reads']> {
  const keys: KeyLayout = { ns: 'benchread', shards: 4 };
  const r: RedisClient = await openRedis(url, { name: 'bench-read' });
  const features = Array.from({ length: 30 }, (_, i) => `f${String(i).padStart(2, '0')}`);
  const symbols = Array.from({ length: 100 }, (_, i) => `S${String(i).padStart(3, '0')}`);
  // latest values laid out exactly as a worker writes them (hash fields plus the packed _row)
  await r.hset(metaKey(keys), 'columns', features.join(','), 'featureSetVersion', 'x', 'shards', String(keys.shards));
  for (const s of symbols) {
    const at = String(Date.now());
    const vals = features.map((_, i) => String(100 + i / 7));
    const fields: string[] = ['_in', '1-0', '_te', '1', '_tr', '1', '_seq', '1', '_src', 'trade', '_at', at, '_fsv', 'x'];
    features.forEach((f, i) => fields.push(f, vals[i]));
    fields.push('_row', `1|1|1|trade|${at}|x|${vals.join(',')}`);
    await r.hset(latestKey(keys, s), ...fields);
  }
  const one = latestKey(keys, symbols[0]);
  // the client as `openFeatureSource` opens it (the lean reader on a single node); over an
  // ioredis connection too, for comparison
  const lean = await openFeatureSource(url, { name: 'bench-read-lean' });
  // the HTTP API runs as its own process (`lockstep serve`), as deployed: its event loop and GC
  // are not this benchmark's
  const port = await freePortForApi();
  const api = spawn(process.execPath, [join(HERE, '../bin/lockstep.js'), 'serve', '--redis', url, '--ns', keys.ns, '--shards', String(keys.shards), '--port', String(port), '--max-age-ms', '3600000'], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    api.stdout!.on('data', (d) => String(d).includes('serving') && resolve());
    api.once('exit', (c) => reject(new Error(`lockstep serve exited with ${c}`)));
  });
  const base = `http://127.0.0.1:${port}/v1/features?features=${features.join(',')}`;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const reads = [
    await timeReads('raw ioredis HMGET 1 x 30 (peer)', 5000, () => r.hmget(one, ...features)),
    await timeReads('client 1 symbol x 30 features', 5000, () => getOnlineFeatures(lean, keys, { symbols: symbols.slice(0, 1), features, maxAgeMs: 3_600_000 })),
    await timeReads('client 100 symbols x 30 features', 2000, () => getOnlineFeatures(lean, keys, { symbols, features, maxAgeMs: 3_600_000 }), 1000),
    await timeReads('client 1 symbol x 30 features (over ioredis)', 5000, () => getOnlineFeatures(r, keys, { symbols: symbols.slice(0, 1), features, maxAgeMs: 3_600_000 })),
    await timeReads('client 100 symbols x 30 features (over ioredis)', 2000, () => getOnlineFeatures(r, keys, { symbols, features, maxAgeMs: 3_600_000 }), 1000),
    await timeReads('HTTP 1 symbol x 30 features', 3000, () => getJson(agent, `${base}&symbols=${symbols[0]}`)),
    await timeReads('HTTP 100 symbols x 30 features', 1000, () => getJson(agent, `${base}&symbols=${symbols.join(',')}`), 1000),
    await timeReads('HTTP 1 symbol x 30 features (fetch)', 3000, async () => (await fetch(`${base}&symbols=${symbols[0]}`)).json()),
  ];
  agent.destroy();
  lean.disconnect();
  await new Promise<void>((resolve) => {
    api.once('exit', () => resolve());
    api.kill('SIGTERM');
  });
  r.disconnect();
  return reads;
}

/**
 * One GET over a kept-alive connection, body parsed as JSON: what a trading engine's HTTP client
 * does. (Node's fetch costs ~0.3 ms more per request here and its tail is its own, not the API's.)
 */
function getJson(agent: Agent, url: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    get(url, { agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`HTTP ${res.statusCode}: ${Buffer.concat(chunks).toString()}`));
        else resolve(JSON.parse(Buffer.concat(chunks).toString()));
      });
      res.on('error', reject);
    }).on('error', reject);
  });
}

async function freePortForApi(): Promise<number> {
  const { freePort } = await import('../live/redis-harness.ts');
  return freePort();
}
