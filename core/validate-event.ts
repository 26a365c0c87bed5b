/**
 * The one bad-event policy. Replay turns a problem into an error naming file, row, field and value;
 * live dead-letters the event with the same reason. Neither path applies an event that fails here.
 * Absurd but well-formed values (magnitudes, an event time far ahead) are rejected by the
 * plausibility rule (plausibility.ts), whose stateless half runs here.
 */
import type { MarketEvent } from './events.ts';
import { eventAheadProblem, exDistanceProblem, magnitudeProblem, splitRatioProblem } from './plausibility.ts';

export interface EventProblem {
  field: string;
  value: unknown;
  reason: string;
}

/** Sequence numbers are int64 in the catalog; the fold's sequence checks rely on that range. */
const INT64_MAX = 2n ** 63n - 1n;

const positive = (field: string, v: number): EventProblem | null =>
  Number.isFinite(v) && v > 0 ? null : { field, value: v, reason: 'must be a finite number > 0' };
const nonNegative = (field: string, v: number): EventProblem | null =>
  Number.isFinite(v) && v >= 0 ? null : { field, value: v, reason: 'must be a finite number >= 0' };

/** Returns the first problem with an event, or null when the core may apply it. */
export function validateEvent(e: MarketEvent): EventProblem | null {
  if (e.tsRecv < 0n) return { field: 'ts_recv', value: e.tsRecv, reason: 'must be >= 0' };
  if (e.tsEvent < 0n) return { field: 'ts_event', value: e.tsEvent, reason: 'must be >= 0' };
  if (e.seq < 0n) return { field: 'seq', value: e.seq, reason: 'must be >= 0' };
  if (e.seq > INT64_MAX) return { field: 'seq', value: e.seq, reason: 'must fit an int64 (<= 2^63 - 1)' };
  const ahead = eventAheadProblem(e.tsEvent, e.tsRecv);
  if (ahead) return ahead;
  if (e.kind !== 'heartbeat' && e.symbol.length === 0) return { field: 'symbol', value: e.symbol, reason: 'must not be empty' };
  switch (e.kind) {
    case 'trade':
      return positive('price', e.price) ?? positive('size', e.size) ??
        (e.side === 1 || e.side === -1 || e.side === 0 ? null : { field: 'side', value: e.side, reason: 'must be 1, -1 or 0' }) ??
        magnitudeProblem('price', e.price) ?? magnitudeProblem('size', e.size);
    case 'quote':
      // A one-sided quote is legal (size 0, price 0 on the empty side) but not a NaN or negative one.
      return nonNegative('bid_px', e.bidPx) ?? nonNegative('ask_px', e.askPx) ??
        nonNegative('bid_sz', e.bidSz) ?? nonNegative('ask_sz', e.askSz) ??
        magnitudeProblem('bid_px', e.bidPx) ?? magnitudeProblem('ask_px', e.askPx) ??
        magnitudeProblem('bid_sz', e.bidSz) ?? magnitudeProblem('ask_sz', e.askSz);
    case 'book':
      return positive('price', e.price) ?? nonNegative('size', e.size) ??
        (e.side === 1 || e.side === -1 ? null : { field: 'side', value: e.side, reason: 'must be 1 (bid) or -1 (ask)' }) ??
        magnitudeProblem('price', e.price) ?? magnitudeProblem('size', e.size);
    case 'fundamental':
      // Values may be unknown (NaN) for a period but never infinite.
      for (const [field, v] of [['eps', e.eps], ['eps_ttm', e.epsTtm], ['book_value_per_share', e.bookValuePerShare], ['shares_outstanding', e.sharesOutstanding]] as const) {
        if (v === Infinity || v === -Infinity) return { field, value: v, reason: 'must be finite or null' };
        if (!Number.isNaN(v)) {
          const m = magnitudeProblem(field, v);
          if (m) return m;
        }
      }
      return null;
    case 'corporate_action':
      if (e.tsEx < 0n) return { field: 'ts_ex', value: e.tsEx, reason: 'must be >= 0' };
      if (e.action === 'split') {
        if (!Number.isNaN(e.amount)) return { field: 'amount', value: e.amount, reason: 'must be null for a split' };
        return positive('ratio', e.ratio) ?? splitRatioProblem(e.ratio) ?? exDistanceProblem(e.tsEx, e.tsRecv);
      }
      if (e.action === 'dividend') {
        if (!Number.isNaN(e.ratio)) return { field: 'ratio', value: e.ratio, reason: 'must be null for a dividend' };
        return positive('amount', e.amount) ?? magnitudeProblem('amount', e.amount) ?? exDistanceProblem(e.tsEx, e.tsRecv);
      }
      return { field: 'action', value: e.action, reason: "must be 'split' or 'dividend'" };
    case 'news':
      return Number.isFinite(e.sentiment) && e.sentiment >= -1 && e.sentiment <= 1
        ? null
        : { field: 'sentiment', value: e.sentiment, reason: 'must be a number in [-1, 1]' };
    case 'heartbeat':
      return null;
  }
}
