/**
 * `parity diff --keys`: tables keyed by columns of the user's choice (a researcher's table keyed by
 * time and symbol, with no event identity) diff the same as by a hash join on those keys, whatever
 * the order, batch size or retirement threshold; across formats (Parquet vs CSV) an integer key
 * matches whatever stored it; through the real CLI.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeParquet } from '../replay/parquet-io.ts';
import { factorTableSpecs } from '../replay/factor-table-sink.ts';
import { cellsAgree, formatDiff, htmlReport, parseTolerance } from './diff.ts';
import { compareKeyParts, keyText, keyValueOfNumber, keyValueOfText, parseKeys, type KeyValue } from '../core/row-key.ts';
import { openRowSource, type RowBatch } from './row-source.ts';
import { diffBatchesSync, diffSources } from './stream-diff.ts';

const ROOT = resolve(new URL('..', import.meta.url).pathname);

describe('key values', () => {
  it('an int64 spelled in text is an integer; other text stays text; integral floats are integers', () => {
    expect(keyValueOfText('123')).toBe(123n);
    expect(keyValueOfText('-9223372036854775808')).toBe(-(2n ** 63n));
    expect(keyValueOfText('9223372036854775808')).toBe('9223372036854775808'); // over int64: text
    expect(keyValueOfText('007')).toBe('007');
    expect(keyValueOfText('1.5')).toBe('1.5');
    expect(keyValueOfText('AAPL')).toBe('AAPL');
    expect(keyValueOfNumber(3)).toBe(3n);
    expect(keyValueOfNumber(1.5)).toBe('1.5');
  });

  it('the order is total: integers numerically, before text', () => {
    const vals: KeyValue[] = [5n, -1n, 'b', 'a', 10n, 'B'];
    const sorted = [...vals].map((v) => [v]).sort(compareKeyParts).map((p) => p[0]);
    expect(sorted).toEqual([-1n, 5n, 10n, 'B', 'a', 'b']);
    expect(compareKeyParts([1n, 'x'], [1n, 'y'])).toBeLessThan(0);
  });

  it('--keys must name distinct columns', () => {
    expect(parseKeys('ts_event, symbol')).toEqual(['ts_event', 'symbol']);
    expect(() => parseKeys('a,,b')).toThrow(/give column names separated by commas/);
    expect(() => parseKeys('a,b,a')).toThrow(/column a is named twice/);
  });
});

interface Row {
  sym: string;
  t: bigint;
  v: (number | null)[];
}

const KEYS = ['symbol', 'ts_event'];

/** Rows as batches keyed by (symbol, ts_event), the identity columns left empty. */
function* batchesOf(rows: Row[], width: number, size: number): Generator<RowBatch> {
  for (let from = 0; from < rows.length; from += size) {
    const part = rows.slice(from, from + size);
    const n = part.length;
    yield {
      n,
      symbol: part.map((r) => r.sym),
      source: new Array<string>(n).fill(''),
      seq: new BigInt64Array(n),
      tsRecv: BigInt64Array.from(part.map((r) => r.t)),
      keys: [part.map((r) => keyValueOfText(r.sym)), BigInt64Array.from(part.map((r) => r.t))],
      columns: Array.from({ length: width }, (_, c) => {
        const values = new Float64Array(n);
        const bits = new Uint8Array((n + 7) >> 3);
        part.forEach((r, i) => {
          const x = r.v[c];
          if (x !== null) {
            values[i] = x;
            bits[i >> 3] |= 1 << (i & 7);
          }
        });
        return { values, bits, bitOffset: 0 };
      }),
    };
  }
}

