/**
 * The dashboard's PnL & risk page through the real CLI (`lockstep serve --dashboard`), over a real
 * redis-server, with serve logged in as the read-only user exactly as docs/live-operations.md
 * gives it: the desk's records are written as `lockstep desk` writes them (trading/desk-live.ts
 * sampleRecords / logRecord, encoded by live/pnl-record.ts), the page checked in a real headless
 * Chromium (skipped, with the reason printed, where none is installed). The limit bars' thresholds
 * come from a real `lockstep desk` process, which publishes its limits file in `ls:limits` when it
 * starts (there is no deployment here: it publishes, then waits for one until stopped).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'puppeteer-core';
import { killSwitchKey, limitsKey, pnlKey, pnlLogKey, positionsKey, riskKey } from '../live/keys.ts';
import { parseKillState, setKillSwitch } from '../live/kill-switch.ts';
import { encodeDeskFields } from '../live/pnl-record.ts';
import { openRedis, type RedisClient } from '../live/redis-connect.ts';
import { RedisHarness } from '../live/redis-harness.ts';
import { logRecord, sampleRecords } from '../trading/desk-live.ts';
import type { BookRecord, PositionRecord } from '../trading/ledger-snapshot.ts';
import { artifactsDir, chromiumSkipReason, launchChromium } from './chromium.ts';

const ROOT = resolve(new URL('..', import.meta.url).pathname);
const keys = { ns: 'ls', shards: 2 };
const T0 = 1710509400000000000n; // 2024-03-15T13:30:00Z in ns
const SEC = 1_000_000_000n;
const TOKEN = 'op-token-0123456789abcdef';

let redis: RedisHarness;
let admin: RedisClient;
let serve: ChildProcess;
let desk: ChildProcess | null = null;
let base: string;
let dir: string;

/** The documented read-only user's rules (docs/live-operations.md), with `pw` as its password. */
function documentedReader(pw: string): string[] {
  const line = readFileSync(join(ROOT, 'docs/live-operations.md'), 'utf8').split('\n').find((l) => l.startsWith('ACL SETUSER reader '))!;
  return line.slice('ACL SETUSER reader '.length).trim().split(/\s+/).map((t) => t.replace('PASSWORD', pw));
}

function book(ts: bigint, account: string, strategy: string, dayPnl: number, over: Partial<BookRecord> = {}): BookRecord {
  return { ts, account, strategy, positions: 1, realized: dayPnl * 0.6, unrealized: dayPnl * 0.4 + 2, fees: 2, dayPnl, hwm: Math.max(dayPnl, 1500), drawdown: Math.max(0, 1500 - dayPnl), gross: 250_000, net: 50_000, concentration: 0.6, var: 3210.5, varMissing: 0, ...over };
}
function books(ts: bigint, k: number): BookRecord[] {
  const a = 1000 + 40 * Math.sin(k / 5) + k;
  const b = -200 + 30 * Math.cos(k / 7);
  return [book(ts, '*', '*', a + b, { positions: 2 }), book(ts, 'acct1', 'momentum', a), book(ts, 'acct1', 'meanrev', b)];
}
const POSITIONS: PositionRecord[] = [
  { ts: T0, account: 'acct1', strategy: 'momentum', symbol: 'AAPL', lots: 10, qty: 1000, avgPrice: 171.25, mark: 172.5, realized: 600, unrealized: 1250, fees: 1.5, notional: 172_500 },
  { ts: T0, account: 'acct1', strategy: 'meanrev', symbol: 'MSFT', lots: -2, qty: -200, avgPrice: 415.1, mark: 416.3, realized: 0, unrealized: -240, fees: 0.5, notional: -83_260 },
];

/** The desk's limits file (trading/limits.ts), given to `lockstep desk --limits`. */
const LIMITS = { symbols: { AAPL: { max_position: 2000, max_notional: 250_000 } }, default_symbol: { max_position_lots: 5 }, max_gross_exposure: 1_000_000, max_daily_loss: 5000, max_drawdown: 3000, books: { 'acct1/meanrev': { max_daily_loss: 150 } } };
/** The limits file a restarted desk runs with: half the gross exposure, a book limit on momentum. */
const LIMITS_B = { ...LIMITS, max_gross_exposure: 500_000, books: { 'acct1/momentum': { max_drawdown: 800 } } };
const INSTRUMENTS = { instruments: { AAPL: { tick: 0.01, lot: 100 }, MSFT: { tick: 0.01, lot: 100 } } };
const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const publishedFile = async () => (JSON.parse((await admin.get(limitsKey(keys))) ?? 'null') as { file: string; at: number } | null);

