/**
 * The execution algorithms (TWAP, VWAP, POV) as one pure fold over the raw market events of the
 * parent's symbol, its fills and the kill switch; only the schedule differs (schedule.ts).
 *
 * At every event of the symbol (and every fill) the algorithm compares what it has filled with what
 * the schedule wants by now, in event time (no timers: the next event is the clock):
 * - behind by less than the tolerance (`urgency`, types.ts): a passive child at the near touch
 *   (bid for a buy), for what the schedule wants by now plus one `minChild` ahead (TWAP/VWAP: a
 *   slice goes out at the start of its interval; POV only follows prints), of at least `minChild`
 *   (but the parent's last remainder) and at most `maxChild`;
 *   a working child the touch has moved away from is cancelled (and replaced once its cancel settles),
 *   with hysteresis against churn: a passive child the touch has moved away from by at most
 *   `repegTicks` ticks is kept until it has rested `minRestNs` of event time (its decision time to
 *   now); a larger move re-pegs it at once, and so does crossing (below). At most one re-peg per
 *   `minRestNs` per child for small moves, so a touch flickering by a tick no longer cancels and
 *   re-sends on every quote. `repegTicks` 0 restores re-pegging on every move;
 * - behind by more: its passive children are cancelled and a marketable child goes out at the far
 *   touch, sized to the lag and to the size shown there;
 * - no child is ever priced through the parent's limit (a crossing the limit forbids rests at it);
 * - the parent never overfills: lots of a cancelled child count as working until `cancelSettleNs`
 *   after the cancel (a fill may still be on its way), or, when the venue confirms cancels
 *   (`cancelAcks`), until its confirmation (`onCancelAck`) or last fill;
 * - at the end of the window every working child is cancelled; what is unfilled stays unfilled
 *   (TCA's opportunity cost).
 * The kill switch (`onKill`): `halt` cancels every working child at once and sends nothing after;
 * `reduce-only` cancels the children that would take |position| above zero on the other side of
 * where it started and sends only position-reducing ones; `off` (a human's action) resumes.
 *
 * State is plain data (structured-cloneable), so a run stopped after any event and resumed from a
 * copy of its state emits exactly the orders an uninterrupted run emits.
 */
import type { MarketEvent } from '../../core/events.ts';
import type { CancelOrder, ChildOrder, Fill, KillInput, OrderAction } from '../types.ts';
import { applyMarket, midOf } from './market-view.ts';
import { scheduleTarget } from './schedule.ts';
import { ALGOS, ExecConfigError, type ExecConfig, type ExecState, type ParentOrder } from './types.ts';

const SECOND = 1_000_000_000n;

function checkParent(p: ParentOrder): Required<ParentOrder> {
  if (!Number.isInteger(p.qty) || p.qty <= 0) throw new ExecConfigError('qty', p.qty, 'must be a whole number of lots > 0');
  if (p.side !== 1 && p.side !== -1) throw new ExecConfigError('side', p.side, 'must be 1 (buy) or -1 (sell)');
  if (p.start >= p.end) throw new ExecConfigError('start', p.start, `must be before end ${p.end}`);
  if (p.limitPx !== null && (!Number.isInteger(p.limitPx) || p.limitPx <= 0)) throw new ExecConfigError('limitPx', p.limitPx, 'must be a whole number of ticks > 0');
  const minChild = p.minChild ?? 1;
  const maxChild = p.maxChild ?? p.qty;
  const urgency = p.urgency ?? 0.9;
  if (!Number.isInteger(minChild) || minChild <= 0) throw new ExecConfigError('minChild', minChild, 'must be a whole number of lots > 0');
  if (!Number.isInteger(maxChild) || maxChild < minChild) throw new ExecConfigError('maxChild', maxChild, `must be a whole number of lots ≥ minChild (${minChild})`);
  if (!(urgency >= 0 && urgency <= 1)) throw new ExecConfigError('urgency', urgency, 'must be in [0, 1]');
  return { ...p, minChild, maxChild, urgency };
}

