/**
 * Loads a whole factor table into memory for the diff's in-memory API (`diffTables`), `parity
 * run` (which also hashes both tables) and tests: a Parquet file (a replay's output), a CSV file
 * with the same columns (e.g. written by a researcher's pandas or polars code), or a live
 * deployment's output streams (`redis://host:port/?ns=ls&shards=4`). The CLI's `parity diff`
 * streams the same sources instead (row-source.ts), so table size does not bound it.
 */
import type { DiffTable } from './diff.ts';
import { collectTable, openRowSource } from './row-source.ts';

export async function loadTable(src: string): Promise<DiffTable> {
  const s = await openRowSource(src);
  try {
    return await collectTable(s);
  } finally {
    await s.close();
  }
}
