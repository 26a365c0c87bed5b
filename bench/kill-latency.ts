/**
 * Kill latency bench: triggering event → kill switch on, live, at a fixed input rate (goal: p99
 * ≤ 100 ms at 10k events/s, issue 18), with tick → factor served of the same run as the peer.
 *
 * Set-up: a private redis-server, one `lockstep live` worker (a child process, as in
 * `lockstep bench live`) over 2 shards, and `lockstep kill-guard` (another child process) with a
 * policy `price_collar_flag → kill-symbol`; the guard logs each trigger's latency, read here. A generated day's events are fed at `rate`
 * events/s in 1 ms slices (XADD pipelines; heartbeats left out, as the live bench does). Crashes
 * are injected: after the collar's warm-up (event time 14:00), every `crashEvery`-th trade of the
 * day has its price multiplied by 1.25, which trips the collar at that trade (the next normal
 * trade re-arms it), so each crash is one trigger.
 *
 * Measures, on the same clocks:
 * - kill: the triggering trade's input entry ID time (Redis's clock at the XADD: its arrival) to
 *   the guard's `Date.now()` once the switch's script call returned (the same machine's clock);
 * - peer, tick → factor served: every output row's entry ID time (the commit that made it and the
 *   latest values readable) minus its input entry ID time, +1 ms for the IDs' resolution (as
 *   `lockstep bench live` reports it on Redis's clock).
 * Run: `npx tsx bench/kill-latency.ts [--rate 10000] [--seconds 20] [--json out.json]`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MarketEvent } from '../core/events.ts';
import { generateDay } from '../datasets/generate.ts';
import { inputStream, outputStream, type KeyLayout } from '../live/keys.ts';
import { rowsOfEntry, type OutputRow } from '../live/read-output.ts';
import { openRedis } from '../live/redis-connect.ts';
import { RedisHarness } from '../live/redis-harness.ts';
import { shardOf } from '../live/shard.ts';
import { encodeEvent } from '../live/wire.ts';
import { EventMerge } from '../replay/merge.ts';
import { openSelection } from '../replay/run-replay.ts';
import { percentiles, type Percentiles } from './live-bench.ts';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const DATE = '2024-03-15';
const CRASH_FROM = 1710511200_000_000_000n; // 14:00Z: the collar (20 closed 1-minute bars) is warm

export interface KillLatencyResult {
  rate: number;
  achieved: number;
  events: number;
  crashes: number;
  triggers: number;
  /** Arrival of the triggering event → switch on, ms. */
  killMs: Percentiles;
  /** The guard's own share: the triggering row's commit → switch on, ms. */
  guardMs: Percentiles;
  /** Peer: tick → factor served (Redis clock, +1 ms), every row of the run. */
  servedMs: Percentiles;
  /** kill p99 / served p99. */
  ratio: number;
  goalMs: number;
  loadavg: number[];
}

async function loadEvents(catalog: string, limit: number, crashEvery: number): Promise<{ events: MarketEvent[]; crashes: number }> {
  const opened = await openSelection({ catalog, date: DATE });
  const m = new EventMerge(opened.cursors);
  const events: MarketEvent[] = [];
  let trades = 0;
  let crashes = 0;
  for (let e = m.next(); e !== null && events.length < limit; e = m.next()) {
    if (e.kind === 'heartbeat') continue;
    if (e.kind === 'trade' && e.tsRecv >= CRASH_FROM && ++trades % crashEvery === 0) {
      events.push({ ...e, price: e.price * 1.25 });
      crashes++;
    } else events.push(e);
  }
  await opened.close();
  return { events, crashes };
}

function startWorker(url: string, keys: KeyLayout): ChildProcess {
  return spawn(process.execPath, [join(HERE, '../bin/lockstep.js'), 'live', '--redis', url, '--ns', keys.ns, '--shards', String(keys.shards), '--consumer', 'bench'], { stdio: ['ignore', 'ignore', 'ignore'] });
}

