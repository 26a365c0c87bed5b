import { describe, expect, it } from 'vitest';
import { defineFactor, durationLabel, numberLabel, withParams } from './factor.ts';
import { ema } from './factors/ema.ts';
import { tradeWindow } from './factors/trade-window.ts';

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

describe('names follow parameters', () => {
  it('withParams derives the name again', () => {
    expect(ema.name).toBe('ema_12');
    const e20 = withParams(ema, { period: 20 });
    expect(e20.name).toBe('ema_20');
    expect(e20.columns).toEqual(['ema_20']);
    expect(withParams(e20, { period: 12 }).name).toBe('ema_12');
    expect(withParams(ema, {}).name).toBe('ema_12');
  });
  it('a trade window is named after its statistic and length', () => {
    expect(tradeWindow.name).toBe('volume_1m');
    expect(withParams(tradeWindow, { stat: 'count' }).name).toBe('trade_count_1m');
    expect(withParams(tradeWindow, { seconds: 300 }).name).toBe('volume_5m');
    expect(withParams(tradeWindow, { seconds: 90, stat: 'count' }).name).toBe('trade_count_90s');
  });
  it('a parameter change that would keep the name is refused; extras follow the name', () => {
    const fixed = defineFactor(spec);
    expect(() => withParams(fixed, { period: 20 })).toThrow('factor ema_x: period=20 would keep the name ema_x');
    const named = defineFactor({ ...spec, name: (p: { period: number }) => `ema_x${p.period}`, extras: { signal: () => null } });
    expect(withParams(named, { period: 3 }).columns).toEqual(['ema_x3', 'ema_x3_signal']);
  });
  it('a bad value is quoted under the old name before a name is made from it', () => {
    expect(() => withParams(ema, { period: 0 })).toThrow('factor ema_12: parameter period=0 must be >= 1');
    expect(() => withParams(ema, { period: NaN })).toThrow(/^factor ema_12: parameter period=\S+ must be a finite number/);
  });
  it('labels', () => {
    expect([durationLabel(60), durationLabel(300), durationLabel(90), durationLabel(3600)]).toEqual(['1m', '5m', '90s', '60m']);
    expect([numberLabel(3), numberLabel(2.5), numberLabel(-1)]).toEqual(['3', '2p5', 'm1']);
  });
});
