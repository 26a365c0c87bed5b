/**
 * The dashboard's models, target weights and execution (with kill policy) pages through the real
 * CLI (`lockstep serve --dashboard`), over a real redis-server, serve logged in as the read-only
 * user exactly as docs/live-operations.md gives it. What the pages show is written as the
 * producers write it, with their own exported functions: the deployment log by
 * live/models/live-log.ts `appendLogEntry` (what `models deploy|rollback --redis` and `models
 * watch` call), evaluation times by live/models/latency.ts `EvalTimes`, the signal rows as a
 * worker's commit writes them (latestRow + latestPairs) with each symbol's version chosen by
 * models/deployment.ts `inCanary`, the weights by live/weights-record.ts in one MULTI as
 * portfolio/live.ts writes them, orders and kill logs by trading/exec/exec-wire.ts, a parent's
 * schedule by exec-status.ts `scheduleRecord` over the algorithm's own state (its status fields as
 * exec-live.ts writes them, the target by schedule.ts `scheduleTarget`), fills by
 * trading/fills-wire.ts, and the kill guard's record by `setKillSwitch` with kill-guard.ts
 * `firedKey`, as the guard writes it. Pages are checked in a real headless Chromium (skipped, with
 * the reason printed, where none is installed).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'puppeteer-core';
import { execClocksKey, execKillLogStream, execProgressKey, execScheduleKey, fillsStream, latestKey, metaKey, modelsLatencyKey, ordersStream, weightsKey, weightsLogKey, type KeyLayout } from '../live/keys.ts';
import { latestPairs } from '../live/commit-script.ts';
import { latestRow } from '../live/worker/row-format.ts';
import { appendLogEntry } from '../live/models/live-log.ts';
import { EvalTimes } from '../live/models/latency.ts';
import { inCanary } from '../models/deployment.ts';
import { slotColumns } from '../models/stage.ts';
import type { RunnableModel } from '../models/model.ts';
import { encodeWeightsFields } from '../live/weights-record.ts';
import { encodeKillFields, encodeOrderFields } from '../trading/exec/exec-wire.ts';
import { initExecFold } from '../trading/exec/exec-fold.ts';
import { scheduleRecord } from '../trading/exec/exec-status.ts';
import { scheduleTarget } from '../trading/exec/schedule.ts';
import type { ExecPayload } from './exec-feed.ts';
import { encodeFillFields } from '../trading/fills-wire.ts';
import { defaultInstruments } from '../trading/instruments.ts';
import { firedKey } from '../trading/kill-guard.ts';
import { setKillSwitch } from '../live/kill-switch.ts';
import { openRedis, type RedisClient } from '../live/redis-connect.ts';
import { RedisHarness } from '../live/redis-harness.ts';
import { artifactsDir, chromiumSkipReason, launchChromium } from './chromium.ts';

const ROOT = resolve(new URL('..', import.meta.url).pathname);
const keys: KeyLayout = { ns: 'ls', shards: 2 };
const T0 = 1710509400000000000n; // 2024-03-15T13:30:00Z in ns
const SEC = 1_000_000_000n;
const SYMBOLS = ['AAPL', 'AMZN', 'GOOG', 'META', 'MSFT', 'NVDA', 'TSLA', 'SPY'];
const COLUMNS = ['last_price', 'rsi_14', ...slotColumns('momo', ['score'])];
const INS = defaultInstruments();

let redis: RedisHarness;
let admin: RedisClient;
let serve: ChildProcess;
let base: string;
let dir: string;
/** The heartbeat of the parents whose runs are alive (P-AAPL, P-NVDA), as exec-live.ts beats. */
let beat: ReturnType<typeof setInterval> | undefined;
const TOKEN = 'op-token-0123456789abcdef';

/** The documented read-only user's rules (docs/live-operations.md), with `pw` as its password. */
function documentedReader(pw: string): string[] {
  const line = readFileSync(join(ROOT, 'docs/live-operations.md'), 'utf8').split('\n').find((l) => l.startsWith('ACL SETUSER reader '))!;
  return line.slice('ACL SETUSER reader '.length).trim().split(/\s+/).map((t) => t.replace('PASSWORD', pw));
}

