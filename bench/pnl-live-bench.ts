/**
 * Tick → PnL served against tick → factor served, live, in the same run at the same input rate
 * (issue 18 goal: PnL p99 ≤ 1.5× the factor p99).
 *
 * Set-up (as bench/kill-latency.ts): a private redis-server, one `lockstep live` worker over 2
 * shards and one `lockstep desk` (both child processes: the feeder's CPU is not theirs). Before the
 * feed, two fills per symbol (two books) open positions at the first event's time, so every price
 * change is of a held symbol. A generated day's events are fed at `rate` events/s in 1 ms slices
 * (XADD pipelines), each slice followed by a heartbeat on `<ns>:fills` at its last event's
 * ts_recv, as a fills gateway's heartbeats keep the desk's merge moving (without them the desk
 * could not know that no fill precedes a tick).
 *
 * Measures:
 * - peer, tick → factor served (Redis's clock: entry IDs' ms, +1 ms for their resolution): each
 *   output row's entry ID minus its input entry's ID;
 * - tick → PnL served, the goal's line: what a user reads. A reader polls `getPnl` (live/client.ts,
 *   what `/v1/pnl` answers) every ~1 ms on its own connection and notes when each new `t` is first
 *   seen (the host's clock, the one Redis stamps entry IDs with). The desk's `<ns>:pnl` is the
 *   ledger after every input before its `t`, so a tick (an input row of a held symbol with a mark)
 *   at ts is reflected from the first reading with `t` > ts; minus its input entry's ID. The reader's
 *   own gap (reported as `poll gap`: ~1 ms plus a round trip) is counted against the PnL side;
 * - tick → first 1 Hz sample covering it (informative): the first `<ns>:pnl:log` entry whose second
 *   is past the tick, minus its input entry's ID. A sample is due when the first input at or past
 *   its second arrives, so this includes waiting for that input: in replayed time seconds pass in
 *   a few ms, live it is up to a second (the series is 1 Hz by design);
 * - closing tick → sample served (informative): per sample, the input that made it due (the first
 *   row at or past its second) to its log entry.
 *
 * Event time is retimed (`loadEvents`): about 100 seconds of event time per wall second, so the desk
 * writes ~100 samples per second rather than thousands; `--samples-per-second 1` plays event time at
 * the wall clock's pace, as live (there a 1 Hz sample covers a tick up to a second later).
 *
 * `--desk-bin PATH` runs the desk from another checkout's `bin/lockstep.js` (an A/B of the desk on
 * the same load; the worker, feeder and reader stay this checkout's).
 *
 * Run: `npx tsx bench/pnl-live-bench.ts [--rate 10000] [--seconds 10] [--poll-ms 2] [--samples-per-second 100] [--desk-bin PATH] [--json out.json]`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MarketEvent } from '../core/events.ts';
import { generateDay } from '../datasets/generate.ts';
import { deskKey, fillsStream, inputStream, outputStream, pnlLogKey, type KeyLayout } from '../live/keys.ts';
import { getPnl } from '../live/client.ts';
import { rowsOfEntry, type OutputRow } from '../live/read-output.ts';
import { openRedis } from '../live/redis-connect.ts';
import { RedisHarness } from '../live/redis-harness.ts';
import { openFeatureSource } from '../live/row-reader.ts';
import { shardOf } from '../live/shard.ts';
import { encodeEvent } from '../live/wire.ts';
import { EventMerge } from '../replay/merge.ts';
import { openSelection } from '../replay/run-replay.ts';
import { percentiles, type Percentiles } from './live-bench.ts';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const DATE = '2024-03-15';
const SECOND = 1_000_000_000n;

export interface PnlLiveResult {
  rate: number;
  achieved: number;
  events: number;
  samples: number;
  pollMs: number;
  /** Peer: tick → factor served, ms (every output row). */
  servedMs: Percentiles;
  /** Tick → the served PnL (`getPnl`) first reflects it, ms. */
  pnlMs: Percentiles;
  /** Tick → the first 1 Hz sample covering it served, ms. */
  sampleMs: Percentiles;
  /**
   * The watermark's floor, ms: per tick, the first moment every shard had served a row past it (the
   * later shard's output entry; Redis's clock, +1 ms) minus its input entry. The desk may reflect a
   * tick only once every shard has passed it (a cross-sectional step waits for the event-time
   * watermark, as a replay orders it), so no desk can serve the tick before this.
   */
  floorMs: Percentiles;
  /** floor p99 / served p99: how much of the goal's 1.5× the watermark alone takes. */
  floorRatio: number;
  /** The reader's gap between two readings of `getPnl`, ms (the PnL measure's resolution). */
  pollGapMs: Percentiles;
  /** Per sample: the input that made it due → served, ms. */
  closingMs: Percentiles;
  /** pnl p99 / served p99 (goal ≤ 1.5). */
  ratio: number;
  sampleRatio: number;
  closingRatio: number;
  loadavg: number[];
}

