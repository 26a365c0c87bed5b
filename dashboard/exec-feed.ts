/**
 * What the dashboard's execution page shows of each parent order `lockstep execute --redis` works
 * (trading/exec/exec-live.ts), read from what it and the gateway write:
 * - `<ns>:orders` (exec-wire.ts): each child order (`new`, its quantity in units) and cancel, with
 *   its parent; the parents are those named there (no SCAN needed);
 * - `<ns>:fills` (trading/fills-wire.ts): each fill, by `parent_id`, else by the child `order_id`
 *   it fills;
 * - `<ns>:exec:<parent>` (progress: `n` outputs written, `at` wall ms), `<ns>:exec:<parent>:kills`
 *   (each kill-switch change the algorithm read, at its place in event time) and
 *   `<ns>:exec:clocks` (the parents still working; a parent's field is deleted when it is done).
 * Both streams are read once from the start, then only what was added since (XRANGE from the last
 * id), once for every open page. "Scheduled" is what the algorithm released: the cumulative
 * quantity of its child orders, each one a slice of its schedule, as of the slice's event time;
 * "filled" is the cumulative quantity of the fills, as of their event time.
 *
 * State: `killed` when the last kill change the parent read is not `off`; `working` while it holds
 * a field of `<ns>:exec:clocks`; else `done` (its window is over, or it stopped).
 */
import type { FeatureSource } from '../live/row-reader.ts';
import type { RedisClient } from '../live/redis-connect.ts';
import { execClocksKey, execKillLogStream, execProgressKey, fillsStream, ordersStream } from '../live/keys.ts';
import { decodeKillFields } from '../trading/exec/exec-wire.ts';

/** At most this many parents are followed (the first seen); at most this many points per series. */
export const MAX_PARENTS = 200;
export const MAX_POINTS = 5000;

type Batch = [string, string[]][];

interface Parent {
  id: string;
  symbol: string;
  side: string;
  children: number;
  cancels: number;
  sent: number;
  filled: number;
  fills: number;
  firstTs: string | null;
  lastTs: string | null;
  /** [event time s, cumulative units]. */
  sentSeries: [number, number][];
  filledSeries: [number, number][];
}

/** A parent order as sent to the page. */
export interface ParentView extends Parent {
  state: 'working' | 'done' | 'killed';
  outputs: number | null;
  progressAt: number | null;
  kills: { id: string; mode: string; symbol: string | null; reason: string; ts: string }[];
}

export interface ExecPayload {
  parents: ParentView[];
  error: string | null;
  /** Parents past MAX_PARENTS, not followed. */
  skipped: number;
}

const fieldsOf = (flat: readonly string[]): Record<string, string> => {
  const f: Record<string, string> = Object.create(null) as Record<string, string>;
  for (let i = 0; i + 1 < flat.length; i += 2) f[flat[i]] = flat[i + 1];
  return f;
};
const NS_RE = /^\d{1,20}$/;
const secs = (ns: string) => Number(BigInt(ns) / 1_000_000n) / 1000;

function push(series: [number, number][], t: number, v: number): void {
  const last = series[series.length - 1];
  if (last && last[0] === t) last[1] = v;
  else series.push([t, v]);
  if (series.length > MAX_POINTS) series.splice(0, series.length - MAX_POINTS);
}

/** The execution page's reader (see the module comment). */
export class ExecFeed {
  private readonly parents = new Map<string, Parent>();
  /** Child order id → parent id (a fill without parent_id names its child). */
  private readonly childOf = new Map<string, string>();
  private ordersFrom = '-';
  private fillsFrom = '-';
  private skipped = new Set<string>();
  /** The read under way: a second caller (the hub and a parent's page at once) shares it, never reads the same entries twice. */
  private inflight: Promise<string> | null = null;

  constructor(
    private readonly reader: FeatureSource,
    /** The reader's user on a full client (the lean reader has no XRANGE); null: nothing to show. */
    private readonly inspector: RedisClient | null,
    private readonly keys: { ns: string },
  ) {}

  /** The parents seen so far (for a parent's page: an unknown one is a 404). */
  has(parent: string): boolean {
    return this.parents.has(parent);
  }

