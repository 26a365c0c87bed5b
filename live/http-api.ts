/**
 * The HTTP read API:
 *   GET /v1/features?symbols=AAPL,MSFT&features=mid,rsi_14[&max_age_ms=5000]
 *   GET /v1/weights  the latest target weights (`lockstep weights --redis` writes them): rebalance
 *                  time, each symbol's weight and why a symbol was excluded; 404 before the first
 *   GET /v1/pnl, /v1/risk, /v1/positions  the desk's latest PnL, risk and positions (`lockstep desk`
 *                  writes them; desk-routes.ts); 404 before the first
 *   GET /healthz   200 when Redis answers and the kill switch is not on for the whole deployment
 *                  (the symbols it is on for are listed); 503 otherwise, saying why
 *   GET /metrics   Prometheus text format, with the kill switch's state and the alerts firing
 *                  (as `lockstep alerts watch` recorded them in <ns>:alerts:state)
 * Read-only by construction: it only issues HGET, HMGET, GET (of the kill switch), HGETALL (of the
 * alerts firing and of the latest weights) and PING (give it a
 * Redis ACL user limited to those, see README). Names are validated, request size is bounded (URL ≤ 8 KiB, ≤ 1000 symbols,
 * ≤ 4096 features), and it binds to loopback unless told otherwise.
 * Extensions (`ApiOptions.extensions`: the Open Inference Protocol endpoints of live/inference/inference-api.ts)
 * answer their own paths on the same server, counted in /metrics like the rest.
 */
import type { FeatureSource } from './row-reader.ts';
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { FEATURE_RE, getOnlineFeaturesJson, QueryError } from './client.ts';
import { killSwitchKey, metaKey, weightsKey, type KeyLayout } from './keys.ts';
import { decodeWeightsFields } from './weights-record.ts';
import { DESK_PATHS, deskRoute } from './desk-routes.ts';
import { isoNs } from '../replay/time-format.ts';
import { KILL_OFF, parseKillState, type KillState } from './kill-switch.ts';
import { UserError } from '../core/errors.ts';
import { alertsMetricsText, readFiringAlerts, type Alert } from './alerts/index.ts';

/** The API cannot listen where it was told to (port in use, no rights, unknown address). */
export class ApiListenError extends UserError {}

/** More endpoints on the same server: the paths `label` names (its /metrics label) are `handle`d. */
export interface ApiExtension {
  /** The /metrics path label of a path this extension answers (a template, not the raw path), else null. */
  label(pathname: string): string | null;
  /** Answers the request (any method) and returns the status code sent; never rejects. */
  handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<number>;
}

export interface ApiOptions {
  keys: KeyLayout;
  maxAgeMs?: number;
  host?: string;
  port?: number;
  extensions?: readonly ApiExtension[];
  /** Extra routes (the dashboard): answers a request and resolves true, or resolves false to leave it to the API. */
  dashboard?: (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;
}

const MAX_URL = 8192;
const PATHS = ['/v1/features', '/v1/weights', ...DESK_PATHS, '/healthz', '/metrics'];
const BUCKETS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.05, 0.1, 1];

interface Metrics {
  requests: Map<string, number>;
  hist: Map<string, number[]>;
  sum: Map<string, number>;
  redisUp: number;
  /** The kill switch as last read (by /healthz or /metrics). */
  kill: KillState;
  /** The alerts firing, as last read by /metrics; null when that read failed. */
  alerts: Alert[] | null;
}

function record(m: Metrics, path: string, code: number, seconds: number): void {
  const k = `path="${path}",code="${code}"`;
  m.requests.set(k, (m.requests.get(k) ?? 0) + 1);
  const h = m.hist.get(path) ?? new Array(BUCKETS.length + 1).fill(0);
  let i = 0;
  while (i < BUCKETS.length && seconds > BUCKETS[i]) i++;
  h[i]++;
  m.hist.set(path, h);
  m.sum.set(path, (m.sum.get(path) ?? 0) + seconds);
}

