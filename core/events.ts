/**
 * Canonical market events: the one shape that replay and live both feed to the fold.
 *
 * Times are epoch nanoseconds as `bigint` (2^53 ns is only ~104 days, so a `number` would round
 * them). `seq` is the per-source sequence number (source = kind, per symbol) and is also exact.
 */

/**
 * Event kinds, which double as the "source" of an event in output keys. The position of a kind
 * indexes per-kind tables of the fold (and of saved fold state), so a new kind is appended; the
 * order of events is SOURCE_PRIORITY's, not this list's.
 */
export const KINDS = ['heartbeat', 'fundamental', 'news', 'book', 'quote', 'trade', 'corporate_action'] as const;
export type Kind = (typeof KINDS)[number];

/**
 * Fixed tie-break priority when two events share `ts_recv`: the clock first (so timers fire
 * before the event that shares their instant), then slow reference data, then the book, quotes
 * and trades. Changing it changes every output: it is part of the data contract.
 *
 * Corporate actions come first among the reference data: a split announced at the instant of a
 * fundamentals row (the SEC importer derives one from the very filing that shows the new share
 * count) is in force when that row is read, so the row's per-share values and the split agree on
 * the share basis. Only the relative order matters (row-key.ts compares ranks), so the kinds that
 * existed before corporate_action keep their order among themselves.
 */
export const SOURCE_PRIORITY: Readonly<Record<Kind, number>> = {
  heartbeat: 0,
  corporate_action: 1,
  fundamental: 2,
  news: 3,
  book: 4,
  quote: 5,
  trade: 6,
};

/**
 * Point-in-time reference kinds: a replay of date D also reads their files of every earlier date
 * (a value factor at 09:30 needs the last quarter, and the splits, announced before it).
 */
export const REFERENCE_KINDS: readonly Kind[] = ['fundamental', 'corporate_action'];

export function isKind(s: string): s is Kind {
  return (KINDS as readonly string[]).includes(s);
}

interface EventBase {
  /** Exchange time, epoch ns. */
  tsEvent: bigint;
  /** Time the platform received the event, epoch ns (= tsEvent when the source has none). */
  tsRecv: bigint;
  symbol: string;
  /** Per-(kind, symbol) sequence number. */
  seq: bigint;
}

/** Aggressor side of a trade: 1 buyer-initiated, -1 seller-initiated, 0 unknown. */
export type Side = 1 | -1 | 0;

export interface TradeEvent extends EventBase {
  kind: 'trade';
  price: number;
  size: number;
  side: Side;
}

export interface QuoteEvent extends EventBase {
  kind: 'quote';
  bidPx: number;
  bidSz: number;
  askPx: number;
  askSz: number;
}

/**
 * One L2 price-level change. `size` 0 deletes the level. Rows of one exchange update share
 * `tsRecv`; `last` marks the final row of that update, so book factors only read complete books.
 * `snapshot` rows replace the whole side-book: the first snapshot row after a non-snapshot row
 * clears the book.
 */
export interface BookEvent extends EventBase {
  kind: 'book';
  /** 1 bid, -1 ask. */
  side: 1 | -1;
  price: number;
  size: number;
  snapshot: boolean;
  last: boolean;
}

/** Reported fundamentals; `tsEvent` is the instant the numbers became public. */
export interface FundamentalEvent extends EventBase {
  kind: 'fundamental';
  fiscalYear: number;
  /** Q1, Q2, Q3, Q4 or FY. */
  fiscalPeriod: string;
  /** Earnings per share for the period (diluted when reported). */
  eps: number;
  /** Trailing-twelve-month EPS as known at announcement (NaN when unknown). */
  epsTtm: number;
  bookValuePerShare: number;
  sharesOutstanding: number;
}

/**
 * A corporate action: a stock split or a cash dividend. `tsEvent` = `tsRecv` = the instant it
 * became public (the announcement), so no replay or live worker sees it earlier; `tsEx` is the
 * instant it takes effect on prices (00:00 New York time of the ex date for US equities), which may
 * lie weeks after the announcement (or before it, for a late record: then it is in force from the
 * announcement on).
 */
export interface CorporateActionEvent extends EventBase {
  kind: 'corporate_action';
  action: CorporateActionType;
  /** Ex date instant, epoch ns. */
  tsEx: bigint;
  /** Split: new shares per old share (4 for a 4-for-1, 0.1 for a 1-for-10 reverse split); NaN for a dividend. */
  ratio: number;
  /** Dividend: cash per share, in the share basis of the ex date; NaN for a split. */
  amount: number;
}

export const CORPORATE_ACTION_TYPES = ['split', 'dividend'] as const;
export type CorporateActionType = (typeof CORPORATE_ACTION_TYPES)[number];

/** A news item / alternative-data score; `tsEvent` is the publication time. */
export interface NewsEvent extends EventBase {
  kind: 'news';
  /** Sentiment in [-1, 1]. */
  sentiment: number;
}

/** A clock tick from the feed: lets event-time timers (bar closes) fire in quiet periods. */
export interface HeartbeatEvent extends EventBase {
  kind: 'heartbeat';
}

export type MarketEvent =
  | TradeEvent
  | QuoteEvent
  | BookEvent
  | FundamentalEvent
  | CorporateActionEvent
  | NewsEvent
  | HeartbeatEvent;

/**
 * The one ordering of events, used by the replayer's merge and by the live feed: `ts_recv`, then
 * source priority, then symbol, then sequence. It is total on event identity, so any split of the
 * same events into files or batches merges to the same order.
 */
export function compareEvents(a: MarketEvent, b: MarketEvent): number {
  if (a.tsRecv !== b.tsRecv) return a.tsRecv < b.tsRecv ? -1 : 1;
  const pa = SOURCE_PRIORITY[a.kind];
  const pb = SOURCE_PRIORITY[b.kind];
  if (pa !== pb) return pa - pb;
  if (a.symbol !== b.symbol) return a.symbol < b.symbol ? -1 : 1;
  if (a.seq !== b.seq) return a.seq < b.seq ? -1 : 1;
  return 0;
}
