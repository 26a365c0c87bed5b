/**
 * What the dashboard's execution page shows of each parent order `lockstep execute --redis` works
 * (trading/exec/exec-live.ts), read from what it and the gateway write:
 * - `<ns>:orders` (exec-wire.ts): each child order (`new`, its quantity in units) and cancel, with
 *   its parent; the parents are those named there (no SCAN needed);
 * - `<ns>:fills` (trading/fills-wire.ts): each fill, by `parent_id`, else by the child `order_id`
 *   it fills;
 * - `<ns>:exec:<parent>` (its progress hash: `n` outputs written, and its run's status,
 *   trading/exec/exec-status.ts: state, heartbeat `at`, where it is against its schedule; the
 *   checkpoint there is not read), `<ns>:exec:<parent>:schedule` (its planned schedule, read until
 *   found, then kept: a run writes the same one every time) and `<ns>:exec:<parent>:kills` (each
 *   kill-switch change the algorithm read, at its place in event time).
 * Both streams are read once from the start, then only what was added since (XRANGE from the last
 * id), once for every open page. Over event time: "plan" is the schedule's target (TWAP, VWAP; POV
 * has none ahead of time), "sent" the cumulative quantity of its child orders as of each one's
 * decision time, "filled" the cumulative quantity of the fills as of their event time. "vs
 * schedule" is the algorithm's own `filled − target` at the event time it has reached (POV's
 * target too: its rate × the volume traded so far), in units; negative is behind.
 *
 * State (exec-status.ts `parentState`): `done` (its window ended, the TCA is written) and `stopped`
 * (a signal, an idle stop or an error; why) as the run wrote them; `stalled` when its run has not
 * written for 5 of its heartbeats (SIGKILLed, crashed, cut off from Redis), with how long; else
 * `killed` under a kill switch that is not `off`; else `working`. A parent is seen once it has
 * written a child order.
 */
import type { FeatureSource } from '../live/row-reader.ts';
import type { RedisClient } from '../live/redis-connect.ts';
import { execKillLogStream, execProgressKey, execScheduleKey, fillsStream, ordersStream } from '../live/keys.ts';
import { decodeKillFields } from '../trading/exec/exec-wire.ts';
import { decodeStatus, parentState, STATUS_FIELDS, type ParentState, type ScheduleRecord } from '../trading/exec/exec-status.ts';

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

/** The planned schedule as the page draws it. */
export interface PlanView {
  algo: string;
  /** [event time s, cumulative units], stepped; empty for POV. */
  series: [number, number][];
  note: string | null;
}

/** A parent order as sent to the page. */
export interface ParentView extends Parent {
  state: ParentState;
  /** Wall ms since its run last wrote (null: never, or done/stopped). */
  silentMs: number | null;
  heartbeatMs: number;
  /** Why a stopped run stopped. */
  why: string | null;
  outputs: number | null;
  progressAt: number | null;
  plan: PlanView | null;
  /** The algorithm's own position against its schedule at event time `ts` (units); null before it has a clock. */
  position: { ts: string; target: number; filled: number; ahead: number } | null;
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
  /** Each parent's schedule once read (with its lot: the units of the position). */
  private readonly plans = new Map<string, { view: PlanView; lot: number }>();

  constructor(
    private readonly reader: FeatureSource,
    /** The reader's user on a full client (the lean reader has no XRANGE); null: nothing to show. */
    private readonly inspector: RedisClient | null,
    private readonly keys: { ns: string },
    /** Wall clock (ms) the runs' heartbeats are judged by. */
    private readonly now: () => number = Date.now,
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
      // every parent's status, plan and kill log at once: one round trip's wait, not three per parent
      const inspector = this.inspector;
      out.parents = await Promise.all(
        [...this.parents.values()].map(async (p): Promise<ParentView> => {
          const [prog, log] = await Promise.all([this.reader.hmget(execProgressKey(this.keys, p.id), ...STATUS_FIELDS), inspector.xrange(execKillLogStream(this.keys, p.id), '-', '+') as Promise<Batch>, this.readPlan(p.id)]);
          const kills = log.flatMap(([id, f]) => {
            const k = decodeKillFields(f);
            return 'bad' in k ? [] : [{ id, mode: k.mode, symbol: k.symbol, reason: k.reason, ts: k.ts.toString() }];
          });
          const killed = kills.length > 0 && kills[kills.length - 1].mode !== 'off';
          const status = decodeStatus(prog);
          const { state, silentMs } = parentState(status, killed, this.now());
          const plan = this.plans.get(p.id);
          const lot = plan?.lot ?? 1;
          return {
            ...p,
            state,
            silentMs,
            heartbeatMs: status.beatMs,
            why: state === 'stopped' ? status.why : null,
            outputs: status.n,
            progressAt: status.at,
            plan: plan?.view ?? null,
            position: status.ts === null || status.target === null || status.filled === null ? null : { ts: status.ts, target: status.target * lot, filled: status.filled * lot, ahead: (status.filled - status.target) * lot },
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

  /** A parent's schedule, read until its run has written it (a malformed one is shown as a note). */
  private async readPlan(parent: string): Promise<void> {
    if (this.plans.has(parent)) return;
    const text = await this.reader.get(execScheduleKey(this.keys, parent));
    if (text === null) return;
    let r: ScheduleRecord;
    try {
      r = JSON.parse(text) as ScheduleRecord;
      if (typeof r.lot !== 'number' || !(r.steps === null || Array.isArray(r.steps))) throw new Error('not a schedule record');
    } catch (e) {
      this.plans.set(parent, { lot: 1, view: { algo: '?', series: [], note: `${execScheduleKey(this.keys, parent)} cannot be read: ${(e as Error).message}` } });
      return;
    }
    const series: [number, number][] = (r.steps ?? []).filter(([t]) => NS_RE.test(t)).map(([t, lots]) => [secs(t), lots * r.lot]);
    this.plans.set(parent, { lot: r.lot, view: { algo: r.algo, series, note: r.note } });
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
