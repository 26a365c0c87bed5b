/**
 * (One file past ~500 lines on purpose: one short naive reference per factor family, read side by
 * side; splitting them would scatter the table the contract suite checks every factor against.)
 *
 * Test support for the factor contract suite (contract.test.ts): for every factor family, a naive
 * batch recomputation from ALL events a symbol has seen so far, written as plainly as possible
 * (plain arrays and loops, no shared kernels), and the factor's declared warm-up.
 *
 * The streaming factors keep incremental state with compensated sums; these functions rescan
 * history on every call. Agreement between the two on random streams is the evidence that the
 * streaming code computes what its TSDoc says. Pure: no clock, no randomness, no I/O.
 */
import type { BookEvent, FundamentalEvent, MarketEvent, NewsEvent, QuoteEvent, TradeEvent } from '../core/events.ts';
import type { AnyFactor, Params } from '../core/factor.ts';
import { priceCollar, returnZscore, volumeSpike } from '../core/factors/anomaly.ts';
import { depthImbalance } from '../core/factors/depth-imbalance.ts';
import { ema } from '../core/factors/ema.ts';
import { eventCount } from '../core/factors/event-count.ts';
import { microprice, mid, quoteImbalance, spread } from '../core/factors/l1-quote.ts';
import { lastPrice } from '../core/factors/last-price.ts';
import { quoteCrossedFlag } from '../core/factors/quote-crossed.ts';
import { logReturn1m } from '../core/factors/log-return.ts';
import { macd } from '../core/factors/macd.ts';
import { movingAverage } from '../core/factors/moving-average.ts';
import { newsCount, newsSentiment } from '../core/factors/news.ts';
import { realizedVol } from '../core/factors/realized-vol.ts';
import { rsi } from '../core/factors/rsi.ts';
import { tradeWindow } from '../core/factors/trade-window.ts';
import { pbr, per } from '../core/factors/valuation.ts';
import { volumePower } from '../core/factors/volume-power.ts';
import { sessionVwap } from '../core/factors/vwap.ts';

/** A symbol's history: the events the fold applied for it, in order. */
export interface History {
  /** The symbol's own events (duplicates removed) and the heartbeats offered to it. */
  readonly events: readonly MarketEvent[];
  /** The closed 1-minute bars of `events` (`naiveBars`), memoized by the caller. */
  bars(): readonly NaiveBar[];
}

/**
 * How a column is compared: `exact` (Object.is), `approx` (1e-9 relative, 1e-12 absolute near 0),
 * or a 0/1 flag derived from column `of` and the parameter `param`: exact, except that a naive
 * value within tolerance of the threshold accepts either flag.
 */
export type ColumnCheck = 'exact' | 'approx' | { flagOf: number; param: string };

export interface NaiveReference {
  /** The factor family; variants made with withParams share its update function. */
  family: AnyFactor;
  /** For bar-based factors: closed 1-minute bars needed before the first non-null value. */
  warmupBars?: (params: Params) => number;
  /** One per output column. */
  checks: readonly ColumnCheck[];
  /** The factor's columns recomputed from the whole history. */
  compute(h: History, params: Params): (number | null)[];
}

export interface NaiveBar {
  minute: bigint;
  close: number;
  volume: number;
}

const MINUTE = 60_000_000_000n;
const DAY = 86_400_000_000_000n;

const num = (p: Params, k: string) => p[k] as number;

/**
 * Groups trades by minute of ts_event. The clock is the latest minute seen in a trade or
 * heartbeat; a bar is closed once the clock has moved past its minute. Late-trade policy (as
 * documented in kernels/minute-bars.ts): a trade of a minute before the clock is late: its price is
 * ignored and its size goes to the clock minute's bar if it has one, else to the next bar opened.
 */
export function naiveBars(events: readonly MarketEvent[]): NaiveBar[] {
  const bars: NaiveBar[] = [];
  let clock = -1n << 62n;
  let pending = 0;
  for (const e of events) {
    if (e.kind !== 'trade' && e.kind !== 'heartbeat') continue;
    const m = e.tsEvent / MINUTE;
    if (e.kind === 'heartbeat') {
      if (m > clock) clock = m;
      continue;
    }
    const last = bars[bars.length - 1];
    if (m < clock) {
      if (last !== undefined && last.minute === clock) last.volume += e.size;
      else pending += e.size;
      continue;
    }
    clock = m;
    if (last !== undefined && last.minute === m) {
      last.close = e.price;
      last.volume += e.size;
    } else {
      bars.push({ minute: m, close: e.price, volume: pending + e.size });
      pending = 0;
    }
  }
  return bars.filter((b) => b.minute < clock);
}

