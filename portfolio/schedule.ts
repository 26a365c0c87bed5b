/**
 * The rebalance grid `every:P` in event time: T = open + k·P for k ≥ 1 while T ≤ close, in each
 * session (core/kernels/market-sessions.ts) of the chosen kind. A session gets its grid only once a
 * row with a signal falls inside it (open ≤ ts < close): days without data (weekends, the months
 * between a fundamental's publication and the first trade) get no empty rebalances. Whether a
 * grid time T runs depends only on rows with ts < T (the rows a rebalance at T uses), so it is
 * decided by the time the watermark reaches T, in replay and live alike. Pure.
 */
import { sessionAt, type SessionBounds, type SessionKind } from '../core/kernels/market-sessions.ts';

/** The grid's next time and the close of the session it belongs to. */
export interface GridPoint {
  t: bigint;
  close: bigint;
}

const bounds: SessionBounds = { dayStart: 0n, dayEnd: 0n, open: 0n, close: 0n };

/**
 * The first grid time > `ts` (the first rebalance a row at `ts` takes part in) in the session
 * holding `ts`, or null when `ts` is outside a session or at or past its last grid time.
 */
export function gridAfter(kind: SessionKind, everyNs: bigint, ts: bigint): GridPoint | null {
  sessionAt(kind, ts, bounds);
  if (ts < bounds.open || ts >= bounds.close) return null;
  const t = bounds.open + ((ts - bounds.open) / everyNs + 1n) * everyNs;
  return t <= bounds.close ? { t, close: bounds.close } : null;
}

/** The grid time after `p`, or null at the session's end. */
export function nextGrid(p: GridPoint, everyNs: bigint): GridPoint | null {
  const t = p.t + everyNs;
  return t <= p.close ? { t, close: p.close } : null;
}
