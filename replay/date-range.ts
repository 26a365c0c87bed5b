/**
 * The dates and the warm-up of a replay: which catalog dates a `--dates` list or range names, and
 * how long a `--warmup` is. Pure parsing and checking; the catalog is passed in as its date list.
 */
import { UsageError } from '../core/errors.ts';
import { dateStartNs } from './catalog.ts';

const NS_PER = { d: 86_400_000_000_000n, h: 3_600_000_000_000n, m: 60_000_000_000n, s: 1_000_000_000n } as const;

/**
 * Splits a `--dates` value into items: a comma list of `YYYY-MM-DD` and `A..B` ranges
 * (`2024-08-08..2024-08-09`, both ends included).
 */
export function splitDates(spec: string | readonly string[]): string[] {
  return (typeof spec === 'string' ? [spec] : spec).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
}

/**
 * The catalog dates `items` select, sorted and without repeats. An `A..B` range selects the
 * catalog's dates within it and is refused when it holds none; a single date the catalog does not
 * have is refused by name (a typo or a missing import, not an empty day).
 */
export function resolveDates(items: readonly string[], present: readonly string[], catalog: string): string[] {
  if (items.length === 0) throw new UsageError('--dates is empty: give YYYY-MM-DD dates (comma separated) or a range A..B');
  const have = new Set(present);
  const shown = () => (present.length > 20 ? `${present.slice(0, 10).join(', ')}, ..., ${present.slice(-5).join(', ')} (${present.length} in all)` : present.join(', ') || 'none');
  const out = new Set<string>();
  const missing: string[] = [];
  for (const item of items) {
    const range = /^(.*)\.\.(.*)$/.exec(item);
    if (range) {
      const [a, b] = [range[1], range[2]];
      if (dateStartNs(a) > dateStartNs(b)) throw new UsageError(`--dates ${item}: ${a} is after ${b}`);
      const inside = present.filter((d) => d >= a && d <= b);
      if (inside.length === 0) throw new UsageError(`--dates ${item}: catalog ${catalog} has no dates in that range; dates present: ${shown()}`);
      for (const d of inside) out.add(d);
    } else {
      dateStartNs(item); // a malformed date is a usage error of its own
      if (have.has(item)) out.add(item);
      else missing.push(item);
    }
  }
  if (missing.length > 0) throw new UsageError(`--dates: catalog ${catalog} has no data for ${missing.join(', ')}; dates present: ${shown()}`);
  return [...out].sort();
}

/**
 * A `--warmup` duration in nanoseconds: `0` (a cold start), or whole amounts of d, h, m and s
 * (`2d`, `90m`, `1h30m`).
 */
export function parseWarmup(s: string | number): bigint {
  const text = String(s).trim();
  if (text === '0') return 0n;
  if (!/^(\d+[dhms])+$/.test(text)) throw new UsageError(`--warmup ${JSON.stringify(String(s))}: use a duration such as 90m, 6h, 2d or 1h30m (0 for a cold start)`);
  let ns = 0n;
  for (const [, n, unit] of text.matchAll(/(\d+)([dhms])/g)) ns += BigInt(n) * NS_PER[unit as keyof typeof NS_PER];
  return ns;
}
