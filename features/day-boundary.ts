/**
 * What a fold does when the stream crosses into a new UTC date (the catalog's date of ts_recv).
 * Sequence numbers restart per date in the synthetic generator and in many vendors' files, so the
 * per-source sequence guards of the market kinds and of the clock are reset there (the same
 * `resetSequenceGuards` as the multi-date replay; fundamentals and corporate actions keep theirs). Without it, the second date's events 1..N would be
 * dropped as duplicates of the first date's. Pure; applied by the fold's driver on the first event
 * of each new date, never by the reader (which may read ahead of the fold).
 */
import { resetSequenceGuards, type FoldState } from '../core/fold.ts';

export const DAY_NS = 86_400_000_000_000n;

/** Resets the fold's sequence guards for a new date (all but the reference kinds': core/fold.ts). */
export function startDate(fold: FoldState): void {
  resetSequenceGuards(fold);
}

/** Start of the UTC date after the one holding `ns`. */
export function nextDateStart(ns: bigint): bigint {
  return (ns / DAY_NS) * DAY_NS + DAY_NS;
}
