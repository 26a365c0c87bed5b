import { describe, expect, it } from 'vitest';
import { withParams } from './factor.ts';
import { DEFAULT_FACTORS, factorManifest, featureSetVersion, withFactorParams } from './registry.ts';

/** The default set's columns as released: replay outputs keep these names (a rename is a migration). */
const DEFAULT_COLUMNS = [
  'last_price', 'return_1m', 'ma_5m', 'ma_20m', 'ma_60m', 'ema_12', 'ema_26', 'rsi_14', 'macd', 'macd_signal', 'macd_hist',
  'rv_5m', 'rv_20m', 'rv_60m', 'vwap_session', 'volume_power_1m', 'volume_power_5m', 'volume_1m', 'trade_count_1m',
  'spread', 'mid', 'microprice', 'quote_imbalance', 'quote_crossed_flag', 'depth_imbalance_5', 'depth_imbalance_10', 'per', 'pbr',
  'news_sentiment', 'news_count_60m', 'return_zscore', 'return_zscore_flag', 'volume_spike', 'volume_spike_flag',
  'price_collar', 'price_collar_flag', 'event_count',
];

describe('default set names', () => {
  it('keeps the released column names', () => {
    expect(DEFAULT_FACTORS.flatMap((f) => f.columns)).toEqual(DEFAULT_COLUMNS);
  });

  it('every parameter of every default factor shows in its name', () => {
    for (const f of DEFAULT_FACTORS) {
      for (const [key, v] of Object.entries(f.params)) {
        const other = typeof v === 'number' ? v + 1 : typeof v === 'boolean' ? !v : (f.rules[key].oneOf ?? []).find((x) => x !== v);
        if (other === undefined) continue;
        expect(withParams(f, { [key]: other }).name, `${f.name}.${key}=${other}`).not.toBe(f.name);
      }
    }
  });
});

describe('withFactorParams', () => {
  it('changes only the named parameters, validated, under the name they give; the feature-set version follows', () => {
    const set = withFactorParams(DEFAULT_FACTORS, ['ma_5m.bars=6', 'return_zscore.threshold=2.5']);
    const m = factorManifest(set);
    expect(m.find((f) => f.name === 'ma_5m')).toBeUndefined();
    expect(m.find((f) => f.name === 'ma_6m')!.params).toEqual({ bars: 6, session: 'all' });
    expect(m.find((f) => f.name === 'return_zscore_60m_t2p5')!.params).toEqual({ bars: 60, threshold: 2.5, session: 'all' });
    expect(m.find((f) => f.name === 'return_zscore_60m_t2p5')!.columns).toEqual(['return_zscore_60m_t2p5', 'return_zscore_60m_t2p5_flag']);
    expect(m.find((f) => f.name === 'ma_20m')!.params).toEqual({ bars: 20, session: 'all' });
    // renamed in place: every other factor keeps its name and position
    const renamed: Record<string, string> = { ma_5m: 'ma_6m', return_zscore: 'return_zscore_60m_t2p5' };
    expect(set.map((f) => f.name)).toEqual(DEFAULT_FACTORS.map((f) => renamed[f.name] ?? f.name));
    expect(featureSetVersion(set)).not.toBe(featureSetVersion(DEFAULT_FACTORS));
    expect(featureSetVersion(withFactorParams(DEFAULT_FACTORS, []))).toBe(featureSetVersion(DEFAULT_FACTORS));
  });

  it('quotes what is wrong', () => {
    expect(() => withFactorParams(DEFAULT_FACTORS, ['ma_5m.bars=0'])).toThrow(/bars=0 must be >= 1/);
    expect(() => withFactorParams(DEFAULT_FACTORS, ['ma_5m.bars=abc'])).toThrow(/bars=null must be a finite number|bars=NaN/);
    expect(() => withFactorParams(DEFAULT_FACTORS, ['ma_5m.bars=2.5'])).toThrow(/must be an integer/);
    expect(() => withFactorParams(DEFAULT_FACTORS, ['nope.bars=3'])).toThrow(/no factor nope in the set/);
    expect(() => withFactorParams(DEFAULT_FACTORS, ['ma_5m.window=3'])).toThrow(/ma_5m has no parameter window \(it has bars, session\)/);
    expect(() => withFactorParams(DEFAULT_FACTORS, ['ma_5m:bars=3'])).toThrow(/must look like name.param=value/);
  });

  it('ema_12.period=20 yields ema_20 and no ema_12; the changed factor is addressed by its current name', () => {
    const names = withFactorParams(DEFAULT_FACTORS, ['ema_12.period=20']).map((f) => f.name);
    expect(names).toContain('ema_20');
    expect(names).not.toContain('ema_12');
    expect(names).toContain('ema_26');
    expect(() => withFactorParams(DEFAULT_FACTORS, ['ema_20.period=21'])).toThrow(/no factor ema_20 in the set/);
    const windows = withFactorParams(DEFAULT_FACTORS, ['volume_1m.seconds=90', 'trade_count_1m.seconds=300', 'volume_power_5m.seconds=120']);
    expect(windows.flatMap((f) => f.columns)).toEqual(expect.arrayContaining(['volume_90s', 'trade_count_5m', 'volume_power_2m']));
    const macd = withFactorParams(DEFAULT_FACTORS, ['macd.fast=8', 'macd.slow=21']).find((f) => f.name.startsWith('macd'))!;
    expect(macd.columns).toEqual(['macd_8_21_9', 'macd_8_21_9_signal', 'macd_8_21_9_hist']);
  });

  it('refuses a change that collides with another column, naming both', () => {
    expect(() => withFactorParams(DEFAULT_FACTORS, ['ma_5m.bars=20'])).toThrow(
      'factor ma_5m: ma_5m with bars=20 (named ma_20m) would write column ma_20m, which ma_20m writes too',
    );
    expect(() => withFactorParams(DEFAULT_FACTORS, ['trade_count_1m.stat=volume'])).toThrow(/trade_count_1m with stat=volume \(named volume_1m\) would write column volume_1m, which volume_1m writes too/);
    // both renamed: still refused, both named
    expect(() => withFactorParams(DEFAULT_FACTORS, ['ema_12.period=30', 'ema_26.period=30'])).toThrow(/ema_26 with period=30 \(named ema_30\) would write column ema_30, which ema_12 with period=30 \(named ema_30\) writes too/);
    // a swap is fine: the final set has distinct columns
    expect(withFactorParams(DEFAULT_FACTORS, ['ma_5m.bars=20', 'ma_20m.bars=5']).slice(2, 5).map((f) => f.name)).toEqual(['ma_20m', 'ma_5m', 'ma_60m']);
  });
});
