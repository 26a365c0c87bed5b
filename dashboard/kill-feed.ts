/**
 * What the dashboard's kill-policy panel shows: the rules of `lockstep kill-guard` that fired,
 * read from its record of the episodes it acted on, `{<ns>:kill}:fired` (trading/kill-guard.ts
 * `firedKey`: episode → JSON {action, rule, symbol, ts, value, input}, written in the same script
 * call as the switch), and the hash older guards wrote, `<ns>:kill:fired` (read as well: the guard
 * still honours it). One HGETALL each, with the reader's user. The kill switch in force is sent to
 * every page by the hub already (`kill` events).
 */
import type { FeatureSource } from '../live/row-reader.ts';
import { firedKey, legacyFiredKey } from '../trading/kill-guard.ts';

/** At most this many firings are sent (the newest by event time). */
export const MAX_FIRED = 500;

/** One rule that fired, as sent to the page. */
export interface FiredView {
  episode: string;
  action: string;
  rule: string;
  symbol: string | null;
  /** The triggering event's ts_recv (epoch ns as text; a stale feed: its deadline). */
  ts: string;
  value: number | null;
  /** The input stream entry of the event (null: none, e.g. a limit breach or a stale feed). */
  input: string | null;
}

export interface KillPayload {
  fired: FiredView[];
  total: number;
  error: string | null;
  key: string;
}

/** Parses a fired hash's fields (a field that is not a guard's record is skipped); newest first. */
export function firedViews(h: Record<string, string>): FiredView[] {
  const out: FiredView[] = [];
  for (const [episode, text] of Object.entries(h)) {
    try {
      const o = JSON.parse(text) as Record<string, unknown>;
      if (typeof o.rule !== 'string' || typeof o.action !== 'string' || typeof o.ts !== 'string' || !/^\d{1,20}$/.test(o.ts)) continue;
      out.push({ episode, action: o.action, rule: o.rule, symbol: typeof o.symbol === 'string' ? o.symbol : null, ts: o.ts, value: typeof o.value === 'number' ? o.value : null, input: typeof o.input === 'string' ? o.input : null });
    } catch {
      // not a guard's record: not ours to judge
    }
  }
  return out.sort((a, b) => (BigInt(b.ts) > BigInt(a.ts) ? 1 : BigInt(b.ts) < BigInt(a.ts) ? -1 : a.episode < b.episode ? -1 : 1));
}

/** The kill-policy panel's reader (see the module comment). */
export class KillFeed {
  constructor(
    private readonly reader: FeatureSource,
    private readonly keys: { ns: string },
  ) {}

  async poll(): Promise<string> {
    const out: KillPayload = { fired: [], total: 0, error: null, key: firedKey(this.keys) };
    try {
      const [now, legacy] = await Promise.all([this.reader.hgetall(firedKey(this.keys)), this.reader.hgetall(legacyFiredKey(this.keys))]);
      const all = firedViews({ ...legacy, ...now });
      out.total = all.length;
      out.fired = all.slice(0, MAX_FIRED);
    } catch (e) {
      out.error = `cannot read ${firedKey(this.keys)}: ${(e as Error).message}`;
    }
    return JSON.stringify(out);
  }
}
