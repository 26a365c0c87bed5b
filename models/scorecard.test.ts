import { describe, expect, it } from 'vitest';
import { forwardReturns, pearson, scorecard, spearman, type ScorecardRows } from './scorecard.ts';

const S = 1_000_000_000n;

describe('scorecard', () => {
  it('forward returns use the first row at or after t + horizon, per symbol', () => {
    const rows = { symbol: ['A', 'B', 'A', 'A', 'B'], tsRecv: [0n, 0n, 3n * S, 5n * S, 9n * S], price: [100, 50, 101, 110, 55] };
    expect(forwardReturns(rows, 5n * S)).toEqual([110 / 100 - 1, 55 / 50 - 1, null, null, null]);
  });

  it('Spearman equals Pearson of ranks; ties take their mean rank', () => {
    expect(spearman([1, 2, 3, 4], [10, 20, 30, 1000])).toBeCloseTo(1, 12);
    expect(spearman([1, 2, 3], [3, 2, 1])).toBeCloseTo(-1, 12);
    // scipy.stats.spearmanr([1, 2, 2, 3], [1, 3, 2, 4]) = 0.9486832980505138
    expect(spearman([1, 2, 2, 3], [1, 3, 2, 4])).toBeCloseTo(0.9486832980505138, 12);
    expect(pearson([1, 2, 3], [2, 4, 6])).toBeCloseTo(1, 12);
  });

  it('per version: counts, error and missing rates, divergence from the other side, hit rate and IC', () => {
    // symbol A: served v1 throughout, v2 computed beside it (shadow) on rows 1-4, failing on row 4
    // (its own status column says so: the served side's says nothing about it)
    const rows: ScorecardRows = {
      symbol: ['A', 'A', 'A', 'A', 'A'],
      tsRecv: [0n, 1n, 2n, 3n, 4n].map((x) => x * S),
      price: [100, 101, 100, 102, 103],
      served: [0.5, -0.2, 0.3, null, 0.1],
      version: [1, 1, 1, 1, 1],
      status: [0, 0, 0, 2, 0],
      unserved: [null, -0.1, 0.5, 0.2, null],
      unservedVersion: [null, 2, 2, 2, 2],
      unservedStatus: [3, 0, 0, 0, 2],
    };
    const [v1, v2] = scorecard(rows, { horizonNs: 1n * S });
    expect(v1).toMatchObject({ version: 1, served: 5, unserved: 0, errorRate: 0.2, missingRate: 0 });
    expect(v2).toMatchObject({ version: 2, served: 0, unserved: 4, errorRate: 0.25, missingRate: 0 });
    expect(v1.distribution!.mean).toBeCloseTo((0.5 - 0.2 + 0.3 + 0.1) / 4, 12);
    expect(v1.divergence!.rows).toBe(2);
    expect(v1.divergence!.meanAbs).toBeCloseTo((0.1 + 0.2) / 2, 12);
    // realized: rows 0..3 have a next row; v1 has values on rows 0,1,2 → returns +1%, -0.99%, +2%
    expect(v1.realized!.rows).toBe(3);
    expect(v1.realized!.hitRate).toBe(1);
    expect(v2.realized!.rows).toBe(3);
  });
});
