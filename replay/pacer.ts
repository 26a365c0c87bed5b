/**
 * Maps event time to wall time at the I/O edge for `--speed N`: the fold never sees a clock, the
 * pacer only delays when the next event is handed over. `max` never waits.
 */

import { UsageError } from '../core/errors.ts';

export type Speed = 'max' | number;

export function parseSpeed(s: string | number | undefined): Speed {
  if (s === undefined || s === 'max') return 'max';
  const n = typeof s === 'number' ? s : Number(s);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`invalid speed ${JSON.stringify(s)}: use "max" or a positive number (e.g. 10 for 10x real time)`);
  return n;
}

export class Pacer {
  private t0: bigint | null = null;
  private wall0 = 0;
  private nextCheck = 0n;

  /**
   * `startNs`: events received before it (e.g. earlier-dated fundamentals replayed as
   * point-in-time state) are handed over at once; pacing starts at the first event at or after it.
   */
  constructor(
    private readonly speed: Speed,
    private readonly now: () => number = () => performance.now(),
    private readonly startNs: bigint = -0x8000000000000000n,
  ) {}

  /**
   * Returns a promise to await before handing over an event at `tsRecv`, or null when no wait is
   * needed (the common case; avoids an await per event).
   */
  pace(tsRecv: bigint): Promise<void> | null {
    if (this.speed === 'max' || tsRecv < this.startNs) return null;
    if (this.t0 === null) {
      this.t0 = tsRecv;
      this.wall0 = this.now();
      return null;
    }
    if (tsRecv < this.nextCheck) return null;
    const simMs = Number(tsRecv - this.t0) / 1e6 / this.speed;
    const waitMs = this.wall0 + simMs - this.now();
    // re-check at most every simulated millisecond's worth of speed-adjusted time
    this.nextCheck = tsRecv + BigInt(Math.max(1, Math.floor(this.speed))) * 1_000_000n;
    if (waitMs < 1) return null;
    return new Promise((r) => setTimeout(r, waitMs));
  }
}
