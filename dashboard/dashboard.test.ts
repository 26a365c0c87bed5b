/**
 * `lockstep serve --dashboard` through the real CLI, over a real redis-server with the documented
 * read-only user (plus the dashboard's inspection reads) for serve and the pipeline user for the
 * operator's kill switch; pages checked in a real headless Chromium (skipped, with the reason
 * printed, where none is installed). Values are written as a worker writes them (latestRow +
 * latestPairs, the commit's field/value pairs of a symbol's latest-value hash).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'puppeteer-core';
import { alertsStateKey, inputStream, killSwitchKey, latestKey, leaseKey, metaKey, type KeyLayout } from '../live/keys.ts';
import { latestPairs } from '../live/commit-script.ts';
import { latestRow } from '../live/worker/row-format.ts';
import { openRedis, type RedisClient } from '../live/redis-connect.ts';
import { RedisHarness } from '../live/redis-harness.ts';
import { artifactsDir, chromiumSkipReason, launchChromium } from './chromium.ts';
import { measureLoad } from './measure.ts';

const ROOT = resolve(new URL('..', import.meta.url).pathname);
const keys: KeyLayout = { ns: 'ls', shards: 4 };
const TOKEN = 'op-token-0123456789abcdef';
const SIGNALS = ['mom_score', 'up_prob', 'model_version'];
const FACTORS = ['last_price', 'mid', 'spread', 'vwap_session', 'ma_5m', 'ema_20', 'rsi_14', 'macd', 'macd_signal', 'macd_hist', 'return_1m', 'rv_5m'];
/** 30 columns, as a deployment with model signals records them in <ns>:meta. */
const COLUMNS = [...FACTORS, ...Array.from({ length: 30 - FACTORS.length - SIGNALS.length }, (_, i) => `f${String(i).padStart(2, '0')}`), ...SIGNALS];
const SYMBOLS = Array.from({ length: 50 }, (_, i) => `SYM${String(i).padStart(3, '0')}`);
const T0 = 1710511200000000000n; // 2024-03-15T14:00:00Z in ns

let redis: RedisHarness;
let admin: RedisClient;
let serve: ChildProcess;
let base: string;
let dir: string;
let seq = 0;
let tokenFile: string;
const as = (user: string, pw: string) => `redis://${user}:${pw}@${new URL(redis.url).host}`;

