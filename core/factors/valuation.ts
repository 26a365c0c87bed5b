import type { FundamentalEvent, MarketEvent } from '../events.ts';
import { defineFactor } from '../factor.ts';

/**
 * Real-time valuation ratios: last trade price over the latest fundamentals that were public at
 * that instant. `per` = price / trailing-12-month EPS; `pbr` = price / book value per share.
 *
 * Point in time: a fundamentals row is applied when it arrives (ts_recv; its ts_event is the
 * announcement). Because replay and live both deliver fundamentals in ts_recv order, numbers
 * announced after a trade can never reach that trade's row.
 *
 * Splits (version 2): a `corporate_action` split reaches the factor at its announcement (ts_recv)
 * and takes effect once the factor's clock (the latest ts_event of its inputs) reaches its ex
 * instant (ts_ex), or at once when that has passed. From then on the denominator in force and the
 * last price (when traded before ts_ex) are restated to the new share basis (divided by the ratio), so the ratio is
 * continuous across the ex date: the price after the ex date meets EPS on the same basis. A split
 * announced after t never reaches a row at t. A fundamentals row is on the share basis in force at
 * its own instant (issuers restate per-share figures for a split effective before they report; the
 * SEC importer restates earlier quarters to that basis), so a split with ts_ex <= the row's instant
 * is applied before the row and not to it. `cum` is the product of the splits applied so far
 * (diagnostics and tests). Cash dividends do not change the share basis and are ignored.
 *
 * Policy: null until both a trade and a fundamental are known; null when the denominator is
 * unknown (NaN), zero or negative (a negative P/E is not a valuation signal; report it separately).
 * Reference: AAPL around real SEC earnings announcements and across the 2014 7:1 and 2020 4:1
 * splits (datasets/valuation-aapl.test.ts, datasets/corporate-actions-aapl.test.ts): the old
 * quarter before the announcement instant, the new one from that instant on; no jump at an ex date.
 */
export interface ValuationState {
  price: number;
  /** ts_event of the trade that set `price` (-1n: none). */
  priceAt: bigint;
  /** Denominator in force, on the current share basis. */
  denom: number;
  /** Latest ts_event of the factor's inputs (-1n: none yet). */
  clock: bigint;
  /** Announced splits not yet in effect, in ts_ex order. */
  splits: { tsEx: bigint; ratio: number }[];
  /** Product of the splits applied so far. */
  cum: number;
}

function initValuation(): ValuationState {
  return { price: NaN, priceAt: -1n, denom: NaN, clock: -1n, splits: [], cum: 1 };
}

/**
 * Applies the announced splits whose ex instant the clock has reached, in ts_ex order. The last
 * price is restated only when it was traded before the ex instant: a price traded after it (a
 * split recorded late) is already on the new basis.
 */
function applyDueSplits(s: ValuationState): void {
  while (s.splits.length > 0 && s.splits[0].tsEx <= s.clock) {
    const sp = s.splits.shift()!;
    s.denom /= sp.ratio;
    if (s.priceAt < sp.tsEx) s.price /= sp.ratio;
    s.cum *= sp.ratio;
  }
}

/** Applies one event to a valuation state and returns price / denominator (null when undefined). */
export function updateValuation(s: ValuationState, ev: MarketEvent, pick: (f: FundamentalEvent) => number): number | null {
  if (ev.tsEvent > s.clock) s.clock = ev.tsEvent;
  // splits in effect by now come first: a row or trade at or after the ex instant is on the new basis
  if (s.splits.length > 0) applyDueSplits(s);
  if (ev.kind === 'fundamental') {
    s.denom = pick(ev);
  } else if (ev.kind === 'trade') {
    s.price = ev.price;
    s.priceAt = ev.tsEvent;
  } else if (ev.kind === 'corporate_action' && ev.action === 'split') {
    let i = s.splits.length;
    while (i > 0 && s.splits[i - 1].tsEx > ev.tsEx) i--;
    s.splits.splice(i, 0, { tsEx: ev.tsEx, ratio: ev.ratio });
    applyDueSplits(s);
  }
  const price = s.price;
  const denom = s.denom;
  return denom > 0 && price === price ? price / denom : null;
}

function valuationFactor(name: string, description: string, pick: (f: FundamentalEvent) => number) {
  return defineFactor({
    name,
    version: 2,
    description,
    params: {},
    rules: {},
    inputs: ['trade', 'fundamental', 'corporate_action'],
    warmup: 'one trade and one fundamentals announcement',
    init: initValuation,
    update: (s, ev) => updateValuation(s, ev, pick),
    source: [pick, applyDueSplits, updateValuation, initValuation],
  });
}

export const per = valuationFactor('per', 'Price / trailing-12-month EPS, point in time, split-adjusted', (f) => f.epsTtm);
export const pbr = valuationFactor('pbr', 'Price / book value per share, point in time, split-adjusted', (f) => f.bookValuePerShare);
