/**
 * Factor columns named like Object.prototype's members (`__proto__`, `constructor`, `toString`):
 * a per-column tolerance applies to its own column and to no other (issue 21 #10: the tolerance
 * record is prototype-free and looked up by own keys only), through the real CLI and the library.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { factorTableSpecs } from '../replay/factor-table-sink.ts';
import { encodeParquet } from '../replay/parquet-io.ts';
import { diffTables, type DiffTable } from './diff.ts';
import { parseTolerance } from './tolerance.ts';

const ROOT = resolve(new URL('..', import.meta.url).pathname);
const COLS = ['__proto__', 'constructor', 'toString', 'x'];
let dir: string;

/** Four rows of A; B is A plus `delta` in every cell. */
function table(delta: number): DiffTable {
  const values: Record<string, (number | null)[]> = Object.create(null);
  for (const c of COLS) values[c] = [1, 2, 3, 4].map((v) => v + delta);
  return { columns: COLS, symbol: ['A', 'A', 'A', 'A'], source: ['trade', 'trade', 'trade', 'trade'], seq: [1n, 2n, 3n, 4n], tsRecv: [1n, 2n, 3n, 4n], values };
}

function writeTable(file: string, t: DiffTable): void {
  const n = t.seq.length;
  const data: Parameters<typeof encodeParquet>[1] = Object.create(null);
  Object.assign(data, { symbol: t.symbol, source: t.source, seq: BigInt64Array.from(t.seq), ts_event: BigInt64Array.from(t.tsRecv), ts_recv: BigInt64Array.from(t.tsRecv) });
  for (const c of COLS) data[c] = t.values[c];
  writeFileSync(file, encodeParquet(factorTableSpecs(COLS), data, n));
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lockstep-proto-cols-'));
  writeTable(join(dir, 'a.parquet'), table(0));
  writeTable(join(dir, 'b.parquet'), table(0.5));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const diff = (...extra: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin/lockstep.js'), 'parity', 'diff', join(dir, 'a.parquet'), join(dir, 'b.parquet'), '--json', join(dir, 'r.json'), ...extra], { encoding: 'utf8', cwd: ROOT });

describe('per-column tolerances on columns named like Object.prototype members', () => {
  it('`parity diff --factor-tolerance __proto__=abs:1` tolerates that column only', () => {
    const r = diff('--factor-tolerance', '__proto__=abs:1', '--factor-tolerance', 'constructor=abs:1', '--factor-tolerance', 'toString=abs:1');
    expect(r.stderr).not.toMatch(/error|invalid/i);
    // x has no tolerance of its own: its 4 cells differ, and only those
    expect(r.status).toBe(1);
    const report = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8')) as { mismatchedCells: number; factors: { factor: string; tolerance: string; mismatched: number }[] };
    expect(report.factors.map((f) => [f.factor, f.tolerance, f.mismatched])).toEqual([['__proto__', 'abs:1', 0], ['constructor', 'abs:1', 0], ['toString', 'abs:1', 0], ['x', 'exact', 4]]);
    expect(diff('--factor-tolerance', '__proto__=abs:1', '--factor-tolerance', 'constructor=abs:1', '--factor-tolerance', 'toString=abs:1', '--factor-tolerance', 'x=abs:1').status).toBe(0);
  });

  it('a plain-object tolerance record (the library) gives the other columns the default, not a prototype member', () => {
    const report = diffTables(table(0), table(0.5), { factorTolerance: { x: parseTolerance('abs:1') } });
    expect(report.factors.map((f) => [f.factor, f.tolerance, f.mismatched])).toEqual([['__proto__', 'exact', 4], ['constructor', 'exact', 4], ['toString', 'exact', 4], ['x', 'abs:1', 0]]);
  });
});
