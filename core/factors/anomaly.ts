import { initRollingSum, rollingCount, rollingFull, rollingMean, rollingPush, rollingSum, rollingVariance } from '../kernels/rolling-sum.ts';
import type { MinuteBars } from '../kernels/minute-bars.ts';
import { defineFactor, numberLabel } from '../factor.ts';
import { defineBarFactor, minuteBars } from './bar-factor.ts';

// the conventional settings go unsaid in the names (return_zscore); any other spells out all
// of them (return_zscore_30m_t2p5), so a column never claims settings it was not computed with
const flag = (v: number, threshold: number) => (Number.isNaN(v) ? null : Math.abs(v) > threshold ? 1 : 0);

/**
 * Return z-score: the latest 1-minute log return against the previous `bars` returns (a rolling
 * hour by default): (r - mean) / sample std. Column `return_zscore_flag` is 1 when |z| > threshold.
 *
 * Warm-up: bars + 2 closed bars (a full window of previous returns plus the current one). A flat
 * window (std 0) gives null: no scale to measure surprise against.
 * Reference: the definition, recomputed naively from the same bars (contract suite).
 */
export const returnZscore = defineBarFactor({
  name: (p) => (p.bars === 60 && p.threshold === 3 ? 'return_zscore' : `return_zscore_${p.bars}m_t${numberLabel(p.threshold)}`),
  version: 1,
  description: 'z-score of the latest 1-minute return against the previous hour',
  params: { bars: 60, threshold: 3 },
  rules: { bars: { kind: 'int', min: 2, max: 10_000 }, threshold: { kind: 'number', min: 0 } },
  warmup: 'bars + 2 closed 1-minute bars',
  init: (p) => ({ prev: NaN, window: initRollingSum(p.bars), z: NaN }),
  onBar(s, bars) {
    if (Number.isNaN(s.prev)) {
      s.prev = bars.close;
      return;
    }
    const r = Math.log(bars.close / s.prev);
    s.prev = bars.close;
    s.z = NaN;
    if (rollingFull(s.window)) {
      const sd = Math.sqrt(rollingVariance(s.window) ?? 0);
      if (sd > 0) s.z = (r - rollingMean(s.window)!) / sd;
    }
    rollingPush(s.window, r);
  },
  value: (s) => (Number.isNaN(s.z) ? null : s.z),
  extras: { flag: (s, p) => flag(s.z, p.threshold) },
  kernels: [rollingPush, rollingMean, rollingVariance, rollingFull],
});

/**
 * Volume spike: the last closed 1-minute bar's volume over the mean volume of the previous `bars`
 * bars. Column `volume_spike_flag` is 1 when the ratio exceeds `threshold`.
 *
 * Warm-up: bars + 1 closed bars. Null when the previous bars traded nothing.
 * Reference: the definition, recomputed naively from the same bars (contract suite).
 */
export const volumeSpike = defineBarFactor({
  name: (p) => (p.bars === 60 && p.threshold === 3 ? 'volume_spike' : `volume_spike_${p.bars}m_t${numberLabel(p.threshold)}`),
  version: 1,
  description: 'Last 1-minute volume over the mean of the previous hour',
  params: { bars: 60, threshold: 3 },
  rules: { bars: { kind: 'int', min: 1, max: 10_000 }, threshold: { kind: 'number', min: 0 } },
  warmup: 'bars + 1 closed 1-minute bars',
  init: (p) => ({ window: initRollingSum(p.bars), ratio: NaN }),
  onBar(s, bars) {
    s.ratio = NaN;
    if (rollingFull(s.window)) {
      const m = rollingMean(s.window)!;
      if (m > 0) s.ratio = bars.volume / m;
    }
    rollingPush(s.window, bars.volume);
  },
  value: (s) => (Number.isNaN(s.ratio) ? null : s.ratio),
  extras: { flag: (s, p) => (Number.isNaN(s.ratio) ? null : s.ratio > p.threshold ? 1 : 0) },
  kernels: [rollingPush, rollingMean, rollingFull],
});

/**
 * Price collar: how far the latest trade is from the last 1-minute close, in units of recent
 * volatility: |ln(price / close)| / sigma, sigma = sqrt(mean of the last `bars` squared 1-minute
 * log returns). Column `price_collar_flag` is 1 when it exceeds `k` (a collar breach). Updated on
 * every trade, not only at bar closes.
 *
 * Warm-up: bars + 1 closed bars. Null when sigma is 0 (a frozen price has no volatility scale).
 * Reference: the definition, recomputed naively (contract suite).
 */
export const priceCollar = defineFactor({
  name: (p) => (p.bars === 20 && p.k === 4 ? 'price_collar' : `price_collar_${p.bars}m_k${numberLabel(p.k)}`),
  version: 1,
  description: 'Distance of the last trade from the last 1-minute close, in recent sigmas',
  params: { bars: 20, k: 4 },
  rules: { bars: { kind: 'int', min: 1, max: 10_000 }, k: { kind: 'number', min: 0 } },
  inputs: minuteBars.inputs,
  // moves on trades and bar closes only: a heartbeat that closes no bar is skipped
  derive: { from: minuteBars, when: 'fired-or-market' },
  warmup: 'bars + 1 closed 1-minute bars',
  init: (p) => ({ prev: NaN, sq: initRollingSum(p.bars), x: NaN }),
  update(s, ev, _p, bars: MinuteBars, closed) {
    if (closed) {
      if (!Number.isNaN(s.prev)) {
        const r = Math.log(bars.close / s.prev);
        rollingPush(s.sq, r * r);
      }
      s.prev = bars.close;
    }
    let x = s.x;
    if (ev.kind === 'trade' && rollingFull(s.sq) && bars.barsClosed > 0) {
      const sigma = Math.sqrt(Math.max(0, rollingSum(s.sq)) / rollingCount(s.sq));
      x = sigma > 0 ? Math.abs(Math.log(ev.price / bars.close)) / sigma : NaN;
      s.x = x;
    }
    return x === x ? x : null;
  },
  extras: { flag: (s, p) => flag(s.x, p.k) },
  source: [rollingPush, rollingSum, rollingCount, rollingFull],
});
