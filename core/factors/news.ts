import { decayedAdd, decayedMean, initDecayedEwm } from '../kernels/ewm.ts';
import { timeWindowCount, type TimeWindow } from '../kernels/time-window.ts';
import { defineFactor, numberLabel } from '../factor.ts';
import { newsFlow } from './flow-windows.ts';

/**
 * News sentiment EWMA: the time-decayed mean of sentiment scores, weight 2^(-age / half-life)
 * with age in event time (ts_event of the news = publication time). Between news items the value
 * holds (decay changes weights, not the mean of a single item). A late item (ts_event earlier than
 * the latest seen) counts as published at the latest time seen: weights never grow back in time.
 *
 * Warm-up: one news item. Reference: the definition, recomputed naively (contract suite).
 */
export const newsSentiment = defineFactor({
  // the conventional half-life goes unsaid; any other is spelled out
  name: (p) => (p.halfLifeMinutes === 30 ? 'news_sentiment' : `news_sentiment_hl${numberLabel(p.halfLifeMinutes)}m`),
  version: 1,
  description: 'Time-decayed mean news sentiment',
  params: { halfLifeMinutes: 30 },
  rules: { halfLifeMinutes: { kind: 'number', min: 0.001, max: 1e6 } },
  inputs: ['news'],
  warmup: 'one news item',
  init: (p) => initDecayedEwm(p.halfLifeMinutes * 60e9),
  update(s, ev) {
    if (ev.kind === 'news') decayedAdd(s, ev.tsEvent, ev.sentiment);
    return decayedMean(s);
  },
  source: [decayedAdd, decayedMean],
});

/**
 * Number of news items (mentions) published in the trailing `minutes` of event time.
 * Heartbeats advance the window so old mentions drop out in quiet periods. A late item counts as
 * published at the latest time seen (the window evicts in arrival order).
 *
 * Warm-up: none after the first news item or heartbeat (0 mentions is a real value).
 * Reference: a naive count over the window (contract suite).
 */
export const newsCount = defineFactor({
  name: (p) => `news_count_${p.minutes}m`,
  version: 1,
  description: 'News items in the trailing window',
  params: { minutes: 60 },
  rules: { minutes: { kind: 'int', min: 1, max: 100_000 } },
  inputs: ['news', 'heartbeat'],
  // the trailing window is the shared news flow of that length: heartbeats that evict nothing skip this
  derive: (p) => ({ from: newsFlow(p.minutes), when: 'fired' }),
  warmup: 'none',
  init: () => ({}),
  update: (_s, _ev, _p, flow: TimeWindow) => timeWindowCount(flow),
  source: [timeWindowCount],
});
