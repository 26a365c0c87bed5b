/**
 * `lockstep serve --dashboard`: the dashboard's routes, mounted into the HTTP API's server (same
 * process, same read-only Redis user):
 *
 *   GET  /dashboard                    overview: health, shards (lag, workers), alerts, kill switch, parity certificate
 *   GET  /dashboard/factors            every symbol × every factor, live
 *   GET  /dashboard/factors/SYM        one symbol: charts, every factor with its age and status (404 for an unknown symbol)
 *   GET  /dashboard/pnl                the desk's PnL & risk: books, positions, limits in breach, the day's PnL chart (pnl-feed.ts)
 *   GET  /dashboard/models             model slots (incumbent, canary/shadow and share, rollbacks and why) and their signals per symbol (models-feed.ts)
 *   GET  /dashboard/weights            the latest target weights of `weights --redis` (weights-feed.ts)
 *   GET  /dashboard/exec               parent orders of `execute --redis`: plan vs sent vs filled, state (working, done, stopped, stalled, killed) (exec-feed.ts); the kill policy's firings (kill-feed.ts)
 *   GET  /dashboard/exec/PARENT        one parent order (404 for one with no order in <ns>:orders)
 *   GET  /dashboard/events?view=...    the Server-Sent Events stream the pages follow (hub.ts)
 *   GET  /dashboard/assets/...         the page script and uPlot, from the package (nothing from the internet)
 *   POST /dashboard/login              {token}: the session becomes operator (auth.ts)
 *   POST /dashboard/kill               {on, symbol?, reason, mode?}: operator only, through --operator-redis (mode: halt, the default, or reduce-only)
 *
 * Refusals are a status and one line (JSON for the POSTs, a page for GETs), never a stack trace.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FeatureSource } from '../live/row-reader.ts';
import { SYMBOL_RE, workersKey, latestKey, type KeyLayout } from '../live/keys.ts';
import { readKillSwitch, setKillSwitch, KillSwitchError } from '../live/kill-switch.ts';
import { readFiringAlerts } from '../live/alerts/index.ts';
import { takeSnapshot } from '../live/alerts/snapshot.ts';
import type { RedisClient } from '../live/redis-connect.ts';
import { UsageError } from '../core/errors.ts';
import { Auth, Refusal } from './auth.ts';
import { CLIENT_JS } from './client-js.ts';
import { PNL_JS } from './pnl-js.ts';
import { PnlFeed } from './pnl-feed.ts';
import { Hub, type PageFeed, type View } from './hub.ts';
import { errorPage, gridPage, overviewPage, pnlPage, symbolPage, type PageContext } from './page.ts';
import { execPage, modelsPage, weightsPage } from './page-ops.ts';
import { ModelsFeed } from './models-feed.ts';
import { WeightsFeed } from './weights-feed.ts';
import { ExecFeed } from './exec-feed.ts';
import { KillFeed } from './kill-feed.ts';
import { MODELS_JS } from './models-js.ts';
import { WEIGHTS_JS } from './weights-js.ts';
import { EXEC_JS } from './exec-js.ts';

export interface DashboardOptions {
  keys: KeyLayout;
  maxAgeMs: number;
  /** The operator token (null: operator actions are disabled). */
  operatorToken: string | null;
  /** A connection allowed to write `<ns>:kill` (null: kill switch changes are not configured). */
  operatorRedis: RedisClient | null;
  /** A second connection of the reader's user for what the lean reader cannot send (SCAN, XINFO, ...); null: none. */
  inspector: RedisClient | null;
  /** The symbols to show; undefined: those with latest values in Redis (SCAN, refreshed every 5 s). */
  symbols?: readonly string[];
  /** A parity certificate (`parity run --certificate`) to show; null: none known. */
  parityCertificate?: string | null;
  pollMs?: number;
  maxUpdatesPerSec?: number;
}

