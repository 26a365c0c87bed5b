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
      for (const [, f] of batch) rows.push(parseRow(f[f.indexOf('r') + 1]));
      from = `(${batch[batch.length - 1][0]}`;
    }
  }
  return { columns, rows };
}

/** Parses one output row (worker.ts encodeRow). */
export function parseRow(r: string): OutputRow {
  const [symbol, source, seq, te, tr, input, v] = r.split('|');
  return { symbol, source, seq: BigInt(seq), tsEvent: BigInt(te), tsRecv: BigInt(tr), input, values: v.split(',').map((x) => (x === '' ? null : Number(x))) };
}
