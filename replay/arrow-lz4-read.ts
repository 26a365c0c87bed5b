/**
 * Reads an LZ4-compressed Arrow IPC file (apache-arrow JS reads no compressed bodies) through
 * flechette with lz4-frame.ts's decoder: for tests and for readers of our own `.arrow` files.
 */
import { readFileSync } from 'node:fs';
import { CompressionType, setCompressionCodec, tableFromIPC } from '@uwdata/flechette';
import { lz4FrameCompress, lz4FrameDecompress } from './lz4-frame.ts';
import type { FactorTable } from './read-factor-table.ts';

setCompressionCodec(CompressionType.LZ4_FRAME, { encode: lz4FrameCompress, decode: lz4FrameDecompress });

/** Every cell of an Arrow IPC factor table (compressed or not), in FactorTable's shape. */
export function readCompressedArrow(path: string): FactorTable {
  const t = tableFromIPC(readFileSync(path), { useBigInt: true });
  const names = t.schema.fields.map((f) => f.name);
  const get = (name: string) => t.getChild(name).toArray() as unknown as ArrayLike<unknown>;
  const list = <T>(name: string) => Array.from(get(name)) as T[];
  // flechette's values of a timestamp column are ms numbers: read the int64 buffers themselves
  const big = (name: string) => t.getChild(name).data.flatMap((b) => Array.from((b as unknown as { values: BigInt64Array }).values.subarray(0, b.length)));
  return {
    columns: names,
    symbol: list<string>('symbol'),
    source: list<string>('source'),
    seq: big('seq'),
    tsEvent: big('ts_event'),
    tsRecv: big('ts_recv'),
    values: Object.fromEntries(names.slice(5).map((c) => [c, list<number | null>(c)])),
    metadata: new Map(t.schema.metadata ?? []),
  };
}