/** `lockstep serve --dashboard ARGS` on a free port; resolves with the process and its address. */
function startServe(args: string[]): Promise<{ proc: ChildProcess; base: string }> {
  const proc = spawn(process.execPath, [join(ROOT, 'bin/lockstep.js'), 'serve', '--port', '0', '--dashboard', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((done, fail) => {
    let out = '';
    proc.stdout!.on('data', (d) => {
      out += d.toString();
      const m = /dashboard (http:\/\/[^/]+)\/dashboard/.exec(out);
      if (m) done({ proc, base: m[1] });
    });
    proc.on('exit', (code) => fail(new Error(`serve exited with ${code}`)));
  });
}

/** One symbol's latest values, written as a worker's commit writes them. */
function writeRow(r: RedisClient, sym: string, minute: number, vals: (number | null)[], at = Date.now()) {
  seq++;
  const te = T0 + BigInt(minute) * 60_000_000_000n + BigInt(seq);
  const row = latestRow({ id: `${seq}-0`, kind: 'trade', seq: BigInt(seq), tsEvent: te, tsRecv: te + 1000n, packed: vals.map((v) => (v === null ? '' : String(v))).join(',') }, 'fsv-test', String(at));
  return { te: String(te), write: r.hset(latestKey(keys, sym), ...latestPairs(`${seq}-0`, row, COLUMNS)) };
}

/** Plausible values for every column at step `k` of a random walk. */
function values(k: number, price: number): number[] {
  const rsi = 50 + 25 * Math.sin(k / 7);
  const macd = 0.4 * Math.sin(k / 9);
  const byName: Record<string, number> = { last_price: price, mid: price - 0.01, spread: 0.02, vwap_session: 100 + (price - 100) * 0.6, ma_5m: price - 0.3 * Math.sin(k / 5), ema_20: price - 0.1, rsi_14: rsi, macd, macd_signal: macd * 0.8, macd_hist: macd * 0.2, return_1m: 0.001, rv_5m: 0.12, mom_score: 0.3, up_prob: 0.55, model_version: 3 };
  return COLUMNS.map((c) => byName[c] ?? k % 97);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ls-dash-'));
  redis = await RedisHarness.start();
  admin = await openRedis(redis.url);
  // the documented read-only user, plus the reads the dashboard's overview and symbol list use
  await admin.call('ACL', 'SETUSER', 'reader', 'on', '>readerpw', '~ls:latest:*', '~ls:meta', '~ls:kill', '~ls:alerts:state', '+hget', '+hmget', '+get', '+hgetall', '+ping');
  await admin.call('ACL', 'SETUSER', 'reader', '~ls:*', '+scan', '+xinfo', '+xpending', '+pttl', '+xrevrange', '+xrange', '+xlen', '+exists', '+zcount', '+time');
  await admin.call('ACL', 'SETUSER', 'pipeline', 'on', '>pipepw', '~ls:*', '~{ls:*', '+@all', '-@dangerous');
  await admin.hset(metaKey(keys), 'shards', String(keys.shards), 'columns', COLUMNS.join(','), 'featureSetVersion', 'fsv-test');
  // a deployment in motion: inputs on every shard, a worker on three of them, one alert firing
  for (let s = 0; s < keys.shards; s++) {
    for (let i = 0; i < 5 + s * 3; i++) await admin.xadd(inputStream(keys, s), '*', 'k', 'v');
    await admin.xgroup('CREATE', inputStream(keys, s), 'lockstep', '0');
    if (s < 3) await admin.set(leaseKey(keys, s), 'worker-a', 'PX', 600_000);
  }
  await admin.hset(alertsStateKey(keys), 'no-worker:3', JSON.stringify({ id: 'no-worker:3', severity: 'critical', summary: 'shard 3 has 14 inputs and no worker holds it', shard: 3, value: 14, since: Date.now() - 65_000 }));
  for (const [i, s] of SYMBOLS.entries()) await writeRow(admin, s, 0, values(0, 100 + i)).write;
  tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, `${TOKEN}\n`);
  const cert = join(dir, 'cert.json');
  writeFileSync(cert, JSON.stringify({ verdict: 'parity', scenario: { date: '2024-03-15', workers: 3, shards: 4, chaos: 'kill:2,dup:0.02' }, code: { featureSetVersion: 'fsv-test' }, outputs: { rows: 58549, replayTableHash: '181e2c0d93767683', liveTableHash: '181e2c0d93767683' }, diff: { mismatchedCells: 0 } }));
  await admin.call('ACL', 'SETUSER', 'viewer', 'on', '>viewerpw', '~ls:latest:*', '~ls:meta', '~ls:kill', '~ls:alerts:state', '+hget', '+hmget', '+get', '+hgetall', '+ping');
  ({ proc: serve, base } = await startServe([
    '--redis', as('reader', 'readerpw'), '--shards', String(keys.shards), '--operator-token-file', tokenFile, '--operator-redis', as('pipeline', 'pipepw'), '--parity-certificate', cert,
  ]));
}, 60_000);

afterAll(async () => {
  serve?.kill('SIGTERM');
  admin?.disconnect();
  await redis?.close();
  rmSync(dir, { recursive: true, force: true });
});

const post = (path: string, headers: Record<string, string>, body: unknown = { on: true, reason: 'test' }) =>
  fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) }).then(async (r) => ({ status: r.status, text: await r.text() }));

