/**
 * plannedSchedule: the steps of the algorithm's own target (scheduleTarget), not a second formula:
 * each step is where the target first reaches it (one nanosecond before, it is below); a parent
 * larger than PLAN_MAX_STEPS lots is drawn in steps of several lots; POV has no plan.
 */
import { describe, expect, it } from 'vitest';
import { initExec } from './algo.ts';
import { PLAN_MAX_STEPS, plannedSchedule, scheduleTarget } from './schedule.ts';
import type { ExecConfig, ParentOrder } from './types.ts';

const MIN = 60_000_000_000n;
const T0 = 1_710_509_400_000_000_000n;
const instrument = { symbol: 'AAPL', tick: 0.01, lot: 1, multiplier: 1 };
const parent = (qty: number): ParentOrder => ({ id: 'P', symbol: 'AAPL', side: 1, qty, limitPx: null, start: T0, end: T0 + 10n * MIN });

function checkSteps(qty: number, cfg: ExecConfig, step: number): [bigint, number][] {
  const s = initExec(parent(qty), cfg);
  const plan = plannedSchedule(s)!;
  expect(plan[0]).toEqual([T0, 0]);
  expect(plan[plan.length - 1][1]).toBe(qty);
  for (let i = 1; i < plan.length; i++) {
    const [ts, lots] = plan[i];
    expect(scheduleTarget(s, ts)).toBe(lots);
    // the first time the target reaches the next multiple of `step` (or the whole parent)
    const want = Math.min(qty, (Math.floor(plan[i - 1][1] / step) + 1) * step);
    expect(lots).toBeGreaterThanOrEqual(want);
    expect(scheduleTarget(s, ts - 1n)).toBeLessThan(want);
    expect(ts).toBeGreaterThan(plan[i - 1][0]);
  }
  return plan;
}

describe('plannedSchedule', () => {
  it('vwap: the curve\'s steps (a quiet first half, a busy second), each where the target first reaches it', () => {
    const plan = checkSteps(100, { algo: 'vwap', instrument, curve: { bucketNs: 5n * MIN, weights: [1, 3] } }, 1);
    expect(plan).toHaveLength(101);
    // a quarter of the volume in the first five minutes: 25 lots by then, 75 over the next five
    expect(plan[25][0]).toBeLessThanOrEqual(T0 + 5n * MIN);
    expect(plan[26][0]).toBeGreaterThan(T0 + 5n * MIN);
  });

  it(`twap over ${PLAN_MAX_STEPS} lots: steps of several lots, at most ${PLAN_MAX_STEPS} of them`, () => {
    const plan = checkSteps(2500, { algo: 'twap', instrument }, 3);
    expect(plan.length).toBeLessThanOrEqual(PLAN_MAX_STEPS + 1);
    expect(plan.length).toBeGreaterThan(PLAN_MAX_STEPS * 0.8);
  });

  it('pov has no plan: its target follows the market', () => {
    expect(plannedSchedule(initExec(parent(100), { algo: 'pov', instrument, povRate: 0.1 }))).toBeNull();
  });
});
