/**
 * Event streams for the factor contract checks (checks.ts; the test suite in
 * core/factors/contract.test.ts and `lockstep factors check`), built from a plain "recipe" of small
 * integers, so fast-check can generate and shrink them (testing/contract-streams.ts) and a seeded
 * integer sequence can make fixed ones. Pure: no clock, no unseeded randomness.
 *
 * A stream mixes one to three symbols' trades, quotes, L2 book updates (snapshots, deletes, `last`
 * flags, occasional sequence gaps and late rows), fundamentals (ts_event = ts_recv), corporate
 * actions (splits by powers of two, in effect before, at or after their announcement; dividends), news,
 * heartbeats every few seconds of event time, and duplicate deliveries. Events come in arrival
 * order (non-decreasing ts_recv, except re-deliveries); ts_event may lag ts_recv by up to ~3 s for
 * market data (so late trades cross minute boundaries) and by minutes for news.
 */
import type { BookEvent, CorporateActionEvent, FundamentalEvent, MarketEvent, NewsEvent, QuoteEvent, Side, TradeEvent } from '../events.ts';

/** One recipe step: a time advance and a few small integers that pick the event and its content. */
export interface RecipeStep {
  /** Milliseconds of ts_recv to advance before the step. */
  gapMs: number;
  /** 0..99: chooses the kind of event (see `buildStream`). */
  pick: number;
  /** Symbol index (taken modulo the number of symbols). */
  sym: number;
  a: number;
  b: number;
  c: number;
}

export interface Recipe {
  /** Number of symbols, 1..3. */
  symbols: number;
  /** Heartbeat period in seconds of event time. */
  heartbeatSeconds: number;
  /** First ts_recv, epoch ns. */
  start: bigint;
  steps: RecipeStep[];
}

/** 2024-03-15T13:30:00Z (a US open) and 2024-03-15T23:10:00Z (so a UTC midnight falls inside). */
export const START_OPEN = 1_710_509_400_000_000_000n;
export const START_NEAR_MIDNIGHT = 1_710_544_200_000_000_000n;

const SYMBOLS = ['AAA', 'BBB', 'CCC'];
const MS = 1_000_000n;
const EPS_TTM = [NaN, 0, -1.5, 2, 5.25, 7.5];

interface BookGen {
  nextSeq: bigint;
  snapshotted: boolean;
  /** Rows skipped by a gap, held for a late re-delivery. */
  stash: BookEvent[];
}

interface SymbolGen {
  ticks: number;
  seq: Record<'trade' | 'quote' | 'fundamental' | 'news' | 'corporate_action', bigint>;
  book: BookGen;
}

/**
 * Builds the event stream a recipe describes. Deterministic: the same recipe gives the same
 * events. Every event passes validate-event.ts.
 *
 * Step kinds by `pick`: 0-34 trade, 35-49 quote, 50-71 book update (a snapshot when the book has
 * none yet or a in 1/15 of cases), 72-77 news, 78-80 fundamental, 81-88 duplicate re-delivery of
 * an earlier event, 89-91 late re-delivery of a book row lost in a gap, 92 corporate action, 93-99
 * nothing (time only).
 */
