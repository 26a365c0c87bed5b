import { describe, expect, it } from 'vitest';
import { decodeState, encodeState } from '../state-codec.ts';
import { exactVariance } from '../../testing/exact-sum.ts';
import {
  initMoments,
  momentsAdd,
  momentsMean,
  momentsNeedRebase,
  momentsRebase,
  momentsRemove,
  momentsSum,
  momentsVariance,
  type WindowMoments,
} from './window-moments.ts';

function rebaseWith(m: WindowMoments, xs: number[]): void {
  momentsRebase(m);
  xs.forEach((x) => momentsAdd(m, x));
}

describe('window moments (shared arithmetic of the windows)', () => {
  it('adds, removes and empties back to exact zeros', () => {
    const m = initMoments();
    [0.1, 0.2, 0.3].forEach((x) => momentsAdd(m, x));
    expect(momentsMean(m)).toBeCloseTo(0.2, 15);
    expect(momentsVariance(m, 1)).toBeCloseTo(0.01, 15);
    [0.1, 0.2, 0.3].forEach((x) => momentsRemove(m, x));
    expect({ ...m, k: 0 }).toEqual(initMoments());
    expect(momentsMean(m)).toBeNull();
    expect(momentsVariance(m, 0)).toBeNull();
    expect(momentsSum(m)).toBe(0);
  });

  it('asks for a re-base when the mean wanders far from the shift, and not after one', () => {
    const m = initMoments();
    const big = [1e9 + 0.25, 1e9 + 0.5, 1e9 + 0.75];
    big.forEach((x) => momentsAdd(m, x)); // shift 0: the mean is far from it
    expect(momentsNeedRebase(m)).toBe(true);
    rebaseWith(m, big);
    expect(m.k).toBe(1e9 + 0.5);
    expect(momentsNeedRebase(m)).toBe(false);
    expect(momentsVariance(m, 1)).toBe(exactVariance(big, 1));
    // A constant window after a re-base is exactly centred: no re-base storm.
    const flat = initMoments();
    [5, 5, 5, 5].forEach((x) => momentsAdd(flat, x));
    rebaseWith(flat, [5, 5, 5, 5]);
    expect(flat.k).toBe(5);
    expect(momentsNeedRebase(flat)).toBe(false);
    expect(momentsVariance(flat, 1)).toBe(0);
  });

  it('survives the state codec unchanged', () => {
    const m = initMoments();
    [1, -0, 3.5, 1e300].forEach((x) => momentsAdd(m, x));
    expect(decodeState<WindowMoments>(encodeState(m))).toEqual(m);
  });
});