/** A new algorithm state for `parent` under `cfg` (validated; a bad value throws `ExecConfigError`). */
export function initExec(parent: ParentOrder, cfg: ExecConfig): ExecState {
  const p = checkParent(parent);
  if (!ALGOS.includes(cfg.algo)) throw new ExecConfigError('algo', cfg.algo, `must be one of ${ALGOS.join(', ')}`);
  if (!(cfg.instrument.tick > 0)) throw new ExecConfigError('tick', cfg.instrument.tick, 'must be > 0');
  if (!(cfg.instrument.lot > 0)) throw new ExecConfigError('lot', cfg.instrument.lot, 'must be > 0');
  const povRate = cfg.povRate ?? 0.1;
  if (cfg.algo === 'pov' && !(povRate > 0 && povRate <= 1)) throw new ExecConfigError('pov', povRate, 'must be in (0, 1]');
  let cumCurve: number[] = [];
  let bucketNs = 60n * SECOND;
  if (cfg.algo === 'vwap') {
    if (!cfg.curve || cfg.curve.weights.length === 0) throw new ExecConfigError('curve', null, 'vwap needs a volume curve');
    bucketNs = cfg.curve.bucketNs;
    if (bucketNs <= 0n) throw new ExecConfigError('curve.bucketNs', bucketNs, 'must be > 0');
    const total = cfg.curve.weights.reduce((a, w) => {
      if (!(w >= 0)) throw new ExecConfigError('curve.weights', w, 'must be ≥ 0');
      return a + w;
    }, 0);
    if (!(total > 0)) throw new ExecConfigError('curve.weights', total, 'sum must be > 0');
    let acc = 0;
    cumCurve = cfg.curve.weights.map((w) => (acc += w) / total);
  }
  const maxRate = cfg.maxOrdersPerSec ?? Infinity;
  if (!(maxRate > 0)) throw new ExecConfigError('maxOrdersPerSec', maxRate, 'must be > 0');
  const settleNs = cfg.cancelSettleNs ?? 0n;
  if (settleNs < 0n) throw new ExecConfigError('cancelSettleNs', settleNs, 'must be ≥ 0');
  const repegTicks = cfg.repegTicks ?? 2;
  if (!Number.isInteger(repegTicks) || repegTicks < 0) throw new ExecConfigError('repegTicks', repegTicks, 'must be a whole number of ticks ≥ 0');
  const minRestNs = cfg.minRestNs ?? SECOND;
  if (minRestNs < 0n) throw new ExecConfigError('minRestNs', minRestNs, 'must be ≥ 0');
  return {
    parent: p,
    algo: cfg.algo,
    tick: cfg.instrument.tick,
    lot: cfg.instrument.lot,
    povRate,
    cumCurve,
    bucketNs,
    settleNs,
    awaitAcks: cfg.cancelAcks ?? false,
    maxRate,
    tolerance: (1 - p.urgency) * p.qty,
    repegTicks,
    minRestNs,
    bid: null,
    ask: null,
    bidSz: 0,
    askSz: 0,
    quoteSeen: false,
    bids: {},
    asks: {},
    bookInSnapshot: false,
    marketVol: 0,
    filled: 0,
    position: cfg.startPosition ?? 0,
    working: [],
    cancelling: [],
    sent: 0,
    recent: [],
    kill: 'off',
    done: false,
    arrivalMid: null,
    firstChildMid: null,
    lastMid: null,
  };
}

/**
 * One market event (other symbols are ignored; a heartbeat of any symbol is the clock). `now`: when
 * the algorithm reads it (the event's ts_recv plus the feed latency, in a simulation); the
 * decision's time, stamped on the orders. Returns the orders it decides.
 */
export function onMarket(s: ExecState, ev: MarketEvent, now: bigint = ev.tsRecv): OrderAction[] {
  if (ev.kind === 'heartbeat') return onTime(s, now);
  if (ev.symbol !== s.parent.symbol) return [];
  if (s.arrivalMid === null && now >= s.parent.start && s.lastMid !== null) s.arrivalMid = s.lastMid;
  const complete = applyMarket(s, ev, now);
  if (!complete) return [];
  const mid = midOf(s);
  if (mid !== null) s.lastMid = mid;
  if (s.arrivalMid === null && now >= s.parent.start) s.arrivalMid = s.lastMid;
  return decide(s, now);
}

/** The clock alone reached `now` (a heartbeat, or the end of the input): the schedule may act. */
export function onTime(s: ExecState, now: bigint): OrderAction[] {
  if (s.arrivalMid === null && now >= s.parent.start) s.arrivalMid = s.lastMid;
  return decide(s, now);
}

/**
 * The venue confirms that a cancelled child is off the book (or that it had already completed):
 * its remaining lots stop counting as possibly filling before `cancelSettleNs` runs out.
 */
export function onCancelAck(s: ExecState, orderId: string, now: bigint): OrderAction[] {
  const before = s.cancelling.length;
  s.cancelling = s.cancelling.filter((o) => o.id !== orderId);
  return s.cancelling.length === before ? [] : decide(s, now);
}

/** A fill of one of this parent's children (others are ignored). */
export function onFill(s: ExecState, f: Fill): OrderAction[] {
  const w = s.working.find((o) => o.id === f.orderId) ?? s.cancelling.find((o) => o.id === f.orderId);
  if (!w) return [];
  w.qty -= f.qty;
  s.filled += f.qty;
  s.position += s.parent.side * f.qty;
  if (w.qty <= 0) {
    s.working = s.working.filter((o) => o.id !== f.orderId);
    s.cancelling = s.cancelling.filter((o) => o.id !== f.orderId);
  }
  return decide(s, f.tsRecv);
}

