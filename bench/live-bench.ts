/**
 * `lockstep bench live`: the live path end to end on this machine, with Redis, the feeder and one
 * worker (a child process running `lockstep live`) sharing it.
 *
 *  - tick → served latency at fixed input rates: from the feeder's XADD to the output row being
 *    visible to a subscriber (the row, the latest values and the ack are committed atomically, so
 *    a visible row means a readable value); p50 / p99 / p999.
 *  - sustainable rate per worker: a pre-loaded backlog drained as fast as the worker can.
 *  - read latency: the client (1 symbol x 30 features, 100 x 30) and the HTTP API, with a raw
 *    ioredis HMGET of the same 30 fields measured in the same run as the peer.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MarketEvent } from '../core/events.ts';
import { getOnlineFeatures } from '../live/client.ts';
import { inputStream, latestKey, leaseKey, metaKey, outputStream, type KeyLayout } from '../live/keys.ts';
import { openRedis, type RedisClient } from '../live/redis-connect.ts';
import { RedisHarness } from '../live/redis-harness.ts';
import { shardOf } from '../live/shard.ts';
import { encodeEvent } from '../live/wire.ts';
import { EventMerge } from '../replay/merge.ts';
import { openSelection } from '../replay/run-replay.ts';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const DATE = '2024-03-15';

export interface Percentiles {
  n: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
}

export interface LiveBenchResult {
  rates: { target: number; achieved: number; latencyMs: Percentiles }[];
  sustainable: { events: number; seconds: number; perSec: number };
  reads: { name: string; p50Ms: number; p99Ms: number; n: number }[];
}

export function percentiles(xs: number[]): Percentiles {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
  return { n: s.length, p50: at(0.5), p99: at(0.99), p999: at(0.999), max: s[s.length - 1] ?? NaN };
}

async function loadEvents(catalog: string, limit: number): Promise<MarketEvent[]> {
  const opened = await openSelection({ catalog, date: DATE });
  const m = new EventMerge(opened.cursors);
  const out: MarketEvent[] = [];
  for (let e = m.next(); e !== null && out.length < limit; e = m.next()) out.push(e);
  await opened.close();
  return out;
}

function startWorker(url: string, keys: KeyLayout, consumer: string): ChildProcess {
  return spawn(process.execPath, [join(HERE, '../bin/lockstep.js'), 'live', '--redis', url, '--ns', keys.ns, '--shards', String(keys.shards), '--consumer', consumer], { stdio: ['ignore', 'ignore', 'inherit'] });
}

async function stopWorker(w: ChildProcess): Promise<void> {
  if (w.exitCode !== null) return;
  await new Promise<void>((r) => {
    w.once('exit', () => r());
    w.kill('SIGTERM');
  });
}

/** Feeds `events` at `rate` events/s (in 1 ms slices) and measures XADD → visible output row. */
async function latencyRun(url: string, keys: KeyLayout, events: MarketEvent[], rate: number, seconds: number): Promise<{ achieved: number; latencyMs: Percentiles }> {
  // generous timeouts: at rates above what the worker sustains, Redis and the CPU are saturated
  const feeder = await openRedis(url, { name: 'bench-feed', commandTimeoutMs: 60_000 });
  const sub = await openRedis(url, { name: 'bench-sub', commandTimeoutMs: 60_000 });
  const worker = startWorker(url, keys, `bench-${rate}`);
  const sent = new Map<string, number>();
  // duplicate deliveries in the data produce no output row (the fold drops them): not timed
  const seen = new Set<string>();
  const lat: number[] = [];
  const total = Math.min(events.length, Math.floor(rate * seconds));
  let stop = false;
  const outs = Array.from({ length: keys.shards }, (_, s) => outputStream(keys, s));
  // fresh streams: read from the start ('$' would skip rows added between two reads)
  const lastIds = outs.map(() => '0-0');
  const reader = (async () => {
    while (!stop) {
      const res = (await sub.xread('COUNT', 10_000, 'BLOCK', 100, 'STREAMS', ...outs, ...lastIds)) as [string, [string, string[]][]][] | null;
      const now = performance.now();
      for (const [key, entries] of res ?? []) {
        lastIds[outs.indexOf(key)] = entries[entries.length - 1][0];
        for (const [, f] of entries) {
          const [sym, src, seq] = f[1].split('|', 3);
          const k = `${src}/${sym}/${seq}`;
          const t = sent.get(k);
          if (t !== undefined) {
            lat.push(now - t);
            sent.delete(k);
          }
        }
      }
    }
  })();
  await new Promise((r) => setTimeout(r, 1500)); // worker start-up
  // on a loaded machine start-up (Node + tsx) takes longer: feeding before the worker holds its
  // shards would measure the start-up backlog as tick → served latency
  await waitForLeases(feeder, keys, 60_000);
  const t0 = performance.now();
  let i = 0;
  while (i < total) {
    const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * rate));
    if (due > i) {
      const p = feeder.pipeline();
      const batch = events.slice(i, due).filter((e) => e.kind !== 'heartbeat');
      // keyed by event identity and stamped before sending: the row can be served before the
      // XADD reply is even processed here
      const at = performance.now();
      for (const e of batch) {
        p.xadd(inputStream(keys, shardOf(e.symbol, keys.shards)), '*', ...encodeEvent(e));
        const k = `${e.kind}/${e.symbol}/${e.seq}`;
        if (!seen.has(k)) sent.set(k, at);
        seen.add(k);
      }
      const res = (await p.exec()) ?? [];
      for (const [err] of res) if (err) throw err;
      i = due;
    } else {
      // sleep rather than spin: a busy feeder would steal a core from Redis and the worker
      await new Promise((r) => setTimeout(r, 1));
    }
  }
  const achieved = total / ((performance.now() - t0) / 1000); // input events per second, heartbeats included
  // wait for the backlog to drain (a rate above the sustainable one leaves one)
  const deadline = performance.now() + 60_000;
  while (sent.size > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const lost = sent.size;
  if (lost > 0) console.log(`  warning: ${lost} events not served within 60 s of the end of the run`);
  stop = true;
  await reader;
  await stopWorker(worker);
  feeder.disconnect();
  sub.disconnect();
  return { achieved, latencyMs: percentiles(lat) };
}

