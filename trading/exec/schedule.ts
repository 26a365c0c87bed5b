/**
 * The three schedules: how many lots the parent should have filled by event time `ts`.
 *
 * - TWAP: linear in time over [start, end): `qty · (ts − start) / (end − start)`.
 * - VWAP: the volume curve's cumulative share, linear inside a bucket:
 *   `qty · (C[i−1] + w[i] · (ts − bucket i's start) / bucketNs)`, C the normalized cumulative curve.
 * - POV: `rate · V(ts)`, V the market volume traded in the window so far (lots; our own fills are not
 *   in the feed in replay, and live the venue's prints include them: the share is of all prints).
 * Each is rounded down to whole lots (the schedule never asks for a lot it has not earned) and is
 * the whole parent at the end of the window.
 */
import type { ExecState } from './types.ts';

/** Fraction of the window elapsed at ts, in [0, 1]. */
function elapsed(s: ExecState, ts: bigint): number {
  const { start, end } = s.parent;
  if (ts <= start) return 0;
  if (ts >= end) return 1;
  return Number(ts - start) / Number(end - start);
}

/** The VWAP curve's cumulative share at ts, in [0, 1]. */
function curveShare(s: ExecState, ts: bigint): number {
  const { start } = s.parent;
  if (ts <= start) return 0;
  const c = s.cumCurve;
  const d = ts - start;
  const i = Number(d / s.bucketNs);
  if (i >= c.length) return 1;
  const before = i === 0 ? 0 : c[i - 1];
  const within = Number(d - BigInt(i) * s.bucketNs) / Number(s.bucketNs);
  return before + (c[i] - before) * within;
}

/** Lots the schedule wants filled by `ts` (whole lots, ≤ the parent's qty; may exceed it before clipping for POV). */
export function scheduleTarget(s: ExecState, ts: bigint): number {
  const q = s.parent.qty;
  if (ts >= s.parent.end) return q;
  // 1e-9 absorbs float error at exact slice boundaries (3 of 10 minutes of 100 lots is 30, not 29)
  switch (s.algo) {
    case 'twap':
      return Math.floor(q * elapsed(s, ts) + 1e-9);
    case 'vwap':
      return Math.floor(q * curveShare(s, ts) + 1e-9);
    case 'pov':
      return Math.min(q, Math.floor(s.povRate * s.marketVol + 1e-9));
  }
}

/** At most this many steps in a planned schedule (a larger parent is drawn in steps of several lots). */
export const PLAN_MAX_STEPS = 1000;

/**
 * TWAP's or VWAP's schedule as the steps of `scheduleTarget` itself (not a second formula): from
 * the window's start, each `[ts, lots]` is the first event time (ns) at which the target reaches
 * the next multiple of `ceil(qty / maxSteps)` lots (found by bisection: the target never falls as
 * time passes), with the target there; the last is the whole parent. Null for POV: its target is
 * `rate` × the market volume as it trades, not known ahead.
 */
export function plannedSchedule(s: ExecState, maxSteps = PLAN_MAX_STEPS): [bigint, number][] | null {
  if (s.algo === 'pov') return null;
  const { start, end, qty } = s.parent;
  const step = Math.max(1, Math.ceil(qty / maxSteps));
  const out: [bigint, number][] = [[start, scheduleTarget(s, start)]];
  for (;;) {
    const [from, have] = out[out.length - 1];
    if (have >= qty) return out;
    const want = Math.min(qty, (Math.floor(have / step) + 1) * step);
    // target(lo) < want ≤ target(hi): scheduleTarget(end) is the whole parent
    let lo = from;
    let hi = end;
    while (hi - lo > 1n) {
      const mid = lo + (hi - lo) / 2n;
      if (scheduleTarget(s, mid) >= want) hi = mid;
      else lo = mid;
    }
    out.push([hi, scheduleTarget(s, hi)]);
  }
}
