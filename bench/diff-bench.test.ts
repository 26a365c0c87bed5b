/**
 * The diff bench's tables at 200k rows: real Parquet files written by the real writer with
 * injected differences, out-of-order rows and rows only on one side; the streaming diff finds
 * exactly the injected differences (checked against the in-memory oracle), in-process and via
 * the CLI.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatDiff } from '../parity/diff.ts';
import { openParquetSource, openRowSource, type RowSource } from '../parity/row-source.ts';
import { diffSources } from '../parity/stream-diff.ts';
import { referenceDiff } from '../testing/reference-diff.ts';
import { checkReport, injections, writeTables } from './diff-bench.ts';

const ROOT = resolve(new URL('..', import.meta.url).pathname);

describe('streaming diff of 200k-row Parquet tables (real writer, injected differences)', () => {
  const ROWS = 200_000;
  let dir: string;
  let keys: Awaited<ReturnType<typeof writeTables>>;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lockstep-stream-diff-'));
    keys = await writeTables(ROWS, join(dir, 'a.parquet'), join(dir, 'b.parquet'));
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const open = async (decodeInWorker: boolean): Promise<[RowSource, RowSource]> => [await openParquetSource(join(dir, 'a.parquet'), { decodeInWorker }), await openParquetSource(join(dir, 'b.parquet'), { decodeInWorker })];

  it('finds exactly the injected differences; swapped and moved rows match through the window', async () => {
    for (const inWorker of [true, false]) {
      const [A, B] = await open(inWorker);
      const { report, stats } = await diffSources(A, B);
      expect(checkReport(report, ROWS, keys)).toEqual([]);
      expect(stats.passes).toBe(1);
      expect(stats.windowMatches).toBe(2); // the swapped pair's first row and the moved row
      expect(stats.headMatches).toBe(ROWS - 3);
      // the orders agree: only the deleted, extra and displaced rows ever wait
      expect(stats.windowHighWater).toBeLessThanOrEqual(4);
      expect(report.onlyInASample).toEqual([keys.deletedKey]);
      const moved = injections(ROWS).moved.row;
      expect(moved).toBeGreaterThan(0);
    }
  });

  it('a table against itself: parity, every row head to head', async () => {
    const A = await openRowSource(join(dir, 'a.parquet'));
    const { report, stats } = await diffSources(A, A);
    expect(report.verdict).toBe('parity');
    expect(report.matchedRows).toBe(ROWS);
    expect(stats).toMatchObject({ passes: 1, windowHighWater: 0, headMatches: ROWS });
  });

  it('the CLI streams it: exit 1, the same report as the in-memory diff, stats on stderr', async () => {
    const run = spawnSync(process.execPath, [join(ROOT, 'bin/lockstep.js'), 'parity', 'diff', join(dir, 'a.parquet'), join(dir, 'b.parquet'), '--json', join(dir, 'r.json')], { encoding: 'utf8', cwd: ROOT });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/1 pass; unmatched window high-water [0-4] rows/);
    const { loadTable } = await import('../parity/load-table.ts');
    const want = referenceDiff(await loadTable(join(dir, 'a.parquet')), await loadTable(join(dir, 'b.parquet')));
    expect(run.stdout.trimEnd()).toBe(formatDiff(want));
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(join(dir, 'r.json'), 'utf8')).toBe(JSON.stringify(want, null, 2));
  }, 60_000);
});