/**
 * The day's first `limit` events, retimed so that `perSecond` distinct instants make one second of
 * event time (the instants' order and ties kept: a book update's rows stay one instant). Why: a
 * generated day has a few events per second of event time, so fed at 10k events/s it would cross
 * thousands of seconds per wall second, each a sample to write: not what a desk meets live (one
 * sample per second). Retimed, the desk writes `rate / perSecond` samples per wall second.
 */
async function loadEvents(catalog: string, limit: number, perSecond: number): Promise<MarketEvent[]> {
  const opened = await openSelection({ catalog, date: DATE });
  const m = new EventMerge(opened.cursors);
  const events: MarketEvent[] = [];
  const step = SECOND / BigInt(perSecond);
  let base: bigint | null = null;
  let prev: bigint | null = null;
  let instant = -1n;
  for (let e = m.next(); e !== null && events.length < limit; e = m.next()) {
    if (e.kind === 'heartbeat') continue;
    base ??= (e.tsRecv / SECOND) * SECOND;
    if (e.tsRecv !== prev) instant++;
    prev = e.tsRecv;
    const ts = base + instant * step;
    events.push({ ...e, tsRecv: ts, tsEvent: ts });
  }
  await opened.close();
  return events;
}

const idMs = (id: string) => Number(id.split('-')[0]);

async function waitExit(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null) return;
  await new Promise<void>((res) => p.once('exit', () => res()));
}

