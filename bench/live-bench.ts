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
 *
 * Diagnostics (environment): LOCKSTEP_BENCH_WORKER_NODE_ARGS passes node flags to the worker
 * (e.g. `--cpu-prof --cpu-prof-dir=DIR`, `--trace-gc`), LOCKSTEP_BENCH_WORKER_STDOUT=1 shows its
 * stdout (where --trace-gc prints), LOCKSTEP_BENCH_LATENCY_TRACE=DIR writes each fixed-rate run's
 * per-event send time and latencies as CSV.
 */
import { appendDeployment, registerVersion } from '../models/registry.ts';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MarketEvent } from '../core/events.ts';
import { applyEvent, createFactorSet, initFold } from '../core/fold.ts';
import { inputStream, leaseKey, outputStream, type KeyLayout } from '../live/keys.ts';
import { openRedis, type RedisClient } from '../live/redis-connect.ts';
import { RedisHarness } from '../live/redis-harness.ts';
import { shardOf } from '../live/shard.ts';
import { idMsPart } from '../live/stream-id.ts';
import { StreamReader } from '../live/stream-reader.ts';
import { encodeEvent } from '../live/wire.ts';
import { EventMerge } from '../replay/merge.ts';
import { openSelection } from '../replay/run-replay.ts';
import { FROM_SOURCE } from '../replay/worker-thread.ts';
import { formatLiveBench, loadLine } from './live-bench-format.ts';
import { watchLoad, type RunLoad } from './live-load.ts';
import { readRuns } from './live-reads.ts';

const HERE = fileURLToPath(new URL('.', import.meta.url));
export const DATE = '2024-03-15';

export interface Percentiles {
  n: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
}

export interface LiveBenchResult {
  rates: {
    target: number;
    achieved: number;
    /** Feeder's send → the row seen by a subscriber in the bench process (its own delays included). */
    latencyMs: Percentiles;
    /**
     * Redis's clock: the output entry's ID (stamped when the commit script ran, which made the row
     * and the latest values readable) minus the input entry's ID (stamped at the XADD), in ms, +1
     * for the IDs' millisecond resolution: an upper bound, untouched by the subscriber's pauses.
     */
    latencyRedisMs?: Percentiles;
    /** What the machine was doing while this run fed (see RunLoad); absent off Linux. */
    load?: RunLoad;
    /**
     * The peer: the echo relay (bench/echo-relay.ts: read, write one output entry, ack; nothing
     * computed) fed the same events at the same rate in the same conditions, just before.
     */
    peer?: RateRun;
    /** The same rate with a registry holding a logistic model (`models`): tick → signal served. */
    signal?: RateRun;
  }[];
  sustainable: { events: number; seconds: number; perSec: number; startupSeconds?: number; perSecAfterStartup?: number };
  /** Read latency after `warmup` untimed reads of the same kind. */
  reads: { name: string; p50Ms: number; p99Ms: number; n: number; warmup?: number }[];
}

export function percentiles(xs: number[]): Percentiles {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
  return { n: s.length, p50: at(0.5), p99: at(0.99), p999: at(0.999), max: s[s.length - 1] ?? NaN };
}

export async function loadEvents(catalog: string, limit: number): Promise<MarketEvent[]> {
  const opened = await openSelection({ catalog, date: DATE });
  const m = new EventMerge(opened.cursors);
  const out: MarketEvent[] = [];
  for (let e = m.next(); e !== null && out.length < limit; e = m.next()) out.push(e);
  await opened.close();
  return out;
}

/**
 * A `lockstep live` child; `running` resolves when it holds its shards and starts reading. `root`:
 * the checkout whose `bin/lockstep.js` runs (bench/live-bench-ab.ts runs two), this one by default.
 */
