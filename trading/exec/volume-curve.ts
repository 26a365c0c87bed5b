/**
 * VWAP's target volume curve from the catalog's history of the same symbol: the average, over the
 * N previous dates the catalog holds for it, of each date's share of the window's volume traded in
 * each minute of the window (each date weighs the same, whatever its total volume). The pure part
 * (`curveFromDays`) is separate from the reading (`historicalCurve`), which is this module's only
 * I/O; the algorithm receives the curve as data.
 */
import { catalogSymbols, dateStartNs, listCatalog } from '../../replay/catalog.ts';
import { EventMerge } from '../../replay/merge.ts';
import { openSelection } from '../../replay/run-replay.ts';
import type { VolumeCurve } from './types.ts';

const MINUTE = 60_000_000_000n;

/** One date's volume per bucket of the window (index 0 = the window's first minute). */
export type DayBuckets = number[];

/**
 * The average of each day's shares (days without volume in the window are left out); a flat curve
 * when no day has any (the schedule is then TWAP's).
 */
export function curveFromDays(days: readonly DayBuckets[], buckets: number, bucketNs: bigint = MINUTE): VolumeCurve & { days: number } {
  const w = new Array<number>(buckets).fill(0);
  let used = 0;
  for (const d of days) {
    const total = d.reduce((a, v) => a + v, 0);
    if (!(total > 0)) continue;
    used++;
    for (let i = 0; i < buckets; i++) w[i] += (d[i] ?? 0) / total;
  }
  if (used === 0) return { bucketNs, weights: w.fill(1), days: 0 };
  return { bucketNs, weights: w.map((v) => v / used), days: used };
}

/** What `historicalCurve` reads: the window as offsets from the date's 00:00 UTC. */
export interface CurveRequest {
  catalog: string;
  symbol: string;
  /** The execution's date: only earlier dates are read. */
  date: string;
  fromOffsetNs: bigint;
  toOffsetNs: bigint;
  /** At most this many previous dates (the most recent). */
  lookback: number;
}

/** The historical curve and the dates it came from (empty: none earlier, flat curve). */
export async function historicalCurve(req: CurveRequest): Promise<VolumeCurve & { dates: string[] }> {
  const buckets = Number((req.toOffsetNs - req.fromOffsetNs + MINUTE - 1n) / MINUTE);
  // dates with trades (a date of fundamentals alone has no volume to learn from)
  const earlier = [...new Set(listCatalog(req.catalog).filter((f) => f.kind === 'trade' && f.date < req.date).map((f) => f.date))].sort();
  const dates: string[] = [];
  for (let i = earlier.length - 1; i >= 0 && dates.length < req.lookback; i--) {
    const syms = await catalogSymbols(req.catalog, earlier[i]);
    if (syms === undefined || syms.includes(req.symbol)) dates.push(earlier[i]);
  }
  dates.reverse();
  const days: DayBuckets[] = [];
  for (const d of dates) {
    const from = dateStartNs(d) + req.fromOffsetNs;
    const sel = await openSelection({ catalog: req.catalog, date: d, symbols: [req.symbol], kinds: ['trade'] });
    try {
      const v = new Array<number>(buckets).fill(0);
      const merge = new EventMerge(sel.cursors);
      for (let ev = merge.next(); ev !== null; ev = merge.next()) {
        if (ev.kind !== 'trade' || ev.symbol !== req.symbol || ev.tsRecv < from) continue;
        const i = Number((ev.tsRecv - from) / MINUTE);
        if (i >= buckets) break;
        v[i] += ev.size;
      }
      days.push(v);
    } finally {
      await sel.close();
    }
  }
  const c = curveFromDays(days, buckets);
  return { bucketNs: c.bucketNs, weights: c.weights, dates: c.days === 0 ? [] : dates };
}
