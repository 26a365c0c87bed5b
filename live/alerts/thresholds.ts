/** The alert thresholds: defaults and validation (pure). */
import { UserError } from '../../core/errors.ts';

export interface AlertThresholds {
  /** lag warning: more inputs than this waiting on a shard (undelivered + pending). */
  lagEntries: number;
  lagEntriesCritical: number;
  /** lag warning: the oldest input not yet processed is older than this (ms). */
  lagMs: number;
  lagMsCritical: number;
  /** stale: no output for this long (ms) while inputs keep arriving. */
  staleMs: number;
  /** dead-letters: fires while the newest dead letter is younger than this (ms). */
  deadLetterWindowMs: number;
}

/**
 * Defaults for a real-time deployment: a healthy worker is milliseconds behind (it blocks on its
 * input and commits every batch), so a second of age is already worth a look and five seconds is
 * stale data for trading. Entry counts are a coarse guard (at ~50k events/s, 10,000 entries are
 * ~0.2 s of work); age is what matters. The critical levels default to 5x the warning levels
 * when only those are given.
 */
export const DEFAULT_THRESHOLDS: Readonly<AlertThresholds> = Object.freeze({
  lagEntries: 10_000,
  lagEntriesCritical: 50_000,
  lagMs: 1_000,
  lagMsCritical: 5_000,
  staleMs: 5_000,
  deadLetterWindowMs: 60_000,
});

/** A threshold that is not a positive number, or a critical level below its warning level. */
export class AlertConfigError extends UserError {}

/**
 * The thresholds with defaults filled in (critical = 5x a given warning level), validated.
 * `name` renders a threshold's name in errors (the CLI passes its flag names).
 */
export function resolveThresholds(t: Partial<AlertThresholds> = {}, name: (k: keyof AlertThresholds) => string = (k) => k): AlertThresholds {
  const d = DEFAULT_THRESHOLDS;
  const r: AlertThresholds = {
    lagEntries: t.lagEntries ?? d.lagEntries,
    lagEntriesCritical: t.lagEntriesCritical ?? (t.lagEntries !== undefined ? 5 * t.lagEntries : d.lagEntriesCritical),
    lagMs: t.lagMs ?? d.lagMs,
    lagMsCritical: t.lagMsCritical ?? (t.lagMs !== undefined ? 5 * t.lagMs : d.lagMsCritical),
    staleMs: t.staleMs ?? d.staleMs,
    deadLetterWindowMs: t.deadLetterWindowMs ?? d.deadLetterWindowMs,
  };
  for (const [k, v] of Object.entries(r) as [keyof AlertThresholds, number][]) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new AlertConfigError(`alert threshold ${name(k)}=${v}: must be a number > 0`);
  }
  for (const [crit, warn] of [['lagEntriesCritical', 'lagEntries'], ['lagMsCritical', 'lagMs']] as const) {
    if (r[crit] < r[warn]) throw new AlertConfigError(`alert threshold ${name(crit)}=${r[crit]} is below ${name(warn)}=${r[warn]}`);
  }
  return r;
}
