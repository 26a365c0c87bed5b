/**
 * What the dashboard's target weights page shows, read from what `lockstep weights --redis`
 * writes (portfolio/live.ts): the latest rebalance `<ns>:weights` (one HGETALL, with the reader's
 * user, as `/v1/weights` reads it) and the one before it, the last two entries of the stream
 * `<ns>:weights:log` (XREVRANGE COUNT 2, only when the latest one changed), for each weight's
 * change. Both hold the fields of live/weights-record.ts; the hash and the log are written in one
 * MULTI, so the log's newest entry is the hash's record.
 */
import type { FeatureSource } from '../live/row-reader.ts';
import type { RedisClient } from '../live/redis-connect.ts';
import { weightsKey, weightsLogKey } from '../live/keys.ts';
import { decodeWeightsFields, fieldsObject } from '../live/weights-record.ts';

/** One symbol of a rebalance as sent to the page. */
export interface WeightRow {
  symbol: string;
  weight: number;
  /** The weight at the rebalance before (null: none, or the symbol was not in it). */
  previous: number | null;
  signal: number | null;
  excluded: string | null;
}

export interface WeightsPayload {
  /** The rebalance time, epoch ns as text (null: no rebalance written yet). */
  t: string | null;
  previousT: string | null;
  trigger: string;
  /** Wall-clock ms when it was written. */
  at: number | null;
  gross: number | null;
  net: number | null;
  turnover: number | null;
  rows: WeightRow[];
  /** The log could not be read (no change column); null: fine. */
  logError: string | null;
  key: string;
}

/** The target weights page's reader (see the module comment). */
export class WeightsFeed {
  private prevFor: string | null = null;
  private prev: { t: string; bySymbol: Map<string, number> } | null = null;
  private logError: string | null = null;

  constructor(
    private readonly reader: FeatureSource,
    /** The reader's user on a full client (the lean reader has no XREVRANGE); null: no change column. */
    private readonly inspector: RedisClient | null,
    private readonly keys: { ns: string },
  ) {}

  /** Reads the latest rebalance (and the one before when it changed); returns the payload as JSON text. */
  async poll(): Promise<string> {
    const out: WeightsPayload = { t: null, previousT: null, trigger: '', at: null, gross: null, net: null, turnover: null, rows: [], logError: null, key: weightsKey(this.keys) };
    const rec = decodeWeightsFields(await this.reader.hgetall(weightsKey(this.keys)));
    if (rec === null) return JSON.stringify(out);
    const t = rec.t.toString();
    if (this.prevFor !== t) await this.readPrevious(t);
    Object.assign(out, { t, trigger: rec.trigger, at: Number.isFinite(rec.at) ? rec.at : null, gross: rec.gross, net: rec.net, turnover: rec.turnover, logError: this.logError, previousT: this.prev?.t ?? null });
    out.rows = rec.symbols.map((symbol, i) => ({ symbol, weight: rec.weights[i], previous: this.prev?.bySymbol.get(symbol) ?? null, signal: rec.signal[i] ?? null, excluded: rec.excluded[i] }));
    return JSON.stringify(out);
  }

  private async readPrevious(t: string): Promise<void> {
    this.prev = null;
    if (this.inspector === null) {
      this.logError = 'no inspector connection: no change since the rebalance before';
      return;
    }
    try {
      const last = (await this.inspector.xrevrange(weightsLogKey(this.keys), '+', '-', 'COUNT', 2)) as [string, string[]][];
      // the entry before the one that is the hash's record (the newest, written in the same MULTI)
      const before = last.map(([, f]) => decodeWeightsFields(fieldsObject(f))).find((r) => r !== null && r.t.toString() !== t) ?? null;
      if (before) this.prev = { t: before.t.toString(), bySymbol: new Map(before.symbols.map((s, i) => [s, before.weights[i]])) };
      this.prevFor = t;
      this.logError = null;
    } catch (e) {
      this.logError = `cannot read ${weightsLogKey(this.keys)}: ${(e as Error).message}`;
    }
  }
}