/** Runs the bench; prints a table and returns the figures. */
export async function benchPnlLive(opts: { rate?: number; seconds?: number; symbols?: number; pollMs?: number; samplesPerSecond?: number; deskBin?: string; json?: string; log?: (s: string) => void } = {}): Promise<PnlLiveResult> {
  const log = opts.log ?? ((s: string) => console.log(s));
  const rate = opts.rate ?? 10_000;
  const seconds = opts.seconds ?? 10;
  const pollMs = opts.pollMs ?? 2;
  const dir = mkdtempSync(join(tmpdir(), 'pnl-live-'));
  const redis = await RedisHarness.start();
  const keys: KeyLayout = { ns: 'pl', shards: 2 };
  const r = await openRedis(redis.url, { commandTimeoutMs: 60_000 });
  const procs: ChildProcess[] = [];
  try {
    await generateDay({ date: DATE, symbols: opts.symbols ?? 12, seed: 11, preset: 'tiny', out: join(dir, 'cat') });
    const events = await loadEvents(join(dir, 'cat'), Math.floor(rate * seconds), Math.max(1, Math.round(rate / (opts.samplesPerSecond ?? 100))));
    const fields = events.map((e) => [inputStream(keys, shardOf(e.symbol, keys.shards)), encodeEvent(e)] as const);
    writeFileSync(join(dir, 'instruments.json'), JSON.stringify({ default: { tick: 0.01, lot: 1 } }));
    // positions in every symbol, opened at the first event's instant (fills after its rows)
    const t0 = events[0].tsRecv;
    const syms = [...new Set(events.map((e) => e.symbol))].sort();
    let n = 0;
    for (const s of syms)
      for (const strategy of ['mm', 'trend'])
        await r.xadd(fillsStream(keys), '*', 'fill_id', `f${n++}`, 'account', 'a', 'strategy', strategy, 'symbol', s, 'side', 'buy', 'qty', '100', 'price', '100.00', 'fee', '0.01', 'order_id', '', 'ts_event', String(t0), 'ts_recv', String(t0));
    const lockstep = (...args: string[]) => spawn(process.execPath, [join(HERE, '../bin/lockstep.js'), ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
    procs.push(lockstep('live', '--redis', redis.url, '--ns', keys.ns, '--shards', String(keys.shards), '--consumer', 'bench'));
    for (let i = 0; i < 600 && !(await r.hget(`${keys.ns}:meta`, 'columns')); i++) await new Promise((res) => setTimeout(res, 100));
    // LOCKSTEP_BENCH_DESK_NODE_ARGS: extra node flags for the desk (e.g. --cpu-prof to profile it)
    const deskNodeArgs = (process.env.LOCKSTEP_BENCH_DESK_NODE_ARGS ?? '').split(' ').filter(Boolean);
    const desk = spawn(process.execPath, [...deskNodeArgs, opts.deskBin ?? join(HERE, '../bin/lockstep.js'), 'desk', '--redis', redis.url, '--ns', keys.ns, '--instruments', join(dir, 'instruments.json'), '--poll-ms', String(pollMs)], { stdio: ['ignore', 'ignore', 'pipe'] });
    procs.push(desk);
    // feed only once the desk follows the streams (a process start under load takes seconds: the
    // backlog it would meet is not the latency being measured)
    await new Promise<void>((res, rej) => {
      let buf = '';
      desk.stderr!.setEncoding('utf8').on('data', (d: string) => {
        process.stderr.write(d);
        buf += d;
        if (buf.includes('desk: following')) res();
      });
      desk.once('exit', (c) => rej(new Error(`lockstep desk exited (${c}) before following the streams`)));
    });
    // the reader, a process of its own (the feeder's loop would delay its readings): getPnl every
    // ~1 ms, each new t with when it was first seen
    const reader = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--reader', redis.url, keys.ns], { stdio: ['ignore', 'pipe', 'inherit'] });
    procs.push(reader);
    const seen: { t: bigint; ms: number }[] = [];
    let gapLine = '';
    let rbuf = '';
    reader.stdout!.setEncoding('utf8').on('data', (d: string) => {
      rbuf += d;
      const lines = rbuf.split('\n');
      rbuf = lines.pop()!;
      for (const l of lines) {
        const [k, a, b] = l.split(' ');
        if (k === 'o') seen.push({ t: BigInt(a), ms: Number(b) });
        else if (k === 'g') gapLine = l.slice(2);
      }
    });
    await new Promise<void>((res) => reader.stdout!.once('data', () => res()));
    const start = performance.now();
    let i = 0;
    while (i < events.length) {
      const due = Math.min(events.length, Math.floor(((performance.now() - start) / 1000) * rate));
      if (due > i) {
        const p = r.pipeline();
        for (let j = i; j < due; j++) p.xadd(fields[j][0], '*', ...fields[j][1]);
        p.xadd(fillsStream(keys), '*', 'kind', 'heartbeat', 'ts_recv', String(events[due - 1].tsRecv));
        await p.exec();
        i = due;
      } else await new Promise((res) => setTimeout(res, 1));
    }
    const achieved = events.length / ((performance.now() - start) / 1000);
    const loadavg = (await import('node:os')).loadavg();
    // drained: every input acknowledged by the worker (as kill-latency.ts), then the desk's progress still for a second
    const drained = async () => {
      for (let s = 0; s < keys.shards; s++) {
        const groups = (await r.xinfo('GROUPS', inputStream(keys, s)).catch(() => [])) as unknown[][];
        const g = groups.map((x) => Object.fromEntries(Array.from({ length: x.length / 2 }, (_, i) => [x[2 * i], x[2 * i + 1]])))[0];
        if (!g || Number(g.pending) !== 0 || Number(g.lag ?? 1) !== 0) return false;
      }
      return true;
    };
    for (let k = 0; k < 1200 && !(await drained()); k++) await new Promise((res) => setTimeout(res, 100));
    let last = -1;
    for (let k = 0; k < 300; k++) {
      await new Promise((res) => setTimeout(res, 1000));
      const cur = Number((await r.hget(deskKey(keys), 'n')) ?? 0);
      if (cur === last && cur > 0) break;
      last = cur;
    }
    reader.kill('SIGTERM');
    await waitExit(reader);
    const gaps = JSON.parse(gapLine || '[]') as number[];
    for (const p of procs) if (p.exitCode === null) p.kill('SIGTERM');
    for (const p of procs) await waitExit(p);

    // the factor rows: served latency, and (ts_recv, input arrival) for the PnL side
    const served: number[] = [];
    const rows: { ts: bigint; inMs: number; mark: boolean }[] = [];
    // per shard, in stream order: each entry's latest row ts and when it was served
    const passed: { ts: bigint; ms: number }[][] = [];
    let midCol = -1;
    const cols = ((await r.hget(`${keys.ns}:meta`, 'columns')) ?? '').split(',');
    midCol = cols.indexOf('mid');
    for (let s = 0; s < keys.shards; s++) {
      let from = '-';
      for (;;) {
        const batch = (await r.xrange(outputStream(keys, s), from, '+', 'COUNT', 2000)) as [string, string[]][];
        if (batch.length === 0) break;
        from = `(${batch[batch.length - 1][0]}`;
        passed[s] ??= [];
        for (const [id, f] of batch) {
          const out: OutputRow[] = [];
          rowsOfEntry(f, out);
          if (out.length > 0) passed[s].push({ ts: out[out.length - 1].tsRecv, ms: idMs(id) });
          for (const row of out) {
            const inMs = idMs(row.input);
            served.push(idMs(id) - inMs + 1);
            const m = row.values[midCol];
            rows.push({ ts: row.tsRecv, inMs, mark: typeof m === 'number' && m > 0 });
          }
        }
      }
    }
    rows.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
    // the samples: second → log entry time
    const sampleAt = new Map<bigint, number>();
    let from = '-';
    for (;;) {
      const batch = (await r.xrange(pnlLogKey(keys), from, '+', 'COUNT', 2000)) as [string, string[]][];
      if (batch.length === 0) break;
      from = `(${batch[batch.length - 1][0]}`;
      for (const [id, f] of batch) sampleAt.set(BigInt(f[f.indexOf('t') + 1]), idMs(id));
    }
    const sample: number[] = [];
    const pnl: number[] = [];
    const floor: number[] = [];
    const cursor = passed.map(() => 0);
    let j = 0;
    // rows are in ts order and the readings in t order: one pass finds each row's first reading past it
    for (const row of rows) {
      if (!row.mark) continue;
      const at = sampleAt.get((row.ts / SECOND + 1n) * SECOND);
      if (at !== undefined) sample.push(at - row.inMs + 1);
      while (j < seen.length && seen[j].t <= row.ts) j++;
      if (j < seen.length) pnl.push(Math.max(0, seen[j].ms - row.inMs));
      // the floor: when the last shard served a row past this tick (rows in ts order, so one cursor per shard)
      let when = -Infinity;
      for (let s = 0; s < passed.length; s++) {
        const es = passed[s] ?? [];
        while (cursor[s] < es.length && es[cursor[s]].ts <= row.ts) cursor[s]++;
        when = cursor[s] < es.length ? Math.max(when, es[cursor[s]].ms) : Infinity;
        if (when === Infinity) break;
      }
      if (when !== Infinity) floor.push(when - row.inMs + 1);
    }
    // per sample: the first row at or past its second (the input that made it due)
    const closing: number[] = [];
    let k = 0;
    for (const [t, at] of [...sampleAt].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      while (k < rows.length && (rows[k].ts < t || !rows[k].mark)) k++;
      if (k < rows.length) closing.push(at - rows[k].inMs + 1);
    }
    const res: PnlLiveResult = { rate, achieved, events: events.length, samples: sampleAt.size, pollMs, servedMs: percentiles(served), pnlMs: percentiles(pnl), sampleMs: percentiles(sample), floorMs: percentiles(floor), floorRatio: 0, pollGapMs: percentiles(gaps), closingMs: percentiles(closing), ratio: 0, sampleRatio: 0, closingRatio: 0, loadavg };
    res.ratio = res.pnlMs.p99 / res.servedMs.p99;
    res.floorRatio = res.floorMs.p99 / res.servedMs.p99;
    res.sampleRatio = res.sampleMs.p99 / res.servedMs.p99;
    res.closingRatio = res.closingMs.p99 / res.servedMs.p99;
    const line = (name: string, p: Percentiles) => `| ${name} | ${p.n} | ${p.p50} | ${p.p99} | ${p.p999} | ${p.max} |`;
    log(`pnl live bench: ${events.length} events at ${rate}/s (achieved ${achieved.toFixed(0)}/s), ${syms.length} symbols held in 2 books, ${res.samples} seconds sampled, desk --poll-ms ${pollMs}${opts.deskBin ? ` (desk: ${opts.deskBin})` : ''}; load average ${loadavg.map((x) => x.toFixed(1)).join(' ')}`);
    log('| measure | n | p50 ms | p99 ms | p99.9 ms | max ms |');
    log('|---|---|---|---|---|---|');
    log(line('tick → PnL served (getPnl first reflects the tick)', res.pnlMs));
    log(line('tick → first 1 Hz sample covering it served (informative)', res.sampleMs));
    log(line('closing tick → sample served (the input that made it due)', res.closingMs));
    log(line('peer: tick → factor served', res.servedMs));
    log(line('floor: tick → every shard served a row past it (the watermark)', res.floorMs));
    log(line('the reader\'s poll gap (PnL resolution)', res.pollGapMs));
    log(`watermark floor p99 = ${res.floorRatio.toFixed(2)}x the factor p99 (no desk can serve a tick sooner)`);
    log(`PnL p99 = ${res.ratio.toFixed(2)}x the factor p99 (1 Hz sample: ${res.sampleRatio.toFixed(2)}x, closing tick: ${res.closingRatio.toFixed(2)}x); goal <= 1.5x: ${res.ratio <= 1.5 ? 'met' : 'NOT met'}`);
    if (opts.json) writeFileSync(opts.json, JSON.stringify(res, null, 2));
    return res;
  } finally {
    for (const p of procs) if (p.exitCode === null) p.kill('SIGTERM');
    for (const p of procs) await waitExit(p);
    r.disconnect();
    await redis.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The reader (a child of the bench): prints `o <t> <ms>` for each new `t` getPnl returns, and `g <gaps JSON>` when stopped. */
async function readerMain(url: string, ns: string): Promise<void> {
  const reader = await openFeatureSource(url, { commandTimeoutMs: 120_000 });
  let reading = true;
  process.once('SIGTERM', () => (reading = false));
  const gaps: number[] = [];
  let last: bigint | null = null;
  let prev = Date.now();
  process.stdout.write('ready\n');
  while (reading) {
    const rec = await getPnl(reader, { ns });
    const ms = Date.now();
    gaps.push(ms - prev);
    prev = ms;
    if (rec !== null && (last === null || rec.t > last)) {
      last = rec.t;
      process.stdout.write(`o ${rec.t} ${ms}\n`);
    }
    await new Promise((res) => setTimeout(res, 1));
  }
  process.stdout.write(`g ${JSON.stringify(gaps)}\n`);
  reader.disconnect();
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1] && process.argv[2] === '--reader') {
  await readerMain(process.argv[3], process.argv[4]);
} else if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  await benchPnlLive({ rate: Number(arg('rate') ?? 10_000), seconds: Number(arg('seconds') ?? 10), pollMs: Number(arg('poll-ms') ?? 2), deskBin: arg('desk-bin'), samplesPerSecond: arg('samples-per-second') === undefined ? undefined : Number(arg('samples-per-second')), json: arg('json') });
}
