/**
 * Duplicate and late-event policy, per (symbol, kind) source, identical in replay and live.
 *
 * Events are applied in arrival order. A sequence number above the highest seen is applied; the
 * numbers it skipped are remembered (up to MAX_MISSING) as "missing". An event with a number at
 * or below the highest seen is applied only if it was missing (a late event, counted); otherwise
 * it is a duplicate delivery and is dropped (counted). A gap larger than MAX_MISSING is recorded as
 * a gap and not waited for: anything from it that arrives later is dropped as stale.
 *
 * A number more than MAX_SEQ_JUMP above the highest seen (plausibility.ts) is implausible: it is
 * not applied and leaves the guard as it was, so one absurd number cannot turn the rest of its
 * source's day into "duplicates". The first number of a source is judged against nothing; if it was
 * absurd, the next real one is more than MAX_SEQ_JUMP below it and the guard starts again from that
 * one (applied as 'next').
 */
import { advanceIfSuccessor, setHalves, type Int64Halves } from './kernels/ns-offset.ts';
import { MAX_SEQ_JUMP } from './plausibility.ts';

export const MAX_MISSING = 256;

export interface SeqGuard extends Int64Halves {
  /** Highest sequence applied; -1 before the first event. `hi`/`lo` hold its halves (fast path). */
  last: bigint;
  /** Sorted ascending, all < last. */
  missing: bigint[];
}

/** 'implausible': rejected by the plausibility rule (not applied, counted as rejected). */
export type SeqVerdict = 'next' | 'late' | 'duplicate' | 'implausible';

export function initSeqGuard(): SeqGuard {
  const g: SeqGuard = { last: -1n, missing: [], hi: 0, lo: 0 };
  setHalves(g, g.last);
  return g;
}

/** Classifies `seq` and updates the guard as if the event were applied (unless a duplicate or implausible). */
export function admitSeq(g: SeqGuard, seq: bigint): SeqVerdict {
  // The usual case, the next number, first: one comparison through 32-bit halves against the
  // halves kept of last, no bigint compare, allocation or read of the held bigint. Before the
  // first event last is -1n, whose successor 0 is also 'next'.
  if (advanceIfSuccessor(g, seq)) {
    g.last = seq;
    return 'next';
  }
  if (seq > g.last) {
    if (g.last >= 0n && seq - g.last > MAX_SEQ_JUMP) return 'implausible';
    setHalves(g, seq);
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
  if (g.last - seq > MAX_SEQ_JUMP) {
    // Far behind: no source goes back 10^9 numbers, so the last one was implausible (a first event
    // of the source far ahead, judged against nothing) or the source renumbered. Start again from
    // this one rather than drop the rest of the source's day as duplicates.
    g.missing.length = 0;
    setHalves(g, seq);
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
