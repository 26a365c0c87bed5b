/**
 * What the dashboard's PnL & risk page shows, read from what `lockstep desk` writes: the latest
 * `<ns>:pnl`, `<ns>:risk` and `<ns>:positions` records (one HGETALL each, with the reader's user,
 * as `/v1/pnl` reads them) and the day's PnL series from the `<ns>:pnl:log` stream (one entry per
 * second of event time). The series is kept here, once for every open page: the first read takes
 * the stream's last MAX_POINTS entries (XREVRANGE), later reads only what was added since (XRANGE
 * from the last entry id), so a day of samples is read once, not once per poll or per page.
 * "The day" is the UTC day of the newest sample: a sample of a later day starts a new series.
 *
 * Limit usage: the thresholds are the ones the desk runs with, as it publishes them in
 * `<ns>:limits` when it starts (trading/limits-record.ts: with its limits file's path and SHA-256),
 * read with each poll (one GET) and sent with the records; the page sets them against the served
 * positions and books, and names the file. A desk restarted with another file shows at the next poll.
 */
import type { FeatureSource } from '../live/row-reader.ts';
import type { RedisClient } from '../live/redis-connect.ts';
import { limitsKey, pnlKey, pnlLogKey, positionsKey, riskKey } from '../live/keys.ts';
import { decodeDeskFields } from '../live/pnl-record.ts';
import { decodeLimits, type PublishedLimits } from '../trading/limits-record.ts';

/** At most this many samples in the chart (a 24 h day at 1 s is 86,400). */
export const MAX_POINTS = 90_000;
const DAY_NS = 86_400_000_000_000n;

/** One sample of the chart: event time in seconds and each book's day PnL (by `account/strategy`). */
export interface PnlPoint {
  t: number;
  p: Record<string, number>;
}

/** The latest desk records as sent to the page (null: not written yet). */
export interface DeskPayload {
  pnl: Record<string, unknown> | null;
  risk: Record<string, unknown> | null;
  positions: Record<string, unknown> | null;
  /** The log could not be read (e.g. a Redis user without XRANGE on `<ns>:pnl:log`); null: fine. */
  logError: string | null;
  /** The limits the desk published (null: none, or unreadable: see limitsError). */
  limits: PublishedLimits | null;
  /** Why there are no limits to show (no desk has published, the key cannot be read or is malformed); null: fine. */
  limitsError: string | null;
}

type Fields = Record<string, string>;
const asFields = (flat: string[]): Fields => {
  const o: Fields = {};
  for (let i = 0; i + 1 < flat.length; i += 2) o[flat[i]] = flat[i + 1];
  return o;
};

/** The day's series and the latest records (see the module comment). */
export class PnlFeed {
  /** The day's samples, oldest first. */
  readonly points: PnlPoint[] = [];
  /** Bumped when the series restarts (a new day, a trimmed stream): pages then take it from the start. */
  generation = 0;
  private lastId: string | null = null;
  private day: bigint | null = null;
  private logError: string | null = null;

  constructor(
    private readonly reader: FeatureSource,
    /** The reader's user on a full client (the lean reader has no XRANGE); null: no chart. */
    private readonly inspector: RedisClient | null,
    private readonly keys: { ns: string },
  ) {}

  /** Reads the records and the new log entries; returns the records' payload as JSON text. */
  async poll(): Promise<string> {
    const [[pnl, risk, positions], limits] = await Promise.all([Promise.all([pnlKey, riskKey, positionsKey].map((k) => this.reader.hgetall(k(this.keys)))), this.readLimits()]);
    await this.readLog();
    const rec = (h: Fields) => {
      const d = decodeDeskFields(h);
      return d === null ? null : { t: d.t.toString(), at: d.at, ...d.data };
    };
    const out: DeskPayload = { pnl: rec(pnl), risk: rec(risk), positions: rec(positions), logError: this.logError, ...limits };
    return JSON.stringify(out);
  }

  /** `<ns>:limits`, or why not: a reader without GET on it still gets the rest of the page. */
  private async readLimits(): Promise<Pick<DeskPayload, 'limits' | 'limitsError'>> {
    const key = limitsKey(this.keys);
    let text: string | null;
    try {
      text = await this.reader.get(key);
    } catch (e) {
      return { limits: null, limitsError: `cannot read ${key}: ${(e as Error).message}` };
    }
    if (text === null) return { limits: null, limitsError: `no desk has published its limits (${key} is not set: lockstep desk writes it when it starts)` };
    const d = decodeLimits(text);
    return 'error' in d ? { limits: null, limitsError: `${key} is not a desk's limits record (${d.error})` } : { limits: d, limitsError: null };
  }

  private async readLog(): Promise<void> {
    if (this.inspector === null) {
      this.logError = 'no inspector connection: the PnL chart is unavailable';
      return;
    }
    const key = pnlLogKey(this.keys);
    try {
      let entries: [string, string[]][];
      if (this.lastId === null) entries = ((await this.inspector.xrevrange(key, '+', '-', 'COUNT', MAX_POINTS)) as [string, string[]][]).reverse();
      else {
        entries = (await this.inspector.xrange(key, `(${this.lastId}`, '+', 'COUNT', 10_000)) as [string, string[]][];
        // the stream was deleted or trimmed past us and rewritten: start over
        if (entries.length === 0 && (await this.inspector.xrevrange(key, '+', '-', 'COUNT', 1)).length === 0 && this.points.length > 0) this.restart(null);
      }
      for (const [id, flat] of entries) {
        this.lastId = id;
        const d = decodeDeskFields(asFields(flat));
        if (d === null) continue;
        const day = d.t / DAY_NS;
        if (this.day !== day) {
          if (this.day !== null && day < this.day) continue;
          this.restart(day);
        }
        const p: Record<string, number> = {};
        for (const b of (d.data.books ?? []) as { account?: unknown; strategy?: unknown; dayPnl?: unknown }[]) {
          if (typeof b.dayPnl === 'number') p[`${String(b.account)}/${String(b.strategy)}`] = b.dayPnl;
        }
        this.points.push({ t: Number(d.t / 1_000_000n) / 1000, p });
      }
      if (this.points.length > MAX_POINTS) {
        this.points.splice(0, this.points.length - MAX_POINTS);
        this.generation++;
      }
      this.logError = null;
    } catch (e) {
      this.logError = `the PnL chart cannot read ${key}: ${(e as Error).message}`;
    }
  }

  private restart(day: bigint | null): void {
    this.points.length = 0;
    this.day = day;
    if (day === null) this.lastId = null;
    this.generation++;
  }
}
