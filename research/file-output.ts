/**
 * How `replayDay` and `trainingSet` hand back what a command writes: the command writes its
 * Parquet file (into a temporary directory unless the caller keeps it at `out`), the file is read
 * back as one Arrow table, and the temporary directory is removed, whatever happened.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Table } from 'apache-arrow';
import { openSource } from './columnar-source.ts';

/** Runs `write(path)` and returns the Parquet file it wrote as an Arrow table (`prefix` names the temporary directory). */
export async function writtenTable(out: string | undefined, prefix: string, name: string, write: (path: string) => Promise<void>): Promise<Table> {
  const dir = out === undefined ? mkdtempSync(join(tmpdir(), prefix)) : undefined;
  const path = out ?? join(dir!, name);
  try {
    await write(path);
    const src = await openSource(path, path);
    try {
      return await src.readAll();
    } finally {
      src.close();
    }
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}
