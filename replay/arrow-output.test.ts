/**
 * `--out FILE.arrow`: the Arrow IPC file holds the Parquet output's rows and values cell for cell,
 * read back by apache-arrow JS (and pyarrow / DuckDB where they are installed: arrow-readers.test.ts).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { tableFromIPC, Type } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeCatalog } from './catalog.ts';
import { readFactorTable, type FactorTable } from './read-factor-table.ts';
import { runReplay } from './run-replay.ts';
import { factorTableSpecs } from './factor-table-sink.ts';
import { ParquetStreamWriter } from './parquet-stream-writer.ts';
import { FIXTURE_DATE, fixtureRows } from '../testing/replay-fixture.ts';

const ROOT = resolve(new URL('..', import.meta.url).pathname);
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lockstep-arrow-'));
  writeCatalog(join(dir, 'cat'), fixtureRows(), { partBy: 'symbol' });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const replay = (out: string, extra = {}) => runReplay({ catalog: join(dir, 'cat'), date: FIXTURE_DATE, out: join(dir, out), progress: false, ...extra });

/** Every cell of an Arrow IPC factor table, in FactorTable's shape. */
export function readArrowTable(path: string): FactorTable & { batches: number; types: Record<string, string> } {
  const t = tableFromIPC(readFileSync(path));
  const cols = t.schema.fields.map((f) => f.name);
  const col = (name: string) => t.getChild(name)!;
  const list = <T>(name: string) => Array.from({ length: t.numRows }, (_, i) => col(name).get(i) as T);
  const factorCols = cols.slice(5);
  // apache-arrow's get() turns timestamps into ms numbers: read the int64 buffers themselves
  const big = (name: string) => col(name).data.flatMap((d) => Array.from((d.values as BigInt64Array).subarray(d.offset, d.offset + d.length)));
  return {
    columns: cols,
    symbol: list<string>('symbol'),
    source: list<string>('source'),
    seq: big('seq'),
    tsEvent: big('ts_event'),
    tsRecv: big('ts_recv'),
    values: Object.fromEntries(factorCols.map((c) => [c, Array.from({ length: t.numRows }, (_, i) => (col(c).isValid(i) ? (col(c).get(i) as number) : null))])),
    metadata: new Map(t.schema.metadata),
    batches: t.batches.length,
    types: Object.fromEntries(t.schema.fields.map((f) => [f.name, `${Type[f.type.typeId]}${f.type.typeId === Type.Timestamp ? `:${(f.type as { unit: number }).unit}:${(f.type as { timezone: string }).timezone}` : ''}`])),
  };
}

function expectSameCells(a: FactorTable, b: FactorTable): void {
  expect(a.columns).toEqual(b.columns);
  expect(a.symbol).toEqual(b.symbol);
  expect(a.source).toEqual(b.source);
  expect(a.seq).toEqual(b.seq);
  expect(a.tsEvent).toEqual(b.tsEvent);
  expect(a.tsRecv).toEqual(b.tsRecv);
  for (const c of Object.keys(b.values)) {
    const x = a.values[c];
    const y = b.values[c];
    expect(x.length, c).toBe(y.length);
    // bit for bit: Object.is tells NaN, -0 and null apart
    const bad = x.findIndex((v, i) => !Object.is(v, y[i]));
    expect(bad, `${c} row ${bad}: ${x[bad]} vs ${y[bad]}`).toBe(-1);
  }
}

describe('Arrow IPC output', () => {
  it('holds the Parquet output of the same replay, cell for cell, with exact int64 timestamps', async () => {
    const pq = await replay('t.parquet');
    const ar = await replay('t.arrow', { rowGroupSize: 1000 });
    expect(ar.rows).toBe(pq.rows);
    const a = readArrowTable(join(dir, 't.arrow'));
    const p = await readFactorTable(join(dir, 't.parquet'));
    expect(a.seq.length).toBeGreaterThan(3000);
    expect(a.batches).toBe(Math.ceil(pq.rows / 1000));
    expectSameCells(a, p);
    // nanoseconds, UTC, as the Parquet file's TIMESTAMP(NANOS, UTC)
    expect(a.types.ts_event).toBe('Timestamp:3:UTC');
    expect(a.types.seq).toBe('Int');
    expect(a.types.symbol).toBe('Utf8');
    expect(a.metadata.get('lockstep')).toBe(p.metadata.get('lockstep'));
    // the reported hash and size are the file's
    const onDisk = readFileSync(join(dir, 't.arrow'));
    expect(ar.output.sha256).toBe(createHash('sha256').update(onDisk).digest('hex'));
    expect(ar.output.bytes).toBe(onDisk.length);
    expect(onDisk.subarray(0, 6).toString()).toBe('ARROW1');
  });

  it('is byte-identical whatever the output batch size', async () => {
    const a = await replay('b1.arrow', { batchRows: 5000 });
    const b = await replay('b2.arrow', { batchRows: 7919 });
    const c = await replay('b3.arrow');
    expect(a.output.sha256).toBe(b.output.sha256);
    expect(a.output.sha256).toBe(c.output.sha256);
  });

  it('with lz4 compression reads back the same cells (and is smaller)', async () => {
    const plain = await replay('c0.arrow');
    const lz4 = await replay('c1.arrow', { arrowCompression: 'lz4' });
    const { readCompressedArrow } = await import('./arrow-lz4-read.ts');
    const a = readCompressedArrow(join(dir, 'c1.arrow'));
    expectSameCells(a, readArrowTable(join(dir, 'c0.arrow')));
    expect(lz4.output.bytes).toBeLessThan(plain.output.bytes);
  });

  it('an empty table is a valid file with the schema and no rows', async () => {
    const path = join(dir, 'e.arrow');
    const w = new ParquetStreamWriter(path, factorTableSpecs(['a', 'b']), { format: 'arrow' });
    await w.close();
    const t = tableFromIPC(readFileSync(path));
    expect(t.numRows).toBe(0);
    expect(t.schema.fields.map((f) => f.name)).toEqual(['symbol', 'source', 'seq', 'ts_event', 'ts_recv', 'a', 'b']);
  });
});

describe('lockstep replay --out', () => {
  const cli = (...args: string[]) => spawnSync('node', [join(ROOT, 'bin/lockstep.js'), 'replay', '--catalog', join(dir, 'cat'), '--date', FIXTURE_DATE, ...args], { encoding: 'utf8' });

  it.each([
    [['--out', 'x.csv'], /--out .*x\.csv: the factor table is written as Parquet \(name it \*\.parquet\) or Arrow IPC \(name it \*\.arrow\)/],
    [['--out', 'x.parquet', '--compression', 'lz4'], /--compression lz4: only an Arrow IPC output/],
    [['--out', 'x.arrow', '--compression', 'zstd'], /--compression "zstd": use none or lz4/],
    [['--out', 'x.arrow', '--emit', 'sometimes'], /--emit "sometimes": use rows/],
  ])('%j → one line, exit 2', (args, message) => {
    const r = cli(...(args as string[]).map((a) => (a.startsWith('x.') ? join(dir, a) : a)));
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message as RegExp);
  });

  it('writes an .arrow file from the CLI', () => {
    const r = cli('--out', join(dir, 'cli.arrow'), '--compression', 'lz4', '--emit', 'every:10s', '--json');
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).rows).toBeGreaterThan(8640);
  });
});
