/**
 * Plausibility: the rule against well-formed but absurd events, which would otherwise poison the
 * fold's state (a sequence number far ahead makes every later event of its source a "duplicate";
 * an event time far ahead moves the bar clocks past every later event; a huge price overflows
 * sums). One set of pure checks, used by every path: replay (catalog-schema.ts, event-cursor.ts:
 * an InputError naming file, row, field and value), live (wire.ts and the fold: a dead letter with
 * the reason) and the importers (csv-lines.ts). docs/catalog.md documents the bounds.
 *
 * Stateless checks (validateEvent calls them): magnitudes, and ts_event against the event's own
 * ts_recv. Stateful ones take the caller's state: the source's last sequence number (the fold's
 * sequence guard, or the previous row of a catalog file) and the stream's clock (the latest ts_recv
 * applied). The first event of a source or stream is judged against nothing.
 */
import type { EventProblem } from './validate-event.ts';

/** Prices, sizes and other magnitudes must be below this in absolute value. */
export const MAX_MAGNITUDE = 1e15;
/** A sequence number may be at most this far ahead of its source's last one. */
export const MAX_SEQ_JUMP = 1_000_000_000n;
/** ts_event may be at most this far (1 day, in ns) ahead of the event's ts_recv. */
export const MAX_EVENT_AHEAD_NS = 86_400_000_000_000n;
/**
 * ts_recv may be at most this far (7 days, in ns) ahead of the stream's clock (the latest ts_recv
 * applied): long enough for a weekend or a holiday without heartbeats.
 */
export const MAX_CLOCK_JUMP_NS = 7n * 86_400_000_000_000n;

/** A finite number of absolute value below MAX_MAGNITUDE, or the problem with it. */
export function magnitudeProblem(field: string, v: number): EventProblem | null {
  return v < MAX_MAGNITUDE && v > -MAX_MAGNITUDE ? null : { field, value: v, reason: `must be a finite number of magnitude < ${MAX_MAGNITUDE}` };
}

/** ts_event no more than MAX_EVENT_AHEAD_NS after ts_recv. */
export function eventAheadProblem(tsEvent: bigint, tsRecv: bigint): EventProblem | null {
  return tsEvent > tsRecv && tsEvent - tsRecv > MAX_EVENT_AHEAD_NS
    ? { field: 'ts_event', value: tsEvent, reason: `is more than 1 day after ts_recv ${tsRecv}` }
    : null;
}

/** `seq` no more than MAX_SEQ_JUMP ahead of the source's last sequence number (`last` < 0: none yet). */
export function seqJumpProblem(last: bigint, seq: bigint): EventProblem | null {
  return last >= 0n && seq > last && seq - last > MAX_SEQ_JUMP
    ? { field: 'seq', value: seq, reason: `jumps more than ${MAX_SEQ_JUMP} ahead of the source's last sequence number ${last}` }
    : null;
}

/** ts_recv no more than MAX_CLOCK_JUMP_NS ahead of the stream's clock (`clock` < 0: none yet). */
export function clockJumpProblem(clock: bigint, tsRecv: bigint): EventProblem | null {
  return clock >= 0n && tsRecv > clock && tsRecv - clock > MAX_CLOCK_JUMP_NS
    ? { field: 'ts_recv', value: tsRecv, reason: `is more than 7 days ahead of the stream's clock ${clock}` }
    : null;
}
