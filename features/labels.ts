/**
 * Forward labels as a small pure state machine over the merged event stream: what happened to a
 * symbol's prices in (t, t+h] after a sample taken at t. O(1) amortized per event: each pending
 * label is queued once (per symbol and per horizon, and in one global queue per horizon) and
 * resolved once.
 *
 * Prices are the fold's own `mid` and `last_price` values (no second implementation): the caller
 * passes them after applying each event. A label for (symbol, t, h):
 * - base: the symbol's mid / last price as known at t (every event with ts_recv <= t applied);
 * - end: the same as known at t+h, read when the symbol's first event with ts_recv > t+h arrives,
 *   so only events strictly after t and up to t+h move it;
 * - fwd_ret = ln(end / base); fwd_sign = sign(fwd_ret); fwd_vol = sqrt(sum of squared mid
 *   log-returns whose later quote has ts_recv in (t, t+h]) (a running sum per symbol, differenced:
 *   exact enough for a label, ~1e-13 relative on a day).
 * Null, never filled, when: the base or end price is unknown; the symbol has no event after t+h in
 * the build's data (the horizon runs past the data); or a halt touches the horizon: a gap between
 * two consecutive events of the symbol longer than `haltGapNs` that ends in (t, t+h] or spans t+h.
 * A pending label whose symbol has been silent for more than `haltGapNs` past t+h is resolved to
 * null at once (whatever comes next, that gap is a halt), so pending labels never pile up.
 */
import type { Kind } from '../core/events.ts';

/** The outcome of one (sample, horizon): NaN where null. */
export interface LabelOutcome {
  retMid: number;
  retLast: number;
  volMid: number;
}

interface Pending {
  row: number;
  deadline: bigint;
  t: bigint;
  mid0: number;
  last0: number;
  var0: number;
  sym: LabelSymbol;
  done: boolean;
}

/** Per-symbol label state (plain data). */
export interface LabelSymbol {
  mid: number;
  last: number;
  /** Sum of squared mid log-returns so far. */
  cumVar: number;
  /** ts_recv of the symbol's last event; -1 before any. */
  lastTs: bigint;
  /** End of the latest halt (a gap > haltGapNs between two of its events); -1 before any. */
  haltEnd: bigint;
  /** Pending labels per horizon, oldest first (deadlines increase: samples come in time order). */
  queues: Pending[][];
  heads: number[];
}

/** The label machine: horizons, halt gap, global queues and the resolution callback. */
export interface LabelMachine {
  horizons: readonly bigint[];
  haltGapNs: bigint;
  global: Pending[][];
  globalHeads: number[];
  /** Called once per (row, horizon index) with the outcome (NaN = null). */
  resolved: (row: number, horizon: number, out: LabelOutcome) => void;
}

const NULL_OUTCOME: LabelOutcome = Object.freeze({ retMid: NaN, retLast: NaN, volMid: NaN });

export function initLabelMachine(horizons: readonly bigint[], haltGapNs: bigint, resolved: LabelMachine['resolved']): LabelMachine {
  return { horizons, haltGapNs, global: horizons.map(() => []), globalHeads: horizons.map(() => 0), resolved };
}

export function initLabelSymbol(m: LabelMachine): LabelSymbol {
  return { mid: NaN, last: NaN, cumVar: 0, lastTs: -1n, haltEnd: -1n, queues: m.horizons.map(() => []), heads: m.horizons.map(() => 0) };
}

/** Registers the labels of a sample of `s` taken at `t` (call with s as known at t). */
export function addSample(m: LabelMachine, s: LabelSymbol, row: number, t: bigint): void {
  for (let k = 0; k < m.horizons.length; k++) {
    const p: Pending = { row, deadline: t + m.horizons[k], t, mid0: s.mid, last0: s.last, var0: s.cumVar, sym: s, done: false };
    s.queues[k].push(p);
    m.global[k].push(p);
  }
}

function outcome(p: Pending, s: LabelSymbol): LabelOutcome {
  // a halt that ended inside (t, t+h] (the gap spanning t+h is checked by the caller)
  if (s.haltEnd > p.t) return NULL_OUTCOME;
  const retMid = Math.log(s.mid / p.mid0);
  const retLast = Math.log(s.last / p.last0);
  const dv = s.cumVar - p.var0;
  return { retMid, retLast, volMid: p.mid0 === p.mid0 ? Math.sqrt(dv > 0 ? dv : 0) : NaN };
}

/**
 * Before applying an event of symbol `s` received at `now`: resolves the symbol's labels whose
 * horizon ended before `now` (s is still as known at their t+h), and times out every symbol's
 * labels whose horizon ended more than the halt gap before `now`.
 */
export function beforeEvent(m: LabelMachine, s: LabelSymbol | null, now: bigint): void {
  if (s !== null) {
    // the gap from the symbol's last event to this one spans every deadline resolved here
    const halted = s.lastTs >= 0n && now - s.lastTs > m.haltGapNs;
    for (let k = 0; k < s.queues.length; k++) {
      const q = s.queues[k];
      let h = s.heads[k];
      while (h < q.length && q[h].deadline < now) {
        const p = q[h++];
        if (!p.done) {
          p.done = true;
          m.resolved(p.row, k, halted ? NULL_OUTCOME : outcome(p, s));
        }
      }
      compact(q, h, s.heads, k);
    }
  }
  for (let k = 0; k < m.global.length; k++) {
    const q = m.global[k];
    let h = m.globalHeads[k];
    while (h < q.length && (q[h].done || now - q[h].deadline > m.haltGapNs)) {
      const p = q[h++];
      if (!p.done) {
        p.done = true;
        m.resolved(p.row, k, NULL_OUTCOME);
      }
    }
    compact(q, h, m.globalHeads, k);
  }
}

/** Drops a queue's consumed prefix now and then (amortized O(1)). */
function compact(q: Pending[], h: number, heads: number[], k: number): void {
  if (h > 1024 && h * 2 > q.length) {
    q.splice(0, h);
    h = 0;
  }
  heads[k] = h;
}

/** After applying an event of `s` received at `now`: the symbol's prices as the fold now has them. */
export function afterEvent(m: LabelMachine, s: LabelSymbol, now: bigint, kind: Kind, mid: number | null, last: number | null): void {
  if (s.lastTs >= 0n && now - s.lastTs > m.haltGapNs) s.haltEnd = now;
  s.lastTs = now;
  if (kind === 'quote') {
    const v = mid ?? NaN;
    if (v === v && s.mid === s.mid) {
      const r = Math.log(v / s.mid);
      s.cumVar += r * r;
    }
    if (v === v) s.mid = v;
    else s.mid = NaN;
  }
  if (last !== null) s.last = last;
}

/** End of the build's data: every label still pending is past the data, so null. */
export function finishLabels(m: LabelMachine): void {
  for (let k = 0; k < m.global.length; k++) {
    for (let h = m.globalHeads[k]; h < m.global[k].length; h++) {
      const p = m.global[k][h];
      if (!p.done) {
        p.done = true;
        m.resolved(p.row, k, NULL_OUTCOME);
      }
    }
    m.global[k].length = 0;
    m.globalHeads[k] = 0;
  }
}
