import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** Create the directory an output file goes into, so `--out new/dir/f.parquet` just works. */
export function ensureParent(path: string): void {
  mkdirSync(dirname(resolve(path)), { recursive: true });
}