/**
 * Starts `lockstep desk --limits FILE` (stopping the running one first) and waits until it has
 * published FILE in `ls:limits`: the desk writes it when it starts, before it waits for a deployment.
 */
async function startDesk(file: string): Promise<void> {
  await stopDesk();
  const before = await publishedFile();
  const p = spawn(process.execPath, [join(ROOT, 'bin/lockstep.js'), 'desk', '--redis', redis.url, '--ns', keys.ns, '--instruments', join(dir, 'instruments.json'), '--limits', file], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  p.stderr!.on('data', (d) => (err += d));
  let exited: number | null = null;
  p.once('exit', (code) => (exited = code ?? -1));
  desk = p;
  for (;;) {
    if (exited !== null) throw new Error(`lockstep desk exited with ${exited}: ${err}`);
    const now = await publishedFile();
    if (now !== null && now.file === file && now.at !== before?.at) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}
async function stopDesk(): Promise<void> {
  if (desk === null) return;
  const p = desk;
  desk = null;
  if (p.exitCode !== null) return;
  const exit = new Promise((r) => p.once('exit', r));
  p.kill('SIGTERM');
  await exit;
}

/** One second of the desk's output, as trading/desk-live.ts writes it: a log entry, then the latest records. */
async function writeSample(k: number, breaches: { limit: string; scope: string }[] = []): Promise<void> {
  const t = T0 + BigInt(k) * SEC;
  const bs = books(t, k);
  await admin.xadd(pnlLogKey(keys), '*', ...encodeDeskFields(t, logRecord(bs), Date.now()));
  const rec = sampleRecords(bs, POSITIONS, breaches);
  await admin.hset(pnlKey(keys), ...encodeDeskFields(t, rec.pnl, Date.now()));
  await admin.hset(riskKey(keys), ...encodeDeskFields(t, rec.risk, Date.now()));
  await admin.hset(positionsKey(keys), ...encodeDeskFields(t, rec.positions, Date.now()));
}

beforeAll(async () => {
  redis = await RedisHarness.start();
  admin = await openRedis(redis.url);
  await admin.call('ACL', 'SETUSER', 'reader', ...documentedReader('readerpw'));
  for (let k = 0; k < 120; k++) await writeSample(k, k >= 100 ? [{ limit: 'daily_loss', scope: 'book acct1/meanrev' }] : []);
  const url = `redis://reader:readerpw@${new URL(redis.url).host}`;
  dir = mkdtempSync(join(tmpdir(), 'ls-dash-pnl-'));
  writeFileSync(join(dir, 'token'), `${TOKEN}\n`);
  writeFileSync(join(dir, 'limits.json'), JSON.stringify(LIMITS));
  writeFileSync(join(dir, 'limits-b.json'), JSON.stringify(LIMITS_B, null, 2));
  writeFileSync(join(dir, 'instruments.json'), JSON.stringify(INSTRUMENTS));
  await startDesk(join(dir, 'limits.json'));
  serve = spawn(process.execPath, [join(ROOT, 'bin/lockstep.js'), 'serve', '--port', '0', '--dashboard', '--redis', url, '--shards', String(keys.shards), '--dashboard-symbols', 'AAPL,MSFT', '--operator-token-file', join(dir, 'token'), '--operator-redis', redis.url], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
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
  serve?.kill('SIGTERM');
  await stopDesk();
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

describe('dashboard: PnL & risk', () => {
  it('the documented read-only user reads the desk records and the day PnL log (event stream)', async () => {
    const desk = (await firstEvent('pnl', 'desk')) as { pnl: { t: string; books: { dayPnl: number }[] }; risk: { breaches: unknown[] }; positions: { positions: unknown[] }; logError: string | null };
    expect(desk.logError).toBeNull();
    expect(desk.pnl.t).toBe(String(T0 + 119n * SEC));
    expect(desk.pnl.books).toHaveLength(3);
    expect(desk.risk.breaches).toEqual([{ limit: 'daily_loss', scope: 'book acct1/meanrev' }]);
    expect(desk.positions.positions).toHaveLength(2);
    const log = (await firstEvent('pnl', 'pnllog')) as { reset: boolean; points: { t: number; p: Record<string, number> }[] };
    expect(log.reset).toBe(true);
    expect(log.points).toHaveLength(120);
    expect(log.points[0]).toEqual({ t: Number(T0 / 1_000_000n) / 1000, p: { '*/*': books(T0, 0)[0].dayPnl, 'acct1/momentum': books(T0, 0)[1].dayPnl, 'acct1/meanrev': books(T0, 0)[2].dayPnl } });
    expect((await fetch(`${base}/dashboard/events?view=nope`)).status).toBe(400);
    // the limits the running desk published, read by the documented read-only user
    const { limits, limitsError } = desk as unknown as { limits: { at: number }; limitsError: string | null };
    expect(limitsError).toBeNull();
    expect(limits).toEqual({
      file: join(dir, 'limits.json'), sha256: sha256(join(dir, 'limits.json')), at: (await publishedFile())!.at,
      symbols: { AAPL: { maxPosition: 2000, maxNotional: 250_000 } }, defaultSymbol: { maxPositionLots: 5 }, total: { maxGrossExposure: 1_000_000, maxDailyLoss: 5000, maxDrawdown: 3000 }, books: { 'acct1/meanrev': { maxDailyLoss: 150 } },
      actions: { position: 'alert', notional: 'alert', gross: 'alert', daily_loss: 'kill-all', drawdown: 'kill-all', order_rate: 'alert' },
    });
  });

  it('no limits published, or a malformed record: the page is told why, the rest is served', async () => {
    const saved = (await admin.get(limitsKey(keys)))!;
    try {
      await admin.del(limitsKey(keys));
      expect(await firstEvent('pnl', 'desk')).toMatchObject({ limits: null, limitsError: 'no desk has published its limits (ls:limits is not set: lockstep desk writes it when it starts)', logError: null });
      await admin.set(limitsKey(keys), '{"file": 5}');
      expect(await firstEvent('pnl', 'desk')).toMatchObject({ limits: null, limitsError: "ls:limits is not a desk's limits record (field file: 5)" });
    } finally {
      await admin.set(limitsKey(keys), saved);
    }
  });

  it('a desk given a bad limits file exits 2 with one line naming the file and field, and publishes nothing', async () => {
    const bad = join(dir, 'bad-limits.json');
    writeFileSync(bad, JSON.stringify({ max_daily_loss: -5 }));
    const before = await admin.get(limitsKey(keys));
    const p = spawn(process.execPath, [join(ROOT, 'bin/lockstep.js'), 'desk', '--redis', redis.url, '--ns', keys.ns, '--instruments', join(dir, 'instruments.json'), '--limits', bad], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    p.stderr!.on('data', (d) => (err += d));
    const code = await new Promise((res) => p.once('exit', res));
    expect(code).toBe(2);
    const lines = err.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toBe(`lockstep: ${bad}, field max_daily_loss: must be a number > 0 (value -5)`);
    expect(await admin.get(limitsKey(keys))).toBe(before);
  });

  it("the operator may switch a symbol to reduce-only; a bad mode is refused and changes nothing", async () => {
    const kill = (body: unknown) => fetch(`${base}/dashboard/kill`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) }).then(async (r) => ({ status: r.status, body: (await r.json()) as { message?: string; error?: string } }));
    expect(await kill({ on: true, symbol: 'AAPL', reason: 'test', mode: 'slow' })).toEqual({ status: 400, body: { error: 'field mode must be halt or reduce-only, not "slow"' } });
    expect(await admin.get(killSwitchKey(keys))).toBeNull();
    expect(await kill({ on: true, symbol: 'AAPL', reason: 'test', mode: 'reduce-only' })).toEqual({ status: 200, body: { message: 'kill switch ON (reduce-only) for AAPL' } });
    expect(parseKillState(await admin.get(killSwitchKey(keys))).symbols.AAPL).toMatchObject({ mode: 'reduce-only', reason: 'test', by: 'dashboard operator' });
    expect(await kill({ on: true, symbol: 'AAPL', reason: 'test', mode: 'halt' })).toEqual({ status: 200, body: { message: 'kill switch ON for AAPL' } });
    expect(parseKillState(await admin.get(killSwitchKey(keys))).symbols.AAPL.mode).toBeUndefined();
    expect((await kill({ on: false })).status).toBe(200);
    expect(await admin.get(killSwitchKey(keys))).toBeNull();
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
      await page.setViewport({ width: 1280, height: 1000 });
      await page.goto(`${base}${path}`);
      return { page, errors, external };
    }

    it('books, positions, limits in breach and the day PnL chart; a new sample appears; kill switch mode and cause', async () => {
      await setKillSwitch(admin, keys, { on: true, symbols: ['MSFT'], mode: 'reduce-only', reason: 'daily loss limit', by: 'kill-guard', cause: { rule: 'limit:daily_loss', symbol: 'MSFT', tsRecv: String(T0 + 100n * SEC), value: -231.5 } });
      const { page, errors, external } = await open('/dashboard/pnl');
      await page.waitForFunction(() => document.querySelectorAll('#books tbody tr').length === 3 && (window as unknown as { __dash: { pnl: { points: number } } }).__dash.pnl.points === 120, { timeout: 10_000 });
      const booksText = await page.$eval('#books tbody', (e) => e.textContent);
      expect(booksText).toContain('all (total)');
      expect(booksText).toContain('acct1momentum');
      expect(booksText).toContain((books(T0, 119)[1].dayPnl).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 }));
      expect(booksText).toContain('3,210.50');
      expect(await page.$eval('#positions tbody', (e) => e.textContent)).toMatch(/acct1momentumAAPL101,000171\.2500172\.5000172,500\.00/);
      expect(await page.$eval('#breaches tbody', (e) => e.textContent)).toBe('daily_lossbook acct1/meanrev');
      // limit usage: the limits file's thresholds against the served positions (net across books) and books
      expect(await page.$$eval('#limits tbody tr', (r) => r.map((x) => x.id))).toEqual([
        'lim-position-symbol_AAPL_units_', 'lim-notional-symbol_AAPL', 'lim-position-symbol_MSFT', 'lim-gross-total', 'lim-daily_loss-total', 'lim-drawdown-total', 'lim-daily_loss-book_acct1_meanrev',
      ]);
      const rowText = (id: string) => page.$eval(`#${id}`, (e) => Array.from((e as HTMLTableRowElement).cells).map((c) => c.textContent));
      expect(await rowText('lim-position-symbol_AAPL_units_')).toEqual(['position', 'symbol AAPL (units)', '1,000', '2,000', '50.0 %']);
      expect(await rowText('lim-notional-symbol_AAPL')).toEqual(['notional', 'symbol AAPL', '172,500.00', '250,000.00', '69.0 %']);
      expect(await rowText('lim-position-symbol_MSFT')).toEqual(['position', 'symbol MSFT', '2', '5', '40.0 %']);
      expect(await rowText('lim-gross-total')).toEqual(['gross', 'total', '250,000.00', '1,000,000.00', '25.0 %']);
      const loss = -books(T0, 119)[2].dayPnl;
      expect(await rowText('lim-daily_loss-book_acct1_meanrev')).toEqual(['daily_loss', 'book acct1/meanrev', loss.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 }), '150.00', `${((100 * loss) / 150).toLocaleString('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 })} % (in breach)`]);
      expect(await page.$eval('#lim-daily_loss-book_acct1_meanrev .bar', (e) => e.className)).toBe('bar bad');
      expect(await page.$eval('#lim-gross-total .bar', (e) => e.className)).toBe('bar ok');
      expect(await page.$eval('#lim-gross-total .bar span', (e) => (e as HTMLElement).style.width)).toBe('25%');
      // the thresholds are the running desk's: the page names its file and the file's hash
      expect(await page.$eval('#limits-note', (e) => e.textContent)).toContain(`thresholds the desk runs with: ${join(dir, 'limits.json')} (sha256 ${sha256(join(dir, 'limits.json')).slice(0, 12)})`);
      expect(await page.$eval('#lim-daily_loss-total td', (e) => (e as HTMLElement).title)).toBe('on breach: kill-all');
      expect(await page.$$eval('#chart-pnl canvas', (c) => c.length)).toBeGreaterThan(0);
      expect(await page.$eval('#kill-state', (e) => e.textContent)).toMatch(/ON for symbols: MSFT \(reduce-only: limit:daily_loss=-231\.5 on MSFT at ts_recv \d+\)/);
      // the desk's next second: on the page without a reload
      const before = await page.$eval('#desk-meta', (e) => e.textContent);
      await writeSample(120, [{ limit: 'daily_loss', scope: 'book acct1/meanrev' }, { limit: 'notional', scope: 'symbol AAPL' }]);
      await page.waitForFunction(() => (window as unknown as { __dash: { pnl: { points: number } } }).__dash.pnl.points === 121, { timeout: 5000 });
      await page.waitForFunction((b) => document.querySelector('#desk-meta')?.textContent !== b, { timeout: 5000 }, before);
      expect(await page.$eval('#desk-meta', (e) => e.textContent)).toContain('2024-03-15T13:32:00.000Z');
      await page.waitForFunction(() => document.querySelectorAll('#breaches tbody tr').length === 2, { timeout: 5000 });
      expect(await page.$eval('#breaches-note', (e) => e.textContent)).toBe('2 in breach');
      expect(await page.$eval('#books tbody', (e) => e.textContent)).toContain((books(T0, 120)[1].dayPnl).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 }));
      const shot = join(artifactsDir(), 'dashboard-pnl.png');
      await page.screenshot({ path: shot, fullPage: true });
      if (process.env.LOCKSTEP_UPDATE_DOC_IMAGES === '1') copyFileSync(shot, join(ROOT, 'docs/images/dashboard-pnl.png'));
      expect(errors).toEqual([]);
      expect(external).toEqual([]);
      await page.browserContext().close();
    }, 30_000);

    it('a desk restarted with another limits file: the open page shows its thresholds and names its file', async () => {
      const { page, errors } = await open('/dashboard/pnl');
      await page.waitForFunction(() => document.querySelector('#lim-gross-total td:nth-child(4)')?.textContent === '1,000,000.00', { timeout: 10_000 });
      const fileB = join(dir, 'limits-b.json');
      await startDesk(fileB);
      await page.waitForFunction(() => document.querySelector('#lim-gross-total td:nth-child(4)')?.textContent === '500,000.00', { timeout: 10_000 });
      const rowText = (id: string) => page.$eval(`#${id}`, (e) => Array.from((e as HTMLTableRowElement).cells).map((c) => c.textContent));
      expect(await rowText('lim-gross-total')).toEqual(['gross', 'total', '250,000.00', '500,000.00', '50.0 %']);
      // the book limit of the new file replaces the old file's (acct1/meanrev's daily loss is gone)
      expect(await page.$$eval('#limits tbody tr', (r) => r.map((x) => x.id))).toEqual([
        'lim-position-symbol_AAPL_units_', 'lim-notional-symbol_AAPL', 'lim-position-symbol_MSFT', 'lim-gross-total', 'lim-daily_loss-total', 'lim-drawdown-total', 'lim-drawdown-book_acct1_momentum',
      ]);
      const dd = books(T0, 120)[1].drawdown;
      expect(await rowText('lim-drawdown-book_acct1_momentum')).toEqual(['drawdown', 'book acct1/momentum', dd.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 }), '800.00', `${((100 * dd) / 800).toLocaleString('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 })} %`]);
      expect(await page.$eval('#limits-note', (e) => e.textContent)).toContain(`thresholds the desk runs with: ${fileB} (sha256 ${sha256(fileB).slice(0, 12)})`);
      expect(errors).toEqual([]);
      await page.browserContext().close();
    }, 60_000);

    it('overview: the kill switch mode (halt vs reduce-only) and its cause', async () => {
      await setKillSwitch(admin, keys, { on: true, mode: 'reduce-only', reason: 'drawdown', by: 'kill-guard', cause: { rule: 'limit:drawdown', symbol: null, tsRecv: '1710509500000000000', value: 1800 } });
      const { page, errors } = await open('/dashboard');
      await page.waitForFunction(() => document.querySelector('#kill-line')?.textContent?.startsWith('ON for the whole deployment (reduce-only)'), { timeout: 10_000 });
      expect(await page.$eval('#kill-line', (e) => e.className)).toBe('warn');
      expect(await page.$eval('#kill-cause', (e) => e.textContent)).toBe('cause: limit:drawdown=1800 at ts_recv 1710509500000000000');
      await setKillSwitch(admin, keys, { on: true, mode: 'halt', reason: 'operator', by: 'oncall' });
      await page.waitForFunction(() => document.querySelector('#kill-line')?.textContent?.startsWith('ON for the whole deployment (halt), by oncall'), { timeout: 5000 });
      expect(await page.$eval('#kill-line', (e) => e.className)).toBe('bad');
      expect(errors).toEqual([]);
      await setKillSwitch(admin, keys, { on: false });
      await page.browserContext().close();
    }, 30_000);
  });
});
