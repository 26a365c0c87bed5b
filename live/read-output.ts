/**
 * Reads a deployment's output streams back as rows keyed by input event identity, for parity
 * capture and tests. Values keep their exact float64 (the wire uses shortest round-trip decimals).
 */
import type { RedisClient } from './redis-connect.ts';
import { metaKey, outputStream, type KeyLayout } from './keys.ts';

export interface OutputRow {
  symbol: string;
  source: string;
  seq: bigint;
  tsEvent: bigint;
  tsRecv: bigint;
  /** Input stream entry that produced the row. */
  input: string;
  values: (number | null)[];
}

export async function readOutputRows(r: RedisClient, keys: KeyLayout): Promise<{ columns: string[]; rows: OutputRow[] }> {
  const columns = ((await r.hget(metaKey(keys), 'columns')) ?? '').split(',').filter(Boolean);
  const rows: OutputRow[] = [];
  for (let s = 0; s < keys.shards; s++) {
    let from = '-';
    for (;;) {
      const batch = (await r.xrange(outputStream(keys, s), from, '+', 'COUNT', 5000)) as [string, string[]][];
      if (batch.length === 0) break;
      for (const [, f] of batch) {
        const m = new Map<string, string>();
        for (let i = 0; i + 1 < f.length; i += 2) m.set(f[i], f[i + 1]);
        rows.push({
          symbol: m.get('sym')!,
          source: m.get('src')!,
          seq: BigInt(m.get('q')!),
          tsEvent: BigInt(m.get('te')!),
          tsRecv: BigInt(m.get('tr')!),
          input: m.get('in')!,
          values: m.get('v')!.split(',').map((x) => (x === '' ? null : Number(x))),
        });
      }
      from = `(${batch[batch.length - 1][0]}`;
    }
  }
  return { columns, rows };
}