/** momo's score of version `v` for symbol index `i` (distinct per version, so the page's columns can be told apart). */
const score = (v: number, i: number) => Math.round((v * 0.1 + i * 0.01) * 1e6) / 1e6;

/**
 * A symbol's latest row, as a worker's commit writes it: version 5 (the canary) served where
 * inCanary, 3 elsewhere; on GOOG the unserved side failed (no value, its own status 2).
 */
async function writeSignalRow(sym: string, i: number): Promise<void> {
  const canary = inCanary('momo', sym, 50);
  const [served, other] = canary ? [5, 3] : [3, 5];
  const failed = sym === 'GOOG';
  const vals = [100 + i, 55, score(served, i), served, 0, failed ? null : score(other, i), other, failed ? 2 : 0];
  const te = T0 + 600n * SEC + BigInt(i);
  const row = latestRow({ id: `${i + 1}-0`, kind: 'trade', seq: BigInt(i + 1), tsEvent: te, tsRecv: te + 1000n, packed: vals.join(',') }, 'fsv-test', String(Date.now()));
  await admin.hset(latestKey(keys, sym), ...latestPairs(`${i + 1}-0`, row, COLUMNS));
}

/** A rebalance as portfolio/live.ts writes it: hash and log entry in one MULTI. */
async function writeWeights(k: number, weights: number[]): Promise<void> {
  const fields = encodeWeightsFields({ t: T0 + BigInt(k) * 300n * SEC, trigger: 'every', symbols: SYMBOLS, weights, signal: weights.map((w) => w * 3), excluded: SYMBOLS.map((s) => (s === 'SPY' ? 'no signal' : null)), gross: weights.reduce((a, w) => a + Math.abs(w), 0), net: weights.reduce((a, w) => a + w, 0), turnover: 0.25 }, Date.now());
  await admin.multi().del(weightsKey(keys)).hset(weightsKey(keys), ...fields).xadd(weightsLogKey(keys), '*', ...fields).exec();
}

/** One child order of `parent` as exec-live.ts writes it (tick 0.01, lot 1). */
const order = (parent: string, n: number, symbol: string, lots: number, s: number) =>
  admin.xadd(ordersStream(keys), '*', ...encodeOrderFields({ type: 'new', order: { id: `${parent}-${n}`, parentId: parent, symbol, side: 1, qty: lots, limitPx: null, ts: T0 + BigInt(s) * SEC } }, 0.01, 1));
/** P-AAPL: a TWAP of 1,000 lots 13:30-13:40, the algorithm's state it starts from (lot 1). */
const AAPL_FOLD = () => initExecFold({ id: 'P-AAPL', symbol: 'AAPL', side: 1, qty: 1000, limitPx: null, start: T0, end: T0 + 600n * SEC }, { algo: 'twap', instrument: { symbol: 'AAPL', tick: 0.01, lot: 1, multiplier: 1 } });
/** P-AAPL's status as its run writes it: at 13:36:40 (event time) the schedule wants 666 lots. */
const aaplStatus = (filled: number) => admin.hset(execProgressKey(keys, 'P-AAPL'), 'n', '6', 'state', 'running', 'beat_ms', '1000', 'at', String(Date.now()), 'ts', String(T0 + 400n * SEC), 'target', String(scheduleTarget(AAPL_FOLD().algo, T0 + 400n * SEC)), 'filled', String(filled));
/** A fill of child `n` of `parent`, as a gateway writes it. */
const fill = (parent: string, n: number, symbol: string, lots: number, s: number) =>
  admin.xadd(fillsStream(keys), '*', ...encodeFillFields({ fillId: `f-${parent}-${n}-${s}`, account: 'acct1', strategy: 'exec', symbol, side: 1, qty: lots, price: 17250, fee: 0, orderId: `${parent}-${n}`, tsEvent: T0 + BigInt(s) * SEC, tsRecv: T0 + BigInt(s) * SEC + 1000n }, INS, parent));

