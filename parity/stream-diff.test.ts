/**
 * The streaming diff: same reports as the in-memory hash join it replaced (kept as the oracle in
 * testing/reference-diff.ts), whatever the row order, batch size or retirement threshold;
 * bounded windows when the orders agree. The 200k-row run over Parquet files written by the diff
 * bench's table writer is in bench/diff-bench.test.ts (the writer lives in bench/).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { factorTableSpecs } from '../replay/factor-table-sink.ts';
import { encodeParquet } from '../replay/parquet-io.ts';
import { referenceDiff } from '../testing/reference-diff.ts';
import { diffTables, formatDiff, type DiffOptions, type DiffReport, type DiffTable } from './diff.ts';
import { openRowSource, tableBatches } from './row-source.ts';
import { diffBatchesSync, diffSources, type StreamDiffOptions } from './stream-diff.ts';
import { parseTolerance } from './tolerance.ts';
import { compareRowKey } from '../core/row-key.ts';

const ROOT = resolve(new URL('..', import.meta.url).pathname);

/** Streaming diff of in-memory tables with a chosen batch size and retirement threshold. */
function streamDiff(a: DiffTable, b: DiffTable, opts: StreamDiffOptions, batchRows: number) {
  const side = (t: DiffTable) => ({ factorColumns: Object.keys(t.values), batches: () => tableBatches(t, batchRows) });
  return diffBatchesSync(side(a), side(b), opts);
}

const sameReport = (got: DiffReport, want: DiffReport) => {
  expect(JSON.stringify(got, null, 2)).toBe(JSON.stringify(want, null, 2));
  expect(got).toStrictEqual(want);
  expect(formatDiff(got)).toBe(formatDiff(want));
};

const SOURCES = ['heartbeat', 'news', 'quote', 'trade'];

/** A table in replay order with unique keys; `n` rows, cells drawn by `cell`. */
function replayTable(n: number, cols: string[], cell: (r: number, c: number) => number | null, seed = 1): DiffTable {
  let s = seed;
  const rand = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const rows: { symbol: string; source: string; seq: bigint; tsRecv: bigint }[] = [];
  const seqs = new Map<string, bigint>();
  let ts = 1_710_511_200_000_000_000n;
  for (let r = 0; r < n; r++) {
    ts += BigInt(Math.floor(rand() * 3)); // equal ts_recv now and then: the tie-breaks matter
    const symbol = ['AAA', 'BBB', 'CCC'][Math.floor(rand() * 3)];
    const source = SOURCES[Math.floor(rand() * SOURCES.length)];
    const k = `${symbol}/${source}`;
    const seq = (seqs.get(k) ?? 0n) + 1n;
    seqs.set(k, seq);
    rows.push({ symbol, source, seq, tsRecv: ts });
  }
  rows.sort(compareRowKey);
  return {
    columns: cols,
    symbol: rows.map((x) => x.symbol),
    source: rows.map((x) => x.source),
    seq: rows.map((x) => x.seq),
    tsRecv: rows.map((x) => x.tsRecv),
    values: Object.fromEntries(cols.map((c, j) => [c, rows.map((_, r) => cell(r, j))])),
  };
}

/** Picks rows of t (in the given order) into a new table. */
function pick(t: DiffTable, order: number[], cols = Object.keys(t.values)): DiffTable {
  return {
    columns: cols,
    symbol: order.map((i) => t.symbol[i]),
    source: order.map((i) => t.source[i]),
    seq: order.map((i) => t.seq[i]),
    tsRecv: order.map((i) => t.tsRecv[i]),
    values: Object.fromEntries(cols.map((c) => [c, order.map((i) => t.values[c]?.[i] ?? null)])),
  };
}

const CELLS = [null, 0, -0, NaN, 1, 1 + 2 ** -52, 100, 100.5, -3, Infinity, 1e-300, 12345.678];

