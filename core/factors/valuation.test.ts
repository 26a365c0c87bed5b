/**
 * The split adjustment of PER/PBR, event by event through the real fold: a split announced before
 * its ex date, one recorded after it, one at the instant of a fundamentals row, a reverse split,
 * and a dividend (ignored). Hand-computed values; the contract suite (contract.test.ts) covers
 * snapshot/restore and the naive recomputation on random streams with splits.
 */
import { describe, expect, it } from 'vitest';
import type { CorporateActionEvent, FundamentalEvent, MarketEvent, TradeEvent } from '../events.ts';
import { applyEvent, createFactorSet, initFold } from '../fold.ts';
import { pbr, per } from './valuation.ts';

const S = 1_000_000_000n;
let seq = 0n;
const trade = (t: number, price: number): TradeEvent => ({ kind: 'trade', tsEvent: BigInt(t) * S, tsRecv: BigInt(t) * S, symbol: 'X', seq: ++seq, price, size: 1, side: 0 });
const fund = (t: number, epsTtm: number, bvps: number): FundamentalEvent => ({
  kind: 'fundamental', tsEvent: BigInt(t) * S, tsRecv: BigInt(t) * S, symbol: 'X', seq: ++seq, fiscalYear: 2020, fiscalPeriod: 'Q1', eps: NaN, epsTtm, bookValuePerShare: bvps, sharesOutstanding: NaN,
});
const split = (announced: number, ex: number, ratio: number): CorporateActionEvent => ({
  kind: 'corporate_action', tsEvent: BigInt(announced) * S, tsRecv: BigInt(announced) * S, symbol: 'X', seq: ++seq, action: 'split', tsEx: BigInt(ex) * S, ratio, amount: NaN,
});
const dividend = (announced: number, ex: number, amount: number): CorporateActionEvent => ({
  kind: 'corporate_action', tsEvent: BigInt(announced) * S, tsRecv: BigInt(announced) * S, symbol: 'X', seq: ++seq, action: 'dividend', tsEx: BigInt(ex) * S, ratio: NaN, amount,
});

/** [kind, per, pbr] of every row, events applied in the order given. */
function run(events: MarketEvent[]): [string, number | null, number | null][] {
  const set = createFactorSet([per, pbr]);
  const st = initFold();
  const rows: [string, number | null, number | null][] = [];
  for (const e of events) applyEvent(set, st, e, (ev, _s, v) => rows.push([ev.kind, v[0], v[1]]));
  return rows;
}

describe('per / pbr across splits', () => {
  it('a 4:1 split announced before its ex date: nothing changes until the ex instant, then price and EPS share one basis', () => {
    const rows = run([fund(10, 10, 40), trade(20, 400), split(30, 100, 4), trade(50, 404), trade(100, 101), fund(200, 2.6, 10.5), trade(210, 104)]);
    expect(rows).toEqual([
      ['fundamental', null, null],
      ['trade', 40, 10],
      ['corporate_action', 40, 10], // announced, not in effect
      ['trade', 40.4, 10.1], // before the ex instant: old basis
      ['trade', 101 / 2.5, 101 / 10], // from the ex instant: EPS 10 / 4 = 2.5, book 40 / 4 = 10
      ['fundamental', 101 / 2.6, 101 / 10.5], // reported on the new basis: taken as is
      ['trade', 104 / 2.6, 104 / 10.5],
    ]);
  });

  it('the last price is restated too: a row after the ex instant and before the next trade does not jump', () => {
    // the split takes effect at 100 with the fundamentals row at 150: price 400 / 4 over eps 10 / 4
    const rows = run([fund(10, 10, 40), trade(20, 400), split(30, 100, 4), fund(150, 10, 40)]);
    expect(rows[3]).toEqual(['fundamental', 100 / 10, 100 / 40]);
  });

  it('a split recorded after its ex date counts only from its announcement (point in time)', () => {
    // the trade at 150 is after the ex instant, so on the new basis already: only EPS is restated
    const rows = run([fund(10, 10, 40), trade(150, 100), split(200, 100, 4), trade(250, 101)]);
    expect(rows.map((r) => r[1])).toEqual([null, 100 / 10, 100 / 2.5, 101 / 2.5]);
    // a last trade from before the ex instant is restated with it
    const early = run([fund(10, 10, 40), trade(50, 400), split(200, 100, 4)]);
    expect(early.map((r) => r[1])).toEqual([null, 40, 100 / 2.5]);
  });

  it('a row at the ex instant is on the new basis: the split is applied before it, not to it', () => {
    const rows = run([fund(10, 10, 40), trade(20, 400), split(30, 100, 4), fund(100, 2.5, 10), trade(110, 100)]);
    expect(rows.slice(3)).toEqual([
      ['fundamental', 100 / 2.5, 100 / 10],
      ['trade', 100 / 2.5, 100 / 10],
    ]);
  });

  it('a reverse split (1:10) and two splits pending at once apply in ex order', () => {
    const rows = run([fund(10, 1, 2), trade(20, 5), split(30, 200, 0.5), split(31, 100, 0.1), trade(150, 49), trade(250, 98)]);
    // at 150: basis x10 (eps 10, book 20); at 250: x20 (eps 20, book 40)
    expect(rows.slice(4).map((r) => [r[1], r[2]])).toEqual([
      [49 / 10, 49 / 20],
      [98 / 20, 98 / 40],
    ]);
  });

  it('a cash dividend does not change the share basis', () => {
    const withDiv = run([fund(10, 10, 40), trade(20, 400), dividend(30, 100, 0.82), trade(150, 399)]);
    expect(withDiv.map((r) => r[1])).toEqual([null, 40, 40, 39.9]);
  });
});
