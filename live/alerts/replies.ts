/** Reading ioredis replies of streams and hashes as the alert snapshot and readers need them. */
import type { RedisClient } from '../redis-connect.ts';

/** A stream entry as ioredis returns it: ID and flat field/value list. */
export type Entry = [string, string[]];

export const isCluster = (r: RedisClient) => (r as { isCluster?: boolean }).isCluster === true;

/** The first entry of an XRANGE / XREVRANGE reply, or null. */
export const firstEntry = (v: unknown): Entry | null => (Array.isArray(v) && v.length > 0 ? (v[0] as Entry) : null);

/** A field of an entry, or null. */
export const field = (e: Entry | null, name: string): string | null => {
  const f = e?.[1] ?? [];
  for (let i = 0; i + 1 < f.length; i += 2) if (f[i] === name) return f[i + 1];
  return null;
};

/** A flat `[k1, v1, k2, v2, ...]` reply (XINFO) as an object. */
export const pairs = (a: unknown): Record<string, unknown> => {
  const o: Record<string, unknown> = {};
  if (Array.isArray(a)) for (let i = 0; i + 1 < a.length; i += 2) o[String(a[i])] = a[i + 1];
  return o;
};
