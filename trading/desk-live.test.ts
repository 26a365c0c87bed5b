/**
 * The live desk with a real redis-server: `lockstep feed --fills` publishes a generated day and a
 * fills file (fills at the same instants as market events) into 2 shards and `<ns>:fills`, 2 workers
 * compute the factors, and `lockstep desk` (a child process, SIGKILLed mid-way once it has written a
 * checkpoint; its input streams are then trimmed up to the checkpoint, so the restarted desk can
 * only resume from it, not refold the day) writes the PnL series. Malformed entries and a duplicate fill id written into `<ns>:fills` are
 * dead-lettered with their reasons; no fill is applied twice and no second logged twice; the
 * 1-second series in `<ns>:pnl:log` equals, bit for bit, the same fold run over the replay's factor
 * table and the fills file (one stream each, drained); `/v1/pnl`, `/v1/risk`, `/v1/positions` serve it.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDay } from '../datasets/generate.ts';
import { readTrainingSet } from '../features/table-io.ts';
import { startApi } from '../live/http-api.ts';
import { alertsStateKey, deskKey, fillsDeadLetterStream, fillsStream, outputStream, pnlLogKey } from '../live/keys.ts';
import { setKillSwitch } from '../live/kill-switch.ts';
import { getPnl } from '../live/client.ts';
import { openRedis, type RedisClient } from '../live/redis-connect.ts';
import { RedisHarness } from '../live/redis-harness.ts';
import { openFeatureSource } from '../live/row-reader.ts';
import { LiveWorker } from '../live/worker/index.ts';
import { initDesk, pushDeskFills, pushDeskRows, pushDeskWatermark, type DeskOutput, type DeskRow, type DeskState } from './desk-fold.ts';
import { readFillsFile } from './fills-file.ts';
import { logRecord, servedRecords } from './desk-live.ts';
import { parseInstruments } from './instruments.ts';
import { DEFAULT_VAR } from './ledger.ts';
import { noLimits } from './limits.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const DATE = '2024-03-15';
const keys = { ns: 'dk', shards: 2 };
const INSTRUMENTS = { instruments: { SYM000: { tick: 0.01, lot: 1 }, SYM001: { tick: 0.01, lot: 1 }, SYM002: { tick: 0.01, lot: 1 } } };
const ins = parseInstruments(INSTRUMENTS, 'instruments.json');

let dir = '';
let redis: RedisHarness;
let client: RedisClient;
/** Fills-file rows, and the early fill F0 written straight into the stream (with its duplicate). */
let firstTs = 0n;

const cli = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin/lockstep.js'), ...args], { encoding: 'utf8', cwd: ROOT });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'desk-live-'));
  await generateDay({ date: DATE, symbols: 3, seed: 11, preset: 'tiny', eventsPerSymbol: 1500, out: join(dir, 'cat') });
  const rep = cli('replay', '--catalog', join(dir, 'cat'), '--date', DATE, '--out', join(dir, 'out.parquet'));
  expect(rep.status, rep.stderr).toBe(0);
  // fills at the instants of market rows (the tie rule: the row first), priced at its mid
  const t = await readTrainingSet(join(dir, 'out.parquet'));
  const rows = t.rows.filter((r) => typeof r.mid === 'number' && (r.mid as number) > 0);
  firstTs = rows[0].ts_recv as bigint;
  const lines = ['fill_id,account,strategy,symbol,side,qty,price,fee,order_id,ts_event,ts_recv'];
  const step = Math.max(1, Math.floor(rows.length / 60));
  let n = 0;
  // not the very last rows: a fill waits for every stream to pass its instant
  for (let i = step; i < rows.length - 10 * step; i += step) {
    const r = rows[i];
    const side = n % 3 === 2 ? 'sell' : 'buy';
    lines.push([`f${n}`, 'acct1', n % 2 ? 'mm' : 'trend', r.symbol, side, 10 + (n % 4) * 5, (Math.round((r.mid as number) * 100) / 100).toFixed(2), '0.35', `o${n}`, String((r.ts_recv as bigint) - 1000n), String(r.ts_recv)].join(','));
    n++;
  }
  writeFileSync(join(dir, 'fills.csv'), lines.join('\n') + '\n');
  writeFileSync(join(dir, 'instruments.json'), JSON.stringify(INSTRUMENTS));
  redis = await RedisHarness.start();
  client = await openRedis(redis.url, { commandTimeoutMs: 60_000 });
}, 120_000);