function ofKind<K extends MarketEvent['kind']>(events: readonly MarketEvent[], kind: K): Extract<MarketEvent, { kind: K }>[] {
  return events.filter((e): e is Extract<MarketEvent, { kind: K }> => e.kind === kind);
}

function mean(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

function logReturns(closes: readonly number[]): number[] {
  const r: number[] = [];
  for (let i = 1; i < closes.length; i++) r.push(Math.log(closes[i] / closes[i - 1]));
  return r;
}

/** TA-Lib TA_EMA over the whole series: SMA seed of the first n, then (x - e)·k + e. */
function emaSeries(xs: readonly number[], n: number): number[] {
  const out: number[] = [];
  if (xs.length < n) return out;
  const k = 2 / (n + 1);
  let e = mean(xs.slice(0, n));
  out.push(e);
  for (let i = n; i < xs.length; i++) {
    e = (xs[i] - e) * k + e;
    out.push(e);
  }
  return out;
}

const closesOf = (h: History) => h.bars().map((b) => b.close);

/**
 * Items in an event-time window of `dur` ns: each value's time is clamped to the latest time seen
 * before it (values never move back in time); "now" is the latest time seen in any input; a value
 * is in the window when now - dur < t.
 */
function timeWindow<T>(events: readonly MarketEvent[], dur: bigint, value: (e: MarketEvent) => T | undefined): T[] {
  let now = -1n << 62n;
  const held: { t: bigint; v: T }[] = [];
  for (const e of events) {
    if (e.tsEvent > now) now = e.tsEvent;
    const v = value(e);
    if (v !== undefined) held.push({ t: now, v });
  }
  return held.filter((x) => x.t > now - dur).map((x) => x.v);
}

function lastOf<T>(xs: readonly T[]): T | undefined {
  return xs[xs.length - 1];
}

/**
 * L2 book rebuilt from the rows since the start of the latest snapshot run, in two Maps, read on
 * the last complete update (`last`). Sequence policy (depth-imbalance.ts TSDoc): a row whose seq
 * skips past the highest seen + 1 (a lost update), or a late row (seq at or below the highest
 * seen), unsyncs the book until a snapshot row; unsynced → null, also on incomplete rows after it.
 */
function naiveDepthImbalance(rows: readonly BookEvent[], levels: number): number | null {
  const synced: boolean[] = [];
  let maxSeq = -1n;
  let ok = false;
  for (const r of rows) {
    // a lost update (seq skips ahead) or a late row (its update was overtaken): unsynced
    if (maxSeq >= 0n && r.seq !== maxSeq + 1n) ok = false;
    if (r.seq > maxSeq) maxSeq = r.seq;
    if (r.snapshot) ok = true;
    synced.push(ok);
  }
  let L = -1;
  for (let i = rows.length - 1; i >= 0; i--) {
    if (rows[i].last) {
      L = i;
      break;
    }
  }
  if (L < 0 || !synced[L]) return null;
  for (let i = L + 1; i < rows.length; i++) if (!synced[i]) return null;
  let start = L;
  while (start >= 0 && !(rows[start].snapshot && (start === 0 || !rows[start - 1].snapshot))) start--;
  if (start < 0) return null;
  const bids = new Map<number, number>();
  const asks = new Map<number, number>();
  for (let i = start; i <= L; i++) {
    const m = rows[i].side === 1 ? bids : asks;
    if (rows[i].size === 0) m.delete(rows[i].price);
    else m.set(rows[i].price, rows[i].size);
  }
  const top = (m: Map<number, number>, desc: boolean) => {
    const prices = [...m.keys()].sort((x, y) => (desc ? y - x : x - y)).slice(0, levels);
    let s = 0;
    for (const p of prices) s += m.get(p)!;
    return s;
  };
  // fewer levels than asked on either side: null (not the imbalance of a shallower book)
  if (bids.size < levels || asks.size < levels) return null;
  const b = top(bids, true);
  const a = top(asks, false);
  return b + a > 0 ? (b - a) / (b + a) : null;
}

/**
 * Latest fundamentals public at the latest event time seen (ts_event of the row <= that time), and
 * the last trade's price, each divided by the splits that took effect after it: a split announced
 * (arrived) at index a with ex instant x is in effect once the running clock (max ts_event over the
 * trades, fundamentals and corporate actions) reaches x, and it restates an earlier row or trade e
 * when it arrived after e or took effect only after e's clock (a trade only when dated before the
 * ex instant: a later one is on the new basis already). (The streams' split ratios are
 * powers of two, so the order of the divisions does not change a bit.)
 */
function naiveValuation(events: readonly MarketEvent[], pick: (f: FundamentalEvent) => number): number | null {
  let now = -1n;
  const clockAfter: bigint[] = [];
  for (const e of events) {
    if ((e.kind === 'trade' || e.kind === 'fundamental' || e.kind === 'corporate_action') && e.tsEvent > now) now = e.tsEvent;
    clockAfter.push(now);
  }
  let fi = -1;
  let ti = -1;
  events.forEach((e, i) => {
    if (e.kind === 'fundamental' && e.tsEvent <= now) fi = i;
    if (e.kind === 'trade') ti = i;
  });
  if (fi < 0 || ti < 0) return null;
  // a split restates the last price only when that trade is dated before the ex instant
  const after = (i: number, before = -1n) => {
    let r = 1;
    events.forEach((e, a) => {
      if (e.kind === 'corporate_action' && e.action === 'split' && e.tsEx <= now && (a > i || e.tsEx > clockAfter[i]) && before < e.tsEx) r *= e.ratio;
    });
    return r;
  };
  const d = pick(events[fi] as FundamentalEvent) / after(fi);
  const t = events[ti] as TradeEvent;
  const price = t.price / after(ti, t.tsEvent);
  return d > 0 ? price / d : null;
}

function l1(name: AnyFactor, f: (q: QuoteEvent) => number): NaiveReference {
  return {
    family: name,
    checks: ['exact'],
    compute(h) {
      const q = lastOf(ofKind(h.events, 'quote'));
      if (q === undefined) return [null];
      const v = q.bidPx > 0 && q.askPx > 0 && q.bidSz > 0 && q.askSz > 0 ? f(q) : NaN;
      return [Number.isNaN(v) ? null : v];
    },
  };
}

/** The naive reference of every factor family in the default set. */
export const NAIVE_REFERENCES: readonly NaiveReference[] = [
  {
    family: lastPrice,
    checks: ['exact'],
    compute: (h) => [lastOf(ofKind(h.events, 'trade'))?.price ?? null],
  },
  {
    family: logReturn1m,
    warmupBars: () => 2,
    checks: ['approx'],
    compute(h) {
      const c = closesOf(h);
      return [c.length >= 2 ? Math.log(c[c.length - 1] / c[c.length - 2]) : null];
    },
  },
  {
    family: movingAverage,
    warmupBars: (p) => num(p, 'bars'),
    checks: ['approx'],
    compute(h, p) {
      const c = closesOf(h);
      const n = num(p, 'bars');
      return [c.length >= n ? mean(c.slice(c.length - n)) : null];
    },
  },
  {
    family: ema,
    warmupBars: (p) => num(p, 'period'),
    checks: ['approx'],
    compute: (h, p) => [lastOf(emaSeries(closesOf(h), num(p, 'period'))) ?? null],
  },
  {
    family: rsi,
    warmupBars: (p) => num(p, 'period') + 1,
    checks: ['approx'],
    compute(h, p) {
      const c = closesOf(h);
      const n = num(p, 'period');
      if (c.length < n + 1) return [null];
      const gains: number[] = [];
      const losses: number[] = [];
      for (let i = 1; i < c.length; i++) {
        const d = c[i] - c[i - 1];
        gains.push(d < 0 ? 0 : d);
        losses.push(d < 0 ? -d : 0);
      }
      let g = mean(gains.slice(0, n));
      let l = mean(losses.slice(0, n));
      for (let i = n; i < gains.length; i++) {
        g = (g * (n - 1) + gains[i]) / n;
        l = (l * (n - 1) + losses[i]) / n;
      }
      return [Math.abs(g + l) < 1e-14 ? 0 : (100 * g) / (g + l)];
    },
  },
  {
    family: macd,
    warmupBars: (p) => Math.max(num(p, 'fast'), num(p, 'slow')) + num(p, 'signal') - 1,
    checks: ['approx', 'approx', 'approx'],
    compute(h, p) {
      const c = closesOf(h);
      const fast = Math.min(num(p, 'fast'), num(p, 'slow'));
      const slow = Math.max(num(p, 'fast'), num(p, 'slow'));
      const sig = num(p, 'signal');
      if (c.length < slow + sig - 1) return [null, null, null];
      // both EMAs' first values belong to index slow - 1 (TA-Lib): the fast one is seeded late
      const slowE = emaSeries(c, slow);
      const fastE = emaSeries(c.slice(slow - fast), fast);
      const lines = slowE.map((s, i) => fastE[i] - s);
      const signal = lastOf(emaSeries(lines, sig))!;
      const line = lastOf(lines)!;
      return [line, signal, line - signal];
    },
  },
  {
    family: realizedVol,
    warmupBars: (p) => num(p, 'bars') + 1,
    checks: ['approx'],
    compute(h, p) {
      const r = logReturns(closesOf(h));
      const n = num(p, 'bars');
      if (r.length < n) return [null];
      let s = 0;
      for (const x of r.slice(r.length - n)) s += x * x;
      return [Math.sqrt(s)];
    },
  },
  {
    family: sessionVwap,
    checks: ['approx'],
    compute(h, p) {
      // the default (UTC day) session; us-equity and fx-ny17 are checked against the tz database
      // (core/kernels/market-sessions.test.ts) and by hand (datasets/import-policy.test.ts)
      if (p.session !== 'utc') throw new Error(`no naive reference for vwap_session with session ${String(p.session)}`);
      const trades = ofKind(h.events, 'trade');
      if (trades.length === 0) return [null];
      let day = -1n;
      for (const t of trades) if (t.tsEvent / DAY > day) day = t.tsEvent / DAY;
      // the session starts at the first trade dated in the latest day; later trades all count
      const from = trades.findIndex((t) => t.tsEvent / DAY === day);
      let pv = 0;
      let v = 0;
      for (const t of trades.slice(from)) {
        pv += t.price * t.size;
        v += t.size;
      }
      return [v > 0 ? pv / v : null];
    },
  },
  {
    family: volumePower,
    checks: ['approx'],
    compute(h, p) {
      const evs = h.events.filter((e) => e.kind === 'trade' || e.kind === 'heartbeat');
      if (evs.length === 0) return [null];
      const dur = BigInt(num(p, 'seconds')) * 1_000_000_000n;
      const held = timeWindow(evs, dur, (e) => (e.kind === 'trade' ? (e as TradeEvent) : undefined));
      let buy = 0;
      let sell = 0;
      for (const t of held) {
        if (t.side === 1) buy += t.size;
        else if (t.side === -1) sell += t.size;
      }
      return [sell > 0 ? (100 * buy) / sell : null];
    },
  },
  {
    family: tradeWindow,
    checks: ['approx'],
    compute(h, p) {
      const evs = h.events.filter((e) => e.kind === 'trade' || e.kind === 'heartbeat');
      if (evs.length === 0) return [null];
      const dur = BigInt(num(p, 'seconds')) * 1_000_000_000n;
      const sizes = timeWindow(evs, dur, (e) => (e.kind === 'trade' ? e.size : undefined));
      if (p.stat === 'count') return [sizes.length];
      let s = 0;
      for (const x of sizes) s += x;
      return [s];
    },
  },
  l1(spread, (q) => q.askPx - q.bidPx),
  l1(mid, (q) => (q.bidPx + q.askPx) / 2),
  // a crossed quote (bid > ask) has no microprice: the size-weighted price would lie outside the quote
  l1(microprice, (q) => (q.bidPx > q.askPx ? NaN : (q.bidPx * q.askSz + q.askPx * q.bidSz) / (q.bidSz + q.askSz))),
  l1(quoteImbalance, (q) => (q.bidSz - q.askSz) / (q.bidSz + q.askSz)),
  {
    family: quoteCrossedFlag,
    checks: ['exact'],
    compute(h) {
      const q = lastOf(ofKind(h.events, 'quote'));
      if (q === undefined) return [null];
      return [q.bidPx > 0 && q.askPx > 0 && q.bidPx > q.askPx ? 1 : 0];
    },
  },
  {
    family: depthImbalance,
    checks: ['approx'],
    compute: (h, p) => [ofKind(h.events, 'book').length === 0 ? null : naiveDepthImbalance(ofKind(h.events, 'book'), num(p, 'levels'))],
  },
  {
    family: per,
    checks: ['exact'],
    compute: (h) => [naiveValuation(h.events, (f) => f.epsTtm)],
  },
  {
    family: pbr,
    checks: ['exact'],
    compute: (h) => [naiveValuation(h.events, (f) => f.bookValuePerShare)],
  },
  {
    family: newsSentiment,
    checks: ['approx'],
    compute(h, p) {
      const news: NewsEvent[] = ofKind(h.events, 'news');
      if (news.length === 0) return [null];
      const halfLife = num(p, 'halfLifeMinutes') * 60e9;
      // a late item (published before the latest one seen) counts as published at that latest time
      const times: bigint[] = [];
      let now = news[0].tsEvent;
      for (const n of news) {
        if (n.tsEvent > now) now = n.tsEvent;
        times.push(now);
      }
      let sw = 0;
      let sws = 0;
      for (let i = 0; i < news.length; i++) {
        const w = Math.pow(2, -Number(now - times[i]) / halfLife);
        sw += w;
        sws += w * news[i].sentiment;
      }
      return [sw > 0 ? sws / sw : null];
    },
  },
  {
    family: newsCount,
    checks: ['exact'],
    compute(h, p) {
      const evs = h.events.filter((e) => e.kind === 'news' || e.kind === 'heartbeat');
      if (evs.length === 0) return [null];
      const dur = BigInt(num(p, 'minutes')) * MINUTE;
      return [timeWindow(evs, dur, (e) => (e.kind === 'news' ? 1 : undefined)).length];
    },
  },
  {
    family: returnZscore,
    warmupBars: (p) => num(p, 'bars') + 2,
    checks: ['approx', { flagOf: 0, param: 'threshold' }],
    compute(h, p) {
      const r = logReturns(closesOf(h));
      const n = num(p, 'bars');
      if (r.length < n + 1) return [null, null];
      const prev = r.slice(r.length - 1 - n, r.length - 1);
      const m = mean(prev);
      let ss = 0;
      for (const x of prev) ss += (x - m) * (x - m);
      const sd = Math.sqrt(ss / (n - 1));
      if (!(sd > 0)) return [null, null];
      const z = (r[r.length - 1] - m) / sd;
      return [z, Math.abs(z) > num(p, 'threshold') ? 1 : 0];
    },
  },
  {
    family: volumeSpike,
    warmupBars: (p) => num(p, 'bars') + 1,
    checks: ['approx', { flagOf: 0, param: 'threshold' }],
    compute(h, p) {
      const vols = h.bars().map((b) => b.volume);
      const n = num(p, 'bars');
      if (vols.length < n + 1) return [null, null];
      const m = mean(vols.slice(vols.length - 1 - n, vols.length - 1));
      if (!(m > 0)) return [null, null];
      const ratio = vols[vols.length - 1] / m;
      return [ratio, ratio > num(p, 'threshold') ? 1 : 0];
    },
  },
  {
    family: priceCollar,
    warmupBars: (p) => num(p, 'bars') + 1,
    checks: ['approx', { flagOf: 0, param: 'k' }],
    compute(h, p) {
      // recomputed as of the latest trade: heartbeats after it close bars but do not move the value
      let i = h.events.length - 1;
      while (i >= 0 && h.events[i].kind !== 'trade') i--;
      if (i < 0) return [null, null];
      const t = h.events[i] as TradeEvent;
      const c = naiveBars(h.events.slice(0, i + 1)).map((b) => b.close);
      const n = num(p, 'bars');
      const r = logReturns(c);
      if (r.length < n) return [null, null];
      let s = 0;
      for (const x of r.slice(r.length - n)) s += x * x;
      const sigma = Math.sqrt(s / n);
      if (!(sigma > 0)) return [null, null];
      const x = Math.abs(Math.log(t.price / c[c.length - 1])) / sigma;
      return [x, x > num(p, 'k') ? 1 : 0];
    },
  },
  {
    family: eventCount,
    checks: ['exact'],
    compute(h) {
      const n = h.events.filter((e) => e.kind === 'trade' || e.kind === 'quote' || e.kind === 'book').length;
      return [n === 0 ? null : n];
    },
  },
];

/**
 * The naive reference of `f`'s family (matched on the update function, which withParams keeps), or
 * undefined when none is registered.
 */
export function naiveReferenceFor(f: AnyFactor): NaiveReference | undefined {
  return NAIVE_REFERENCES.find((r) => r.family.update === f.update);
}
