/**
 * The dashboard under load, in a real headless Chromium, through the real CLI (`lockstep serve
 * --dashboard` over a private redis-server). Two measurements (issue 19, Speed):
 *
 * 1. Responsiveness: the factors grid open while N symbols × 30 factors (default 50) are written 10
 *    times a second as the workers write latest values; the browser's own frame times
 *    (requestAnimationFrame deltas) and long tasks (PerformanceObserver), with the same page idle for
 *    the same time as the peer.
 * 2. Fed → on screen: a real worker (`lockstep live`, 2 shards) fed a generated day at `rate`
 *    events/s (default 10,000; XADD pipelines in 1 ms slices, heartbeats left out, as `lockstep bench
 *    live` feeds), the grid of the day's symbols open. Each value the page draws is matched, by
 *    (symbol, ts_event), with the input entry that carried its event: arrival = the entry ID's time
 *    (Redis's clock at the XADD), on screen = `performance.timeOrigin + performance.now()` at the start
 *    of the frame after the page drew it (that frame's drawing has been presented by then). Same
 *    machine, same wall clock; IDs have 1 ms resolution, so figures are up to 1 ms high. Peer of the
 *    same run: tick → factor served (every output row's commit entry ID − its input entry ID + 1 ms,
 *    as the live bench reports it), and the dashboard's own share: the drawn row's commit → on screen.
 *    Goal: on screen p99 ≤ 250 ms at 10k events/s.
 *
 *   lockstep bench dashboard [--seconds 10] [--rates 10000] [--json out.json]
 *   node --import tsx bench/dashboard-bench.ts [seconds=10] [rate=10000] [symbols=50]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'puppeteer-core';
import type { MarketEvent } from '../core/events.ts';
import { generateDay } from '../datasets/generate.ts';
import { latestPairs } from '../live/commit-script.ts';
import { inputStream, latestKey, metaKey, outputStream, type KeyLayout } from '../live/keys.ts';
import { rowsOfEntry, type OutputRow } from '../live/read-output.ts';
import { openRedis } from '../live/redis-connect.ts';
import { RedisHarness } from '../live/redis-harness.ts';
import { shardOf } from '../live/shard.ts';
import { encodeEvent } from '../live/wire.ts';
import { latestRow } from '../live/worker/row-format.ts';
import { EventMerge } from '../replay/merge.ts';
import { openSelection } from '../replay/run-replay.ts';
import { chromiumSkipReason, launchChromium } from '../dashboard/chromium.ts';
import { measureLoad, startRecording, stopRecording, type LoadFigures } from '../dashboard/measure.ts';
import { percentiles, type Percentiles } from './live-bench.ts';

const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..');
const CLI = join(ROOT, 'bin/lockstep.js');
const DATE = '2024-03-15';
const GOAL_MS = 250;

export interface DashboardBenchResult {
  grid: { symbols: number; columns: number; seconds: number; idle: Omit<LoadFigures, 'line'>; busy: Omit<LoadFigures, 'line'> };
  fed: {
    rate: number;
    achieved: number;
    events: number;
    symbols: number;
    /** Input arrival → value on screen, ms. */
    screenMs: Percentiles;
    /** The dashboard's own share: the drawn row's commit → on screen, ms. */
    dashboardMs: Percentiles;
    /** Peer: tick → factor served, every row of the run, ms. */
    servedMs: Percentiles;
    /** screen p99 / served p99. */
    ratio: number;
    frameMs: { p50: number; p99: number };
    goalMs: number;
  };
  loadavg: number[];
}

/** `lockstep serve --dashboard ARGS` on a free port; resolves with the process and its base address. */
function startServe(args: string[]): Promise<{ proc: ChildProcess; base: string }> {
  const proc = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--dashboard', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((done, fail) => {
    let out = '';
    proc.stdout!.on('data', (d) => {
      out += d.toString();
      const m = /dashboard (http:\/\/[^/]+)\/dashboard/.exec(out);
      if (m) done({ proc, base: m[1] });
    });
    proc.once('exit', (code) => fail(new Error(`serve exited with ${code}`)));
  });
}

async function stop(p: ChildProcess | null): Promise<void> {
  if (!p || p.exitCode !== null || p.signalCode !== null) return;
  await new Promise<void>((res) => {
    p.once('exit', () => res());
    p.kill('SIGTERM');
  });
}

