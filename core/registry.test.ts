import { describe, expect, it } from 'vitest';
import { DEFAULT_FACTORS, factorManifest, featureSetVersion, withFactorParams } from './registry.ts';

describe('withFactorParams', () => {
  it('changes only the named parameters, validated, and the feature-set version follows', () => {
    const set = withFactorParams(DEFAULT_FACTORS, ['ma_5m.bars=6', 'return_zscore.threshold=2.5']);
    const m = factorManifest(set);
    expect(m.find((f) => f.name === 'ma_5m')!.params).toEqual({ bars: 6 });
    expect(m.find((f) => f.name === 'return_zscore')!.params).toEqual({ bars: 60, threshold: 2.5 });
    expect(m.find((f) => f.name === 'ma_20m')!.params).toEqual({ bars: 20 });
    expect(set.map((f) => f.name)).toEqual(DEFAULT_FACTORS.map((f) => f.name));
    expect(featureSetVersion(set)).not.toBe(featureSetVersion(DEFAULT_FACTORS));
    expect(featureSetVersion(withFactorParams(DEFAULT_FACTORS, []))).toBe(featureSetVersion(DEFAULT_FACTORS));
  });

  it('quotes what is wrong', () => {
    expect(() => withFactorParams(DEFAULT_FACTORS, ['ma_5m.bars=0'])).toThrow(/bars=0 must be >= 1/);
    expect(() => withFactorParams(DEFAULT_FACTORS, ['ma_5m.bars=abc'])).toThrow(/bars=null must be a finite number|bars=NaN/);
    expect(() => withFactorParams(DEFAULT_FACTORS, ['ma_5m.bars=2.5'])).toThrow(/must be an integer/);
    expect(() => withFactorParams(DEFAULT_FACTORS, ['nope.bars=3'])).toThrow(/no factor nope in the set/);
    expect(() => withFactorParams(DEFAULT_FACTORS, ['ma_5m.window=3'])).toThrow(/ma_5m has no parameter window \(it has bars\)/);
    expect(() => withFactorParams(DEFAULT_FACTORS, ['ma_5m:bars=3'])).toThrow(/must look like name.param=value/);
  });
});
