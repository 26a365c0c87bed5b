/**
 * Plausibility: the rule against well-formed but absurd events, which would otherwise poison the
 * fold's state (a sequence number far ahead makes every later event of its source a "duplicate";
 * an event time far ahead moves the bar clocks past every later event; a huge price overflows
 * sums). One set of pure checks, used by every path: replay (catalog-schema.ts, event-cursor.ts:
 * an InputError naming file, row, field and value), live (wire.ts and the fold: a dead letter with
 * the reason) and the importers (csv-lines.ts). docs/catalog.md documents the bounds.
 *
 * Stateless checks (validateEvent calls them): magnitudes, and ts_event against the event's own
 * ts_recv. The sequence check takes the source's last sequence number (the fold's sequence guard,
 * or the previous row of the source in a catalog file); the first event of a source is judged
 * against nothing. Live also bounds ts_recv by the worker's wall clock (wire.ts): its input
 * arrives in any order, so an entry dated 2100 would otherwise move the clocks of later ones.
 *
 * No rule compares ts_recv with the latest one seen: valid streams jump forward by months (a
 * catalog day starts with the fundamentals of past quarters), and a rule that rejected such a jump
 * would reject everything after it.
 */
import type { EventProblem } from './validate-event.ts';

/** Prices, sizes and other magnitudes must be below this in absolute value. */
export const MAX_MAGNITUDE = 1e15;
/** A sequence number may be at most this far ahead of its source's last one. */
export const MAX_SEQ_JUMP = 1_000_000_000n;
/** ts_event may be at most this far (1 day, in ns) ahead of the event's ts_recv. */
export const MAX_EVENT_AHEAD_NS = 86_400_000_000_000n;
/** ts_recv may be at most this far (1 day, in ns) ahead of the live worker's wall clock. */
export const MAX_RECV_AHEAD_NS = 86_400_000_000_000n;

/** A split ratio (new shares per old share) must lie in [1 / MAX_SPLIT_RATIO, MAX_SPLIT_RATIO]. */
export const MAX_SPLIT_RATIO = 10_000;
/** A corporate action's ex date may be at most this far (400 days, in ns) from its announcement. */
export const MAX_EX_DISTANCE_NS = 400n * 86_400_000_000_000n;

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

/**
 * ts_recv no later than `horizon` (live: the worker's wall clock + MAX_RECV_AHEAD_NS). Replay needs
 * no such check: it applies events in ts_recv order, so a future ts_recv is applied last and
 * cannot make earlier events look old.
 */
export function receivedAheadProblem(horizon: bigint, tsRecv: bigint): EventProblem | null {
  return tsRecv > horizon ? { field: 'ts_recv', value: tsRecv, reason: "is more than 1 day ahead of the worker's clock" } : null;
}

/**
 * A split ratio inside [1 / MAX_SPLIT_RATIO, MAX_SPLIT_RATIO]: a ratio of 1e9 would divide every
 * later per-share figure into noise, and is a units error, not a split.
 */
export function splitRatioProblem(ratio: number): EventProblem | null {
  return ratio >= 1 / MAX_SPLIT_RATIO && ratio <= MAX_SPLIT_RATIO
    ? null
    : { field: 'ratio', value: ratio, reason: `must be a split ratio in [1/${MAX_SPLIT_RATIO}, ${MAX_SPLIT_RATIO}] (new shares per old share)` };
}

/**
 * ts_ex within MAX_EX_DISTANCE_NS of the announcement (ts_recv): a split dated decades away would
 * wait in the factors' state forever, or restate history it has nothing to do with.
 */
export function exDistanceProblem(tsEx: bigint, tsRecv: bigint): EventProblem | null {
  const d = tsEx > tsRecv ? tsEx - tsRecv : tsRecv - tsEx;
  return d > MAX_EX_DISTANCE_NS ? { field: 'ts_ex', value: tsEx, reason: `is more than 400 days from the announcement (ts_recv ${tsRecv})` } : null;
}