function metricsText(m: Metrics): string {
  const lines = ['# HELP lockstep_http_requests_total HTTP requests by path and status code.', '# TYPE lockstep_http_requests_total counter'];
  for (const [k, v] of m.requests) lines.push(`lockstep_http_requests_total{${k}} ${v}`);
  lines.push('# HELP lockstep_http_request_duration_seconds Request latency.', '# TYPE lockstep_http_request_duration_seconds histogram');
  for (const [path, h] of m.hist) {
    let cum = 0;
    BUCKETS.forEach((b, i) => {
      cum += h[i];
      lines.push(`lockstep_http_request_duration_seconds_bucket{path="${path}",le="${b}"} ${cum}`);
    });
    cum += h[BUCKETS.length];
    lines.push(`lockstep_http_request_duration_seconds_bucket{path="${path}",le="+Inf"} ${cum}`);
    lines.push(`lockstep_http_request_duration_seconds_sum{path="${path}"} ${m.sum.get(path) ?? 0}`);
    lines.push(`lockstep_http_request_duration_seconds_count{path="${path}"} ${cum}`);
  }
  lines.push('# HELP lockstep_redis_up 1 when the last Redis call succeeded.', '# TYPE lockstep_redis_up gauge', `lockstep_redis_up ${m.redisUp}`);
  lines.push(
    '# HELP lockstep_kill_switch 1 while the kill switch is on for the whole deployment.',
    '# TYPE lockstep_kill_switch gauge',
    `lockstep_kill_switch ${m.kill.all ? 1 : 0}`,
    '# HELP lockstep_killed_symbols Symbols the kill switch is on for (one by one).',
    '# TYPE lockstep_killed_symbols gauge',
    `lockstep_killed_symbols ${Object.keys(m.kill.symbols).length}`,
    // a reader whose ACL lacks HGETALL on <ns>:alerts:state, or a failed read, shows as 0 here
    // rather than as "no alerts"
    '# HELP lockstep_alerts_read_ok 1 when the alerts firing could be read for this scrape.',
    '# TYPE lockstep_alerts_read_ok gauge',
    `lockstep_alerts_read_ok ${m.alerts === null ? 0 : 1}`,
  );
  return lines.join('\n') + '\n' + (m.alerts === null ? '' : alertsMetricsText(m.alerts));
}

function send(res: ServerResponse, code: number, body: unknown, type = 'application/json'): void {
  const text = type === 'application/json' ? JSON.stringify(body, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)) : String(body);
  res.writeHead(code, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(text);
}

const JSON_HEADERS = { 'content-type': 'application/json', 'cache-control': 'no-store' };

const list = (v: string | null) => (v ?? '').split(',').map((s) => s.trim()).filter(Boolean);

