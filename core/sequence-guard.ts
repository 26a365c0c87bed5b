/**
 * Duplicate and late-event policy, per (symbol, kind) source, identical in replay and live.
 *
 * Events are applied in arrival order. A sequence number above the highest seen is applied; the
 * numbers it skipped are remembered (up to MAX_MISSING) as "missing". An event with a number at
 * or below the highest seen is applied only if it was missing (a late event, counted); otherwise
 * it is a duplicate delivery and is dropped (counted). A gap larger than MAX_MISSING is recorded as
 * a gap and not waited for: anything from it that arrives later is dropped as stale.
 */
import { isSuccessor } from './kernels/ns-offset.ts';

export const MAX_MISSING = 256;

export interface SeqGuard {
  /** Highest sequence applied; -1 before the first event. */
  last: bigint;
  /** Sorted ascending, all < last. */
  missing: bigint[];
}

export type SeqVerdict = 'next' | 'late' | 'duplicate';

export function initSeqGuard(): SeqGuard {
  return { last: -1n, missing: [] };
}

/** Classifies `seq` and updates the guard as if the event were applied (unless a duplicate). */
export function admitSeq(g: SeqGuard, seq: bigint): SeqVerdict {
  // The usual case, the next number, first: one comparison through 32-bit halves, no bigint
  // compare or allocation. Before the first event last is -1n, whose successor 0 is also 'next'.
  if (isSuccessor(g.last, seq)) {
    g.last = seq;
    return 'next';
  }
  if (seq > g.last) {
    if (g.last < 0n) {
      g.last = seq;
      return 'next';
    }
    if (seq - g.last - 1n > BigInt(MAX_MISSING)) {
      g.missing.length = 0;
    } else {
      for (let s = g.last + 1n; s < seq; s++) g.missing.push(s);
      if (g.missing.length > MAX_MISSING) g.missing.splice(0, g.missing.length - MAX_MISSING);
    }
    g.last = seq;
    return 'next';
  }
  const i = indexOf(g.missing, seq);
  if (i < 0) return 'duplicate';
  g.missing.splice(i, 1);
  return 'late';
}

function indexOf(sorted: bigint[], x: bigint): number {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = sorted[mid];
    if (v === x) return mid;
    if (v < x) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}
