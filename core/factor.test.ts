import { describe, expect, it } from 'vitest';
import { defineFactor, withParams } from './factor.ts';

const spec = {
  name: 'ema_x', version: 1, description: 'test', params: { period: 12 }, rules: { period: { kind: 'int' as const, min: 1 } },
  inputs: ['trade' as const], warmup: 'period trades', init: () => ({}), update: () => null,
};

describe('defineFactor', () => {
  it('accepts a valid spec and lists its columns', () => {
    const f = defineFactor({ ...spec, extras: { signal: () => null } });
    expect(f.columns).toEqual(['ema_x', 'ema_x_signal']);
  });
  it('quotes the bad parameter value', () => {
    expect(() => defineFactor({ ...spec, params: { period: 0 } })).toThrow('factor ema_x: parameter period=0 must be >= 1');
    expect(() => defineFactor({ ...spec, params: { period: 2.5 } })).toThrow('parameter period=2.5 must be an integer');
    expect(() => withParams(defineFactor(spec), { period: -3 })).toThrow('period=-3');
  });
  it('rejects bad names, versions and inputs', () => {
    expect(() => defineFactor({ ...spec, name: 'Bad-Name' })).toThrow(/lower_snake_case/);
    expect(() => defineFactor({ ...spec, version: 0 })).toThrow(/version 0/);
    expect(() => defineFactor({ ...spec, inputs: [] })).toThrow(/inputs/);
  });
});
