import { describe, expect, it } from 'vitest';
import { newQueuePos, onDepth, onTrade, parseQueueModel, probBehind, queueFillable, queueModelName, type QueueModel } from './queue.ts';
import { SimInputError } from './errors.ts';

const RA: QueueModel = { type: 'risk-averse' };
const POW2: QueueModel = { type: 'prob', f: 'power', n: 2 };
const LOG: QueueModel = { type: 'prob', f: 'log' };

describe('risk-averse (hftbacktest RiskAdverseQueueModel)', () => {
  it('only trades and a level shrinking below the front move the order up', () => {
    const q = newQueuePos(500);
    onDepth(RA, q, 500, 450); // a cancel: assumed behind us
    expect(q.front).toBe(450);
    onDepth(RA, q, 450, 600);
    expect(q.front).toBe(450);
    onDepth(RA, q, 600, 700);
    onTrade(RA, q, 100);
    expect(q.front).toBe(350);
    onDepth(RA, q, 700, 200); // the level fell below what was ahead
    expect(q.front).toBe(200);
    expect(queueFillable(q)).toBe(0);
    onTrade(RA, q, 230);
    expect(queueFillable(q)).toBe(30);
  });
});

describe('probabilistic (hftbacktest ProbQueueModel)', () => {
  it('splits a decrease by f(back)/(f(back)+f(front)): power 2', () => {
    // front 300, back 200, the level drops 500 -> 400: p(behind) = 200²/(200²+300²) = 4/13
    expect(probBehind(POW2, 300, 200)).toBeCloseTo(4 / 13, 15);
    const q = newQueuePos(300);
    onDepth(POW2, q, 500, 400);
    // expected front: 300 - (1 - 4/13)·100 = 300 - 900/13
    expect(q.front).toBeCloseTo(300 - 900 / 13, 12);
  });

  it('log: f(x) = ln(1 + x)', () => {
    const p = Math.log(201) / (Math.log(201) + Math.log(301));
    expect(probBehind(LOG, 300, 200)).toBeCloseTo(p, 15);
    const q = newQueuePos(300);
    onDepth(LOG, q, 500, 400);
    expect(q.front).toBeCloseTo(300 - (1 - p) * 100, 12);
  });

  it('a decrease larger than what is behind takes the excess from ahead', () => {
    // front 100, back 50, drop 500→... prev 150 → 0 with p=1 (power, back huge relative): chg 150
    const q = newQueuePos(100);
    onDepth(POW2, q, 150, 0);
    expect(q.front).toBe(0);
    const r = newQueuePos(100);
    // p = 50²/(50²+100²) = 0.2; chg 120: est = 100 - 0.8·120 + min(50 - 24, 0) = 4
    onDepth(POW2, r, 150, 30);
    expect(r.front).toBeCloseTo(4, 12);
  });

  it('trades since the last depth change are not counted twice', () => {
    const q = newQueuePos(300);
    onTrade(POW2, q, 100); // front 200; the book then shows the level 500 -> 400: nothing left to split
    onDepth(POW2, q, 500, 400);
    expect(q.front).toBe(200);
    expect(q.cumTrade).toBe(0);
    const r = newQueuePos(300);
    onTrade(POW2, r, 50);
    onDepth(POW2, r, 500, 400); // 50 of the 100 were cancels: split with front 250, back 250 → p = 1/2
    expect(r.front).toBeCloseTo(250 - 25, 12);
  });

  it('an increase only clamps the front to the new size', () => {
    const q = newQueuePos(300);
    onDepth(POW2, q, 500, 700);
    expect(q.front).toBe(300);
  });

  it('the other variants', () => {
    expect(probBehind({ type: 'prob', f: 'power2', n: 2 }, 300, 200)).toBeCloseTo(200 ** 2 / 500 ** 2, 15);
    expect(probBehind({ type: 'prob', f: 'log2' }, 300, 200)).toBeCloseTo(Math.log(201) / Math.log(501), 15);
    expect(probBehind({ type: 'prob', f: 'power3', n: 2 }, 300, 200)).toBeCloseTo(1 - 0.6 ** 2, 15);
    expect(probBehind(POW2, 0, 0)).toBe(1); // 0/0 counts as behind
  });
});

describe('parseQueueModel', () => {
  it('reads the CLI names and round-trips them', () => {
    for (const s of ['risk-averse', 'power:3', 'power2:1.5', 'power3:2', 'log', 'log2']) expect(queueModelName(parseQueueModel(s))).toBe(s);
  });
  it('refuses anything else with the value', () => {
    expect(() => parseQueueModel('prob')).toThrow(SimInputError);
    expect(() => parseQueueModel('power:0')).toThrow(/queueModel|--queue/);
    expect(() => parseQueueModel('power:-1')).toThrow(/power:-1/);
  });
});
