/**
 * The dashboard's live feed: ONE poller reads Redis for every connected page (never one read per
 * page), and each page gets its updates over Server-Sent Events, coalesced (a symbol's newer row
 * replaces the one not yet sent: latest value wins) and throttled (at most `maxUpdatesPerSec`
 * messages per page; a page whose socket is not draining gets nothing more until it drains), so a
 * busy feed cannot flood a browser and a slow browser cannot make the server buffer without bound.
 *
 * What it reads, only while some page is connected: each watched symbol's packed latest row (`_row`,
 * as the workers write it) and the kill switch in one round trip every `pollMs`; the columns in
 * `<ns>:meta` every 2 s; the overview (alerts firing, per-shard lag and workers) every second while
 * an overview page is open; the desk's records and new PnL log entries (pnl-feed.ts) every 250 ms
 * while a PnL page is open, each page getting the log entries it has not had yet; each page feed
 * (models, weights, execution: `HubOptions.feeds`) every `everyMs` while a page of its kind is
 * open, its payload sent only when it changed. A models page also gets every symbol's rows, as the
 * grid does (the signals are output columns).
 */
import type { ServerResponse } from 'node:http';
import { RowReader, type FeatureSource } from '../live/row-reader.ts';
import { killSwitchKey, latestKey, metaKey, type KeyLayout } from '../live/keys.ts';
import { killFor, parseKillState, type KillState } from '../live/kill-switch.ts';
import type { PnlFeed } from './pnl-feed.ts';

/** What a page watches: the overview, one symbol, or every symbol (the grid). */
export type View = { kind: 'overview' } | { kind: 'symbol'; symbol: string } | { kind: 'grid' } | { kind: 'pnl' } | { kind: FeedKind };

/** The pages fed by a reader of their own (models-feed.ts, weights-feed.ts, exec-feed.ts, kill-feed.ts). */
export type FeedKind = 'models' | 'weights' | 'exec';

/** A page feed: read once for every open page of `kind`, its payload sent as `event`. */
export interface PageFeed {
  kind: FeedKind;
  event: string;
  everyMs: number;
  /** The payload as JSON text. */
  poll(): Promise<string>;
}

/** One symbol's latest row as sent to a page: values withheld (null) while it is killed. */
export interface RowUpdate {
  s: string;
  /** ts_event (epoch ns, as text: exact). */
  te: string;
  seq: string;
  /** Wall-clock ms when the worker computed the row. */
  at: number;
  fsv: string;
  /** The row's values, comma separated in column order (empty: null); null while killed. */
  v: string | null;
}

interface Client {
  res: ServerResponse;
  view: View;
  pending: Map<string, RowUpdate>;
  /** The last row sent (or pending) per symbol, to send only what changed. */
  seen: Map<string, string>;
  other: Map<string, string>;
  lastFlush: number;
  timer: NodeJS.Timeout | null;
  blocked: boolean;
  /** PnL pages: the log generation and how many of its points were sent. */
  logGen: number;
  logSent: number;
}

export interface HubOptions {
  keys: KeyLayout;
  /** How often Redis is read while a page is connected. Default 50 ms. */
  pollMs?: number;
  /**
   * At most this many SSE messages per page per second. Default 20: one per poll, so a change read
   * is sent at once instead of waiting out a gap longer than the poll's (at 10 a second, with a
   * 50 ms poll, values waited up to 100 ms more; the canvas grid draws a message in ~2 ms).
   */
  maxUpdatesPerSec?: number;
  /** At most this many pages at once (a 503 beyond). Default 64. */
  maxClients?: number;
  /** The symbols a grid page shows (the dashboard's symbol list). */
  symbols: () => readonly string[];
  /** The overview's payload (read once per second, shared by every overview page). */
  overview: () => Promise<unknown>;
  /** The PnL page's feed (null: no PnL page). */
  pnl?: PnlFeed | null;
  /** The page feeds. */
  feeds?: readonly PageFeed[];
}

