/**
 * Clock events for a catalog: one heartbeat every `intervalNs` of receive time. They let
 * event-time timers (bar closes) fire in quiet periods, identically in replay and live.
 * The sequence number is the tick index since the epoch, so heartbeats written separately for
 * adjacent days (or regenerated) never collide or renumber.
 */
import type { HeartbeatEvent } from '../core/events.ts';

export const DEFAULT_HEARTBEAT_NS = 1_000_000_000n;

/** Heartbeats at every multiple of `intervalNs` in [fromNs, toNs]. */
export function heartbeats(fromNs: bigint, toNs: bigint, intervalNs = DEFAULT_HEARTBEAT_NS): HeartbeatEvent[] {
  const out: HeartbeatEvent[] = [];
  let k = (fromNs + intervalNs - 1n) / intervalNs;
  for (let t = k * intervalNs; t <= toNs; t += intervalNs, k++) {
    out.push({ kind: 'heartbeat', tsEvent: t, tsRecv: t, symbol: '', seq: k });
  }
  return out;
}

/** Heartbeats over the receive-time span of `rows` (none for no rows). */
export function heartbeatsCovering(rows: readonly { tsRecv: bigint }[], intervalNs = DEFAULT_HEARTBEAT_NS): HeartbeatEvent[] {
  if (rows.length === 0) return [];
  let lo = rows[0].tsRecv;
  let hi = lo;
  for (const r of rows) {
    if (r.tsRecv < lo) lo = r.tsRecv;
    if (r.tsRecv > hi) hi = r.tsRecv;
  }
  return heartbeats(lo, hi, intervalNs);
}