export function startWorker(url: string, keys: KeyLayout, consumer: string, extra: readonly string[] = [], root = join(HERE, '..')): { proc: ChildProcess; running: Promise<void> } {
  // LOCKSTEP_BENCH_WORKER_NODE_ARGS: extra node flags for the worker (e.g. --cpu-prof to profile it)
  const nodeArgs = (process.env.LOCKSTEP_BENCH_WORKER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const proc = spawn(process.execPath, [...nodeArgs, join(root, 'bin/lockstep.js'), 'live', '--redis', url, '--ns', keys.ns, '--shards', String(keys.shards), '--consumer', consumer, ...extra], { stdio: ['ignore', process.env.LOCKSTEP_BENCH_WORKER_STDOUT ? 'inherit' : 'ignore', 'pipe'] });
  return { proc, running: announced(proc) };
}

/**
 * The peer (bench/echo-relay.ts) as its own process, like the worker; `running` resolves when its
 * consumer group exists and it reads.
 */
function startEchoRelay(url: string, keys: KeyLayout, consumer: string): { proc: ChildProcess; running: Promise<void> } {
  // from source the relay is TypeScript run through tsx; from the built package it is compiled
  const entry = FROM_SOURCE ? ['--import', import.meta.resolve('tsx'), join(HERE, 'echo-relay.ts')] : [join(HERE, 'echo-relay.js')];
  const proc = spawn(process.execPath, [...entry, url, keys.ns, String(keys.shards), consumer], { stdio: ['ignore', 'ignore', 'pipe'] });
  return { proc, running: announced(proc) };
}

/** Resolves once the child's stderr says `running shards` (echoing what it prints). */
function announced(proc: ChildProcess): Promise<void> {
  return new Promise<void>((resolve) => {
    let seen = '';
    proc.stderr!.on('data', (d) => {
      process.stderr.write(d);
      if (seen !== 'done' && (seen += String(d)).includes('running shards')) {
        seen = 'done';
        resolve();
      }
    });
  });
}

/** The rows of an output stream entry (field `rows`: a commit's rows, one per line; `r`: one row). */
function entryRows(f: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < f.length; i += 2) {
    if (f[i] === 'rows') out.push(...f[i + 1].split('\n'));
    else if (f[i] === 'r') out.push(f[i + 1]);
  }
  return out;
}

/**
 * The feeder's connection: each event's XADD is encoded as RESP before the run, and a 1 ms slice
 * of them is one socket write. Feeding through a client library cost ~25 µs of CPU per event
 * (at 50k events/s more than one of the machine's two cores, taken from Redis and the worker
 * under test); this costs ~1 µs. Replies are counted and checked, and each slice waits for its
 * replies, so the feeder never runs ahead of Redis.
 */
class RawFeeder {
  private replies = 0;
  private error: string | null = null;
  private partial = '';
  private bodyNext = false;
  private waiter: { n: number; resolve: () => void } | null = null;

  private constructor(private readonly sock: Socket) {
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => this.onData(d));
  }

  static async open(url: string): Promise<RawFeeder> {
    const u = new URL(url);
    const sock = connect(Number(u.port), u.hostname);
    await new Promise<void>((resolve, reject) => {
      sock.once('connect', resolve);
      sock.once('error', reject);
    });
    sock.setNoDelay(true);
    return new RawFeeder(sock);
  }

  /** RESP for XADD stream * fields... */
  static encode(stream: string, fields: readonly string[]): string {
    const args = ['XADD', stream, '*', ...fields];
    let s = `*${args.length}\r\n`;
    for (const a of args) s += `$${Buffer.byteLength(a)}\r\n${a}\r\n`;
    return s;
  }

  /** Writes `text` (n commands) and waits for their n replies. */
  async send(text: string, n: number): Promise<void> {
    const target = this.replies + n;
    const done = new Promise<void>((resolve) => (this.waiter = { n: target, resolve }));
    this.sock.write(text, 'latin1');
    await done;
    if (this.error !== null) throw new Error(`feeder XADD failed: ${this.error}`);
  }

  close(): void {
    this.sock.destroy();
  }

  private onData(d: string): void {
    const lines = (this.partial + d).split('\r\n');
    this.partial = lines.pop()!;
    for (const line of lines) {
      if (this.bodyNext) {
        this.bodyNext = false;
        this.replies++;
      } else if (line.startsWith('$')) this.bodyNext = true;
      else {
        if (line.startsWith('-')) this.error ??= line.slice(1);
        this.replies++;
      }
    }
    if (this.waiter !== null && this.replies >= this.waiter.n) {
      const w = this.waiter;
      this.waiter = null;
      w.resolve();
    }
  }
}