/** Reads each symbol's `_row` and the kill switch in one round trip (a pipeline on ioredis). */
async function readRows(r: FeatureSource, keys: KeyLayout, symbols: readonly string[]): Promise<{ rows: (string | null)[]; kill: string | null }> {
  const killKey = killSwitchKey(keys);
  const ks = symbols.map((s) => latestKey(keys, s));
  if (r instanceof RowReader) {
    const rows = await r.hgetEachThenGet(ks, '_row', killKey);
    const kill = rows.pop() ?? null;
    return { rows, kill };
  }
  const [rows, kill] = await Promise.all([Promise.all(ks.map((k) => r.hget(k, '_row'))), r.get(killKey)]);
  return { rows, kill };
}

/** The live feed of every page (see the module comment). */
export class Hub {
  private readonly clients = new Set<Client>();
  private timer: NodeJS.Timeout | null = null;
  private polling = false;
  private columns = '';
  private columnsAt = 0;
  private overviewAt = 0;
  private pnlAt = 0;
  private readonly feedAt = new Map<string, number>();
  private kill: KillState = parseKillState(null);
  private killText: string | null = null;
  /** The last error of a poll, sent to the pages (null: Redis answers). */
  private error: string | null = null;
  private readonly pollMs: number;
  private readonly minGapMs: number;
  private readonly maxClients: number;

  constructor(
    private readonly redis: FeatureSource,
    private readonly opts: HubOptions,
  ) {
    this.pollMs = opts.pollMs ?? 50;
    this.minGapMs = 1000 / (opts.maxUpdatesPerSec ?? 20);
    this.maxClients = opts.maxClients ?? 64;
  }

  get size(): number {
    return this.clients.size;
  }

  /** Streams `view` to `res` until the page goes away; false when there are too many pages already. */
  attach(res: ServerResponse, view: View): boolean {
    if (this.clients.size >= this.maxClients) return false;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.write('retry: 2000\n\n');
    const c: Client = { res, view, pending: new Map(), seen: new Map(), other: new Map(), lastFlush: 0, timer: null, blocked: false, logGen: -1, logSent: 0 };
    this.clients.add(c);
    res.on('close', () => {
      if (c.timer) clearTimeout(c.timer);
      this.clients.delete(c);
    });
    res.on('drain', () => {
      c.blocked = false;
      this.schedule(c);
    });
    // what a new page needs before the next change: the columns, the kill switch, the overview
    this.columnsAt = 0;
    this.overviewAt = 0;
    this.pnlAt = 0;
    this.feedAt.clear();
    this.start();
    return true;
  }

  private start(): void {
    if (this.timer) return;
    const tick = () => {
      this.timer = null;
      if (this.clients.size === 0) return;
      void this.poll().finally(() => {
        if (this.clients.size > 0 && this.timer === null) this.timer = setTimeout(tick, this.pollMs);
      });
    };
    tick();
  }