  /** Reads what is new; returns the page's payload as JSON text. */
  poll(): Promise<string> {
    this.inflight ??= this.read().finally(() => (this.inflight = null));
    return this.inflight;
  }

  private async read(): Promise<string> {
    const out: ExecPayload = { parents: [], error: null, skipped: 0 };
    if (this.inspector === null) {
      out.error = 'no inspector connection: the orders and fills streams cannot be read';
      return JSON.stringify(out);
    }
    try {
      await this.readOrders(this.inspector);
      await this.readFills(this.inspector);
      const clocks = await this.reader.hgetall(execClocksKey(this.keys));
      // every parent's progress and kill log at once: one round trip's wait, not two per parent
      const inspector = this.inspector;
      out.parents = await Promise.all(
        [...this.parents.values()].map(async (p): Promise<ParentView> => {
          const [prog, log] = await Promise.all([this.reader.hgetall(execProgressKey(this.keys, p.id)), inspector.xrange(execKillLogStream(this.keys, p.id), '-', '+') as Promise<Batch>]);
          const kills = log.flatMap(([id, f]) => {
            const k = decodeKillFields(f);
            return 'bad' in k ? [] : [{ id, mode: k.mode, symbol: k.symbol, reason: k.reason, ts: k.ts.toString() }];
          });
          const killed = kills.length > 0 && kills[kills.length - 1].mode !== 'off';
          return {
            ...p,
            state: killed ? 'killed' : Object.hasOwn(clocks, p.id) ? 'working' : 'done',
            outputs: prog.n === undefined ? null : Number(prog.n),
            progressAt: prog.at === undefined ? null : Number(prog.at),
            kills,
          };
        }),
      );
    } catch (e) {
      out.error = `Redis: ${(e as Error).message}`;
    }
    out.skipped = this.skipped.size;
    return JSON.stringify(out);
  }

  private async readOrders(r: RedisClient): Promise<void> {
    for (;;) {
      const batch = (await r.xrange(ordersStream(this.keys), this.ordersFrom, '+', 'COUNT', 5000)) as Batch;
      for (const [id, flat] of batch) {
        this.ordersFrom = `(${id}`;
        const f = fieldsOf(flat);
        if (!f.parent_id || !f.ts || !NS_RE.test(f.ts)) continue;
        let p = this.parents.get(f.parent_id);
        if (p === undefined) {
          if (this.parents.size >= MAX_PARENTS) {
            this.skipped.add(f.parent_id);
            continue;
          }
          this.parents.set(f.parent_id, (p = { id: f.parent_id, symbol: f.symbol ?? '', side: f.side ?? '', children: 0, cancels: 0, sent: 0, filled: 0, fills: 0, firstTs: f.ts, lastTs: f.ts, sentSeries: [], filledSeries: [] }));
        }
        p.lastTs = f.ts;
        if (f.type === 'cancel') {
          p.cancels++;
          continue;
        }
        if (f.type !== 'new') continue;
        if (!p.side) p.side = f.side ?? '';
        if (f.id) this.childOf.set(f.id, p.id);
        p.children++;
        p.sent += Number(f.qty) || 0;
        push(p.sentSeries, secs(f.ts), p.sent);
      }
      if (batch.length < 5000) return;
    }
  }

  private async readFills(r: RedisClient): Promise<void> {
    for (;;) {
      const batch = (await r.xrange(fillsStream(this.keys), this.fillsFrom, '+', 'COUNT', 5000)) as Batch;
      for (const [id, flat] of batch) {
        this.fillsFrom = `(${id}`;
        const f = fieldsOf(flat);
        if (f.kind === 'heartbeat') continue;
        const parent = f.parent_id ?? (f.order_id ? this.childOf.get(f.order_id) : undefined);
        const p = parent === undefined ? undefined : this.parents.get(parent);
        const ts = f.ts_event ?? f.ts_recv;
        if (p === undefined || !ts || !NS_RE.test(ts)) continue;
        p.fills++;
        p.filled += Number(f.qty) || 0;
        push(p.filledSeries, secs(ts), p.filled);
      }
      if (batch.length < 5000) return;
    }
  }
}