export async function stopWorker({ proc: w }: { proc: ChildProcess }): Promise<void> {
  if (w.exitCode !== null) return;
  await new Promise<void>((r) => {
    w.once('exit', () => r());
    w.kill('SIGTERM');
  });
}

/**
 * Identities of the events that make an output row when `events` (heartbeats left out, as fed)
 * reach a fresh worker: the fold drops a repeated delivery, including a repeat of an event that
 * only an earlier run was fed, and a run must not wait for rows that never come. The fold with no
 * factors emits the same rows (one per applied event), fast.
 */
function rowsExpected(events: readonly MarketEvent[]): Set<string> {
  const set = createFactorSet([]);
  const st = initFold();
  const keys = new Set<string>();
  for (const e of events) if (e.kind !== 'heartbeat') applyEvent(set, st, e, (ev, symbol) => keys.add(`${ev.kind}/${symbol}/${ev.seq}`));
  return keys;
}

/** Seconds fed at the start of each fixed-rate run before latencies are recorded. */
const WARMUP_S = 1;

export interface RateRun {
  achieved: number;
  latencyMs: Percentiles;
  latencyRedisMs: Percentiles;
  load: RunLoad;
}

/**
 * Feeds `events` at `rate` events/s (in 1 ms slices) and measures XADD → visible output row, with
 * `consumer` reading: our worker, or the echo relay (the peer).
 */