/** 1: the grid's frame times at `nSymbols` × 30 factors, 10 updates/s a symbol, and idle (the peer). */
async function gridRun(browser: Browser, seconds: number, nSymbols: number): Promise<DashboardBenchResult['grid']> {
  const keys: KeyLayout = { ns: 'ls', shards: 4 };
  const columns = Array.from({ length: 30 }, (_, i) => (i === 0 ? 'last_price' : `f${String(i).padStart(2, '0')}`));
  const symbols = Array.from({ length: nSymbols }, (_, i) => `SYM${String(i).padStart(3, '0')}`);
  const redis = await RedisHarness.start();
  const r = await openRedis(redis.url);
  let serve: ChildProcess | null = null;
  try {
    await r.hset(metaKey(keys), 'shards', '4', 'columns', columns.join(','), 'featureSetVersion', 'bench');
    let seq = 0;
    const tick = async (k: number, now: number): Promise<string[]> => {
      const p = r.pipeline();
      const out: string[] = [];
      for (const [i, s] of symbols.entries()) {
        seq++;
        const te = 1710511200000000000n + BigInt(seq) * 1000n;
        const packed = columns.map((_, c) => (100 + i + c + k / 1000).toFixed(4)).join(',');
        p.hset(latestKey(keys, s), ...latestPairs(`${seq}-0`, latestRow({ id: `${seq}-0`, kind: 'trade', seq: BigInt(seq), tsEvent: te, tsRecv: te, packed }, 'bench', String(now)), columns));
        out.push(`${s}|${te}`);
      }
      await p.exec();
      return out;
    };
    await tick(0, Date.now());
    const started = await startServe(['--redis', redis.url, '--shards', '4']);
    serve = started.proc;
    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 900 });
    await page.goto(`${started.base}/dashboard/factors`);
    await page.waitForFunction(`window.__dash.grid && window.__dash.grid.rows === ${nSymbols}`, { timeout: 20_000 });
    const { line: _i, ...idle } = await measureLoad(page, seconds * 1000, async () => []);
    const { line: _b, ...busy } = await measureLoad(page, seconds * 1000, tick);
    await page.close();
    return { symbols: nSymbols, columns: columns.length, seconds, idle, busy };
  } finally {
    await stop(serve);
    r.disconnect();
    await redis.close();
  }
}

async function loadEvents(catalog: string, limit: number): Promise<MarketEvent[]> {
  const opened = await openSelection({ catalog, date: DATE });
  const m = new EventMerge(opened.cursors);
  const out: MarketEvent[] = [];
  for (let e = m.next(); e !== null && out.length < limit; e = m.next()) if (e.kind !== 'heartbeat') out.push(e);
  await opened.close();
  return out;
}