export function buildStream(recipe: Recipe): MarketEvent[] {
  const out: MarketEvent[] = [];
  const nsym = Math.max(1, Math.min(3, recipe.symbols));
  const gens: SymbolGen[] = SYMBOLS.slice(0, nsym).map((_, i) => ({
    ticks: 10_000 + 5_000 * i,
    seq: { trade: 1n, quote: 1n, fundamental: 1n, news: 1n, corporate_action: 1n },
    book: { nextSeq: 1n, snapshotted: false, stash: [] },
  }));
  const hbPeriod = BigInt(Math.max(1, recipe.heartbeatSeconds)) * 1_000_000_000n;
  let now = recipe.start;
  let nextHb = recipe.start + hbPeriod;
  let hbSeq = 1n;
  for (const st of recipe.steps) {
    // sub-millisecond jitter so that ns precision matters
    now += BigInt(st.gapMs) * MS + BigInt((st.a * 7919 + st.b) % 1000);
    while (nextHb <= now) {
      out.push({ kind: 'heartbeat', tsEvent: nextHb, tsRecv: nextHb, symbol: '', seq: hbSeq++ });
      nextHb += hbPeriod;
    }
    const si = st.sym % nsym;
    const g = gens[si];
    const symbol = SYMBOLS[si];
    const lag = st.a % 5 === 0 ? BigInt((st.b % 1000) * 3) * MS : 0n;
    const tsEvent = now - lag;
    const p = st.pick;
    if (p < 35) {
      g.ticks = Math.max(100, g.ticks + (st.a % 9) - 4);
      out.push(trade(symbol, g.seq.trade++, now, tsEvent, g.ticks, st));
    } else if (p < 50) {
      out.push(quote(symbol, g.seq.quote++, now, tsEvent, g.ticks, st));
    } else if (p < 72) {
      out.push(...bookUpdate(symbol, g, now, tsEvent, st));
    } else if (p < 78) {
      const delay = st.b % 3 === 0 ? BigInt(st.b) * 1000n * MS : 0n;
      const news: NewsEvent = { kind: 'news', tsEvent: now - delay, tsRecv: now, symbol, seq: g.seq.news++, sentiment: (st.c % 1001 - 500) / 500 };
      out.push(news);
    } else if (p < 81) {
      const f: FundamentalEvent = {
        kind: 'fundamental', tsEvent: now, tsRecv: now, symbol, seq: g.seq.fundamental++,
        fiscalYear: 2024, fiscalPeriod: ['Q1', 'Q2', 'Q3', 'Q4', 'FY'][st.a % 5],
        eps: (st.b - 300) / 100,
        epsTtm: st.a % 7 === 6 ? 2 + st.b / 100 : EPS_TTM[st.a % 6],
        bookValuePerShare: st.c % 9 === 0 ? NaN : st.c % 9 === 1 ? 0 : 10 + st.c / 10,
        sharesOutstanding: 1e9,
      };
      out.push(f);
    } else if (p < 89) {
      if (out.length > 0) out.push(out[Math.floor((st.a * out.length) / 1001) % out.length]);
    } else if (p < 92) {
      const late = g.book.stash.shift();
      if (late !== undefined) out.push({ ...late, tsRecv: now });
    } else if (p === 92) {
      out.push(corporateAction(symbol, g.seq.corporate_action++, now, st));
    }
  }
  return out;
}

/** A split (ratio 2, 4 or 1/2: exact divisions) or a dividend, effective from 40 s before to 80 s after `now`. */
function corporateAction(symbol: string, seq: bigint, now: bigint, st: RecipeStep): CorporateActionEvent {
  const tsEx = now + BigInt((st.c % 7) - 2) * 20_000n * MS;
  const dividend = st.a % 4 === 0;
  return {
    kind: 'corporate_action', tsEvent: now, tsRecv: now, symbol, seq, action: dividend ? 'dividend' : 'split', tsEx,
    ratio: dividend ? NaN : [2, 4, 0.5][st.b % 3], amount: dividend ? 0.25 : NaN,
  };
}

function trade(symbol: string, seq: bigint, now: bigint, tsEvent: bigint, ticks: number, st: RecipeStep): TradeEvent {
  // mostly whole lots (exact sums); sometimes decimal lots (inexact in binary) to stress the sums
  const size = st.c % 10 === 0 ? ((st.b % 997) + 1) * 0.001 : st.c % 10 === 1 ? ((st.b % 64) + 1) / 64 : (st.b % 500) + 1;
  const side = ([1, -1, 0] as const)[st.c % 3] as Side;
  return { kind: 'trade', tsEvent, tsRecv: now, symbol, seq, price: ticks / 100, size, side };
}

function quote(symbol: string, seq: bigint, now: bigint, tsEvent: bigint, ticks: number, st: RecipeStep): QuoteEvent {
  const half = 1 + (st.a % 3);
  const crossed = st.c % 20 === 0;
  let bidPx = (ticks - (crossed ? -half : half)) / 100;
  let askPx = (ticks + (crossed ? -half : half)) / 100;
  let bidSz = (st.b % 300) + 1;
  let askSz = (st.c % 300) + 1;
  // one-sided quotes: an empty side has price and size 0
  if (st.b % 17 === 0) {
    bidPx = 0;
    bidSz = 0;
  } else if (st.b % 17 === 1) {
    askSz = 0;
    askPx = 0;
  }
  return { kind: 'quote', tsEvent, tsRecv: now, symbol, seq, bidPx, bidSz, askPx, askSz };
}