async function latencyRun(url: string, keys: KeyLayout, events: MarketEvent[], rate: number, seconds: number, consumer: 'worker' | 'echo' = 'worker', registry?: string): Promise<RateRun> {
  // generous timeouts: at rates above what the worker sustains, Redis and the CPU are saturated
  const feeder = await RawFeeder.open(url);
  const sub = await openRedis(url, { name: 'bench-sub', commandTimeoutMs: 60_000 });
  // the subscriber follows the output streams with the worker's lean RESP reader: ioredis's reply
  // decoder cost ~0.1 core at 10k rows/s, taken from the worker and Redis under measurement
  const follow = new StreamReader(url, { commandTimeoutMs: 60_000 });
  const total = Math.min(events.length, Math.floor(rate * seconds));
  // encoded before the clock starts (heartbeats are not fed: null)
  const commands = events.slice(0, total).map((e) => (e.kind === 'heartbeat' ? null : RawFeeder.encode(inputStream(keys, shardOf(e.symbol, keys.shards)), encodeEvent(e))));
  const ids = events.slice(0, total).map((e) => `${e.kind}/${e.symbol}/${e.seq}`);
  const expected = rowsExpected(events.slice(0, total));
  const worker = consumer === 'worker' ? startWorker(url, keys, `bench-${rate}`, registry === undefined ? [] : ['--registry', registry]) : startEchoRelay(url, keys, `echo-${rate}`);
  const sent = new Map<string, number>();
  // duplicate deliveries in the data produce no output row (the fold drops them): not timed
  const seen = new Set<string>();
  for (const k of ids) if (!expected.has(k)) seen.add(k);
  const lat: number[] = [];
  /** When each timed event was sent (for LOCKSTEP_BENCH_LATENCY_TRACE). */
  const sentAt: number[] = [];
  const latRedis: number[] = [];
  let stop = false;
  const outs = Array.from({ length: keys.shards }, (_, s) => outputStream(keys, s));
  // fresh streams: read from the start ('$' would skip rows added between two reads)
  const lastIds = outs.map(() => '0-0');
  const reader = (async () => {
    while (!stop) {
      const res = await follow.read(10_000, 100, outs, lastIds);
      const now = performance.now();
      for (const [key, entries] of res ?? []) {
        lastIds[outs.indexOf(key)] = entries[entries.length - 1][0];
        for (const [outId, f] of entries) {
          const outMs = idMsPart(outId);
          for (const row of entryRows(f ?? [])) {
            const [sym, src, seq, , , inId] = row.split('|', 6);
            const k = `${src}/${sym}/${seq}`;
            const t = sent.get(k);
            if (t !== undefined) {
              lat.push(now - t);
              sentAt.push(t);
              latRedis.push(outMs - idMsPart(inId) + 1);
              sent.delete(k);
            }
          }
        }
      }
    }
  })();
  // on a loaded machine start-up (Node + tsx) takes longer: feeding before the worker holds its
  // shards would measure the start-up backlog as tick → served latency
  await Promise.race([worker.running, new Promise((r) => setTimeout(r, 60_000))]);
  if (consumer === 'worker') await waitForLeases(sub, keys, 60_000);
  // its own connection: `sub` sits in blocking XREADs, which would delay the readings
  const mon = await openRedis(url, { name: 'bench-mon' });
  const load = await watchLoad(mon, worker.proc.pid);
  const t0 = performance.now();
  let i = 0;
  while (i < total) {
    const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * rate));
    if (due > i) {
      let text = '';
      let n = 0;
      // keyed by event identity and stamped before sending: the row can be served before the
      // XADD reply is even processed here
      const at = performance.now();
      for (let j = i; j < due; j++) {
        const c = commands[j];
        if (c === null) continue;
        text += c;
        n++;
        // the first WARMUP_S seconds are fed but not timed: a fresh worker's first thousands of
        // events run before the JIT has compiled the hot paths, which a worker running all day
        // does not see again
        if (!seen.has(ids[j]) && at - t0 >= WARMUP_S * 1000) sent.set(ids[j], at);
        seen.add(ids[j]);
      }
      if (n > 0) await feeder.send(text, n);
      i = due;
    } else {
      // sleep rather than spin: a busy feeder would steal a core from Redis and the worker
      await new Promise((r) => setTimeout(r, 1));
    }
  }
  const achieved = total / ((performance.now() - t0) / 1000); // input events per second, heartbeats included
  const machine = await load.stop();
  mon.disconnect();
  // wait for the backlog to drain (a rate above the sustainable one leaves one)
  const deadline = performance.now() + 60_000;
  while (sent.size > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const lost = sent.size;
  if (lost > 0) console.log(`  warning: ${lost} events not served within 60 s of the end of the run`);
  stop = true;
  await reader;
  await stopWorker(worker);
  feeder.close();
  sub.disconnect();
  follow.close();
  // LOCKSTEP_BENCH_LATENCY_TRACE=DIR: each timed event's send time (ms from the run's start) and
  // latencies, one CSV per run, to tell a few long stalls from a broad tail
  const traceDir = process.env.LOCKSTEP_BENCH_LATENCY_TRACE;
  if (traceDir) {
    mkdirSync(traceDir, { recursive: true });
    const lines = ['sent_ms,latency_ms,redis_clock_ms', ...lat.map((x, j) => `${(sentAt[j] - t0).toFixed(3)},${x.toFixed(3)},${latRedis[j]}`)];
    writeFileSync(join(traceDir, `${consumer}-${rate}.csv`), lines.join('\n') + '\n');
  }
  return { achieved, latencyMs: percentiles(lat), latencyRedisMs: percentiles(latRedis), load: machine };
}