/** Runs the bench; prints a table and returns the figures. */
export async function benchKillLatency(opts: { rate?: number; seconds?: number; symbols?: number; crashEvery?: number; json?: string; log?: (s: string) => void } = {}): Promise<KillLatencyResult> {
  const log = opts.log ?? ((s: string) => console.log(s));
  const rate = opts.rate ?? 10_000;
  const seconds = opts.seconds ?? 20;
  const dir = mkdtempSync(join(tmpdir(), 'kill-latency-'));
  const redis = await RedisHarness.start();
  const keys: KeyLayout = { ns: 'kl', shards: 2 };
  const r = await openRedis(redis.url, { commandTimeoutMs: 60_000 });
  let worker: ChildProcess | null = null;
  let stopGuard = () => {};
  try {
    await generateDay({ date: DATE, symbols: opts.symbols ?? 12, seed: 11, preset: 'tiny', out: join(dir, 'cat') });
    const { events, crashes } = await loadEvents(join(dir, 'cat'), Math.floor(rate * seconds), opts.crashEvery ?? 40);
    const fields = events.map((e) => [inputStream(keys, shardOf(e.symbol, keys.shards)), encodeEvent(e)] as const);
    worker = startWorker(redis.url, keys);
    // the guard as its own process (the real CLI), like the worker: the feeder's CPU is not its
    writeFileSync(join(dir, 'kill.json'), JSON.stringify({ flags: { price_collar_flag: 'kill-symbol' } }));
    const kill: number[] = [];
    /** The guard's own share: its output row's commit (entry ID time) → switch on. */
    const own: number[] = [];
    const guardProc = spawn(process.execPath, [join(HERE, '../bin/lockstep.js'), 'kill-guard', '--redis', redis.url, '--ns', keys.ns, '--policy', join(dir, 'kill.json')], { stdio: ['ignore', 'pipe', 'inherit'] });
    let fired = 0;
    let partial = '';
    guardProc.stdout!.setEncoding('utf8').on('data', (d: string) => {
      const lines = (partial + d).split('\n');
      partial = lines.pop()!;
      for (const l of lines) {
        const m = / on (-?\d+) ms after the event's arrival(?: \((-?\d+) ms after its row's commit\))?/.exec(l);
        if (m) kill.push(Number(m[1]));
        if (m?.[2] !== undefined) own.push(Number(m[2]));
        if (l.startsWith('kill-guard: kill-symbol')) fired++;
      }
    });
    const guard = new Promise<void>((res) => guardProc.once('exit', () => res()));
    stopGuard = () => guardProc.exitCode === null && guardProc.kill('SIGTERM');
    // the worker holds its shards once it wrote the deployment's columns
    for (let i = 0; i < 600 && !(await r.hget(`${keys.ns}:meta`, 'columns')); i++) await new Promise((res) => setTimeout(res, 100));
    const t0 = performance.now();
    let i = 0;
    while (i < events.length) {
      const due = Math.min(events.length, Math.floor(((performance.now() - t0) / 1000) * rate));
      if (due > i) {
        const p = r.pipeline();
        for (let j = i; j < due; j++) p.xadd(fields[j][0], '*', ...fields[j][1]);
        await p.exec();
        i = due;
      } else await new Promise((res) => setTimeout(res, 1));
    }
    const achieved = events.length / ((performance.now() - t0) / 1000);
    const loadavg = (await import('node:os')).loadavg();
    // drained: every input acknowledged by the worker, then the guard's last poll
    const drained = async () => {
      for (let s = 0; s < keys.shards; s++) {
        const groups = (await r.xinfo('GROUPS', inputStream(keys, s)).catch(() => [])) as unknown[][];
        const g = groups.map((x) => Object.fromEntries(Array.from({ length: x.length / 2 }, (_, i) => [x[2 * i], x[2 * i + 1]])))[0];
        if (!g || Number(g.pending) !== 0 || Number(g.lag ?? 1) !== 0) return false;
      }
      return true;
    };
    for (let k = 0; k < 600 && !(await drained()); k++) await new Promise((res) => setTimeout(res, 100));
    await new Promise((res) => setTimeout(res, 500));
    stopGuard();
    await guard;
    const served: number[] = [];
    for (let s = 0; s < keys.shards; s++) {
      let from = '-';
      for (;;) {
        const batch = (await r.xrange(outputStream(keys, s), from, '+', 'COUNT', 2000)) as [string, string[]][];
        if (batch.length === 0) break;
        from = `(${batch[batch.length - 1][0]}`;
        for (const [id, f] of batch) {
          const rows: OutputRow[] = [];
          rowsOfEntry(f, rows);
          const outMs = Number(id.split('-')[0]);
          for (const row of rows) served.push(outMs - Number(row.input.split('-')[0]) + 1);
        }
      }
    }
    const res: KillLatencyResult = { rate, achieved, events: events.length, crashes, triggers: fired, killMs: percentiles(kill), guardMs: percentiles(own), servedMs: percentiles(served), ratio: 0, goalMs: 100, loadavg };
    res.ratio = res.killMs.p99 / res.servedMs.p99;
    const row = (name: string, p: Percentiles) => `| ${name} | ${p.n} | ${p.p50} | ${p.p99} | ${p.p999} | ${p.max} |`;
    log(`kill latency bench: ${events.length} events at ${rate}/s (achieved ${achieved.toFixed(0)}/s), ${crashes} crashes injected, ${fired} triggers acted on; load average ${loadavg.map((x) => x.toFixed(1)).join(' ')}`);
    log('| measure | n | p50 ms | p99 ms | p99.9 ms | max ms |');
    log('|---|---|---|---|---|---|');
    log(row('triggering event arrival → kill switch on', res.killMs));
    log(row("of which the guard's share: its row's commit → switch on", res.guardMs));
    log(row('peer: tick → factor served (Redis clock, +1 ms)', res.servedMs));
    log(`kill p99 = ${res.ratio.toFixed(2)}x the served p99; goal p99 <= ${res.goalMs} ms: ${res.killMs.p99 <= res.goalMs ? 'met' : 'NOT met'}`);
    if (opts.json) writeFileSync(opts.json, JSON.stringify(res, null, 2));
    return res;
  } finally {
    stopGuard();
    if (worker && worker.exitCode === null) {
      const w = worker;
      await new Promise<void>((res) => {
        w.once('exit', () => res());
        w.kill('SIGTERM');
      });
    }
    r.disconnect();
    await redis.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  await benchKillLatency({ rate: Number(arg('rate') ?? 10_000), seconds: Number(arg('seconds') ?? 20), json: arg('json') });
}