/** Waits until a worker holds every shard's lease (it takes them at start-up, then reads). */
async function waitForLeases(r: RedisClient, keys: KeyLayout, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const held = await Promise.all(Array.from({ length: keys.shards }, (_, s) => r.exists(leaseKey(keys, s))));
    if (held.every((x) => x === 1)) return;
    if (performance.now() > deadline) throw new Error(`the bench worker did not take its ${keys.shards} shards within ${timeoutMs} ms`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

/** Pre-loads a backlog, then times one worker draining it. */
async function sustainableRun(url: string, keys: KeyLayout, events: MarketEvent[]): Promise<{ events: number; seconds: number; perSec: number }> {
  const r = await openRedis(url, { name: 'bench-backlog', commandTimeoutMs: 60_000 });
  const market = events.filter((e) => e.kind !== 'heartbeat');
  for (let i = 0; i < market.length; i += 5000) {
    const p = r.pipeline();
    for (const e of market.slice(i, i + 5000)) p.xadd(inputStream(keys, shardOf(e.symbol, keys.shards)), '*', ...encodeEvent(e));
    await p.exec();
  }
  const t0 = performance.now();
  const worker = startWorker(url, keys, 'bench-drain');
  const outs = Array.from({ length: keys.shards }, (_, s) => outputStream(keys, s));
  // done when every input entry has produced its row (duplicates produce none: count applied rows)
  let rows = 0;
  const deadline = performance.now() + 300_000;
  let lastRows = -1;
  let stableSince = performance.now();
  while (performance.now() < deadline) {
    await new Promise((res) => setTimeout(res, 50));
    rows = 0;
    for (const o of outs) rows += await r.xlen(o);
    if (rows !== lastRows) {
      lastRows = rows;
      stableSince = performance.now();
    } else if (rows > 0 && performance.now() - stableSince > 500) break;
  }
  const seconds = (stableSince - t0) / 1000;
  await stopWorker(worker);
  r.disconnect();
  // start-up (~0.5-1 s of Node + tsx) is inside the time: the figure is conservative
  return { events: market.length, seconds, perSec: market.length / seconds };
}

async function timeReads(name: string, n: number, fn: () => Promise<unknown>): Promise<{ name: string; p50Ms: number; p99Ms: number; n: number }> {
  for (let i = 0; i < 200; i++) await fn(); // warm-up
  const xs: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    xs.push(performance.now() - t);
  }
  const p = percentiles(xs);
  return { name, p50Ms: p.p50, p99Ms: p.p99, n };
}

async function readRuns(url: string): Promise<LiveBenchResult['reads']> {
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
  // the HTTP API runs as its own process (`lockstep serve`), as deployed: its event loop and GC
  // are not this benchmark's
  const port = await freePortForApi();
  const api = spawn(process.execPath, [join(HERE, '../bin/lockstep.js'), 'serve', '--redis', url, '--ns', keys.ns, '--shards', String(keys.shards), '--port', String(port), '--max-age-ms', '3600000'], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    api.stdout!.on('data', (d) => String(d).includes('serving') && resolve());
    api.once('exit', (c) => reject(new Error(`lockstep serve exited with ${c}`)));
  });
  const base = `http://127.0.0.1:${port}/v1/features?features=${features.join(',')}`;
  const reads = [
    await timeReads('raw ioredis HMGET 1 x 30 (peer)', 5000, () => r.hmget(one, ...features)),
    await timeReads('client 1 symbol x 30 features', 5000, () => getOnlineFeatures(r, keys, { symbols: symbols.slice(0, 1), features, maxAgeMs: 3_600_000 })),
    await timeReads('client 100 symbols x 30 features', 2000, () => getOnlineFeatures(r, keys, { symbols, features, maxAgeMs: 3_600_000 })),
    await timeReads('HTTP 1 symbol x 30 features', 3000, async () => (await fetch(`${base}&symbols=${symbols[0]}`)).json()),
    await timeReads('HTTP 100 symbols x 30 features', 1000, async () => (await fetch(`${base}&symbols=${symbols.join(',')}`)).json()),
  ];
  await new Promise<void>((resolve) => {
    api.once('exit', () => resolve());
    api.kill('SIGTERM');
  });
  r.disconnect();
  return reads;
}

