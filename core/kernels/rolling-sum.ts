/**
 * Sum, mean and variance over the last N values (a count-based window), e.g. a 20-bar moving
 * average or the variance of the last 60 one-minute returns.
 *
 * Drift protection (see window-moments.ts): Neumaier-compensated add/remove (Neumaier 1974),
 * shifted sums for the variance, and an exact re-base from the stored window every N pushes (each
 * time the window has turned over, so the residue of values that left is wiped and the error only
 * ever reflects the last 2N values), or earlier when the mean wanders far from the shift. The
 * re-base costs O(N) once per N pushes, one extra add per push amortized, and is a pure function
 * of the stored values: a restored snapshot re-bases at the same push as an uninterrupted run.
 */
import { initRing, ringFull, ringGet, ringPush, type RingBuffer } from './ring-buffer.ts';
import {
  initMoments,
  momentsAdd,
  momentsMean,
  momentsNeedRebase,
  momentsRebase,
  momentsRemove,
  momentsSum,
  momentsVariance,
  type WindowMoments,
} from './window-moments.ts';

export interface RollingSum {
  ring: RingBuffer;
  m: WindowMoments;
  /** Pushes since the last re-base. */
  since: number;
  /** Re-bases done (for tests and diagnostics). */
  rebases: number;
}

/** An empty window over the last `n` values (an integer >= 1). */
export function initRollingSum(n: number): RollingSum {
  return { ring: initRing(n), m: initMoments(), since: 0, rebases: 0 };
}

/** Pushes `x`; when N values are held, the oldest leaves the window. */
export function rollingPush(s: RollingSum, x: number): void {
  const r = s.ring;
  if (ringFull(r)) momentsRemove(s.m, r.buf[r.head]);
  ringPush(r, x);
  momentsAdd(s.m, x);
  if (++s.since >= r.buf.length || momentsNeedRebase(s.m)) rebase(s);
}

function rebase(s: RollingSum): void {
  const r = s.ring;
  momentsRebase(s.m);
  for (let i = 0; i < r.len; i++) momentsAdd(s.m, ringGet(r, i));
  s.since = 0;
  s.rebases++;
}

/** Σ of the values in the window (0 when empty). Warm-up: none. */
export function rollingSum(s: RollingSum): number {
  return momentsSum(s.m);
}

/** Mean of the values in the window; null when empty. Callers wanting a full window check `rollingFull`. */
export function rollingMean(s: RollingSum): number | null {
  return momentsMean(s.m);
}

/** Variance of the window with `ddof` (default 1, sample); null while n <= ddof. */
export function rollingVariance(s: RollingSum, ddof = 1): number | null {
  return momentsVariance(s.m, ddof);
}

/** Number of values in the window (<= N). */
export function rollingCount(s: RollingSum): number {
  return s.m.n;
}

/** True once N values have been pushed. */
export function rollingFull(s: RollingSum): boolean {
  return ringFull(s.ring);
}
