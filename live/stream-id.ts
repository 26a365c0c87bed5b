/**
 * Redis stream entry IDs (`ms-seq`, decimal, no leading zeros, as Redis writes them): their order
 * and their time part, shared by the worker (per entry), the alerts and the live bench.
 */

/**
 * Compares two stream IDs: negative, 0 or positive as `a` is before, equal to or after `b`. Both
 * parts are below 2^53 for any real stream (ms since 1970, and a per-ms counter), so numbers
 * compare them exactly without BigInt allocations; it runs for every entry, so nothing is allocated.
 */
export function compareIds(a: string, b: string): number {
  if (a === b) return 0;
  // same length and the '-' at the same place: the string order is the numeric one
  if (a.length === b.length && a.indexOf('-') === b.indexOf('-')) return a < b ? -1 : 1;
  const i = a.indexOf('-');
  const j = b.indexOf('-');
  const am = idPart(a, 0, i);
  const bm = idPart(b, 0, j);
  if (am !== bm) return am < bm ? -1 : 1;
  return idPart(a, i + 1, a.length) < idPart(b, j + 1, b.length) ? -1 : 1;
}

/** The decimal number in s[from, to), read in place (compareIds runs several times per event). */
function idPart(s: string, from: number, to: number): number {
  let n = 0;
  for (let k = from; k < to; k++) n = n * 10 + (s.charCodeAt(k) - 48);
  return n;
}

/** The ms part of a stream ID as a number (the whole string when it has no `-`); NaN when not decimal. */
export function idMsPart(id: string): number {
  const dash = id.indexOf('-');
  return Number(dash < 0 ? id : id.slice(0, dash));
}

/** The ms part of a stream ID; null for none and for `0-0` (an empty stream's last ID). */
export function idMs(id: unknown): number | null {
  if (typeof id !== 'string') return null;
  const ms = idMsPart(id);
  return Number.isFinite(ms) && ms > 0 ? ms : null;
}
