/** The shared contract checks fail on factors that break the contract, and pass a sound one. */
import { describe, expect, it } from 'vitest';
import { defineFactor } from '../factor.ts';
import { checkBatches, checkContract, checkDeterminism, checkRestore, contractStreams, FactorContractError } from './checks.ts';

const spec = { version: 1, description: 'test', params: {}, rules: {}, inputs: ['trade'] as const, warmup: 'none' };
const streams = contractStreams(2);
const long = streams[0];

describe('contract checks', () => {
  it('pass a sound factor, and report what they ran', () => {
    const sound = defineFactor({ ...spec, name: 'trades', init: () => ({ n: 0 }), update: (s: { n: number }) => ++s.n });
    expect(checkContract(sound, streams)).toMatchObject({ factor: 'trades', streams: 3, restoreCuts: 6 });
  });

  it('catch state kept outside the fold state (restore and batch splits) and a shared counter (determinism)', () => {
    // a cache keyed by the state object: a restored state is a new object, so the count restarts
    const cache = new WeakMap<object, number>();
    const outside = defineFactor({ ...spec, name: 'outside', init: () => ({}), update: (s: object) => {
      const n = (cache.get(s) ?? 0) + 1;
      cache.set(s, n);
      return n;
    } });
    expect(() => checkDeterminism(outside, long)).not.toThrow();
    expect(() => checkRestore(outside, long, 997)).toThrow(/outside fails the contract \(snapshot\/restore\)/);
    expect(() => checkBatches(outside, long, 7)).toThrow(/outside fails the contract \(batch splits\)/);
    let n = 0;
    const shared = defineFactor({ ...spec, name: 'shared', init: () => null, update: () => ++n });
    expect(() => checkDeterminism(shared, long)).toThrow(FactorContractError);
  });

  it('catch a state that is not plain data and a throwing update', () => {
    const fn = defineFactor({ ...spec, name: 'fn', init: () => ({ f: () => 1 }), update: (s: { f: () => number }) => s.f() });
    expect(() => checkContract(fn, streams)).toThrow(/fn fails the contract \(plain-data state\)/);
    const thrower = defineFactor({ ...spec, name: 'thrower', init: () => null, update: () => {
      throw new TypeError('boom');
    } });
    expect(() => checkContract(thrower, streams)).toThrow(/thrower fails the contract \(runs\): threw on event #\d+ .*: boom/);
  });
});