/** Starts the API on `host:port` (port 0 = any free port); resolves once listening. */
export async function startApi(redis: FeatureSource, opts: ApiOptions): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const m: Metrics = { requests: new Map(), hist: new Map(), sum: new Map(), redisUp: 1, kill: KILL_OFF, alerts: null };
  const readKill = async () => (m.kill = parseKillState(await redis.get(killSwitchKey(opts.keys))));
  // the deployment's feature names (`columns` in <ns>:meta, written by the workers), re-read only
  // when a request names one it does not list, so a known name costs no extra round trip
  let known: Set<string> | null = null;
  const unknownFeatures = async (features: readonly string[]): Promise<string | null> => {
    const isUnknown = (f: string) => FEATURE_RE.test(f) && !known!.has(f);
    if (known === null || features.some(isUnknown)) {
      const [cols] = await redis.hmget(metaKey(opts.keys), 'columns');
      known = new Set((cols ?? '').split(',').filter(Boolean));
    }
    // no worker has recorded its columns yet: nothing to check against (values read as missing)
    if (known.size === 0) return null;
    const bad = [...new Set(features.filter(isUnknown))];
    if (bad.length === 0) return null;
    return `features: unknown feature${bad.length > 1 ? 's' : ''} ${bad.map((f) => JSON.stringify(f)).join(', ')}; this deployment computes ${[...known].join(', ')}`;
  };
  const extensions = opts.extensions ?? [];
  const labelOf = (pathname: string): { path: string; ext: ApiExtension | null } => {
    if (PATHS.includes(pathname)) return { path: pathname, ext: null };
    for (const ext of extensions) {
      const label = ext.label(pathname);
      if (label !== null) return { path: label, ext };
    }
    return { path: 'other', ext: null };
  };
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const t0 = performance.now();
    // the path label comes before any check, so a refused request is counted under its path
    let { path } = labelOf((req.url ?? '/').split('?', 1)[0]);
    let code = 200;
    try {
      if ((req.url ?? '').length > MAX_URL) {
        code = 414;
        return send(res, code, { error: `request URL longer than ${MAX_URL} bytes` });
      }
      const url = new URL(req.url ?? '/', 'http://localhost');
      const route = labelOf(url.pathname);
      path = route.path;
      if (opts.dashboard && (await opts.dashboard(req, res))) return void (code = res.statusCode);
      if (route.ext !== null) {
        code = await route.ext.handle(req, res, url);
        return;
      }
      if (req.method !== 'GET') {
        code = 405;
        return send(res, code, { error: 'only GET is supported' });
      }
      if (url.pathname === '/healthz') {
        try {
          await redis.ping();
          const kill = await readKill();
          m.redisUp = 1;
          // a trading engine's health check must not route to values nobody may use
          if (kill.all) {
            code = 503;
            return send(res, code, { status: 'killed', killed: kill.all });
          }
          const killedSymbols = Object.keys(kill.symbols).sort();
          return send(res, code, killedSymbols.length ? { status: 'ok', killedSymbols } : { status: 'ok' });
        } catch (e) {
          m.redisUp = 0;
          code = 503;
          return send(res, code, { status: 'unavailable', error: (e as Error).message });
        }
      }
      if (url.pathname === '/metrics') {
        // both reads in flight together: one round trip's wait on the lean reader's pipeline
        const [kill, alerts] = await Promise.allSettled([readKill(), readFiringAlerts(redis, opts.keys)]);
        m.redisUp = kill.status === 'fulfilled' ? 1 : 0;
        m.alerts = alerts.status === 'fulfilled' ? alerts.value : null;
        return send(res, code, metricsText(m), 'text/plain; version=0.0.4');
      }
      if (url.pathname === '/v1/weights') {
        try {
          const r = decodeWeightsFields(await redis.hgetall(weightsKey(opts.keys)));
          m.redisUp = 1;
          if (r === null) {
            code = 404;
            return send(res, code, { error: `no weights yet in ${weightsKey(opts.keys)}: run lockstep weights --redis ... --ns ${opts.keys.ns} --config weights.json` });
          }
          const by = <T>(v: readonly T[], keep: (x: T) => boolean) => Object.fromEntries(r.symbols.flatMap((s, i) => (keep(v[i]) ? [[s, v[i]]] : [])));
          return send(res, code, { t: r.t.toString(), time: isoNs(r.t), trigger: r.trigger, gross: r.gross, net: r.net, turnover: r.turnover, computed_at_ms: r.at, weights: by(r.weights, () => true), excluded: by(r.excluded, (x) => x !== null), signal: by(r.signal, () => true) });
        } catch (e) {
          m.redisUp = 0;
          code = 503;
          return send(res, code, { error: `redis: ${(e as Error).message}` });
        }
      }
      if (DESK_PATHS.includes(url.pathname)) {
        const a = await deskRoute(redis, opts.keys, url.pathname);
        code = a.code;
        m.redisUp = a.code === 503 ? 0 : 1;
        return send(res, code, a.body);
      }
      if (url.pathname !== '/v1/features') {
        code = 404;
        return send(res, code, { error: 'not found; try /v1/features?symbols=...&features=... or /v1/weights' });
      }
      const maxAges = url.searchParams.getAll('max_age_ms');
      // a plain decimal only: Number() would read "" as 0 and "0x10" as 16
      if (maxAges.length > 1 || (maxAges.length === 1 && !/^\d{1,15}$/.test(maxAges[0]))) {
        code = 400;
        return send(res, code, { error: `max_age_ms must be a whole number of milliseconds >= 0, given once; got ${maxAges.map((v) => JSON.stringify(v)).join(', ')}` });
      }
      const maxAgeMs = maxAges.length === 0 ? opts.maxAgeMs : Number(maxAges[0]);
      // repeated parameters are merged: ?symbols=A&symbols=B,C is ?symbols=A,B,C
      const symbols = url.searchParams.getAll('symbols').flatMap(list);
      const features = url.searchParams.getAll('features').flatMap(list);
      try {
        const unknown = await unknownFeatures(features);
        if (unknown !== null) {
          code = 400;
          return send(res, code, { error: unknown });
        }
        // built as text from the packed rows (no objects, no number parsing): the same JSON
        const json = await getOnlineFeaturesJson(redis, opts.keys, { symbols, features, maxAgeMs });
        m.redisUp = 1;
        res.writeHead(code, JSON_HEADERS);
        res.end(json);
        return;
      } catch (e) {
        if (e instanceof QueryError) {
          code = 400;
          return send(res, code, { error: e.message });
        }
        m.redisUp = 0;
        code = 503;
        return send(res, code, { error: `redis: ${(e as Error).message}` });
      }
    } finally {
      record(m, path, code, (performance.now() - t0) / 1000);
    }
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((e) => {
      if (!res.headersSent) send(res, 500, { error: (e as Error).message });
    });
  });
  // requests Node's parser refuses before they reach `handle` (headers too large: 431, malformed:
  // 400) are answered and counted here, like every other response
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    const code = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'HPE_URI_TOO_LONG' ? 414 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    if (err.code !== 'ECONNRESET') record(m, 'other', code, 0);
    if (socket.writable && err.code !== 'ECONNRESET') socket.end(`HTTP/1.1 ${code} ${STATUS_CODES[code]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    else socket.destroy();
  });
  server.maxHeadersCount = 50;
  server.headersTimeout = 5000;
  server.requestTimeout = 10_000;
  const host = opts.host ?? '127.0.0.1';
  const wanted = opts.port ?? 8080;
  await new Promise<void>((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) => {
      const why =
        e.code === 'EADDRINUSE' ? 'is already in use (choose another --port, or stop what listens there)'
        : e.code === 'EACCES' ? 'cannot be bound by this user (ports below 1024 need privileges)'
        : e.code === 'EADDRNOTAVAIL' ? 'is not an address of this machine (--host)'
        : `cannot be listened on (${e.code ?? e.message})`;
      reject(new ApiListenError(`${host}:${wanted} ${why}`, { cause: e }));
    };
    server.once('error', onError);
    server.listen(wanted, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return { server, port, close: () => new Promise((r) => server.close(() => r())) };
}