/** 2: a real worker fed at `rate` events/s; input arrival → value on the grid, with its peers. */
async function fedRun(browser: Browser, seconds: number, rate: number): Promise<DashboardBenchResult['fed']> {
  const nSymbols = 12;
  const dir = mkdtempSync(join(tmpdir(), 'dash-bench-'));
  const redis = await RedisHarness.start();
  const keys: KeyLayout = { ns: 'ls', shards: 2 };
  const r = await openRedis(redis.url, { commandTimeoutMs: 60_000 });
  let worker: ChildProcess | null = null;
  let serve: ChildProcess | null = null;
  try {
    const want = Math.floor(rate * seconds);
    await generateDay({ date: DATE, symbols: nSymbols, seed: 19, preset: 'tiny', eventsPerSymbol: Math.ceil((want * 1.2) / nSymbols), out: join(dir, 'cat') });
    const events = await loadEvents(join(dir, 'cat'), want);
    const symbols = [...new Set(events.map((e) => e.symbol))].sort();
    const fields = events.map((e) => [inputStream(keys, shardOf(e.symbol, keys.shards)), encodeEvent(e)] as const);
    worker = spawn(process.execPath, [CLI, 'live', '--redis', redis.url, '--ns', keys.ns, '--shards', String(keys.shards), '--consumer', 'bench'], { stdio: ['ignore', 'ignore', 'inherit'] });
    for (let i = 0; i < 600 && !(await r.hget(metaKey(keys), 'columns')); i++) await new Promise((res) => setTimeout(res, 100));
    const started = await startServe(['--redis', redis.url, '--shards', String(keys.shards), '--dashboard-symbols', symbols.join(',')]);
    serve = started.proc;
    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 900 });
    await page.goto(`${started.base}/dashboard/factors`);
    await page.waitForFunction(`window.__dash.grid && window.__dash.grid.rows === ${symbols.length}`, { timeout: 20_000 });
    await startRecording(page);
    /** `symbol|ts_event` → the arrival (entry ID ms) of the last input carrying that event. */
    const arrival = new Map<string, number>();
    const t0 = performance.now();
    let i = 0;
    while (i < events.length) {
      const due = Math.min(events.length, Math.floor(((performance.now() - t0) / 1000) * rate));
      if (due > i) {
        const p = r.pipeline();
        for (let j = i; j < due; j++) p.xadd(fields[j][0], '*', ...fields[j][1]);
        const ids = (await p.exec()) ?? [];
        for (let j = i; j < due; j++) arrival.set(`${events[j].symbol}|${events[j].tsEvent}`, Number(String(ids[j - i][1]).split('-')[0]));
        i = due;
      } else await new Promise((res) => setTimeout(res, 1));
    }
    const achieved = events.length / ((performance.now() - t0) / 1000);
    // drained: every input acknowledged by the worker (its last rows committed), then the page's last update
    const drained = async () => {
      for (let s = 0; s < keys.shards; s++) {
        const groups = (await r.xinfo('GROUPS', inputStream(keys, s)).catch(() => [])) as unknown[][];
        const g = groups.map((x) => Object.fromEntries(Array.from({ length: x.length / 2 }, (_, k) => [x[2 * k], x[2 * k + 1]])))[0];
        if (!g || Number(g.pending) !== 0 || Number(g.lag ?? 1) !== 0) return false;
      }
      return true;
    };
    for (let k = 0; k < 1200 && !(await drained()); k++) await new Promise((res) => setTimeout(res, 100));
    await new Promise((res) => setTimeout(res, 1500));
    const got = await stopRecording(page);
    await page.close();
    // every output row: its commit time, for the peer and the dashboard's share
    const served: number[] = [];
    const commit = new Map<string, number>();
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
          for (const row of rows) {
            served.push(outMs - Number(row.input.split('-')[0]) + 1);
            commit.set(`${row.symbol}|${row.tsEvent}`, outMs);
          }
        }
      }
    }
    const screen: number[] = [];
    const own: number[] = [];
    for (const [s, te, t] of got.painted) {
      const a = arrival.get(`${s}|${te}`);
      const c = commit.get(`${s}|${te}`);
      if (a !== undefined) screen.push(Math.round(t - a));
      if (c !== undefined) own.push(Math.round(t - c));
    }
    const f = [...got.frames].sort((a, b) => a - b);
    const at = (q: number) => f[Math.min(f.length - 1, Math.floor(q * f.length))] ?? NaN;
    const res = { rate, achieved, events: events.length, symbols: symbols.length, screenMs: percentiles(screen), dashboardMs: percentiles(own), servedMs: percentiles(served), ratio: 0, frameMs: { p50: at(0.5), p99: at(0.99) }, goalMs: GOAL_MS };
    res.ratio = res.screenMs.p99 / res.servedMs.p99;
    return res;
  } finally {
    await stop(serve);
    await stop(worker);
    r.disconnect();
    await redis.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs both measurements; prints them and returns the figures (null: no Chromium, the reason printed). */
export async function benchDashboard(opts: { seconds?: number; rate?: number; symbols?: number; json?: string; log?: (s: string) => void } = {}): Promise<DashboardBenchResult | null> {
  const log = opts.log ?? ((s: string) => console.log(s));
  if (chromiumSkipReason) {
    log(chromiumSkipReason);
    return null;
  }
  const seconds = opts.seconds ?? 10;
  const browser = await launchChromium();
  try {
    const grid = await gridRun(browser, seconds, opts.symbols ?? 50);
    const fed = await fedRun(browser, seconds, opts.rate ?? 10_000);
    const res: DashboardBenchResult = { grid, fed, loadavg: loadavg() };
    const fr = (x: { p50: number; p99: number }) => `p50 ${x.p50.toFixed(1)} ms, p99 ${x.p99.toFixed(1)} ms`;
    log(`dashboard bench (headless Chromium, ${seconds} s per run); load average ${res.loadavg.map((x) => x.toFixed(1)).join(' ')}`);
    log(`grid, ${grid.symbols} symbols x ${grid.columns} factors:`);
    log(`| page | frame time | max frame | long tasks | page script's rendering | write -> on screen |`);
    log('|---|---|---|---|---|---|');
    log(`| idle (peer) | ${fr(grid.idle.frameMs)} | ${grid.idle.frameMs.max.toFixed(1)} ms | ${grid.idle.longTasks.count} (${grid.idle.longTasks.ms.toFixed(0)} ms) | ${grid.idle.renderMs.toFixed(0)} ms | — |`);
    log(`| 10 updates/s a symbol | ${fr(grid.busy.frameMs)} | ${grid.busy.frameMs.max.toFixed(1)} ms | ${grid.busy.longTasks.count} (${grid.busy.longTasks.ms.toFixed(0)} ms) | ${grid.busy.renderMs.toFixed(0)} ms in ${grid.busy.renders} renders | ${fr(grid.busy.latencyMs)} (${grid.busy.painted} drawn of ${grid.busy.written} written) |`);
    log(`fed at ${fed.rate} events/s (achieved ${fed.achieved.toFixed(0)}/s), ${fed.events} events over ${fed.symbols} symbols, a real worker on 2 shards, the grid open (frame time ${fr(fed.frameMs)}):`);
    log('| measure | n | p50 ms | p99 ms | p99.9 ms | max ms |');
    log('|---|---|---|---|---|---|');
    const row = (name: string, p: Percentiles) => `| ${name} | ${p.n} | ${p.p50} | ${p.p99} | ${p.p999} | ${p.max} |`;
    log(row('input arrival -> value on screen', fed.screenMs));
    log(row("of which the dashboard's share: the row's commit -> on screen", fed.dashboardMs));
    log(row('peer: tick -> factor served (Redis clock, +1 ms)', fed.servedMs));
    log(`on screen p99 = ${fed.ratio.toFixed(2)}x the served p99; goal p99 <= ${fed.goalMs} ms: ${fed.screenMs.p99 <= fed.goalMs ? 'met' : 'NOT met'}`);
    if (opts.json) writeFileSync(opts.json, JSON.stringify(res, null, 2));
    return res;
  } finally {
    await browser.close();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await benchDashboard({ seconds: Number(process.argv[2] ?? 10), rate: Number(process.argv[3] ?? 10_000), symbols: Number(process.argv[4] ?? 50) });
}