beforeAll(async () => {
  redis = await RedisHarness.start();
  admin = await openRedis(redis.url);
  await admin.call('ACL', 'SETUSER', 'reader', ...documentedReader('readerpw'));
  await admin.hset(metaKey(keys), 'shards', String(keys.shards), 'columns', COLUMNS.join(','), 'featureSetVersion', 'fsv-test');
  // the deployment log: live v3, a canary v4 rolled back by models watch, then a canary v5 at 50 %
  await appendLogEntry(admin as never, keys.ns, { at: T0, slot: 'momo', action: 'deploy', version: 3, mode: 'live' });
  await appendLogEntry(admin as never, keys.ns, { at: T0 + 60n * SEC, slot: 'momo', action: 'deploy', version: 4, mode: 'canary', percent: 25 });
  await appendLogEntry(admin as never, keys.ns, { at: T0 + 120n * SEC, slot: 'momo', action: 'rollback', reason: 'automatic: momo@4: evaluation error rate 3.00% over 200 rows > 1.00%' });
  await appendLogEntry(admin as never, keys.ns, { at: T0 + 300n * SEC, slot: 'momo', action: 'deploy', version: 5, mode: 'canary', percent: 50 });
  // a worker's evaluation times, measured by its wrapper
  const times = new EvalTimes();
  for (const version of [3, 5]) {
    const m = times.wrap({ spec: { name: 'momo', version }, run: () => 0, runAt: () => 0 } as unknown as RunnableModel);
    for (let i = 0; i < 40; i++) m.run(new Float64Array(1), new Float64Array(1));
  }
  await admin.hset(modelsLatencyKey(keys), 'w1', JSON.stringify(times.snapshot()));
  for (const [i, s] of SYMBOLS.entries()) await writeSignalRow(s, i);
  await writeWeights(1, [0.2, 0.15, -0.1, 0.05, 0.25, -0.15, 0.1, 0]);
  await writeWeights(2, [0.25, 0.1, -0.05, 0.05, 0.2, -0.2, 0.15, 0]);
  // four parents: P-AAPL working (its run beats), P-MSFT done (its run wrote its end), P-NVDA
  // killed (its kill log reads halt; its run beats), P-TSLA stalled (silent for 42 s: SIGKILLed)
  for (let n = 1; n <= 6; n++) await order('P-AAPL', n, 'AAPL', 100, 60 * n);
  for (let n = 1; n <= 5; n++) await fill('P-AAPL', n, 'AAPL', n === 5 ? 40 : 100, 60 * n + 20);
  await admin.set(execScheduleKey(keys, 'P-AAPL'), JSON.stringify(scheduleRecord(AAPL_FOLD())));
  await aaplStatus(440);
  await admin.hset(execClocksKey(keys), 'P-AAPL', String(T0 + 400n * SEC));
  for (let n = 1; n <= 2; n++) await order('P-MSFT', n, 'MSFT', 50, 30 * n);
  for (let n = 1; n <= 2; n++) await fill('P-MSFT', n, 'MSFT', 50, 30 * n + 5);
  await admin.hset(execProgressKey(keys, 'P-MSFT'), 'n', '2', 'state', 'done', 'beat_ms', '1000', 'at', String(Date.now()), 'ts', String(T0 + 600n * SEC), 'target', '100', 'filled', '100');
  await order('P-NVDA', 1, 'NVDA', 30, 100);
  await admin.hset(execProgressKey(keys, 'P-NVDA'), 'n', '3', 'state', 'running', 'beat_ms', '1000', 'at', String(Date.now()));
  await order('P-TSLA', 1, 'TSLA', 20, 50);
  await admin.hset(execProgressKey(keys, 'P-TSLA'), 'n', '1', 'state', 'running', 'beat_ms', '1000', 'at', String(Date.now() - 42_000));
  beat = setInterval(() => void Promise.all(['P-AAPL', 'P-NVDA'].map((p) => admin.hset(execProgressKey(keys, p), 'at', String(Date.now())))).catch(() => {}), 300);
  await admin.xadd(ordersStream(keys), '*', ...encodeOrderFields({ type: 'cancel', cancel: { id: 'P-NVDA-1', parentId: 'P-NVDA', symbol: 'NVDA', ts: T0 + 200n * SEC, reason: 'kill switch' } }, 0.01, 1));
  await admin.xadd(execKillLogStream(keys, 'P-NVDA'), '*', ...encodeKillFields({ symbol: 'NVDA', mode: 'halt', reason: 'automatic (kill-symbol): price collar', ts: T0 + 200n * SEC }));
  // the kill guard: a kill-symbol with its switch (one script call), and an alert-only record
  await setKillSwitch(admin, keys, { on: true, symbols: ['NVDA'], reason: 'automatic (kill-symbol): price collar', by: 'lockstep-kill-guard', mode: 'halt', cause: { rule: 'price_collar_flag', symbol: 'NVDA', tsRecv: String(T0 + 199n * SEC), streamId: '1710509599000-0', value: 1 }, escalateOnly: true }, { key: firedKey(keys), field: 'price_collar_flag:NVDA:1', value: JSON.stringify({ action: 'kill-symbol', rule: 'price_collar_flag', symbol: 'NVDA', ts: String(T0 + 199n * SEC), value: 1, input: '1710509599000-0' }) });
  await admin.hset(firedKey(keys), 'limit:max_daily_loss:*:1', JSON.stringify({ action: 'alert', rule: 'limit:max_daily_loss', symbol: null, ts: String(T0 + 250n * SEC), value: -5200, input: null }));
  dir = mkdtempSync(join(tmpdir(), 'ls-dash-ops-'));
  writeFileSync(join(dir, 'token'), `${TOKEN}\n`);
  const url = `redis://reader:readerpw@${new URL(redis.url).host}`;
  serve = spawn(process.execPath, [join(ROOT, 'bin/lockstep.js'), 'serve', '--port', '0', '--dashboard', '--redis', url, '--shards', String(keys.shards), '--dashboard-symbols', SYMBOLS.join(','), '--operator-token-file', join(dir, 'token')], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  base = await new Promise<string>((done, fail) => {
    let out = '';
    serve.stdout!.on('data', (d) => {
      out += d.toString();
      const m = /dashboard (http:\/\/[^/]+)\/dashboard/.exec(out);
      if (m) done(m[1]);
    });
    serve.on('exit', (code) => fail(new Error(`serve exited with ${code}`)));
  });
}, 60_000);

afterAll(async () => {
  clearInterval(beat);
  serve?.kill('SIGTERM');
  admin?.disconnect();
  await redis?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The first `event: NAME` data of a page's event stream. */
async function firstEvent(view: string, name: string): Promise<unknown> {
  const ev = await fetch(`${base}/dashboard/events?view=${view}`);
  const reader = ev.body!.getReader();
  let text = '';
  const re = new RegExp(`event: ${name}\\ndata: (.*)\\n`);
  while (!re.test(text)) text += new TextDecoder().decode((await reader.read()).value);
  await reader.cancel();
  return JSON.parse(re.exec(text)![1]);
}

describe('dashboard: models, weights, execution and kill policy', () => {
  it('the documented read-only user reads every feed (event streams)', async () => {
    const models = (await firstEvent('models', 'models')) as { logError: string | null; latencyError: string | null; slots: { slot: string; assignment: unknown; rollbacks: number; history: { action: string; reason: string | null; effect: string }[]; latency: Record<string, { n: number }> }[] };
    expect(models.logError).toBeNull();
    expect(models.latencyError).toBeNull();
    expect(models.slots).toHaveLength(1);
    expect(models.slots[0].assignment).toEqual({ incumbent: 3, candidate: 5, mode: 'canary', percent: 50, previous: [] });
    expect(models.slots[0].rollbacks).toBe(1);
    expect(models.slots[0].history.map((h) => h.action)).toEqual(['deploy', 'rollback', 'deploy', 'deploy']);
    expect(models.slots[0].history[1]).toMatchObject({ reason: 'automatic: momo@4: evaluation error rate 3.00% over 200 rows > 1.00%', effect: 'canary 4 dropped; 3 serves' });
    expect(models.slots[0].latency).toMatchObject({ 3: { n: 40 }, 5: { n: 40 } });
    const w = (await firstEvent('weights', 'weights')) as { t: string; previousT: string; logError: string | null; rows: { symbol: string; weight: number; previous: number }[] };
    expect(w.logError).toBeNull();
    expect(w.t).toBe(String(T0 + 600n * SEC));
    expect(w.previousT).toBe(String(T0 + 300n * SEC));
    expect(w.rows.find((r) => r.symbol === 'NVDA')).toEqual({ symbol: 'NVDA', weight: -0.2, previous: -0.15, signal: -0.6000000000000001, excluded: null });
    const ex = (await firstEvent('exec', 'exec')) as ExecPayload;
    expect(ex.error).toBeNull();
    expect(ex.parents.map((p) => [p.id, p.state, p.children, p.cancels, p.sent, p.filled, p.kills.length, p.position?.ahead ?? null])).toEqual([
      ['P-AAPL', 'working', 6, 0, 600, 440, 0, -226],
      ['P-MSFT', 'done', 2, 0, 100, 100, 0, 0],
      ['P-NVDA', 'killed', 1, 1, 30, 0, 1, null],
      ['P-TSLA', 'stalled', 1, 0, 20, 0, 0, null],
    ]);
    // the plan is the algorithm's schedule: 1,001 steps of one lot, in seconds of event time
    const plan = ex.parents[0].plan!;
    expect(plan.series).toEqual(scheduleRecord(AAPL_FOLD()).steps!.map(([t, l]) => [Number(BigInt(t) / 1_000_000n) / 1000, l]));
    expect(plan.series).toHaveLength(1001);
    expect(ex.parents[3].silentMs).toBeGreaterThanOrEqual(42_000);
    expect(ex.parents[1].plan).toBeNull();
    const fired = (await firstEvent('exec', 'fired')) as { error: string | null; total: number; fired: { rule: string; action: string; symbol: string | null; input: string | null }[] };
    expect(fired.error).toBeNull();
    expect(fired.fired.map((f) => [f.rule, f.action, f.symbol, f.input])).toEqual([
      ['limit:max_daily_loss', 'alert', null, null],
      ['price_collar_flag', 'kill-symbol', 'NVDA', '1710509599000-0'],
    ]);
  });

  it('an unknown parent order is a 404 page with one line, no stack trace', async () => {
    const r = await fetch(`${base}/dashboard/exec/P-NOPE`);
    expect(r.status).toBe(404);
    const text = await r.text();
    expect(/<p id="error">([^<]*)<\/p>/.exec(text)![1]).toBe('unknown parent order &#34;P-NOPE&#34;: ls:orders has no order of it');
    expect(text).not.toMatch(/at .*\.ts:\d+/);
    expect((await fetch(`${base}/dashboard/exec/%E0%A4%A`)).status).toBe(404);
    expect((await fetch(`${base}/dashboard/exec/P-MSFT`)).status).toBe(200);
    expect((await fetch(`${base}/dashboard/nope`)).status).toBe(404);
  });

  describe.skipIf(chromiumSkipReason !== null)('in a real Chromium', () => {
    let browser: Browser;
    beforeAll(async () => {
      browser = await launchChromium();
    }, 30_000);
    afterAll(async () => browser?.close());

    async function open(path: string): Promise<{ page: Page; errors: string[]; external: string[] }> {
      const page = await (await browser.createBrowserContext()).newPage();
      const errors: string[] = [];
      const external: string[] = [];
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      page.on('pageerror', (e) => errors.push(String(e)));
      page.on('request', (q) => !q.url().startsWith(base) && !q.url().startsWith('data:') && external.push(q.url()));
      await page.setViewport({ width: 1280, height: 900 });
      await page.goto(`${base}${path}`);
      return { page, errors, external };
    }
    async function shoot(page: Page, name: string): Promise<void> {
      const shot = join(artifactsDir(), name);
      await page.screenshot({ path: shot, fullPage: true });
      if (process.env.LOCKSTEP_UPDATE_DOC_IMAGES === '1') copyFileSync(shot, join(ROOT, 'docs/images', name));
    }
    const cells = (page: Page, sel: string) => page.$$eval(sel, (rs) => rs.map((r) => Array.from((r as HTMLTableRowElement).cells).map((c) => c.textContent)));

    it('models: the slot (incumbent, canary and share, the rollback and why) and each symbol\'s incumbent and canary values side by side', async () => {
      const { page, errors, external } = await open('/dashboard/models');
      await page.waitForFunction(() => document.querySelectorAll('#slots tbody tr').length === 1 && document.querySelectorAll('#signals-momo tbody tr').length === 8, { timeout: 10_000 });
      const [slot] = await cells(page, '#slots tbody tr');
      expect(slot.slice(0, 7)).toEqual(['momo', 'v3', 'v5', 'canary', '50 %', '—', '1']);
      expect(slot[7]).toMatch(/^v3: 40 \(.+\), v5: 40 \(.+\)$/);
      const changes = await cells(page, '#changes tbody tr');
      expect(changes.map((c) => c[2])).toEqual(['deploy canary 50 %', 'rollback', 'deploy canary 25 %', 'deploy live']);
      expect(changes[1]).toEqual(['momo', '2024-03-15T13:32:00.000Z', 'rollback', '—', 'canary 4 dropped; 3 serves', 'automatic: momo@4: evaluation error rate 3.00% over 200 rows > 1.00%']);
      expect(await page.$$eval('#signals-momo thead th', (h) => h.map((x) => x.textContent))).toEqual(['symbol', 'served version', 'status', 'momo_score · incumbent v3', 'momo_score · canary v5']);
      const rows = await page.$$eval('#signals-momo tbody tr', (rs) => rs.map((r) => ({ s: (r as HTMLElement).dataset.symbol!, cells: Array.from((r as HTMLTableRowElement).cells).map((c) => [c.textContent, c.className]) })));
      let canaries = 0;
      for (const r of rows) {
        const i = SYMBOLS.indexOf(r.s);
        // NVDA is halted by the kill guard: its values are withheld, as the API withholds them
        if (r.s === 'NVDA') {
          expect(r.cells).toEqual([['NVDA', ''], ['killed: values withheld', 'killed']]);
          continue;
        }
        const canary = inCanary('momo', r.s, 50);
        canaries += canary ? 1 : 0;
        expect(r.cells[1][0]).toBe(canary ? 'v5' : 'v3');
        expect(r.cells[2]).toEqual(['ok', 'ok']);
        // the unserved side's cell: its value, or (GOOG) why it has none, from its own status
        const other = r.s === 'GOOG' ? ['model failed', 'n bad'] : null;
        expect(r.cells[3]).toEqual(canary ? (other ?? [String(score(3, i)), 'n']) : [String(score(3, i)), 'n served']);
        expect(r.cells[4]).toEqual(canary ? [String(score(5, i)), 'n served'] : (other ?? [String(score(5, i)), 'n']));
      }
      // both sides of the canary are on the page (the share splits these 7 symbols)
      expect(canaries).toBeGreaterThan(0);
      expect(canaries).toBeLessThan(7);
      await shoot(page, 'dashboard-models.png');
      // a promote: the page follows without a reload
      await appendLogEntry(admin as never, keys.ns, { at: T0 + 900n * SEC, slot: 'momo', action: 'promote' });
      await page.waitForFunction(() => document.querySelector('#slots tbody tr td:nth-child(2)')?.textContent === 'v5', { timeout: 5000 });
      expect((await cells(page, '#slots tbody tr'))[0].slice(0, 6)).toEqual(['momo', 'v5', '—', '—', '—', 'v3']);
      expect(await page.$$eval('#signals-momo thead th', (h) => h.map((x) => x.textContent))).toEqual(['symbol', 'served version', 'status', 'momo_score · incumbent v5']);
      expect(errors).toEqual([]);
      expect(external).toEqual([]);
      await page.browserContext().close();
    }, 30_000);

    it('weights: the latest rebalance per symbol with its bar, change and event time; a new one appears', async () => {
      const { page, errors, external } = await open('/dashboard/weights');
      await page.waitForFunction(() => document.querySelectorAll('#weights tbody tr').length === 8, { timeout: 10_000 });
      expect(await page.$eval('#weights-meta', (e) => e.textContent)).toContain('rebalance at 2024-03-15T13:40:00.000Z (event time, every)');
      const rows = await cells(page, '#weights tbody tr');
      // largest weight first
      expect(rows.map((r) => r[0])).toEqual(['AAPL', 'MSFT', 'TSLA', 'AMZN', 'META', 'SPY', 'GOOG', 'NVDA']);
      expect(await cells(page, '#w-NVDA')).toEqual([['NVDA', '-20.000 %', '', '-5.000 %', '-0.6', '']]);
      expect(await cells(page, '#w-SPY')).toEqual([['SPY', '0.000 %', '', '0.000 %', '0', 'no signal']]);
      expect(await page.$eval('#w-AAPL .wbar span', (e) => [(e as HTMLElement).style.width, e.className])).toEqual(['50%', 'pos']);
      expect(await page.$eval('#w-NVDA .wbar span', (e) => [(e as HTMLElement).style.width, e.className])).toEqual(['40%', 'neg']);
      expect(await page.$eval('#wb-gross', (e) => e.textContent)).toBe('100.00 %');
      await writeWeights(3, [0.3, 0.1, -0.05, 0.05, 0.2, -0.2, 0.1, 0]);
      await page.waitForFunction(() => document.querySelector('#weights-meta')?.textContent?.includes('13:45:00.000Z'), { timeout: 5000 });
      expect(await cells(page, '#w-AAPL')).toEqual([['AAPL', '30.000 %', '', '+5.000 %', '0.9', '']]);
      await shoot(page, 'dashboard-weights.png');
      expect(errors).toEqual([]);
      expect(external).toEqual([]);
      await page.browserContext().close();
    }, 30_000);

    it('execution: each parent plan vs sent vs filled (chart), child count, state (stalled apart from done), behind schedule; the kill policy\'s firings and the switch; a new fill appears', async () => {
      const { page, errors, external } = await open('/dashboard/exec');
      await page.waitForFunction(() => document.querySelectorAll('#parents tbody tr').length === 4 && document.querySelectorAll('#fired tbody tr').length === 2, { timeout: 10_000 });
      const rows = await cells(page, '#parents tbody tr');
      expect(rows.map((r) => [r[0], r[3], r[5], r[6], r[7], r[8], r[9], r[10], r[11]])).toEqual([
        ['P-AAPL', 'working', '6', '0', '600', '440', '73.3 %', '-226 behind', '5'],
        ['P-MSFT', 'done', '2', '0', '100', '100', '100.0 %', '0 on schedule', '2'],
        ['P-NVDA', 'killed', '1', '1', '30', '0', '0.0 %', '—', '0'],
        ['P-TSLA', 'stalled', '1', '0', '20', '0', '0.0 %', '—', '0'],
      ]);
      expect(rows.map((r) => r[4]).slice(1)).toEqual(['window ended', expect.stringMatching(/^heard from \d\.\d s ago$/), expect.stringMatching(/^silent \d+ s \(heartbeat 1\.0 s\)$/)]);
      expect(Number(/^silent (\d+) s/.exec(rows[3][4]!)![1])).toBeGreaterThanOrEqual(42);
      expect(await page.$eval('#parent-P_NVDA td:nth-child(4)', (e) => e.className)).toBe('st-killed');
      expect(await page.$eval('#parent-P_TSLA td:nth-child(4)', (e) => e.className)).toBe('st-stalled');
      // the chart is the working parent's: its plan's 1,001 steps, 6 slices and 5 fills, on the union of their event times
      const ex0 = (await firstEvent('exec', 'exec')) as ExecPayload;
      const union = (extra: number[]) => {
        const aapl = ex0.parents[0];
        return new Set([...aapl.plan!.series, ...aapl.sentSeries, ...aapl.filledSeries].map((x) => x[0]).concat(extra)).size;
      };
      await page.waitForFunction(() => (window as unknown as { __dash: { exec: { planPoints: number } } }).__dash.exec.planPoints === 1001, { timeout: 5000 });
      await page.waitForFunction((n) => (window as unknown as { __dash: { exec: { chartPoints: number } } }).__dash.exec.chartPoints === n, { timeout: 5000 }, union([]));
      expect(await page.$eval('#exec-plan', (e) => e.textContent)).toBe('P-AAPL at 2024-03-15T13:36:40.000Z (event time): schedule 666, filled 440: 226 behind schedule');
      expect(await page.$$eval('#chart-exec canvas', (c) => c.length)).toBeGreaterThan(0);
      const fired = await cells(page, '#fired tbody tr');
      expect(fired.map((f) => f.slice(1))).toEqual([
        ['limit:max_daily_loss', 'all', '-5200', 'alert', '—'],
        ['price_collar_flag', 'NVDA', '1', 'kill-symbol', '1710509599000-0'],
      ]);
      expect(fired[1][0]).toBe(`2024-03-15T13:33:19.000Z (${T0 + 199n * SEC})`);
      expect(await page.$eval('#kill-symbols', (e) => e.textContent)).toContain('NVDA (halt: price_collar_flag=1 on NVDA');
      await fill('P-AAPL', 6, 'AAPL', 100, 400);
      await aaplStatus(540);
      await page.waitForFunction(() => document.querySelector('#parent-P_AAPL td:nth-child(9)')?.textContent === '540' && document.querySelector('#parent-P_AAPL td:nth-child(11)')?.textContent === '-126 behind', { timeout: 5000 });
      await page.waitForFunction((n) => (window as unknown as { __dash: { exec: { chartPoints: number } } }).__dash.exec.chartPoints === n, { timeout: 5000 }, union([Number((T0 + 400n * SEC) / 1_000_000n) / 1000]));
      await shoot(page, 'dashboard-exec.png');
      expect(errors).toEqual([]);
      expect(external).toEqual([]);
      await page.browserContext().close();
    }, 30_000);

    it('signing in as operator from one of these pages says so, without a console error', async () => {
      const { page, errors } = await open('/dashboard/weights');
      await page.type('#token', TOKEN);
      await page.click('#login button');
      await page.waitForFunction(() => document.querySelector('#action-msg')?.textContent === 'signed in as operator', { timeout: 5000 });
      expect(await page.$eval('#role', (e) => e.textContent)).toBe('operator');
      expect(errors).toEqual([]);
      await page.browserContext().close();
    }, 30_000);

    it("a parent's own page shows only it, with its chart and the kill changes it read", async () => {
      const { page, errors } = await open('/dashboard/exec/P-NVDA');
      await page.waitForFunction(() => document.querySelectorAll('#parents tbody tr').length === 1, { timeout: 10_000 });
      expect((await cells(page, '#parents tbody tr'))[0][3]).toBe('killed');
      await page.waitForFunction(() => (window as unknown as { __dash: { exec: { chartParent: string } } }).__dash.exec.chartParent === 'P-NVDA', { timeout: 5000 });
      expect(await page.$eval('#exec-kills', (e) => e.textContent)).toBe('P-NVDA read the kill switch: halt at 2024-03-15T13:33:20.000Z (automatic (kill-symbol): price collar)');
      expect(errors).toEqual([]);
      await page.browserContext().close();
    }, 30_000);
  });
});