/** A kill-switch change for the parent's symbol or for everything (others are ignored). */
export function onKill(s: ExecState, k: KillInput): OrderAction[] {
  if (k.symbol !== null && k.symbol !== s.parent.symbol) return [];
  s.kill = k.mode;
  if (k.mode === 'halt') return cancelWhere(s, k.ts, `kill switch halt: ${k.reason}`, () => true);
  if (k.mode === 'reduce-only') {
    let allowed = reducible(s);
    return cancelWhere(s, k.ts, `kill switch reduce-only: ${k.reason}`, (o) => {
      if (o.qty <= allowed) {
        allowed -= o.qty;
        return false;
      }
      return true;
    });
  }
  return decide(s, k.ts);
}

/** Lots the parent may still add without increasing |position| (reduce-only). */
function reducible(s: ExecState): number {
  return Math.max(0, -s.parent.side * s.position - s.cancelling.reduce((a, o) => a + o.qty, 0));
}

function cancelWhere(s: ExecState, ts: bigint, reason: string, pick: (o: ExecState['working'][number]) => boolean): OrderAction[] {
  const out: OrderAction[] = [];
  const keep: ExecState['working'] = [];
  for (const o of s.working) {
    if (!pick(o)) {
      keep.push(o);
      continue;
    }
    const cancel: CancelOrder = { id: o.id, parentId: s.parent.id, symbol: s.parent.symbol, ts, reason };
    out.push({ type: 'cancel', cancel });
    s.cancelling.push({ id: o.id, qty: o.qty, until: ts + s.settleNs });
  }
  s.working = keep;
  return out;
}

const sumQty = (l: readonly { qty: number }[]) => l.reduce((a, o) => a + o.qty, 0);

/** The schedule's decision at event time `ts` (see the header). */
function decide(s: ExecState, ts: bigint): OrderAction[] {
  if (s.done || s.kill === 'halt') return [];
  const p = s.parent;
  if (ts >= p.end) {
    s.done = true;
    return cancelWhere(s, ts, 'end of window', () => true);
  }
  if (ts < p.start) return [];
  // confirmed cancels: a cancelling child's lots stay pending until the venue's report says so
  if (s.cancelling.length > 0 && !s.awaitAcks) s.cancelling = s.cancelling.filter((o) => o.until > ts);
  if (s.filled >= p.qty) {
    s.done = true;
    return cancelWhere(s, ts, 'parent filled', () => true);
  }
  const near = p.side === 1 ? s.bid : s.ask;
  const far = p.side === 1 ? s.ask : s.bid;
  if (near === null || far === null) return [];
  const lim = p.limitPx;
  const within = (px: number) => lim === null || (p.side === 1 ? px <= lim : px >= lim);
  const passivePx = lim === null ? near : p.side === 1 ? Math.min(near, lim) : Math.max(near, lim);
  const target = Math.min(p.qty, scheduleTarget(s, ts));
  const lag = target - s.filled;
  const cross = lag > s.tolerance;
  const crossPx = within(far) ? far : lim;
  const px = cross ? crossPx! : passivePx;
  const out: OrderAction[] = [];
  // a child priced worse than where it would go now is re-placed (after its cancel settles)
  // (hysteresis: a passive child a few ticks off that has not rested its minimum time stays)
  const worse = (o: { px: number; ts: bigint }) => (p.side === 1 ? o.px < px : o.px > px) && (cross || Math.abs(px - o.px) > s.repegTicks || ts - o.ts >= s.minRestNs);
  if (s.working.some(worse)) out.push(...cancelWhere(s, ts, cross ? 'behind schedule: cross the spread' : 'touch moved', worse));
  if (s.settleNs === 0n && !s.awaitAcks) s.cancelling = [];
  const pending = sumQty(s.working) + sumQty(s.cancelling);
  let room = p.qty - s.filled - pending;
  if (s.kill === 'reduce-only') room = Math.min(room, reducible(s) - sumQty(s.working));
  // a passive schedule keeps its next minimum child working ahead of time (TWAP's slice goes out at
  // the start of its interval); POV follows prints and a crossing child only catches up
  const ahead = cross || s.algo === 'pov' ? 0 : p.minChild;
  const need = Math.min(target + ahead - s.filled - pending, room);
  if (need <= 0 || (need < p.minChild && need < room)) return out;
  if (s.recent.length > 0) s.recent = s.recent.filter((t) => t > ts - SECOND);
  if (s.recent.length >= s.maxRate) return out;
  let qty = Math.min(need, p.maxChild);
  // a crossing child takes no more than the far touch shows (the rest goes on the next events)
  const shown = Math.floor(p.side === 1 ? s.askSz : s.bidSz);
  if (cross && px === far && shown >= 1) qty = Math.min(qty, Math.max(shown, Math.min(p.minChild, need)));
  s.sent += 1;
  s.recent.push(ts);
  const order: ChildOrder = { id: `${p.id}-${s.sent}`, parentId: p.id, symbol: p.symbol, side: p.side, qty, limitPx: px, ts };
  s.working.push({ id: order.id, qty, px, ts });
  if (s.firstChildMid === null) s.firstChildMid = s.lastMid;
  out.push({ type: 'new', order });
  return out;
}