function bookUpdate(symbol: string, g: SymbolGen, now: bigint, tsEvent: bigint, st: RecipeStep): BookEvent[] {
  const bk = g.book;
  const rows: BookEvent[] = [];
  const row = (side: 1 | -1, offset: number, size: number, snapshot: boolean): BookEvent => ({
    kind: 'book', tsEvent, tsRecv: now, symbol, seq: bk.nextSeq++, side,
    price: (g.ticks + side * -offset) / 100, size, snapshot, last: false,
  });
  if (!bk.snapshotted || st.a % 15 === 0) {
    bk.snapshotted = true;
    const levels = 2 + (st.b % 6);
    for (let i = 1; i <= levels; i++) {
      rows.push(row(1, i, ((st.c + 37 * i) % 200) + 1, true));
      rows.push(row(-1, i, ((st.c * 3 + 53 * i) % 200) + 1, true));
    }
  } else {
    // a lost update: skip one or two sequence numbers (rows held back, maybe re-delivered late)
    if (st.c % 25 === 0) {
      const lost = 1 + (st.b % 2);
      for (let i = 0; i < lost; i++) {
        const r = row(1, 1 + (st.a % 4), (st.b % 50) + 1, false);
        bk.stash.push({ ...r, last: true });
      }
      if (bk.stash.length > 4) bk.stash.splice(0, bk.stash.length - 4);
    }
    const n = 1 + (st.a % 3);
    for (let i = 0; i < n; i++) {
      const side: 1 | -1 = (st.b + i) % 2 === 0 ? 1 : -1;
      const offset = 1 + ((st.a + 3 * i) % 8);
      // deletes (size 0), including of levels the book does not hold
      const size = (st.c + i) % 4 === 0 ? 0 : ((st.b * (i + 1)) % 300) + 1;
      rows.push(row(side, offset, size, false));
    }
  }
  // most updates end with `last`; a few leave the update open so the next one completes it
  if (rows.length > 0 && st.b % 11 !== 5) rows[rows.length - 1] = { ...rows[rows.length - 1], last: true };
  return rows;
}

/** mulberry32: a tiny seeded generator of 32-bit integers (deterministic, test data only). */
export function seededInts(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/**
 * A fixed long recipe from a seeded integer sequence: `minutes` of event time with several trades
 * a minute per symbol, so every 60-bar window fills and the hour-long anomaly windows roll.
 */
export function longRecipe(seed: number, minutes: number, symbols = 2, start = START_NEAR_MIDNIGHT): Recipe {
  const next = seededInts(seed);
  const steps: RecipeStep[] = [];
  const endMs = minutes * 60_000;
  let t = 0;
  while (t < endMs) {
    const r = next();
    // mostly sub-second to a few seconds apart, sometimes a quiet spell of up to two minutes
    const gapMs = r % 200 === 0 ? 30_000 + (next() % 90_000) : next() % 2_000;
    t += gapMs;
    steps.push({ gapMs, pick: next() % 100, sym: next() % symbols, a: next() % 1001, b: next() % 1001, c: next() % 1001 });
  }
  return { symbols, heartbeatSeconds: 5, start, steps };
}

/**
 * A fixed mixed-traffic recipe from a seeded integer sequence, drawn like the test suite's
 * arbitrary (testing/contract-streams.ts): every kind, bursts and quiet spells, one to three
 * symbols. `lockstep factors check` runs a few of these where the tests run fast-check.
 */
export function mixedRecipe(seed: number, steps: number): Recipe {
  const next = seededInts(seed);
  const out: RecipeStep[] = [];
  for (let i = 0; i < steps; i++) {
    const gapMs = next() % 5 < 3 ? next() % 3_001 : 3_000 + (next() % 87_001);
    out.push({ gapMs, pick: next() % 100, sym: next() % 3, a: next() % 1001, b: next() % 1001, c: next() % 1001 });
  }
  return { symbols: 1 + (next() % 3), heartbeatSeconds: 2 + (next() % 29), start: next() % 2 === 0 ? START_OPEN : START_NEAR_MIDNIGHT, steps: out };
}