afterAll(async () => {
  client?.disconnect();
  await redis?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** F0: a valid fill before the market opens, written straight into the stream (the replay side adds it to the file's). */
const f0 = () => ({ fill_id: 'f-early', account: 'acct1', strategy: 'mm', symbol: 'SYM000', side: 'buy', qty: '7', price: '100.25', fee: '0.1', order_id: '', ts_event: String(firstTs - 2_000_000_000n), ts_recv: String(firstTs - 2_000_000_000n) });
const flat = (o: Record<string, string>) => Object.entries(o).flat();

/** The same fold over the replay's factor table and the fills (F0 + the file), both streams drained. */
async function replaySeries(): Promise<Map<string, string>> {
  const { out } = await replayFold(1n << 62n);
  const series = new Map<string, string>();
  for (const o of out) if (o.kind === 'sample') series.set(String(o.t), JSON.stringify(logRecord(o.books)));
  return series;
}

/** The same fold over the replay's factor table and the fills (F0 + the file), every stream passed up to `end`. */
async function replayFold(end: bigint): Promise<{ st: DeskState; out: DeskOutput[] }> {
  const t = await readTrainingSet(join(dir, 'out.parquet'));
  const rows: DeskRow[] = t.rows.map((r) => ({ kind: 'row', ts: r.ts_recv as bigint, symbol: r.symbol as string, source: r.source as string, seq: r.seq as bigint, mark: (r.mid as number | null) ?? null, rv: (r.rv_5m as number | null) ?? null }));
  const { fills } = await readFillsFile(join(dir, 'fills.csv'), ins);
  const e = f0();
  const early = { fillId: e.fill_id, account: e.account, strategy: e.strategy, symbol: e.symbol, side: 1 as const, qty: 7, price: 10025, fee: 10_000_000, orderId: '', tsEvent: BigInt(e.ts_event), tsRecv: BigInt(e.ts_recv) };
  const st = initDesk({ ledger: { instruments: ins, mark: 'mid', ...DEFAULT_VAR }, limits: noLimits(), rowStreams: 1 });
  const out: DeskOutput[] = [];
  const sink = (o: DeskOutput) => out.push(o);
  pushDeskRows(st, 0, rows, sink);
  pushDeskFills(st, [early, ...fills].map((f) => ({ kind: 'fill' as const, ts: f.tsRecv, fill: f })), sink);
  pushDeskWatermark(st, 0, end, sink);
  pushDeskWatermark(st, st.fills, end, sink);
  return { st, out };
}

async function waitExit(p: ReturnType<typeof spawn>): Promise<number | null> {
  return p.exitCode !== null ? p.exitCode : new Promise((r) => p.once('exit', (c) => r(c)));
}

describe('lockstep desk (live)', () => {
  it('feed --fills + workers + a desk killed and restarted: dead letters with reasons, no fill twice, the replay series bit for bit, served over HTTP', async () => {
    // malformed entries and a duplicate, before the feed's (the stream's clock: before the day)
    const early = f0();
    const bad: [string, Record<string, string>][] = [
      ['side', { ...early, fill_id: 'b1', side: 'hold' }],
      ['qty', { ...early, fill_id: 'b2', qty: '0' }],
      ['price', { ...early, fill_id: 'b3', price: 'abc' }],
      ['symbol', { ...early, fill_id: 'b4', symbol: 'NOPE' }],
      ['price', { ...early, fill_id: 'b5', price: '100.005' }],
    ];
    await client.xadd(fillsStream(keys), '*', ...flat(early));
    for (const [, f] of bad) await client.xadd(fillsStream(keys), '*', ...flat(f));
    await client.xadd(fillsStream(keys), '*', ...flat(early));
    const feed = cli('feed', '--catalog', join(dir, 'cat'), '--date', DATE, '--redis', redis.url, '--ns', keys.ns, '--shards', '2', '--fills', join(dir, 'fills.csv'), '--instruments', join(dir, 'instruments.json'));
    expect(feed.status, feed.stderr).toBe(0);

    const desk = (idle: boolean) =>
      spawn(process.execPath, [join(ROOT, 'bin/lockstep.js'), 'desk', '--redis', redis.url, '--ns', keys.ns, '--instruments', join(dir, 'instruments.json'), '--checkpoint-every', '40', ...(idle ? ['--exit-when-idle', '1500'] : [])], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    // SYM002 stopped by the kill switch before any fill: its fills are still applied (facts), each with an alert
    await setKillSwitch(client, keys, { on: true, symbols: ['SYM002'], mode: 'reduce-only', reason: 'test: a halted name', by: 'desk-live.test' });
    const first = desk(false);
    let firstOut = '';
    first.stdout!.on('data', (d) => (firstOut += d));
    first.stderr!.on('data', (d) => (firstOut += d));
    const workers = [0, 1].map((s) => new LiveWorker({ redis: redis.url, ns: keys.ns, shards: keys.shards, owned: [s], consumer: `w${s}` }));
    for (const w of workers) await w.start();
    const running = Promise.all(workers.map((w) => w.run({ idleStopMs: 1500 })));
    // killed as soon as it has written a checkpoint (mid-way through the day, or at worst at its end)
    for (let i = 0; i < 1200 && Number((await client.hget(deskKey(keys), 'ckptN')) ?? 0) === 0; i++) await new Promise((r) => setTimeout(r, 25));
    first.kill('SIGKILL');
    await waitExit(first);
    const writtenBefore = Number((await client.hget(deskKey(keys), 'n')) ?? 0);
    const ckptN = Number((await client.hget(deskKey(keys), 'ckptN')) ?? 0);
    expect(ckptN, firstOut).toBeGreaterThan(0);
    expect(writtenBefore).toBeGreaterThanOrEqual(ckptN);
    await running;
    for (const w of workers) await w.close();
    // the streams trimmed up to the checkpoint (every entry it had read deleted): a refold from the start would miss them
    const pos = JSON.parse((await client.hget(deskKey(keys), 'ckptPos'))!) as { shards: (string | null)[]; fills: string | null };
    const after = (id: string) => {
      const [ms, seq] = id.split('-');
      return `${ms}-${BigInt(seq) + 1n}`;
    };
    let trimmed = 0;
    for (let s = 0; s < keys.shards; s++) if (pos.shards[s] !== null) trimmed += Number(await client.xtrim(outputStream(keys, s), 'MINID', after(pos.shards[s]!)));
    if (pos.fills !== null) trimmed += Number(await client.xtrim(fillsStream(keys), 'MINID', after(pos.fills)));
    expect(trimmed).toBeGreaterThan(0);
    const second = desk(true);
    let out = '';
    second.stdout!.on('data', (d) => (out += d));
    second.stderr!.on('data', (d) => (out += d));
    expect(await waitExit(second), out).toBe(0);
    expect(out).toMatch(new RegExp(`resuming from the checkpoint at output ${ckptN}\\b`));

    // fills of the killed symbol: applied, each alerted with its id, symbol and kill state, counted once
    const killedIds = (await readFillsFile(join(dir, 'fills.csv'), ins)).fills.filter((f) => f.symbol === 'SYM002').map((f) => f.fillId);
    expect(killedIds.length).toBeGreaterThan(5);
    expect(Number(await client.hget(deskKey(keys), 'killedFills'))).toBe(killedIds.length);
    const alerts = await client.hgetall(alertsStateKey(keys));
    const fired = Object.keys(alerts).filter((k) => k.startsWith('fill-killed:'));
    expect(fired.sort()).toEqual(killedIds.map((id) => `fill-killed:SYM002:${id}`).sort());
    expect(JSON.parse(alerts[`fill-killed:SYM002:${killedIds[0]}`]).summary).toMatch(new RegExp(`^fill ${killedIds[0]} \\(acct1/\\w+ (buy|sell) \\d+ lots of SYM002\\) applied while the kill switch is on for SYM002: reduce-only since .* by desk-live.test: test: a halted name$`));
    expect(out).toMatch(/\(\d+ while their symbol was killed, each alerted\)/);

    // dead letters: the 5 malformed entries and the duplicate, each once, with its reason
    const dlq = (await client.xrange(fillsDeadLetterStream(keys), '-', '+')) as [string, string[]][];
    const reasons = dlq.map(([, f]) => f[f.indexOf('reason') + 1]);
    expect(reasons).toHaveLength(6);
    expect(reasons.filter((r) => r.startsWith('duplicate:'))).toHaveLength(1);
    for (const [field] of bad) expect(reasons.some((r) => r.startsWith(`${field}=`))).toBe(true);
    expect(reasons.find((r) => r.startsWith('side='))).toMatch(/hold.*buy or sell/);
    expect(reasons.find((r) => r.includes('100.005'))).toMatch(/off the grid/);

    // the series: each second once, equal to the replay's bit for bit
    const log = (await client.xrange(pnlLogKey(keys), '-', '+')) as [string, string[]][];
    const live = log.map(([, f]) => [f[f.indexOf('t') + 1], f[f.indexOf('data') + 1]] as const);
    const ts = live.map(([t]) => t);
    expect(new Set(ts).size).toBe(ts.length);
    // every live second equals the same fold's over the replay's table, bit for bit; the table goes
    // on past the day's last heartbeat (a news row at 20:22), which live cannot pass (no end flush)
    const want = await replaySeries();
    expect(live.length).toBeGreaterThan(1000);
    expect(want.size).toBeGreaterThanOrEqual(live.length);
    for (const [t, d] of live) if (d !== want.get(t)) expect(JSON.parse(d), `second ${t}`).toEqual(JSON.parse(want.get(t) ?? "null"));
    const lastT = ts[ts.length - 1];

    // `lockstep pnl` (the replay side) of the same day and fills (F0 added): the same seconds, the
    // money and the VaR bit for bit (it folds every kind of event, as live does: an rv bar closes on
    // the same row, and the float sum of the VaR terms takes the same terms in the same order)
    const e0 = f0();
    writeFileSync(join(dir, 'fills-all.csv'), `${[ 'fill_id,account,strategy,symbol,side,qty,price,fee,order_id,ts_event,ts_recv', [e0.fill_id, e0.account, e0.strategy, e0.symbol, e0.side, e0.qty, e0.price, e0.fee, e0.order_id, e0.ts_event, e0.ts_recv].join(',')].join('\n')}\n${(await import('node:fs')).readFileSync(join(dir, 'fills.csv'), 'utf8').split('\n').slice(1).join('\n')}`);
    const pnl = cli('pnl', '--catalog', join(dir, 'cat'), '--date', DATE, '--fills', join(dir, 'fills-all.csv'), '--instruments', join(dir, 'instruments.json'), '--out', join(dir, 'pnl.parquet'));
    expect(pnl.status, pnl.stderr).toBe(0);
    const theirs = await readTrainingSet(join(dir, 'pnl.parquet'));
    const liveBooks = new Map(live.map(([t, d]) => [t, JSON.parse(d).books as Record<string, number | string>[]]));
    const seen = new Set<string>();
    const at = new Map<string, number>();
    let varTerms = 0;
    for (const row of theirs.rows) {
      const t = String(row.ts);
      seen.add(t);
      const i = at.get(t) ?? 0;
      at.set(t, i + 1);
      const b = liveBooks.get(t)?.[i];
      // live ends where every stream has passed an instant: the day's last instant stays pending
      if (b === undefined && BigInt(t) > BigInt(lastT)) continue;
      expect(b, `second ${t}`).toBeDefined();
      expect([b!.account, b!.strategy, b!.realized, b!.unrealized, b!.fees, b!.dayPnl, b!.hwm, b!.drawdown, b!.gross, b!.net, b!.positions, b!.var, b!.varMissing], `second ${t}`).toEqual([row.account, row.strategy, row.realized, row.unrealized, row.fees, row.day_pnl, row.hwm, row.drawdown, row.gross, row.net, row.positions, row.var, row.var_missing]);
      varTerms += (row.var as number) > 0 ? 1 : 0;
    }
    for (const t of ts) expect(seen.has(t), `second ${t} in lockstep pnl's series`).toBe(true);
    expect(varTerms, 'seconds with a VaR > 0 compared').toBeGreaterThan(100);
    // the fills count in the PnL: fees of 61 fills (F0 and the file's) at least
    const total = JSON.parse(want.get(lastT)!).books[0];
    expect(total.fees).toBeGreaterThan(0);

    // served: HTTP and the client, the ledger after every input before the watermark t (past the
    // last second logged), equal to the same fold over the replay's table passed up to t
    const lean = await openFeatureSource(redis.url);
    const api = await startApi(lean, { keys, port: 0 });
    try {
      const served = await getPnl(lean, keys);
      expect(served).not.toBeNull();
      const w = served!.t;
      expect(w).toBeGreaterThanOrEqual(BigInt(lastT));
      const want = servedRecords((await replayFold(w)).st, w, { positions: true }) as { pnl: { books: unknown[] }; risk: { books: unknown[]; breaches: unknown[] }; positions: { positions: unknown[] } };
      const pnl = (await (await fetch(`http://127.0.0.1:${api.port}/v1/pnl`)).json()) as { t: string; books: unknown[] };
      expect(pnl.t).toBe(String(w));
      expect(pnl.books).toEqual(want.pnl.books);
      expect((pnl.books[0] as { fees: number }).fees).toBeGreaterThanOrEqual(total.fees);
      const risk = await fetch(`http://127.0.0.1:${api.port}/v1/risk`);
      expect(risk.status).toBe(200);
      const rb = (await risk.json()) as { t: string; books: unknown[]; breaches: unknown[] };
      expect([rb.t, rb.books, rb.breaches]).toEqual([String(w), want.risk.books, want.risk.breaches]);
      const pos = (await (await fetch(`http://127.0.0.1:${api.port}/v1/positions`)).json()) as { t: string; positions: { symbol: string; lots: number }[] };
      expect(pos.positions.length).toBeGreaterThan(0);
      // rewritten with each second and each fill: as of its own t, at most the pnl's
      expect(BigInt(pos.t)).toBeLessThanOrEqual(w);
      const pt = BigInt(pos.t);
      expect(pos.positions).toEqual((servedRecords((await replayFold(pt)).st, pt, { positions: true }) as { positions: { positions: unknown[] } }).positions.positions);
    } finally {
      await api.close();
      lean.disconnect();
    }
  }, 300_000);
});