  /** One read for every page: the union of the symbols they watch, then each page's changes. */
  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const now = Date.now();
      if (now - this.columnsAt >= 2000) {
        const [cols, fsv] = await this.redis.hmget(metaKey(this.opts.keys), 'columns', 'featureSetVersion');
        this.columnsAt = now;
        this.columns = cols ?? '';
        this.offer('meta', 'meta', JSON.stringify({ columns: this.columns.split(',').filter(Boolean), featureSetVersion: fsv }));
      }
      const wanted = new Set<string>();
      for (const c of this.clients) {
        if (c.view.kind === 'symbol') wanted.add(c.view.symbol);
        else if (c.view.kind === 'grid' || c.view.kind === 'models') for (const s of this.opts.symbols()) wanted.add(s);
      }
      const symbols = [...wanted];
      const { rows, kill } = await readRows(this.redis, this.opts.keys, symbols);
      if (kill !== this.killText) {
        this.killText = kill;
        this.kill = parseKillState(kill);
      }
      this.offer('kill', 'kill', JSON.stringify(this.kill));
      const updates = new Map<string, { key: string; u: RowUpdate }>();
      symbols.forEach((s, i) => {
        const raw = rows[i];
        if (raw === null) return;
        const killed = killFor(this.kill, s) !== null;
        const [te, , seq, , at, fsv, packed] = raw.split('|');
        // killed values are withheld here as the API withholds them: the page never receives them
        updates.set(s, { key: killed ? `k${seq}|${at}` : raw, u: { s, te, seq, at: Number(at), fsv, v: killed ? null : (packed ?? '') } });
      });
      for (const c of this.clients) {
        if (c.view.kind === 'overview' || c.view.kind === 'weights' || c.view.kind === 'exec') continue;
        const mine = c.view.kind === 'symbol' ? [c.view.symbol] : this.opts.symbols();
        for (const s of mine) {
          const x = updates.get(s);
          if (x === undefined || c.seen.get(s) === x.key) continue;
          c.seen.set(s, x.key);
          c.pending.set(s, x.u);
        }
        if (c.pending.size > 0) this.schedule(c);
      }
      if (now - this.overviewAt >= 1000 && [...this.clients].some((c) => c.view.kind === 'overview')) {
        this.overviewAt = now;
        this.offer('overview', 'overview', JSON.stringify(await this.opts.overview()));
      }
      const pnl = this.opts.pnl;
      if (pnl && now - this.pnlAt >= 250 && [...this.clients].some((c) => c.view.kind === 'pnl')) {
        this.pnlAt = now;
        this.offer('desk', 'desk', await pnl.poll(), 'pnl');
        for (const c of this.clients) if (c.view.kind === 'pnl' && (c.logGen !== pnl.generation || c.logSent < pnl.points.length)) this.schedule(c);
      }
      for (const f of this.opts.feeds ?? []) {
        const key = `${f.kind}:${f.event}`;
        if (now - (this.feedAt.get(key) ?? 0) < f.everyMs || ![...this.clients].some((c) => c.view.kind === f.kind)) continue;
        this.feedAt.set(key, now);
        this.offer(key, f.event, await f.poll(), f.kind);
      }
      this.setError(null);
    } catch (e) {
      this.setError(`Redis: ${(e as Error).message}`);
    } finally {
      this.polling = false;
    }
  }

  private setError(msg: string | null): void {
    if (msg === this.error) return;
    this.error = msg;
    this.offer('status', 'status', JSON.stringify({ error: msg }));
  }

  /** Queues a named event for every page (of kind `only`), replacing one of the same name not yet sent. */
  private offer(name: string, event: string, data: string, only?: View['kind']): void {
    for (const c of this.clients) {
      if (only !== undefined && c.view.kind !== only) continue;
      if (c.other.get(`sent:${name}`) === data) continue;
      c.other.set(name, `event: ${event}\ndata: ${data}\n\n`);
      c.other.set(`sent:${name}`, data);
      this.schedule(c);
    }
  }

  /** Sends `c`'s pending messages now, or when its throttle allows, or when its socket drains. */
  private schedule(c: Client): void {
    if (c.timer || c.blocked) return;
    const wait = Math.max(0, c.lastFlush + this.minGapMs - Date.now());
    c.timer = setTimeout(() => {
      c.timer = null;
      this.flush(c);
    }, wait);
  }

  private flush(c: Client): void {
    let text = '';
    for (const [k, v] of c.other) if (!k.startsWith('sent:')) text += v;
    for (const k of [...c.other.keys()]) if (!k.startsWith('sent:')) c.other.delete(k);
    if (c.pending.size > 0) {
      text += `event: rows\ndata: ${JSON.stringify({ now: Date.now(), rows: [...c.pending.values()] })}\n\n`;
      c.pending.clear();
    }
    const pnl = this.opts.pnl;
    if (c.view.kind === 'pnl' && pnl && (c.logGen !== pnl.generation || c.logSent < pnl.points.length)) {
      // the log points this page has not had yet (all of them after a restart of the series)
      const reset = c.logGen !== pnl.generation;
      const from = reset ? 0 : c.logSent;
      text += `event: pnllog\ndata: ${JSON.stringify({ reset, points: pnl.points.slice(from) })}\n\n`;
      c.logGen = pnl.generation;
      c.logSent = pnl.points.length;
    }
    if (text === '') return;
    c.lastFlush = Date.now();
    // a socket that is not draining: stop writing, keep coalescing, resume on 'drain'
    if (!c.res.write(text)) c.blocked = true;
  }

  /** Ends every page's stream (so the server can close) and stops polling. */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const c of this.clients) {
      if (c.timer) clearTimeout(c.timer);
      c.res.end();
    }
    this.clients.clear();
  }
}