/** The oracle: a hash join on the key's text. */
function hashJoin(a: Row[], b: Row[], width: number, tol: ReturnType<typeof parseTolerance>) {
  const key = (r: Row) => keyText([keyValueOfText(r.sym), r.t]);
  const show = (r: Row) => `${r.sym}/${r.t}`;
  const inB = new Map(b.map((r, j) => [key(r), j]));
  const seen = new Set<number>();
  let matched = 0;
  let cells = 0;
  const perFactor = new Array<number>(width).fill(0);
  const onlyA: string[] = [];
  const first = new Map<string, string>();
  a.forEach((r) => {
    const j = inB.get(key(r));
    if (j === undefined) return void onlyA.push(show(r));
    seen.add(j);
    matched++;
    for (let c = 0; c < width; c++) {
      if (cellsAgree(r.v[c], b[j].v[c], tol)) continue;
      cells++;
      perFactor[c]++;
      if (!first.has(r.sym)) first.set(r.sym, `symbol=${r.sym} ts_event=${r.t}`);
    }
  });
  const onlyB = b.filter((_, j) => !seen.has(j)).map(show);
  return { matched, cells, perFactor, onlyA, onlyB, first };
}

describe('diff by the user\'s keys = a hash join on them', () => {
  it('on random tables, orders, edits, batch sizes and retirement thresholds (property)', () => {
    const CELLS = [0, -0, 1, 1.5, NaN, null, 2 ** 60, 1e-300];
    fc.assert(
      fc.property(
        fc.record({
          keys: fc.uniqueArray(fc.tuple(fc.constantFrom('AAPL', 'MSFT', '10', '9', 'b'), fc.bigInt({ min: 0n, max: 40n })), { maxLength: 70, selector: ([s, t]) => `${s}/${t}` }),
          cells: fc.array(fc.constantFrom(...CELLS), { minLength: 140, maxLength: 140 }),
          edits: fc.array(fc.record({ row: fc.nat(), col: fc.nat(1), cell: fc.constantFrom(...CELLS) }), { maxLength: 8 }),
          dropA: fc.array(fc.nat(), { maxLength: 6 }),
          dropB: fc.array(fc.nat(), { maxLength: 6 }),
          shuffleB: fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 6 }),
          timeMajor: fc.boolean(),
          batchRows: fc.integer({ min: 1, max: 30 }),
          retireAfter: fc.integer({ min: 1, max: 8 }),
          tol: fc.constantFrom('exact', 'abs:0.5'),
        }),
        (p) => {
          // both tables sorted by the keys, or both in time-major order (not the key order)
          const sorted = [...p.keys].sort((x, y) => (p.timeMajor ? (x[1] < y[1] ? -1 : x[1] > y[1] ? 1 : 0) || compareKeyParts([keyValueOfText(x[0])], [keyValueOfText(y[0])]) : compareKeyParts([keyValueOfText(x[0]), x[1]], [keyValueOfText(y[0]), y[1]])));
          const all: Row[] = sorted.map(([sym, t], i) => ({ sym, t, v: [p.cells[(2 * i) % 140], p.cells[(2 * i + 1) % 140]] }));
          const dropA = new Set(p.dropA.map((d) => d % Math.max(1, all.length)));
          const dropB = new Set(p.dropB.map((d) => d % Math.max(1, all.length)));
          const a = all.filter((_, i) => !dropA.has(i));
          const b = all.filter((_, i) => !dropB.has(i)).map((r) => ({ ...r, v: [...r.v] }));
          for (const e of p.edits) if (b.length) b[e.row % b.length].v[e.col] = e.cell;
          for (const [x, y] of p.shuffleB) {
            if (b.length < 2) break;
            const i = x % b.length;
            const j = y % b.length;
            [b[i], b[j]] = [b[j], b[i]];
          }
          const tol = parseTolerance(p.tol);
          const want = hashJoin(a, b, 2, tol);
          const side = (rows: Row[]) => ({ factorColumns: ['f0', 'f1'], batches: () => batchesOf(rows, 2, p.batchRows) });
          const { report, stats } = diffBatchesSync(side(a), side(b), { keys: KEYS, tolerance: tol, retireAfter: p.retireAfter });
          expect(report.matchedRows).toBe(want.matched);
          expect(report.mismatchedCells).toBe(want.cells);
          expect(report.factors.map((f) => f.mismatched)).toEqual(want.perFactor);
          expect([report.onlyInA, report.onlyInB]).toEqual([want.onlyA.length, want.onlyB.length]);
          expect(report.onlyInASample).toEqual(want.onlyA.slice(0, 20));
          expect(report.onlyInBSample.length).toBe(Math.min(20, want.onlyB.length));
          expect(report.verdict).toBe(want.cells + want.onlyA.length + want.onlyB.length > 0 ? 'skew' : 'parity');
          // A's first mismatched row per symbol, named by its keys
          const firsts = new Map(report.firstDivergencePerSymbol.map((d) => [d.symbol, `symbol=${d.key!.symbol} ts_event=${d.key!.ts_event}`]));
          expect(firsts).toEqual(want.first);
          expect(stats.passes).toBeLessThanOrEqual(2);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('tables sorted by the keys: rows meet head to head, only the missing rows wait', () => {
    const rows: Row[] = [];
    for (const sym of ['A', 'B']) for (let t = 0n; t < 5000n; t++) rows.push({ sym, t, v: [Number(t), null] });
    const b = rows.filter((_, i) => i % 1000 !== 7);
    const side = (r: Row[]) => ({ factorColumns: ['f0', 'f1'], batches: () => batchesOf(r, 2, 512) });
    const { report, stats } = diffBatchesSync(side(rows), side(b), { keys: KEYS });
    expect([report.onlyInA, report.onlyInB, report.mismatchedCells]).toEqual([10, 0, 0]);
    expect(stats.windowHighWater).toBeLessThanOrEqual(10);
    expect(stats.headMatches).toBe(b.length);
  });
});

describe('parity diff --keys on files, through the CLI', () => {
  let dir: string;
  const lockstep = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin/lockstep.js'), ...args], { encoding: 'utf8', cwd: ROOT });
  const n = 3000;
  const syms = ['AAPL', 'MSFT', 'SPY'];
  const symbol = Array.from({ length: n }, (_, i) => syms[i % 3]);
  // several rows share a ts_event (as a replay's do); (ts_event, symbol) is unique
  const tsEvent = BigInt64Array.from({ length: n }, (_, i) => 1_710_489_600_000_000_000n + BigInt(Math.floor(i / 3)) * 1_000_000n);
  const ma = (i: number) => (i < 30 ? null : 100 + Math.sin(i) / 7);
  const vwap = (i: number) => 100 + i / 3;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lockstep-keys-'));
    // A: a replay's table (identity columns, more factors than the reference computed)
    writeFileSync(
      join(dir, 'replay.parquet'),
      encodeParquet(
        factorTableSpecs(['ma_5m', 'vwap_1m', 'rsi_14']),
        {
          symbol,
          source: Array<string>(n).fill('trade'),
          seq: BigInt64Array.from({ length: n }, (_, i) => 2n ** 62n + BigInt(i)),
          ts_event: tsEvent,
          ts_recv: BigInt64Array.from(tsEvent, (t) => t + 5n),
          ma_5m: { values: Float64Array.from({ length: n }, (_, i) => ma(i) ?? 0), valid: Uint8Array.from({ length: n }, (_, i) => (ma(i) === null ? 0 : 1)) },
          vwap_1m: Float64Array.from({ length: n }, (_, i) => vwap(i)),
          rsi_14: Float64Array.from({ length: n }, () => 50),
        },
        n,
      ),
    );
    // B: a researcher's CSV keyed by (ts_event, symbol), in that order; values printed exactly
    const csv = (edit?: (i: number, line: string) => string | null) => {
      const lines = ['ts_event,symbol,vwap_1m,ma_5m'];
      for (let i = 0; i < n; i++) {
        const line = `${tsEvent[i]},${symbol[i]},${vwap(i)},${ma(i) ?? ''}`;
        const e = edit ? edit(i, line) : line;
        if (e !== null) lines.push(e);
      }
      return `${lines.join('\n')}\n`;
    };
    writeFileSync(join(dir, 'ref.csv'), csv());
    writeFileSync(join(dir, 'ref-skew.csv'), csv((i, line) => (i === 1234 ? line.replace(/,[^,]*$/, ',101') : i === 2000 ? null : line)));
    writeFileSync(join(dir, 'ref-empty-key.csv'), csv((i, line) => (i === 5 ? line.replace(/^\d+/, '') : line)));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a reference keyed by time and symbol certifies the factors it computed (exit 0)', () => {
    const r = lockstep('parity', 'diff', join(dir, 'replay.parquet'), join(dir, 'ref.csv'), '--keys', 'ts_event,symbol', '--columns', 'ma_5m,vwap_1m');
    expect(r.stderr).toMatch(/1 pass; unmatched window high-water 0 rows/);
    expect(r.stdout).toMatch(/^PARITY: 3,000 rows matched of 3,000 \(A\) and 3,000 \(B\); 0 mismatched cells/);
    expect(r.status).toBe(0);
    // without --columns, the factor the reference lacks is a column only in A: skew
    const all = lockstep('parity', 'diff', join(dir, 'replay.parquet'), join(dir, 'ref.csv'), '--keys', 'ts_event,symbol');
    expect(all.stdout).toMatch(/columns only in A: rsi_14; only in B: -/);
    expect(all.status).toBe(1);
  }, 60_000);

  it('a changed value and a missing row: exit 1, the divergence named by its keys, JSON and HTML reports', async () => {
    const r = lockstep('parity', 'diff', join(dir, 'replay.parquet'), join(dir, 'ref-skew.csv'), '--keys', 'ts_event,symbol', '--columns', 'ma_5m,vwap_1m', '--json', join(dir, 'r.json'), '--report', join(dir, 'r.html'));
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/2,999 rows matched .* 1 mismatched cells; 1 rows only in A, 0 only in B/);
    expect(r.stdout).toContain(`first rows only in A: ${tsEvent[2000]}/${symbol[2000]}`);
    expect(r.stdout).toContain(`ts_event=${tsEvent[1234]} symbol=${symbol[1234]} (ts_recv ${tsEvent[1234] + 5n}): ma_5m A=${ma(1234)} B=101`);
    const { readFileSync } = await import('node:fs');
    const json = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8'));
    expect(json.firstDivergencePerSymbol[0].key).toEqual({ ts_event: String(tsEvent[1234]), symbol: symbol[1234] });
    expect(readFileSync(join(dir, 'r.html'), 'utf8')).toContain(`ts_event=${tsEvent[1234]} symbol=${symbol[1234]}`);
  }, 60_000);

  it('the same diff the other way round, streamed from the sources', async () => {
    const opts = { keys: ['ts_event', 'symbol'] };
    const { report } = await diffSources(await openRowSource(join(dir, 'ref-skew.csv'), opts), await openRowSource(join(dir, 'replay.parquet'), opts), { ...opts, columns: ['ma_5m', 'vwap_1m'] });
    expect([report.onlyInA, report.onlyInB, report.mismatchedCells]).toEqual([0, 1, 1]);
    // A (the CSV) has no ts_recv: its ts_event spans the timeline
    expect(report.timeline.axis).toBe('ts_event');
    expect(formatDiff(report)).toContain(`ts_event=${tsEvent[1234]} symbol=${symbol[1234]} (ts_event ${tsEvent[1234]}): ma_5m A=101`);
    expect(htmlReport(report, 'a', 'b')).toContain('2024-03-15T');
  });

  it('bad keys are user errors naming the file, line and column (exit 2)', () => {
    const missing = lockstep('parity', 'diff', join(dir, 'replay.parquet'), join(dir, 'ref.csv'), '--keys', 'ts_event,bar');
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/replay\.parquet, field bar: missing key column \(--keys ts_event,bar\)/);
    const empty = lockstep('parity', 'diff', join(dir, 'replay.parquet'), join(dir, 'ref-empty-key.csv'), '--keys', 'ts_event,symbol');
    expect(empty.status).toBe(2);
    expect(empty.stderr).toMatch(/ref-empty-key\.csv, line 7, field ts_event: a key cell cannot be empty/);
    const unknown = lockstep('parity', 'diff', join(dir, 'replay.parquet'), join(dir, 'ref.csv'), '--keys', 'ts_event,symbol', '--columns', 'ma_5m,vwap_5m');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/--columns: vwap_5m in neither table \(value columns of A: ma_5m, vwap_1m, rsi_14\)/);
    const twice = lockstep('parity', 'diff', join(dir, 'replay.parquet'), join(dir, 'ref.csv'), '--keys', 'symbol,symbol');
    expect(twice.status).toBe(2);
    expect(twice.stderr).toMatch(/--keys "symbol,symbol": column symbol is named twice/);
  }, 60_000);
});