describe('lockstep serve --dashboard', () => {
  it('refuses bad input with a status and one line, no stack trace, nothing changed', async () => {
    const unknown = await fetch(`${base}/dashboard/factors/NOPE`);
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toMatch(/unknown symbol &#34;NOPE&#34;: this deployment has no values for it/);
    expect((await fetch(`${base}/dashboard/factors/${encodeURIComponent('<script>')}`)).status).toBe(404);
    expect((await fetch(`${base}/dashboard/factors/%E0%A4%A`)).status).toBe(404);
    const origin = { origin: base };
    const cases: [Record<string, string>, number, RegExp][] = [
      [{}, 403, /cross-origin request \(Origin absent\)/],
      [{ origin: 'http://evil.example' }, 403, /cross-origin request/],
      [origin, 403, /missing or wrong CSRF token/],
      [{ authorization: 'Bearer ' }, 401, /an operator token is required/],
      [{ authorization: 'Bearer wrong-token-0123456789' }, 403, /wrong operator token/],
      [{ authorization: 'Bearer bad token with spaces' }, 403, /malformed operator token/],
      [{ authorization: 'Basic Zm9vOmJhcg==' }, 403, /malformed operator token/],
    ];
    for (const [headers, status, why] of cases) {
      const r = await post('/dashboard/kill', headers);
      expect([JSON.stringify(headers), r.status]).toEqual([JSON.stringify(headers), status]);
      expect(JSON.parse(r.text).error).toMatch(why);
      expect(r.text).not.toMatch(/\n\s+at /);
    }
    expect(await admin.get(killSwitchKey(keys))).toBeNull();
    // a script with the token (no cookie, so no CSRF token needed) may act
    const ok = await post('/dashboard/kill', { authorization: `Bearer ${TOKEN}` }, { on: true, symbol: 'SYM001', reason: 'script' });
    expect(ok).toEqual({ status: 200, text: JSON.stringify({ message: 'kill switch ON for SYM001' }) });
    expect(JSON.parse((await admin.get(killSwitchKey(keys)))!).symbols.SYM001.reason).toBe('script');
    expect((await post('/dashboard/kill', { authorization: `Bearer ${TOKEN}` }, { on: false })).status).toBe(200);
    expect(await admin.get(killSwitchKey(keys))).toBeNull();
  });

  it('with only the documented read-only user and no --operator-redis: says what it cannot show or do', async () => {
    const other = await startServe(['--redis', as('viewer', 'viewerpw'), '--shards', String(keys.shards), '--operator-token-file', tokenFile, '--dashboard-symbols', 'SYM000,SYM001']);
    try {
      const page = await (await fetch(`${other.base}/dashboard`)).text();
      expect(page).toContain('Kill switch changes are not configured: serve needs --operator-redis URL');
      expect(page).toContain('none known to this server');
      const r = await fetch(`${other.base}/dashboard/kill`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: '{"on":true}' });
      expect(r.status).toBe(503);
      expect(((await r.json()) as { error: string }).error).toMatch(/^kill switch changes are not configured: start serve with --operator-redis URL/);
      expect(await admin.get(killSwitchKey(keys))).toBeNull();
      expect((await fetch(`${other.base}/dashboard/factors/SYM002`)).status).toBe(404);
      // the overview's event: the shard table unavailable, saying why, the rest shown
      const ev = await fetch(`${other.base}/dashboard/events?view=overview`);
      const reader = ev.body!.getReader();
      let text = '';
      while (!text.includes('event: overview')) text += new TextDecoder().decode((await reader.read()).value);
      await reader.cancel();
      const o = JSON.parse(/event: overview\ndata: (.*)\n/.exec(text)![1]);
      expect(o).toMatchObject({ redis: 'ok', shards: null, symbols: 2, alerts: [{ id: 'no-worker:3' }] });
      expect(o.shardsError).toMatch(/NOPERM.*may lack XINFO/);
    } finally {
      other.proc.kill('SIGTERM');
    }
  });

  describe.skipIf(chromiumSkipReason !== null)('in a real Chromium', () => {
    let browser: Browser;
    beforeAll(async () => {
      browser = await launchChromium();
    }, 30_000);
    afterAll(async () => browser?.close());

    /** A page (in its own browser context: its own cookies) that records console errors and requests elsewhere. */
    async function open(path: string): Promise<{ page: Page; errors: string[]; external: string[] }> {
      const ctx = await browser.createBrowserContext();
      const page = await ctx.newPage();
      const errors: string[] = [];
      const external: string[] = [];
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      page.on('pageerror', (e) => errors.push(String(e)));
      page.on('request', (q) => !q.url().startsWith(base) && !q.url().startsWith('data:') && external.push(q.url()));
      await page.setViewport({ width: 1280, height: 900 });
      await page.goto(`${base}${path}`);
      return { page, errors, external };
    }

    it('overview: health, shards, workers, alerts, kill switch; no console errors, nothing from elsewhere', async () => {
      const { page, errors, external } = await open('/dashboard');
      await page.waitForFunction(() => document.querySelectorAll('#shards tbody tr').length === 4, { timeout: 10_000 });
      expect(await page.$eval('#h-redis', (e) => e.textContent)).toBe('ok');
      expect(await page.$eval('#alerts tbody', (e) => e.textContent)).toMatch(/no-worker:3.*critical.*no worker holds it/);
      expect(await page.$eval('#kill-line', (e) => e.textContent)).toBe('off for the deployment');
      expect(await page.$eval('#parity', (e) => e.textContent)).toMatch(/verdictparity.*mismatched cells0.*table hashesreplay 181e2c0d93767683 live 181e2c0d93767683/);
      expect(await page.$eval('#shards tbody', (e) => e.textContent)).toMatch(/^0holds lease5/);
      await page.screenshot({ path: join(artifactsDir(), 'dashboard-overview.png') });
      expect(errors).toEqual([]);
      expect(external).toEqual([]);
      await page.browserContext().close();
    }, 30_000);

    it('a symbol: a value written to Redis appears on the page, charts draw; unknown symbol is a 404 page', async () => {
      const { page, errors, external } = await open('/dashboard/factors/SYM007');
      await page.waitForSelector('#f-last_price');
      const lat: number[] = [];
      let price = 107;
      for (let k = 1; k <= 90; k++) {
        price += Math.sin(k / 4) * 0.15 + 0.02;
        const vals = values(k, Math.round(price * 100) / 100);
        const t = Date.now();
        await writeRow(admin, 'SYM007', k, vals, t).write;
        const want = String(vals[0]);
        // every 10th write: wait for it on screen and time it
        if (k % 10 === 0) {
          await page.waitForFunction((w) => document.querySelector('#f-last_price td:nth-child(2)')?.textContent === w, { timeout: 5000, polling: 'mutation' }, want);
          lat.push(Date.now() - t);
        } else await new Promise((r) => setTimeout(r, 30));
      }
      expect(await page.$eval('#f-rsi_14 td:nth-child(4)', (e) => e.textContent)).toBe('present');
      expect(await page.$eval('#f-mom_score td:first-child', (e) => e.textContent)).toBe('mom_score (model signal)');
      expect(await page.$$eval('canvas', (c) => c.length)).toBe(2);
      lat.sort((a, b) => a - b);
      console.log(`dashboard: Redis write -> value on screen (symbol page, 9 samples): median ${lat[4]} ms, max ${lat[8]} ms`);
      await page.screenshot({ path: join(artifactsDir(), 'dashboard-factors.png'), fullPage: true });
      expect(errors).toEqual([]);
      expect(external).toEqual([]);
      await page.goto(`${base}/dashboard/factors/NOPE`);
      expect(await page.$eval('#error', (e) => e.textContent)).toMatch(/^unknown symbol "NOPE"/);
      await page.browserContext().close();
    }, 60_000);

    it("the operator's kill switch button works; a viewer's is refused and changes nothing", async () => {
      const viewer = await open('/dashboard');
      await viewer.page.waitForSelector('#kill-line');
      await viewer.page.click('#kill-on');
      await viewer.page.waitForFunction(() => document.querySelector('#action-msg')?.className === 'refused');
      expect(await viewer.page.$eval('#action-msg', (e) => e.textContent)).toBe('Refused (403): viewers cannot change anything: sign in with the operator token first');
      expect(await admin.get(killSwitchKey(keys))).toBeNull();
      const op = await open('/dashboard');
      await op.page.type('#token', TOKEN);
      await op.page.click('#login button');
      await op.page.waitForFunction(() => document.querySelector('#role')?.textContent === 'operator');
      await op.page.click('#kill-on');
      await op.page.waitForFunction(() => document.querySelector('#action-msg')?.textContent === 'kill switch ON for the whole deployment');
      const state = JSON.parse((await admin.get(killSwitchKey(keys)))!);
      expect(state.all).toMatchObject({ reason: 'dashboard', by: 'dashboard operator' });
      // every page shows it within its next update
      await viewer.page.waitForFunction(() => document.querySelector('#kill-line')?.textContent?.startsWith('ON for the whole deployment'), { timeout: 5000 });
      await op.page.click('#kill-off');
      await op.page.waitForFunction(() => document.querySelector('#action-msg')?.textContent === 'kill switch OFF for everything');
      expect(await admin.get(killSwitchKey(keys))).toBeNull();
      // the browser logs the refused POST itself; nothing else
      expect(viewer.errors).toEqual(['Failed to load resource: the server responded with a status of 403 (Forbidden)']);
      expect(op.errors).toEqual([]);
      expect([...viewer.external, ...op.external]).toEqual([]);
      await viewer.page.browserContext().close();
      await op.page.browserContext().close();
    }, 60_000);

    it('50 symbols × 30 factors at 10 updates/s: latency to screen and frame time (printed, not asserted)', async () => {
      const { page, errors } = await open('/dashboard/factors');
      type Grid = { __dash: { grid?: { rows: number; columns: number }; cell(s: string, c: string): string | undefined } };
      await page.waitForFunction((n) => (window as unknown as Grid).__dash.grid?.rows === n, { timeout: 10_000 }, SYMBOLS.length);
      let lastK = 0;
      const figures = await measureLoad(page, 3000, (k, now) => ((lastK = k), writeAll(admin, k, now)));
      console.log(`dashboard grid, 50 symbols x 30 factors at 10 updates/s for 3 s: ${figures.line}`);
      // the measurement ran, and the grid (a canvas) drew the last values written
      expect(figures.written).toBeGreaterThan(0);
      expect(figures.frameMs.frames).toBeGreaterThan(0);
      expect(figures.painted).toBeGreaterThan(0);
      expect(await page.evaluate(() => (window as unknown as Grid).__dash.grid?.columns)).toBe(COLUMNS.length);
      const want = String(100 + lastK / 100);
      await page.waitForFunction((w) => (window as unknown as Grid).__dash.cell('SYM000', 'last_price') === w, { timeout: 5000 }, want);
      expect(await page.evaluate(() => (window as unknown as Grid).__dash.cell('SYM003', 'rsi_14'))).toMatch(/^\d+(\.\d+)?$/);
      // virtualized: the last rows are drawn only once scrolled into view; a click on a symbol opens its page
      expect(await page.evaluate(() => (window as unknown as Grid).__dash.cell('SYM049', 'last_price'))).toBeUndefined();
      await page.$eval('#grid-wrap', (e) => e.scrollTo(0, e.scrollHeight));
      const want49 = String(Math.round(Number(String(149 + lastK / 100)) * 1e6) / 1e6);
      await page.waitForFunction((w) => (window as unknown as Grid).__dash.cell('SYM049', 'last_price') === w, { timeout: 5000 }, want49);
      const box = (await page.$eval('#grid-wrap', (e) => { const b = e.getBoundingClientRect(); return { x: b.left, y: b.bottom }; }))!;
      await Promise.all([page.waitForNavigation(), page.mouse.click(box.x + 20, box.y - 30)]);
      expect(page.url()).toMatch(/\/dashboard\/factors\/SYM04\d$/);
      await page.screenshot({ path: join(artifactsDir(), 'dashboard-grid.png') });
      expect(statSync(join(artifactsDir(), 'dashboard-grid.png')).size).toBeGreaterThan(10_000);
      if (process.env.LOCKSTEP_UPDATE_DOC_IMAGES === '1') copyFileSync(join(artifactsDir(), 'dashboard-grid.png'), join(ROOT, 'docs/images/dashboard-grid.png'));
      expect(errors).toEqual([]);
      await page.browserContext().close();
    }, 60_000);
  });
  if (chromiumSkipReason !== null) it.skip(chromiumSkipReason, () => {});
});

/** Every symbol's row at step `k`, written in one pipeline as the workers' commits write them; the rows' `symbol|ts_event`. */
async function writeAll(r: RedisClient, k: number, now: number): Promise<string[]> {
  const p = r.pipeline();
  const out: string[] = [];
  for (const [i, s] of SYMBOLS.entries()) {
    seq++;
    const te = T0 + BigInt(k) * 60_000_000_000n + BigInt(seq);
    const row = latestRow({ id: `${seq}-0`, kind: 'trade', seq: BigInt(seq), tsEvent: te, tsRecv: te, packed: values(k, 100 + i + k / 100).join(',') }, 'fsv-test', String(now));
    p.hset(latestKey(keys, s), ...latestPairs(`${seq}-0`, row, COLUMNS));
    out.push(`${s}|${te}`);
  }
  await p.exec();
  return out;
}
