/**
 * Train/validation/test splits by date range, with purging and an embargo (López de Prado,
 * "Advances in Financial Machine Learning", ch. 7): a sample is
 * - `purged` when its longest label horizon (t, t+H] reaches into the next split (its label would
 *   overlap that split's samples' information);
 * - `embargoed` when it falls within the embargo after the start of a split that follows another
 *   (its features still carry the previous split's recent past, e.g. 60-minute windows);
 * - otherwise named after the split its UTC date belongs to.
 * Pure: a function of the sample instant and the split layout only, so a part computes it alone.
 */
import { dateStartNs } from '../replay/catalog.ts';
import type { SplitRange } from './spec.ts';

/** A split layout ready to assign rows: each split's date set and start instant. */
export interface SplitPlan {
  names: readonly string[];
  byDate: ReadonlyMap<string, number>;
  startNs: readonly bigint[];
  maxHorizonNs: bigint;
  embargoNs: bigint;
}

export function planSplits(ranges: readonly SplitRange[], maxHorizonNs: bigint, embargoNs: bigint): SplitPlan {
  const byDate = new Map<string, number>();
  ranges.forEach((r, i) => r.dates.forEach((d) => byDate.set(d, i)));
  return { names: ranges.map((r) => r.name), byDate, startNs: ranges.map((r) => dateStartNs(r.dates[0])), maxHorizonNs, embargoNs };
}

/** The split value of a sample at `t` on `date` (its UTC date): a split name, 'purged', 'embargoed' or null (no split). */
export function splitOf(plan: SplitPlan, date: string, t: bigint): string | null {
  const i = plan.byDate.get(date);
  if (i === undefined) return null;
  if (i > 0 && t < plan.startNs[i] + plan.embargoNs) return 'embargoed';
  if (i + 1 < plan.startNs.length && t + plan.maxHorizonNs >= plan.startNs[i + 1]) return 'purged';
  return plan.names[i];
}
