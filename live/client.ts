/**
 * The read client for trading engines: `getOnlineFeatures({ symbols, features })` reads the
 * latest values of many symbols and features in one round trip (a pipeline of HMGETs; keys of
 * different shards are fine on a single node, and on Cluster ioredis splits the pipeline by slot).
 *
 * Each value comes with a status: `present` (fresh), `stale` (not refreshed within `maxAgeMs` of
 * wall-clock time since the worker computed it), or `missing` (never computed, warming up, or
 * expired), plus the event time and sequence of the row that produced it.
 */
import type { RedisClient } from './redis-connect.ts';
import { latestKey, SYMBOL_RE, type KeyLayout } from './keys.ts';
import { shardOf } from './shard.ts';

export type ValueStatus = 'present' | 'stale' | 'missing';

export interface FeatureValue {
  value: number | null;
  status: ValueStatus;
}

export interface SymbolFeatures {
  symbol: string;
  /** ts_event of the input event whose row set these values (epoch ns), null if none. */
  tsEvent: bigint | null;
  seq: bigint | null;
  /** Wall-clock ms when the worker computed the row. */
  computedAt: number | null;
  featureSetVersion: string | null;
  features: Record<string, FeatureValue>;
}

export interface OnlineQuery {
  symbols: readonly string[];
  features: readonly string[];
  /** Values older than this (ms since computed) are `stale`. Default 5000. */
  maxAgeMs?: number;
  /** Injected clock for tests. */
  now?: number;
}

export const FEATURE_RE = /^[a-z][a-z0-9_]{0,63}$/;

export class QueryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QueryError';
  }
}

export function validateQuery(q: OnlineQuery, limits = { symbols: 1000, features: 256 }): void {
  if (q.symbols.length === 0) throw new QueryError('symbols: at least one symbol is required');
  if (q.features.length === 0) throw new QueryError('features: at least one feature is required');
  if (q.symbols.length > limits.symbols) throw new QueryError(`symbols: at most ${limits.symbols} per request, got ${q.symbols.length}`);
  if (q.features.length > limits.features) throw new QueryError(`features: at most ${limits.features} per request, got ${q.features.length}`);
  for (const s of q.symbols) if (!SYMBOL_RE.test(s)) throw new QueryError(`symbols: invalid symbol ${JSON.stringify(s)}`);
  for (const f of q.features) if (!FEATURE_RE.test(f)) throw new QueryError(`features: invalid feature name ${JSON.stringify(f)}`);
}

const META = ['_te', '_seq', '_at', '_fsv'];

export async function getOnlineFeatures(r: RedisClient, keys: KeyLayout, q: OnlineQuery): Promise<SymbolFeatures[]> {
  validateQuery(q);
  const fields = [...META, ...q.features];
  // one pipeline per shard (one slot each on Cluster), all sent at once: one round trip
  const byShard = new Map<number, number[]>();
  q.symbols.forEach((s, i) => {
    const sh = shardOf(s, keys.shards);
    const l = byShard.get(sh);
    if (l) l.push(i);
    else byShard.set(sh, [i]);
  });
  const res: [Error | null, unknown][] = new Array(q.symbols.length);
  await Promise.all(
    [...byShard.values()].map(async (idx) => {
      const p = r.pipeline();
      for (const i of idx) p.hmget(latestKey(keys, q.symbols[i]), ...fields);
      const out = (await p.exec()) ?? [];
      idx.forEach((i, j) => (res[i] = out[j] as [Error | null, unknown]));
    }),
  );
  const now = q.now ?? Date.now();
  const maxAge = q.maxAgeMs ?? 5000;
  return q.symbols.map((symbol, i) => {
    const [err, vals] = res[i] ?? [new Error('no reply'), null];
    if (err) throw err;
    const v = vals as (string | null)[];
    const at = v[2] === null ? null : Number(v[2]);
    const stale = at === null || now - at > maxAge;
    const features: Record<string, FeatureValue> = {};
    q.features.forEach((f, j) => {
      const raw = v[META.length + j];
      const value = raw === null || raw === '' ? null : Number(raw);
      features[f] = { value, status: value === null ? 'missing' : stale ? 'stale' : 'present' };
    });
    return {
      symbol,
      tsEvent: v[0] === null ? null : BigInt(v[0]),
      seq: v[1] === null ? null : BigInt(v[1]),
      computedAt: at,
      featureSetVersion: v[3],
      features,
    };
  });
}
