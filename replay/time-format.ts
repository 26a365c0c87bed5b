/**
 * Event times as text. Lives in replay/ (not core/) because it reads the calendar through `Date`,
 * which core's purity scan bans; replay's summary and the datasets' stats both print with it.
 */

/** Epoch ns as ISO-8601 UTC with all nine fractional digits. */
export function isoNs(ns: bigint): string {
  const ms = ns / 1_000_000n;
  const base = new Date(Number(ms)).toISOString().slice(0, 19);
  const frac = (((ns % 1_000_000_000n) + 1_000_000_000n) % 1_000_000_000n).toString().padStart(9, '0');
  return `${base}.${frac}Z`;
}