async function freePortForApi(): Promise<number> {
  const { freePort } = await import('../live/redis-harness.ts');
  return freePort();
}


export async function benchLive(opts: { dir: string; json?: string; seconds?: number; rates?: number[]; drainEvents?: number }): Promise<LiveBenchResult> {
  const dir = resolve(opts.dir);
  const catalog = join(dir, 'catalog-day');
  if (!existsSync(join(catalog, '.complete'))) {
    mkdirSync(dir, { recursive: true });
    const { generateDay } = await import('../datasets/generate.ts');
    console.log(`generating the day preset into ${catalog} (once)`);
    const g = await generateDay({ date: DATE, symbols: 50, seed: 42, preset: 'day', out: catalog, partBy: { buckets: 4 } });
    writeFileSync(join(catalog, '.complete'), JSON.stringify({ events: g.total }));
  }
  const seconds = opts.seconds ?? 10;
  const rates = opts.rates ?? [10_000, 50_000];
  const redis = await RedisHarness.start();
  try {
    const out: LiveBenchResult = { rates: [], sustainable: { events: 0, seconds: 0, perSec: 0 }, reads: [] };
    // reads first, while this process's heap is small (the rate runs hold ~10^6 events in memory,
    // and their GC pauses would be measured as read latency)
    out.reads = await readRuns(redis.url);
    const events = await loadEvents(catalog, Math.max(...rates) * seconds + (opts.drainEvents ?? 300_000) + 100_000);
    let offset = 0;
    for (const rate of rates) {
      const slice = events.slice(offset, offset + rate * seconds);
      offset += slice.length;
      const r = await latencyRun(redis.url, { ns: `lat${rate}`, shards: 4 }, slice, rate, seconds);
      out.rates.push({ target: rate, ...r });
      console.log(`  ${rate} ev/s target: achieved ${r.achieved.toFixed(0)}, tick->served p50 ${r.latencyMs.p50.toFixed(2)} ms p99 ${r.latencyMs.p99.toFixed(2)} ms p999 ${r.latencyMs.p999.toFixed(2)} ms (n=${r.latencyMs.n})`);
    }
    // the backlog drained for the sustainable rate (default 300k; the quick release gate uses less)
    out.sustainable = await sustainableRun(redis.url, { ns: 'drain', shards: 4 }, events.slice(offset, offset + (opts.drainEvents ?? 300_000)));
    console.log(`  sustainable: ${out.sustainable.perSec.toFixed(0)} events/s per worker (${out.sustainable.events} events in ${out.sustainable.seconds.toFixed(2)} s)`);
    console.log(formatLiveBench(out));
    if (opts.json) writeFileSync(opts.json, JSON.stringify(out, null, 2));
    return out;
  } finally {
    await redis.close();
  }
}

export function formatLiveBench(r: LiveBenchResult): string {
  const lines = ['\nlive benchmark (Redis, feeder and one worker on this machine)', '| input rate | achieved | tick→served p50 | p99 | p999 |', '|---|---|---|---|---|'];
  for (const x of r.rates) lines.push(`| ${x.target.toLocaleString('en-US')}/s | ${Math.round(x.achieved).toLocaleString('en-US')}/s | ${x.latencyMs.p50.toFixed(2)} ms | ${x.latencyMs.p99.toFixed(2)} ms | ${x.latencyMs.p999.toFixed(2)} ms |`);
  lines.push('', `sustainable rate, one worker: ${Math.round(r.sustainable.perSec).toLocaleString('en-US')} events/s (${r.sustainable.events.toLocaleString('en-US')} events drained in ${r.sustainable.seconds.toFixed(2)} s, start-up included)`, '');
  const peer = r.reads[0];
  lines.push('| read | p50 | p99 | p99 vs raw HMGET |', '|---|---|---|---|');
  for (const x of r.reads) lines.push(`| ${x.name} | ${x.p50Ms.toFixed(3)} ms | ${x.p99Ms.toFixed(3)} ms | ${(x.p99Ms / peer.p99Ms).toFixed(1)}x |`);
  return lines.join('\n');
}
