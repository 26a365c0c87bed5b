import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withParams } from '../core/factor.ts';
import { DEFAULT_FACTORS } from '../core/registry.ts';
import { generateDay } from '../datasets/generate.ts';
import { runReplay } from '../replay/run-replay.ts';

const FIXTURE_DATE = '2024-03-15';
import { cellsAgree, diffTables, parseTolerance, ulpDistance, type DiffTable } from './diff.ts';
import { loadTable } from './load-table.ts';

const ROOT = resolve(new URL('..', import.meta.url).pathname);
let dir: string;
const cli = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin/lockstep.js'), ...args], { encoding: 'utf8', cwd: ROOT });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lockstep-parity-'));
  await generateDay({ date: FIXTURE_DATE, symbols: 2, seed: 3, preset: 'tiny', out: join(dir, 'cat') });
  await runReplay({ catalog: join(dir, 'cat'), date: FIXTURE_DATE, out: join(dir, 'a.parquet'), progress: false });
  await runReplay({ catalog: join(dir, 'cat'), date: FIXTURE_DATE, out: join(dir, 'b.parquet'), progress: false });
  // injected skew: the "live side" has a bug, its ma_5m averages 6 bars. withParams cannot do
  // that (the 6-bar average is named ma_6m), so the bug is a 6-bar factor relabelled by hand
  const ma6 = withParams(DEFAULT_FACTORS.find((f) => f.name === 'ma_5m')!, { bars: 6 });
  const skewed = DEFAULT_FACTORS.map((f) => (f.name === 'ma_5m' ? { ...ma6, name: 'ma_5m', columns: ['ma_5m'] } : f));
  await runReplay({ catalog: join(dir, 'cat'), date: FIXTURE_DATE, out: join(dir, 'skew.parquet'), factors: skewed, progress: false });
  // a parameter change done properly: the 6-bar average comes out as ma_6m
  const renamed = DEFAULT_FACTORS.map((f) => (f.name === 'ma_5m' ? ma6 : f));
  await runReplay({ catalog: join(dir, 'cat'), date: FIXTURE_DATE, out: join(dir, 'renamed.parquet'), factors: renamed, progress: false });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('parity diff', () => {
  it('two replays of the same day are at parity, bit for bit', async () => {
    const r = diffTables(await loadTable(join(dir, 'a.parquet')), await loadTable(join(dir, 'b.parquet')));
    expect(r.verdict).toBe('parity');
    expect(r.mismatchedCells).toBe(0);
    expect(r.matchedRows).toBe(r.rowsA);
  });

  it('catches an injected skew (another window) and pinpoints the first divergent event', async () => {
    const A = await loadTable(join(dir, 'a.parquet'));
    const r = diffTables(A, await loadTable(join(dir, 'skew.parquet')));
    expect(r.verdict).toBe('skew');
    const ma = r.factors.find((f) => f.factor === 'ma_5m')!;
    expect(ma.mismatched).toBeGreaterThan(0);
    expect(r.factors.filter((f) => f.mismatched > 0).map((f) => f.factor)).toEqual(['ma_5m']);
    // the first divergence is the first row where a 5-bar average exists (the 6-bar one is null)
    const firstMa = A.values.ma_5m.findIndex((v) => v !== null);
    const d = r.firstDivergencePerSymbol[0];
    expect(BigInt(d.tsRecv)).toBe(A.tsRecv[firstMa]);
    expect(d.factor).toBe('ma_5m');
    expect(d.b).toBeNull();
  });

  it('a parameter change shows as a column on each side (the name follows the parameters)', async () => {
    const r = diffTables(await loadTable(join(dir, 'a.parquet')), await loadTable(join(dir, 'renamed.parquet')));
    expect(r.verdict).toBe('skew');
    expect([r.columnsOnlyInA, r.columnsOnlyInB]).toEqual([['ma_5m'], ['ma_6m']]);
    expect(r.mismatchedCells).toBe(0);
    expect(r.onlyInA + r.onlyInB).toBe(0);
    // the same 6-bar values as the relabelled skew: only the name differs
    expect((await loadTable(join(dir, 'renamed.parquet'))).values.ma_6m).toEqual((await loadTable(join(dir, 'skew.parquet'))).values.ma_5m);
  });

  it('tolerances, NaN, signed zero and missing rows', () => {
    expect(cellsAgree(NaN, NaN, { kind: 'exact' })).toBe(true);
    expect(cellsAgree(0, -0, { kind: 'exact' })).toBe(false);
    expect(cellsAgree(1, 1 + 2 ** -52, { kind: 'exact' })).toBe(false);
    expect(ulpDistance(1, 1 + 2 ** -52)).toBe(1n);
    expect(ulpDistance(-0, 0)).toBe(0n);
    expect(cellsAgree(1, 1 + 2 ** -52, parseTolerance('ulp:1'))).toBe(true);
    expect(cellsAgree(100, 100.5, parseTolerance('abs:1'))).toBe(true);
    expect(cellsAgree(100, 101, parseTolerance('rel:1e-3'))).toBe(false);
    expect(cellsAgree(null, 0, parseTolerance('abs:1'))).toBe(false);
    expect(() => parseTolerance('ulp:1.5')).toThrow(/invalid tolerance/);
    const t = (seqs: number[], v: (number | null)[]): DiffTable => ({ columns: ['x'], symbol: seqs.map(() => 'A'), source: seqs.map(() => 'trade'), seq: seqs.map(BigInt), tsRecv: seqs.map(BigInt), values: { x: v } });
    const r = diffTables(t([1, 2, 3], [0, 1, 2]), t([2, 3, 4], [1, 2, 3]));
    expect([r.onlyInA, r.onlyInB, r.verdict]).toEqual([1, 1, 'skew']);
    expect(r.onlyInASample).toEqual(['A/trade/1']);
    const z = diffTables(t([1], [0]), t([1], [-0]));
    expect(z.factors[0].signedZero).toBe(1);
  });

  it('the mismatch timeline spans the last day from its first row, not from midnight, when earlier point-in-time rows are in the table', () => {
    const DAY = 86_400_000_000_000n;
    const day = 19_797n * DAY; // 2024-03-15
    const open = day + 13n * 3_600_000_000_000n + 30n * 60_000_000_000n; // 13:30 UTC
    // an old fundamentals row 40 days earlier, then the day's rows from 13:30 on
    const ts = [day - 40n * DAY, open, open + 1_000_000_000n, open + 3_600_000_000_000n];
    const t = (v: number[]): DiffTable => ({ columns: ['x'], symbol: ts.map(() => 'A'), source: ts.map(() => 'trade'), seq: ts.map((_, i) => BigInt(i)), tsRecv: ts, values: { x: v } });
    const r = diffTables(t([0, 1, 2, 3]), t([0, 1, 2, 9]));
    expect(r.timeline.fromNs).toBe(open.toString());
    expect(r.timeline.toNs).toBe(ts[3].toString());
    expect(r.timeline.buckets.at(-1)).toBe(1);
  });

  it('a researcher\'s CSV is compared like any table', async () => {
    const A = await loadTable(join(dir, 'a.parquet'));
    const header = ['symbol', 'source', 'seq', 'ts_recv', 'last_price'];
    const lines = [header.join(',')];
    for (let i = 0; i < A.seq.length; i++) lines.push([A.symbol[i], A.source[i], A.seq[i], A.tsRecv[i], A.values.last_price[i] ?? ''].join(','));
    writeFileSync(join(dir, 'ref.csv'), lines.join('\n'));
    const only = { ...A, values: { last_price: A.values.last_price } };
    expect(diffTables(only, await loadTable(join(dir, 'ref.csv'))).verdict).toBe('parity');
  });

  it('the CLI exits 0 on parity, 1 on skew (with a JSON report), 2 on bad input', () => {
    expect(cli('parity', 'diff', join(dir, 'a.parquet'), join(dir, 'b.parquet')).status).toBe(0);
    const skew = cli('parity', 'diff', join(dir, 'a.parquet'), join(dir, 'skew.parquet'), '--json', join(dir, 'r.json'), '--report', join(dir, 'r.html'));
    expect(skew.status).toBe(1);
    const html = readFileSync(join(dir, 'r.html'), 'utf8');
    expect(html).toMatch(/<h1 class="skew">SKEW<\/h1>/);
    expect(html).toMatch(/<svg[\s\S]*<rect[\s\S]*fill="#c0392b"/);
    const json = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8'));
    expect(json.timeline.buckets.reduce((x: number, y: number) => x + y, 0)).toBeGreaterThan(0);
    expect(skew.stdout).toMatch(/^SKEW: /);
    expect(skew.stdout).toMatch(/first divergence per symbol/);
    const tolerated = cli('parity', 'diff', join(dir, 'a.parquet'), join(dir, 'skew.parquet'), '--factor-tolerance', 'ma_5m=abs:1e9');
    expect(tolerated.status).toBe(1); // nulls vs values still differ: warm-up is part of the contract
    const renamed = cli('parity', 'diff', join(dir, 'a.parquet'), join(dir, 'renamed.parquet'));
    expect(renamed.status).toBe(1);
    expect(renamed.stdout).toMatch(/columns only in A: ma_5m; only in B: ma_6m/);
    expect(cli('parity', 'diff', join(dir, 'a.parquet'), join(dir, 'nope.parquet')).status).toBe(2);
    expect(cli('parity', 'diff', join(dir, 'a.parquet'), join(dir, 'b.parquet'), '--tolerance', 'fuzzy').status).toBe(2);
  });
});