/** Waits until a worker holds every shard's lease (it takes them at start-up, then reads). */
/** A registry with one logistic model over default factors (made once in the bench folder). */
function benchRegistry(dir: string): string {
  const reg = join(dir, 'bench-registry');
  if (existsSync(join(reg, 'deployments.jsonl'))) return reg;
  const file = join(dir, 'bench-momo.json');
  writeFileSync(file, JSON.stringify({ lockstep_model: 1, name: 'momo', version: 1, kind: 'logistic', inputs: ['return_1m', 'rsi_14', 'quote_imbalance'], standardize: { mean: [0, 50, 0], std: [0.001, 15, 0.5] }, clip: [-4, 4], coef: [0.6, -0.4, 0.3], intercept: 0 }));
  registerVersion(reg, file);
  appendDeployment(reg, { at: 0n, slot: 'momo', action: 'deploy', version: 1, mode: 'live' });
  return reg;
}

async function waitForLeases(r: RedisClient, keys: KeyLayout, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const held = await Promise.all(Array.from({ length: keys.shards }, (_, s) => r.exists(leaseKey(keys, s))));
    if (held.every((x) => x === 1)) return;
    if (performance.now() > deadline) throw new Error(`the bench worker did not take its ${keys.shards} shards within ${timeoutMs} ms`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

/** True when every input entry of the deployment was delivered and acknowledged. */
export async function drained(r: RedisClient, keys: KeyLayout): Promise<boolean> {
  for (let s = 0; s < keys.shards; s++) {
    const groups = (await r.xinfo('GROUPS', inputStream(keys, s)).catch(() => [])) as unknown[][];
    const g = groups.map((x) => Object.fromEntries(Array.from({ length: x.length / 2 }, (_, i) => [x[2 * i], x[2 * i + 1]])))[0];
    if (!g || Number(g.pending) !== 0 || Number(g.lag ?? 1) !== 0) return false;
  }
  return true;
}

/** Pre-loads a backlog, then times one worker draining it. */
async function sustainableRun(url: string, keys: KeyLayout, events: MarketEvent[]): Promise<LiveBenchResult['sustainable']> {
  const r = await openRedis(url, { name: 'bench-backlog', commandTimeoutMs: 60_000 });
  const market = events.filter((e) => e.kind !== 'heartbeat');
  for (let i = 0; i < market.length; i += 5000) {
    const p = r.pipeline();
    for (const e of market.slice(i, i + 5000)) p.xadd(inputStream(keys, shardOf(e.symbol, keys.shards)), '*', ...encodeEvent(e));
    await p.exec();
  }
  const t0 = performance.now();
  const worker = startWorker(url, keys, 'bench-drain');
  let startedAt = NaN;
  void worker.running.then(() => (startedAt = performance.now()));
  // done when every input entry is acknowledged: its rows are committed with its ack
  const deadline = performance.now() + 300_000;
  let doneAt = NaN;
  while (performance.now() < deadline) {
    await new Promise((res) => setTimeout(res, 50));
    if (await drained(r, keys)) {
      doneAt = performance.now();
      break;
    }
  }
  await stopWorker(worker);
  r.disconnect();
  if (Number.isNaN(doneAt)) throw new Error('the bench worker did not drain its backlog within 300 s');
  const seconds = (doneAt - t0) / 1000;
  const startupSeconds = (startedAt - t0) / 1000;
  // start-up (~0.5-1 s of Node + tsx) is inside `seconds`: perSec is conservative;
  // perSecAfterStartup counts from the moment the worker held its shards and started reading
  return { events: market.length, seconds, perSec: market.length / seconds, startupSeconds, perSecAfterStartup: market.length / (seconds - startupSeconds) };
}

export async function benchLive(opts: { dir: string; json?: string; seconds?: number; rates?: number[]; drainEvents?: number; skipReads?: boolean; /** run the echo relay peer at each rate (default true) */ peer?: boolean; /** also run each rate with a registry holding a logistic model: tick → signal served (models) */ models?: boolean }): Promise<LiveBenchResult> {
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
    if (!opts.skipReads) out.reads = await readRuns(redis.url);
    // each rate run feeds WARMUP_S untimed seconds, then `seconds` timed ones
    const fed = (rate: number) => rate * (seconds + WARMUP_S);
    const events = await loadEvents(catalog, rates.reduce((a, r) => a + fed(r), 0) + (opts.drainEvents ?? 300_000) + 100_000);
    let offset = 0;
    for (const rate of rates) {
      const slice = events.slice(offset, offset + fed(rate));
      offset += slice.length;
      let peer: RateRun | undefined;
      if (opts.peer !== false) {
        peer = await latencyRun(redis.url, { ns: `echo${rate}`, shards: 4 }, slice, rate, seconds + WARMUP_S, 'echo');
        console.log(`  ${rate} ev/s target, echo relay (peer): achieved ${peer.achieved.toFixed(0)}, tick->served p50 ${peer.latencyMs.p50.toFixed(2)} ms p99 ${peer.latencyMs.p99.toFixed(2)} ms p999 ${peer.latencyMs.p999.toFixed(2)} ms (n=${peer.latencyMs.n}); Redis clock p50 ≤${peer.latencyRedisMs.p50} p99 ≤${peer.latencyRedisMs.p99} p999 ≤${peer.latencyRedisMs.p999} ms; ${loadLine(peer.load, 'relay')}`);
      }
      const r = await latencyRun(redis.url, { ns: `lat${rate}`, shards: 4 }, slice, rate, seconds + WARMUP_S);
      out.rates.push({ target: rate, ...r, peer });
      if (opts.models) {
        // the same events and rate, the workers running a logistic model after the factors: the
        // signal is in the same output row as the factors it reads, so tick → signal served is
        // that row's tick → served
        const m = await latencyRun(redis.url, { ns: `sig${rate}`, shards: 4 }, slice, rate, seconds + WARMUP_S, 'worker', benchRegistry(dir));
        out.rates[out.rates.length - 1].signal = m;
        console.log(`  ${rate} ev/s target, with a logistic model: tick->signal served p50 ${m.latencyMs.p50.toFixed(2)} ms p99 ${m.latencyMs.p99.toFixed(2)} ms p999 ${m.latencyMs.p999.toFixed(2)} ms (n=${m.latencyMs.n}); p99 ${(m.latencyMs.p99 / r.latencyMs.p99).toFixed(2)}x tick->factor served`);
      }
      console.log(`  ${rate} ev/s target: achieved ${r.achieved.toFixed(0)}, tick->served p50 ${r.latencyMs.p50.toFixed(2)} ms p99 ${r.latencyMs.p99.toFixed(2)} ms p999 ${r.latencyMs.p999.toFixed(2)} ms (n=${r.latencyMs.n}); Redis clock p50 ≤${r.latencyRedisMs.p50} p99 ≤${r.latencyRedisMs.p99} p999 ≤${r.latencyRedisMs.p999} ms; ${loadLine(r.load)}`);
    }
    // the backlog drained for the sustainable rate (default 300k; the quick release gate uses less)
    out.sustainable = await sustainableRun(redis.url, { ns: 'drain', shards: 4 }, events.slice(offset, offset + (opts.drainEvents ?? 300_000)));
    console.log(`  sustainable: ${out.sustainable.perSec.toFixed(0)} events/s per worker (${out.sustainable.events} events in ${out.sustainable.seconds.toFixed(2)} s; ${out.sustainable.perSecAfterStartup!.toFixed(0)} events/s after ${out.sustainable.startupSeconds!.toFixed(2)} s of start-up)`);
    console.log(formatLiveBench(out));
    if (opts.json) writeFileSync(opts.json, JSON.stringify(out, null, 2));
    return out;
  } finally {
    await redis.close();
  }
}