/** The dashboard: `handle` answers its routes (false for any other path); `close` ends its streams. */
export interface Dashboard {
  handle(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  close(): void;
}

const MAX_SYMBOLS = 5000;
const MAX_BODY = 4096;

/** uPlot's browser build and stylesheet, from the installed package. */
function uplotAssets(): { js: string; css: string } {
  const dir = join(dirname(createRequire(import.meta.url).resolve('uplot/package.json')), 'dist');
  return { js: readFileSync(join(dir, 'uPlot.iife.min.js'), 'utf8'), css: readFileSync(join(dir, 'uPlot.min.css'), 'utf8') };
}

/** The certificate's headline fields, as label → text; one line naming the file when unreadable. */
export function readCertificate(file: string): Record<string, string> {
  let c: { verdict?: unknown; scenario?: unknown; outputs?: { rows?: unknown; replayTableHash?: unknown; liveTableHash?: unknown }; diff?: { mismatchedCells?: unknown }; code?: { featureSetVersion?: unknown; commit?: unknown } };
  try {
    c = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UsageError(`--parity-certificate ${file}: cannot read it as JSON (${e instanceof SyntaxError ? 'not valid JSON' : ((e as NodeJS.ErrnoException).code ?? (e as Error).message)})`);
  }
  if (typeof c !== 'object' || c === null || typeof c.verdict !== 'string') throw new UsageError(`--parity-certificate ${file}: not a parity certificate (no "verdict" field)`);
  const out: Record<string, string> = { file, verdict: c.verdict };
  if (c.scenario !== undefined) out.scenario = JSON.stringify(c.scenario);
  if (c.outputs?.rows !== undefined) out.rows = String(c.outputs.rows);
  if (c.diff?.mismatchedCells !== undefined) out['mismatched cells'] = String(c.diff.mismatchedCells);
  if (c.outputs?.replayTableHash !== undefined) out['table hashes'] = `replay ${String(c.outputs.replayTableHash)} live ${String(c.outputs.liveTableHash)}`;
  if (c.code?.featureSetVersion !== undefined) out['feature set'] = String(c.code.featureSetVersion);
  return out;
}

/** Builds the dashboard over the API's reader `redis` (see the module comment). */
export function createDashboard(redis: FeatureSource, o: DashboardOptions): Dashboard {
  const auth = new Auth(o.operatorToken);
  const assets = uplotAssets();
  const parity = o.parityCertificate ? readCertificate(o.parityCertificate) : null;
  let symbols: string[] = o.symbols ? [...o.symbols].sort() : [];
  let symbolsAt = 0;
  let symbolsError: string | null = null;

  /** The symbols with latest values (SCAN of `<ns>:latest:*`), at most every 5 s. */
  const refreshSymbols = async (force = false): Promise<void> => {
    if (o.symbols || o.inspector === null || (!force && Date.now() - symbolsAt < 5000)) return;
    symbolsAt = Date.now();
    try {
      const found = new Set<string>();
      const prefix = `${o.keys.ns}:latest:`;
      let cursor = '0';
      do {
        const [next, keys] = await o.inspector.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        cursor = next;
        for (const k of keys) {
          // <ns>:latest:{<ns>:<shard>}:SYM; the symbol may itself contain ':'
          const at = k.indexOf('}:', prefix.length);
          const s = at < 0 ? '' : k.slice(at + 2);
          if (SYMBOL_RE.test(s) && latestKey(o.keys, s) === k) found.add(s);
        }
      } while (cursor !== '0' && found.size < MAX_SYMBOLS);
      symbols = [...found].sort();
      symbolsError = null;
    } catch (e) {
      symbolsError = (e as Error).message;
    }
  };

  const overview = async () => {
    await refreshSymbols();
    const at = Date.now();
    let redisState = 'ok';
    let kill;
    try {
      await redis.ping();
      kill = await readKillSwitch(redis, o.keys);
    } catch (e) {
      redisState = `unreachable: ${(e as Error).message}`;
      kill = { all: { reason: 'the kill switch cannot be read', by: 'lockstep', at: 0 }, symbols: {} };
    }
    const alerts = await readFiringAlerts(redis, o.keys).then(
      (a) => ({ alerts: a, alertsError: null }),
      (e: Error) => ({ alerts: null, alertsError: e.message }),
    );
    let shards = null;
    let shardsError: string | null = o.inspector === null ? 'no inspector connection' : null;
    let workers: number | null = null;
    let workersError: string | null = shardsError;
    if (o.inspector !== null) {
      const snap = await takeSnapshot(o.inspector, o.keys);
      if (snap.ok) {
        shards = snap.shards.map((s) => {
          const waiting = s.oldestPendingMs ?? s.oldestUndeliveredMs;
          return {
            shard: s.shard,
            worker: s.leaseTtlMs !== null,
            inputLength: s.input?.length ?? 0,
            lag: s.group?.lag ?? null,
            pending: s.group?.pending ?? null,
            oldestWaitingMs: waiting === null ? null : snap.at - waiting,
            lastOutputAgoMs: s.lastOutputMs === null ? null : snap.at - s.lastOutputMs,
            deadLetters: s.deadLetters.length,
          };
        });
      } else shardsError = `${snap.error} (this Redis user may lack XINFO/XPENDING/PTTL rights)`;
      try {
        workers = await o.inspector.zcount(workersKey(o.keys), String(at), '+inf');
        workersError = null;
      } catch (e) {
        workersError = (e as Error).message;
      }
    }
    return { at, redis: redisState, kill, ...alerts, shards, shardsError, workers, workersError, parity, symbols: symbolsError ? `${symbols.length} (listing failed: ${symbolsError})` : symbols.length };
  };

  const execFeed = new ExecFeed(redis, o.inspector, o.keys);
  const models = new ModelsFeed(o.inspector, o.keys);
  const weights = new WeightsFeed(redis, o.inspector, o.keys);
  const kill = new KillFeed(redis, o.keys);
  const feeds: PageFeed[] = [
    { kind: 'models', event: 'models', everyMs: 500, poll: () => models.poll() },
    { kind: 'weights', event: 'weights', everyMs: 250, poll: () => weights.poll() },
    { kind: 'exec', event: 'exec', everyMs: 250, poll: () => execFeed.poll() },
    { kind: 'exec', event: 'fired', everyMs: 500, poll: () => kill.poll() },
  ];
  const hub = new Hub(redis, { keys: o.keys, pollMs: o.pollMs, maxUpdatesPerSec: o.maxUpdatesPerSec, symbols: () => symbols, overview, pnl: new PnlFeed(redis, o.inspector, o.keys), feeds });

  const html = (res: ServerResponse, code: number, text: string, cookie: string | null = null) => {
    res.writeHead(code, {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      // nothing but this server: no CDN, no inline script, no framing by another site
      'content-security-policy': "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'",
      'x-content-type-options': 'nosniff',
      ...(cookie ? { 'set-cookie': cookie } : {}),
    });
    res.end(text);
  };
  const json = (res: ServerResponse, code: number, body: unknown) => {
    res.writeHead(code, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify(body));
  };
  const asset = (res: ServerResponse, type: string, text: string) => {
    res.writeHead(200, { 'content-type': type, 'cache-control': 'max-age=300', 'x-content-type-options': 'nosniff' });
    res.end(text);
  };

  const readBody = (req: IncomingMessage): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      let text = '';
      req.setEncoding('utf8');
      req.on('data', (d: string) => {
        text += d;
        if (text.length > MAX_BODY) reject(new Refusal(413, `request body larger than ${MAX_BODY} bytes`));
      });
      req.on('end', () => {
        try {
          const j = JSON.parse(text) as unknown;
          if (typeof j !== 'object' || j === null || Array.isArray(j)) throw new Error('not an object');
          resolve(j as Record<string, unknown>);
        } catch {
          reject(new Refusal(400, 'the request body must be a JSON object'));
        }
      });
      req.on('error', reject);
    });

  const page = async (req: IncomingMessage, res: ServerResponse, path: string) => {
    const { session, setCookie } = auth.session(req);
    await refreshSymbols();
    const ctx: PageContext = { view: 'overview', symbols, csrf: session.csrf, operator: session.operator, operatorEnabled: auth.operatorEnabled, operatorRedis: o.operatorRedis !== null, maxAgeMs: o.maxAgeMs, ns: o.keys.ns };
    if (path === '/dashboard' || path === '/dashboard/') return html(res, 200, overviewPage(ctx), setCookie);
    if (path === '/dashboard/factors') return html(res, 200, gridPage({ ...ctx, view: 'grid' }), setCookie);
    if (path === '/dashboard/pnl') return html(res, 200, pnlPage({ ...ctx, view: 'pnl' }), setCookie);
    if (path === '/dashboard/models') return html(res, 200, modelsPage({ ...ctx, view: 'models' }), setCookie);
    if (path === '/dashboard/weights') return html(res, 200, weightsPage({ ...ctx, view: 'weights' }), setCookie);
    if (path === '/dashboard/exec') return html(res, 200, execPage({ ...ctx, view: 'exec' }), setCookie);
    const ex = /^\/dashboard\/exec\/([^/]+)$/.exec(path);
    if (ex) {
      let parent: string;
      try {
        parent = decodeURIComponent(ex[1]);
      } catch {
        return html(res, 404, errorPage(404, 'unknown parent order: the address is not valid percent-encoding'));
      }
      // a parent not seen yet may have sent its first order since the last read
      if (!execFeed.has(parent)) await execFeed.poll();
      if (!execFeed.has(parent)) return html(res, 404, errorPage(404, `unknown parent order ${JSON.stringify(parent.slice(0, 128))}: ${o.keys.ns}:orders has no order of it`));
      return html(res, 200, execPage({ ...ctx, view: 'exec', parent }), setCookie);
    }
    const m = /^\/dashboard\/factors\/([^/]+)$/.exec(path);
    if (m) {
      let symbol: string;
      try {
        symbol = decodeURIComponent(m[1]);
      } catch {
        return html(res, 404, errorPage(404, 'unknown symbol: the address is not valid percent-encoding'));
      }
      if (!SYMBOL_RE.test(symbol)) return html(res, 404, errorPage(404, `unknown symbol ${JSON.stringify(symbol.slice(0, 80))}: not a valid symbol name`));
      if (!symbols.includes(symbol)) {
        await refreshSymbols(true);
        if (!symbols.includes(symbol)) return html(res, 404, errorPage(404, `unknown symbol ${JSON.stringify(symbol)}: this deployment has no values for it${symbols.length ? ` (${symbols.length} symbols known)` : ''}`));
      }
      return html(res, 200, symbolPage({ ...ctx, view: 'symbol', symbol }), setCookie);
    }
    return html(res, 404, errorPage(404, `no dashboard page at ${path.slice(0, 200)}; try /dashboard, /dashboard/factors, /dashboard/pnl, /dashboard/models, /dashboard/weights or /dashboard/exec`));
  };

  const events = (res: ServerResponse, url: URL) => {
    const v = url.searchParams.get('view');
    const s = url.searchParams.get('symbol') ?? '';
    let view: View;
    if (v === 'overview' || v === 'grid' || v === 'pnl' || v === 'models' || v === 'weights' || v === 'exec') view = { kind: v };
    else if (v === 'symbol' && SYMBOL_RE.test(s)) view = { kind: 'symbol', symbol: s };
    else return json(res, 400, { error: 'view must be overview, grid, pnl, models, weights, exec, or symbol with a valid symbol' });
    if (!hub.attach(res, view)) json(res, 503, { error: 'too many dashboard pages open on this server; close some' });
  };

  /** A POST: origin and CSRF (unless a bearer token stands in for the session), then the action. */
  const action = async (req: IncomingMessage, res: ServerResponse, path: string) => {
    const session = auth.existing(req);
    try {
      if (req.headers.authorization === undefined || req.headers.origin !== undefined) auth.checkPost(req, session);
      const body = await readBody(req);
      if (path === '/dashboard/login') {
        if (session === null) throw new Refusal(403, 'refused: no dashboard session (open the page first)');
        auth.checkToken(body.token);
        session.operator = true;
        return json(res, 200, { message: 'signed in as operator' });
      }
      auth.checkOperator(req, session);
      if (o.operatorRedis === null) throw new Refusal(503, 'kill switch changes are not configured: start serve with --operator-redis URL (a Redis user allowed to write the kill switch; serve reads with a read-only user)');
      if (typeof body.on !== 'boolean') throw new Refusal(400, 'field on must be true or false');
      const symbol = body.symbol === undefined || body.symbol === '' ? undefined : body.symbol;
      if (symbol !== undefined && (typeof symbol !== 'string' || !SYMBOL_RE.test(symbol))) throw new Refusal(400, `invalid symbol ${JSON.stringify(String(symbol).slice(0, 80))}`);
      const reason = typeof body.reason === 'string' ? body.reason.slice(0, 200) : undefined;
      const mode = body.mode === undefined || body.mode === '' ? undefined : body.mode;
      if (mode !== undefined && mode !== 'halt' && mode !== 'reduce-only') throw new Refusal(400, `field mode must be halt or reduce-only, not ${JSON.stringify(String(mode).slice(0, 40))}`);
      await setKillSwitch(o.operatorRedis, o.keys, { on: body.on, symbols: symbol ? [symbol] : undefined, reason, mode: body.on ? mode : undefined, by: 'dashboard operator' });
      return json(res, 200, { message: `kill switch ${body.on ? 'ON' : 'OFF'}${body.on && mode === 'reduce-only' ? ' (reduce-only)' : ''} for ${symbol ?? (body.on ? 'the whole deployment' : 'everything')}` });
    } catch (e) {
      if (e instanceof Refusal) return json(res, e.status, { error: e.message });
      if (e instanceof KillSwitchError) return json(res, 400, { error: e.message });
      return json(res, 503, { error: `Redis: ${(e as Error).message}` });
    }
  };

  return {
    async handle(req, res) {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const path = url.pathname;
      if (path !== '/dashboard' && !path.startsWith('/dashboard/')) return false;
      if (req.method === 'POST' && (path === '/dashboard/login' || path === '/dashboard/kill')) {
        await action(req, res, path);
        return true;
      }
      if (req.method !== 'GET') {
        json(res, 405, { error: 'the dashboard takes GET, and POST for /dashboard/login and /dashboard/kill' });
        return true;
      }
      if (path === '/dashboard/events') events(res, url);
      else if (path === '/dashboard/assets/uplot.js') asset(res, 'text/javascript', assets.js);
      else if (path === '/dashboard/assets/uplot.css') asset(res, 'text/css', assets.css);
      else if (path === '/dashboard/assets/app.js') asset(res, 'text/javascript', CLIENT_JS);
      else if (path === '/dashboard/assets/pnl.js') asset(res, 'text/javascript', PNL_JS);
      else if (path === '/dashboard/assets/models.js') asset(res, 'text/javascript', MODELS_JS);
      else if (path === '/dashboard/assets/weights.js') asset(res, 'text/javascript', WEIGHTS_JS);
      else if (path === '/dashboard/assets/exec.js') asset(res, 'text/javascript', EXEC_JS);
      else await page(req, res, path);
      return true;
    },
    close() {
      hub.close();
    },
  };
}