describe('streaming diff = the in-memory diff it replaced', () => {
  it('on random tables, orders, edits, batch sizes and retirement thresholds (property)', () => {
    const tolerances = ['exact', 'ulp:1', 'abs:0.5', 'rel:1e-3'];
    fc.assert(
      fc.property(
        fc.record({
          n: fc.integer({ min: 0, max: 80 }),
          seed: fc.integer({ min: 1, max: 1e9 }),
          cellsA: fc.array(fc.integer({ min: 0, max: CELLS.length - 1 }), { minLength: 240, maxLength: 240 }),
          edits: fc.array(fc.record({ row: fc.nat(), col: fc.nat(2), cell: fc.integer({ min: 0, max: CELLS.length - 1 }) }), { maxLength: 12 }),
          drop: fc.array(fc.nat(), { maxLength: 10 }),
          truncate: fc.integer({ min: 0, max: 60 }),
          extra: fc.integer({ min: 0, max: 5 }),
          swaps: fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 10 }),
          reverse: fc.boolean(),
          batchRows: fc.integer({ min: 1, max: 40 }),
          retireAfter: fc.integer({ min: 1, max: 8 }),
          tol: fc.constantFrom(...tolerances),
          perFactor: fc.boolean(),
          dropCol: fc.boolean(),
          nulls: fc.boolean(),
        }),
        (p) => {
          const cols = ['f0', 'f1', 'f2'];
          // without nulls the engine takes its no-bitmap loops
          const cell = (i: number) => (p.nulls ? CELLS[i] : (CELLS[i] ?? 7));
          const base = replayTable(p.n + p.extra, cols, (r, c) => cell(p.cellsA[(r * 3 + c) % 240]), p.seed);
          // A: the first n rows; B: all but dropped rows, extra rows only in B, edited cells, reordered
          const aRows = Array.from({ length: p.n }, (_, i) => i);
          const dropped = new Set(p.drop.map((d) => d % Math.max(1, p.n)));
          // truncate: B stops early, so more than 20 rows are only in A (the examples overflow)
          let bRows = [...aRows.filter((i) => !dropped.has(i) && i < p.n - p.truncate), ...Array.from({ length: p.extra }, (_, i) => p.n + i)].sort((x, y) => x - y);
          for (const [x, y] of p.swaps) {
            if (bRows.length === 0) break;
            const i = x % bRows.length;
            const j = y % bRows.length;
            [bRows[i], bRows[j]] = [bRows[j], bRows[i]];
          }
          if (p.reverse) bRows = bRows.reverse();
          const A = pick(base, aRows);
          const B = pick(base, bRows, p.dropCol ? ['f0', 'f2', 'g'] : cols);
          for (const e of p.edits) {
            if (B.seq.length === 0) break;
            const c = p.dropCol ? ['f0', 'f2', 'g'][e.col] : cols[e.col];
            B.values[c][e.row % B.seq.length] = c === 'g' ? CELLS[e.cell] : cell(e.cell);
          }
          const opts: DiffOptions = { tolerance: parseTolerance(p.tol), factorTolerance: p.perFactor ? { f1: parseTolerance('abs:1') } : undefined };
          const want = referenceDiff(A, B, opts);
          sameReport(diffTables(A, B, opts), want);
          const { report, stats } = streamDiff(A, B, { ...opts, retireAfter: p.retireAfter }, p.batchRows);
          sameReport(report, want);
          expect(stats.passes).toBeLessThanOrEqual(2);
          // and with the sides swapped
          sameReport(streamDiff(B, A, { ...opts, retireAfter: p.retireAfter }, p.batchRows).report, referenceDiff(B, A, opts));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('same order: rows meet head to head, nothing waits', () => {
    const A = replayTable(5000, ['x', 'y'], (r, c) => (r % 7 === 0 && c === 1 ? null : r * 0.5 + c));
    const { report, stats } = streamDiff(A, pick(A, A.seq.map((_, i) => i)), {}, 1000);
    expect(report.verdict).toBe('parity');
    expect(stats).toMatchObject({ passes: 1, windowHighWater: 0, headMatches: 5000, windowMatches: 0, retired: 0 });
  });

  it('rows only in A, both sides in order: retired early, the window stays bounded, one pass', () => {
    const A = replayTable(20_000, ['x'], (r) => r);
    // B lacks a block of 6000 rows and every 10th row elsewhere
    const keep = A.seq.map((_, i) => i).filter((i) => !(i >= 5000 && i < 11_000) && i % 10 !== 3);
    const B = pick(A, keep);
    const { report, stats } = streamDiff(A, B, { retireAfter: 64 }, 512);
    sameReport(report, referenceDiff(A, B));
    expect(report.onlyInA).toBe(20_000 - keep.length);
    expect(stats.passes).toBe(1);
    expect(stats.retired).toBeGreaterThan(6000);
    expect(stats.windowHighWater).toBeLessThanOrEqual(64);
  });

  it('out-of-order rows still match; when B turns out disordered after retiring, a second exact pass', () => {
    const A = replayTable(3000, ['x'], (r) => r);
    // B in order except one row moved 2000 rows later, and 500 rows only in A just before it
    const order = A.seq.map((_, i) => i).filter((i) => i !== 100 && !(i >= 101 && i < 601));
    order.splice(2000, 0, 100);
    const B = pick(A, order);
    const want = referenceDiff(A, B);
    expect(want.onlyInA).toBe(500);
    // with a small threshold A's waiting rows are retired while B looks in order, then row 100
    // arrives below the largest retired key: the diff must redo the pass without retiring
    const small = streamDiff(A, B, { retireAfter: 16 }, 256);
    sameReport(small.report, want);
    expect(small.stats.passes).toBe(2);
    expect(small.stats.windowMatches).toBeGreaterThanOrEqual(1);
    // with the default threshold the moved row is still waiting when its partner arrives
    const dflt = streamDiff(A, B, {}, 256);
    sameReport(dflt.report, want);
    expect(dflt.stats).toMatchObject({ passes: 1, windowMatches: 1, retired: 0 });
  });

  it('a shuffled side against an ordered one: retired out of order, examples still the first rows of A', () => {
    const T = replayTable(600, ['x'], (r) => (r % 5 === 0 ? r + 0.5 : r));
    let s = 7;
    // shuffled within blocks of 50 rows: disordered, but the ordered side's head keeps pace
    const perm = T.seq.map((_, i) => i);
    for (let i = perm.length - 1; i > 0; i--) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      const j = i - (i % 50) + (s % ((i % 50) + 1));
      [perm[i], perm[j]] = [perm[j], perm[i]];
    }
    const A = pick(T, perm);
    const B = pick(T, T.seq.map((_, i) => i).filter((i) => i % 7 === 0));
    for (const [x, y] of [
      [A, B],
      [B, A],
    ]) {
      const { report, stats } = streamDiff(x, y, { retireAfter: 4 }, 16);
      sameReport(report, referenceDiff(x, y));
      expect(stats.retired).toBeGreaterThan(20);
      expect(stats.passes).toBe(1);
    }
  });

  it('examples of rows only in A are the first in A\'s order, however they were found', () => {
    // row 10 waits in A's window until the end; rows 50.. are found only-in as soon as B has ended
    const A = replayTable(100, ['x'], (r) => r);
    const B = pick(A, A.seq.map((_, i) => i).filter((i) => i < 50 && i !== 10));
    const { report } = streamDiff(A, B, {}, 8);
    sameReport(report, referenceDiff(A, B));
    expect(report.onlyInASample[0]).toBe(`${A.symbol[10]}/${A.source[10]}/${A.seq[10]}`);
  });

  it('a key repeated on one side matches once; the repeat is a row only on its side', () => {
    const A = replayTable(10, ['x'], (r) => r);
    const B = pick(A, [0, 1, 2, 2, 3, 4, 5, 6, 7, 8, 9]);
    const r = diffTables(A, B);
    expect([r.matchedRows, r.onlyInA, r.onlyInB, r.verdict]).toEqual([10, 0, 1, 'skew']);
  });
});

describe('sources', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lockstep-sources-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('columns stored with another numeric type are compared as float64 and reported', async () => {
    const n = 4;
    const key = { symbol: ['A', 'A', 'A', 'A'], source: ['trade', 'trade', 'trade', 'trade'], seq: BigInt64Array.from([1n, 2n, 3n, 4n]), ts_event: BigInt64Array.from([1n, 2n, 3n, 4n]), ts_recv: BigInt64Array.from([1n, 2n, 3n, 4n]) };
    const keySpecs = [
      { name: 'symbol', type: 'utf8' as const },
      { name: 'source', type: 'utf8' as const },
      { name: 'seq', type: 'int64' as const },
      { name: 'ts_event', type: 'timestamp' as const },
      { name: 'ts_recv', type: 'timestamp' as const },
    ];
    writeFileSync(join(dir, 'f.parquet'), encodeParquet([...keySpecs, { name: 'trade_count_1m', type: 'float64', nullable: true }], { ...key, trade_count_1m: [1, 2, null, 40] }, n));
    writeFileSync(join(dir, 'i.parquet'), encodeParquet([...keySpecs, { name: 'trade_count_1m', type: 'int32', nullable: true }], { ...key, trade_count_1m: [1, 2, null, 40] }, n));
    writeFileSync(join(dir, 'j.parquet'), encodeParquet([...keySpecs, { name: 'trade_count_1m', type: 'int32', nullable: true }], { ...key, trade_count_1m: [1, 2, null, 41] }, n));
    const r = await diffSources(await openRowSource(join(dir, 'f.parquet')), await openRowSource(join(dir, 'i.parquet')));
    expect(r.report.verdict).toBe('parity');
    expect(r.report.columnTypeDifferences).toEqual([{ column: 'trade_count_1m', a: 'Float64', b: 'Int32' }]);
    expect(formatDiff(r.report)).toMatch(/column types differ \(compared as float64\): trade_count_1m Float64 vs Int32/);
    const s = await diffSources(await openRowSource(join(dir, 'f.parquet')), await openRowSource(join(dir, 'j.parquet')));
    expect([s.report.verdict, s.report.mismatchedCells, s.report.factors[0].maxAbs]).toEqual(['skew', 1, 1]);
    // same types: no field at all, so reports stay as they were
    expect('columnTypeDifferences' in (await diffSources(await openRowSource(join(dir, 'f.parquet')), await openRowSource(join(dir, 'f.parquet')))).report).toBe(false);
  });

  it('bad input is a user error naming the file (exit 2 in the CLI)', async () => {
    writeFileSync(join(dir, 'bad.csv'), 'symbol,source,seq,ts_recv,x\nA,trade,1,5,1.5\nA,trade,two,6,2\n');
    const s = await openRowSource(join(dir, 'bad.csv'));
    await expect(diffSources(s, s)).rejects.toThrow(/bad\.csv, line 3, field seq: must be an integer \(value "two"\)/);
    await expect(openRowSource(join(dir, 'missing.csv'))).rejects.toThrow(/missing\.csv: no such file/);
    writeFileSync(join(dir, 'nokey.parquet'), encodeParquet([{ name: 'symbol', type: 'utf8' }, { name: 'x', type: 'float64' }], { symbol: ['A'], x: new Float64Array([1]) }, 1));
    await expect(openRowSource(join(dir, 'nokey.parquet'))).rejects.toThrow(/nokey\.parquet, field source: missing key column/);
    const cli = spawnSync(process.execPath, [join(ROOT, 'bin/lockstep.js'), 'parity', 'diff', join(dir, 'bad.csv'), join(dir, 'missing.csv')], { encoding: 'utf8', cwd: ROOT });
    expect(cli.status).toBe(2);
    expect(cli.stderr).toMatch(/^lockstep: .*missing\.csv: no such file/m);
    // a readable footer over corrupt data pages: the decoder worker traps, the error names the file
    const n = 5000;
    const good = encodeParquet(factorTableSpecs(['x']), { symbol: Array<string>(n).fill('A'), source: Array<string>(n).fill('trade'), seq: BigInt64Array.from({ length: n }, (_, i) => BigInt(i)), ts_event: new BigInt64Array(n), ts_recv: new BigInt64Array(n), x: Float64Array.from({ length: n }, (_, i) => i * 1.5) }, n);
    const bad = Buffer.from(good);
    bad.fill(0xff, 100, bad.length >> 1);
    writeFileSync(join(dir, 'good.parquet'), good);
    writeFileSync(join(dir, 'corrupt.parquet'), bad);
    for (const [a, b] of [
      ['good', 'corrupt'],
      ['corrupt', 'good'],
    ]) {
      await expect(diffSources(await openRowSource(join(dir, `${a}.parquet`)), await openRowSource(join(dir, `${b}.parquet`)))).rejects.toThrow(/corrupt\.parquet: not a readable Parquet file/);
    }
    // the decoder starts afresh for the next diff
    expect((await diffSources(await openRowSource(join(dir, 'good.parquet')), await openRowSource(join(dir, 'good.parquet')))).report.verdict).toBe('parity');
    const trap = spawnSync(process.execPath, [join(ROOT, 'bin/lockstep.js'), 'parity', 'diff', join(dir, 'good.parquet'), join(dir, 'corrupt.parquet')], { encoding: 'utf8', cwd: ROOT });
    expect(trap.status).toBe(2);
    expect(trap.stderr).toMatch(/^lockstep: .*corrupt\.parquet: not a readable Parquet file/m);
  });
});
