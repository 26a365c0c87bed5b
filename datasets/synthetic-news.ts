/**
 * Synthetic news for one symbol: a few items scattered through the session with mild sentiment,
 * plus clusters after events (an earnings announcement, a price gap) whose sentiment leans the
 * way the event went.
 */
import type { NewsEvent } from '../core/events.ts';
import type { RowExtras } from '../replay/catalog.ts';
import { intBetween, uniform, type Rng } from './prng.ts';
import { NS_PER_SECOND, SESSION_NS } from './synthetic-plan.ts';

export type NewsRow = NewsEvent & RowExtras;

export interface NewsCluster {
  /** Epoch ns of the event the news follows. */
  atNs: bigint;
  /** Mean sentiment of the cluster, in [-1, 1]. */
  bias: number;
  count: number;
  /** Headline text after the symbol, e.g. "beats estimates". */
  topic: string;
}

const TOPICS = ['analyst note', 'sector update', 'conference remarks', 'options activity', 'industry report', 'management interview'];

/** News rows in ts_event order with seq 1.. . */
export function newsFor(r: Rng, symbol: string, openNs: bigint, clusters: readonly NewsCluster[]): NewsRow[] {
  const items: { tsEvent: bigint; sentiment: number; headline: string }[] = [];
  const background = intBetween(r, 2, 5);
  for (let i = 0; i < background; i++) {
    const t = openNs + BigInt(Math.floor(uniform(r) * SESSION_NS));
    const sentiment = roundSentiment(0.6 * (uniform(r) + uniform(r) - 1));
    items.push({ tsEvent: t, sentiment, headline: `${symbol} ${TOPICS[intBetween(r, 0, TOPICS.length - 1)]}` });
  }
  for (const c of clusters) {
    for (let i = 0; i < c.count; i++) {
      // follow-ups land 5 s – 20 min after the event
      const t = c.atNs + BigInt(5 * NS_PER_SECOND + Math.floor(uniform(r) * 1195 * NS_PER_SECOND));
      const sentiment = roundSentiment(c.bias + 0.4 * (uniform(r) + uniform(r) - 1));
      items.push({ tsEvent: t, sentiment, headline: `${symbol} ${c.topic}` });
    }
  }
  items.sort((a, b) => (a.tsEvent < b.tsEvent ? -1 : a.tsEvent > b.tsEvent ? 1 : 0));
  return items.map((it, i) => ({
    kind: 'news',
    tsEvent: it.tsEvent,
    // 1–200 ms from publication to receipt
    tsRecv: it.tsEvent + BigInt(1_000_000 + Math.floor(uniform(r) * 199_000_000)),
    symbol,
    seq: BigInt(i + 1),
    sentiment: it.sentiment,
    headline: it.headline,
    provider: 'lockstep-synthetic',
  }));
}

/** Clamped to [-1, 1] and rounded to 0.001 so the value prints cleanly. */
function roundSentiment(x: number): number {
  const c = x < -1 ? -1 : x > 1 ? 1 : x;
  return Math.round(c * 1000) / 1000;
}
