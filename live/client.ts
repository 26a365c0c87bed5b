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
import { latestKey, metaKey, SYMBOL_RE, type KeyLayout } from './keys.ts';
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

/** Column order of a deployment's rows (from `<ns>:meta`), cached per namespace and feature set. */
const columnCache = new Map<string, { fsv: string; index: Map<string, number> }>();

async function columnIndex(r: RedisClient, keys: KeyLayout, fsv: string | null): Promise<Map<string, number>> {
  const cached = columnCache.get(keys.ns);
  if (cached && (fsv === null || cached.fsv === fsv)) return cached.index;
  const [cols, version] = await r.hmget(metaKey(keys), 'columns', 'featureSetVersion');
  const index = new Map((cols ?? '').split(',').filter(Boolean).map((c, i) => [c, i]));
  columnCache.set(keys.ns, { fsv: version ?? '', index });
  return index;
}

/**
 * Reads each symbol's packed latest row (`_row`: ts_event|ts_recv|seq|source|computed-at ms|
 * feature-set version|v1,v2,...) with one HGET per symbol, pipelined per shard and sent together:
 * one round trip, and one short reply per symbol instead of one per feature.
 */
export async function getOnlineFeatures(r: RedisClient, keys: KeyLayout, q: OnlineQuery): Promise<SymbolFeatures[]> {
  validateQuery(q);
  const byShard = new Map<number, number[]>();
  q.symbols.forEach((s, i) => {
    const sh = shardOf(s, keys.shards);
    const l = byShard.get(sh);
    if (l) l.push(i);
    else byShard.set(sh, [i]);
  });
  const rows: (string | null)[] = new Array(q.symbols.length).fill(null);
  await Promise.all(
    [...byShard.values()].map(async (idx) => {
      const p = r.pipeline();
      for (const i of idx) p.hget(latestKey(keys, q.symbols[i]), '_row');
      const out = (await p.exec()) ?? [];
      idx.forEach((i, j) => {
        const [err, v] = out[j] ?? [new Error('no reply'), null];
        if (err) throw err;
        rows[i] = v as string | null;
      });
    }),
  );
  const now = q.now ?? Date.now();
  const maxAge = q.maxAgeMs ?? 5000;
  const firstFsv = rows.find((x) => x !== null)?.split('|', 6)[5] ?? null;
  let index = await columnIndex(r, keys, firstFsv);
  return Promise.all(
    q.symbols.map(async (symbol, i) => {
      const raw = rows[i];
      const features: Record<string, FeatureValue> = {};
      if (raw === null) {
        for (const f of q.features) features[f] = { value: null, status: 'missing' };
        return { symbol, tsEvent: null, seq: null, computedAt: null, featureSetVersion: null, features };
      }
      const parts = raw.split('|');
      const [te, , seq, , at, fsv, packed] = parts;
      if (columnCache.get(keys.ns)?.fsv !== fsv) index = await columnIndex(r, keys, fsv);
      const values = packed.split(',');
      const computedAt = Number(at);
      const stale = now - computedAt > maxAge;
      for (const f of q.features) {
        const k = index.get(f);
        const rawV = k === undefined ? '' : (values[k] ?? '');
        const value = rawV === '' ? null : Number(rawV);
        features[f] = { value, status: value === null ? 'missing' : stale ? 'stale' : 'present' };
      }
      return { symbol, tsEvent: BigInt(te), seq: BigInt(seq), computedAt, featureSetVersion: fsv, features };
    }),
  );
}
