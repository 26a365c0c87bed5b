/**
 * Where the real-data tests find the recorded market data: `$LOCKSTEP_REAL_DATA` when set, else
 * `../shared/data/real` next to the repository. A suite whose data is not there is skipped, and
 * says so once, on stderr, with the path it looked for and how to point it elsewhere: a run on a
 * machine without the data shows which tests it did not run instead of passing in silence.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The environment variable naming the real-data folder. */
export const REAL_DATA_ENV = 'LOCKSTEP_REAL_DATA';

const REPO = resolve(fileURLToPath(new URL('..', import.meta.url)));

/** The real-data folder: `$LOCKSTEP_REAL_DATA`, else `../shared/data/real` beside the repository. */
export function realDataDir(): string {
  const env = process.env[REAL_DATA_ENV];
  return env ? resolve(env) : resolve(REPO, '../shared/data/real');
}

const told = new Set<string>();

/**
 * The real-data files a suite needs (`paths` relative to the real-data folder; '' for the folder
 * itself): `present` when every one exists. When one is missing it prints, once per suite,
 * `[real data] skipped "<suite>": <path> not found (...)`.
 */
export function realData(suite: string, ...paths: string[]): { dir: string; path: (...p: string[]) => string; present: boolean } {
  const dir = realDataDir();
  const path = (...p: string[]) => join(dir, ...p);
  const missing = (paths.length > 0 ? paths : ['']).map((p) => path(p)).find((p) => !existsSync(p));
  if (missing !== undefined && !told.has(suite)) {
    told.add(suite);
    const where = process.env[REAL_DATA_ENV] ? `${REAL_DATA_ENV}=${process.env[REAL_DATA_ENV]}` : `${REAL_DATA_ENV} is not set, so the default ../shared/data/real`;
    console.warn(`[real data] skipped "${suite}": ${missing} not found (${where}; set ${REAL_DATA_ENV} to the folder holding the recorded data to run it)`);
  }
  return { dir, path, present: missing === undefined };
}
