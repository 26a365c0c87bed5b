/**
 * Symbol → shard: FNV-1a 32 of the symbol's UTF-8 bytes, mod the shard count. Stable across
 * processes, machines and versions: the feed, the workers and the read client must agree on it.
 */
export function shardOf(symbol: string, shards: number): number {
  let h = 0x811c9dc5;
  const bytes = new TextEncoder().encode(symbol);
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i];
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % shards;
}
