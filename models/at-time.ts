/**
 * The `--at` instant of a deployment change, in receive time (epoch ns, exact): a change holds from
 * the first event at or after it. Parsed by hand, not through `Date`, so nanoseconds stay exact.
 */
import { UsageError } from '../core/errors.ts';
import { dateStartNs } from '../replay/catalog.ts';

const S = 1_000_000_000n;

/**
 * `2024-03-11T14:30:00Z` (fraction to 9 digits, `Z` or no zone = UTC), epoch nanoseconds (digits),
 * or `HH:MM[:SS[.fff]]` on `date` (UTC). A UsageError naming `flag` and the value otherwise.
 */
export function parseAt(text: string, date: string | undefined, flag = '--at'): bigint {
  const bad = (why: string): never => {
    throw new UsageError(`${flag} ${JSON.stringify(text)}: ${why}`);
  };
  if (/^\d{10,20}$/.test(text)) {
    const ns = BigInt(text);
    return ns < 2n ** 63n ? ns : bad('epoch nanoseconds beyond int64');
  }
  const iso = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)Z?$/.exec(text);
  if (iso) return dateStartNs(iso[1]) + clockNs(iso[2], bad);
  if (/^\d{2}:\d{2}/.test(text)) {
    if (date === undefined) return bad('a time of day needs --date YYYY-MM-DD (or give 2024-03-11T14:30:00Z)');
    return dateStartNs(date) + clockNs(text, bad);
  }
  return bad('must be an instant: 2024-03-11T14:30:00Z, epoch nanoseconds, or HH:MM[:SS] with --date');
}

function clockNs(t: string, bad: (why: string) => never): bigint {
  const m = /^(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?$/.exec(t);
  if (!m) return bad('time of day must be HH:MM[:SS[.fraction]] (UTC)');
  const [h, mi, s] = [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
  if (h > 23 || mi > 59 || s > 59) return bad('no such time of day (00:00:00 to 23:59:59)');
  return BigInt(h * 3600 + mi * 60 + s) * S + BigInt((m[4] ?? '').padEnd(9, '0') || '0');
}
