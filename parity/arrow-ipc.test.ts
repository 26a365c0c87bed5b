/**
 * Arrow IPC as a parity input: a real replay's Parquet output converted to IPC (file and stream
 * format, dictionary and plain utf8 keys) diffs at parity against the Parquet it came from, with
 * int64 seq and TIMESTAMP(NANOS) times read back exactly; a one-ulp change is one mismatched cell;
 * corrupt files and missing key columns are bad input (exit 2) that names the file.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Dictionary, Int32, makeData, makeVector, Schema, Table, tableFromIPC, tableToIPC, Utf8, vectorFromArray, type Data, type Float64, type Vector } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDay } from '../datasets/generate.ts';
import { runReplay } from '../replay/run-replay.ts';
import { collectTable, openArrowIpcSource, openParquetSource, openRowSource, type RowSource } from './row-source.ts';
import { diffSources } from './stream-diff.ts';

const require = createRequire(import.meta.url);
const pq = require('parquet-wasm/node') as typeof import('parquet-wasm/node');

const ROOT = resolve(new URL('..', import.meta.url).pathname);
const DATE = '2024-03-15';
let dir: string;
let parquet: string;
/** The replay's output as arrow-js decodes it from Parquet (symbol and source dictionary-encoded). */
let table: Table;

const cli = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin/lockstep.js'), 'parity', 'diff', ...args], { encoding: 'utf8', cwd: ROOT });

/**
 * The table with one column replaced (same name and position). Not `Table.setChild`: arrow-js 21
 * keeps the old field type in the schema there, so a re-encoded column would be written mislabelled.
 */
function replaceColumn(t: Table, name: string, v: Vector): Table {
  const schema = new Schema(t.schema.fields.map((f) => (f.name === name ? f.clone({ type: v.type }) : f)), t.schema.metadata);
  return new Table(schema, Object.fromEntries(t.schema.fields.map((f) => [f.name, f.name === name ? v : t.getChild(f.name)!])));
}

/** The same table with a key column re-encoded as plain utf8 or as a dictionary. */
function encodeKey(t: Table, name: 'symbol' | 'source', as: 'utf8' | 'dictionary'): Table {
  const strings = Array.from(t.getChild(name)!, (s) => s as string);
  const type = as === 'utf8' ? new Utf8() : new Dictionary(new Utf8(), new Int32());
  return replaceColumn(t, name, vectorFromArray(strings, type as Utf8));
}

function withKeys(t: Table, as: 'utf8' | 'dictionary'): Table {
  return encodeKey(encodeKey(t, 'symbol', as), 'source', as);
}

/** The value one ulp above `x` (x finite and > 0). */
function nextUp(x: number): number {
  const f = new Float64Array([x]);
  const i = new BigInt64Array(f.buffer);
  i[0] += 1n;
  return f[0];
}

/** Rows per batch as the source yields them (proves it reads a batch at a time). */
async function batchSizes(s: RowSource): Promise<number[]> {
  const out: number[] = [];
  for await (const b of s.batches()) out.push(b.n);
  return out;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lockstep-arrow-ipc-'));
  await generateDay({ date: DATE, symbols: 2, seed: 3, preset: 'tiny', out: join(dir, 'cat') });
  parquet = join(dir, 'a.parquet');
  await runReplay({ catalog: join(dir, 'cat'), date: DATE, out: parquet, progress: false });
  table = tableFromIPC(pq.readParquet(readFileSync(parquet)).intoIPCStream());
  writeFileSync(join(dir, 'a.arrow'), tableToIPC(table, 'file'));
  writeFileSync(join(dir, 'a.arrows'), tableToIPC(withKeys(table, 'utf8'), 'stream'));
  writeFileSync(join(dir, 'a.feather'), tableToIPC(withKeys(table, 'utf8'), 'file'));
  writeFileSync(join(dir, 'a.ipc'), tableToIPC(withKeys(table, 'dictionary'), 'stream'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('Arrow IPC factor tables', () => {
  it('keeps int64 seq and TIMESTAMP(NANOS) exactly, reading one record batch at a time', async () => {
    expect(table.numRows).toBeGreaterThan(10_000);
    expect(table.batches.length).toBeGreaterThan(1);
    const want = await collectTable(await openParquetSource(parquet, { decodeInWorker: false }));
    // times beyond 2^53 that a float64 cannot hold: a lossy path would change them
    expect(want.tsRecv.some((t) => BigInt(Number(t)) !== t)).toBe(true);
    for (const [file, format, keys] of [
      ['a.arrow', 'file', 'Dictionary<Int32, Utf8>'],
      ['a.arrows', 'stream', 'Utf8'],
      ['a.feather', 'file', 'Utf8'],
      ['a.ipc', 'stream', 'Dictionary<Int32, Utf8>'],
    ] as const) {
      const bytes = readFileSync(join(dir, file));
      expect(new TextDecoder().decode(bytes.subarray(0, 6)) === 'ARROW1', file).toBe(format === 'file');
      const written = tableFromIPC(bytes).schema.fields;
      const typeOf = (n: string) => String(written.find((f) => f.name === n)!.type);
      expect([typeOf('seq'), typeOf('ts_event'), typeOf('ts_recv'), typeOf('symbol'), typeOf('source')], file).toEqual(['Int64', 'Timestamp<NANOSECOND, UTC>', 'Timestamp<NANOSECOND, UTC>', keys, keys]);

      const src = await openRowSource(join(dir, file));
      expect(src.factorColumns).toEqual(Object.keys(want.values));
      expect(await batchSizes(src)).toEqual(table.batches.map((b) => b.numRows));
      const got = await collectTable(src);
      expect(got.seq, file).toEqual(want.seq);
      expect(got.tsRecv, file).toEqual(want.tsRecv);
      expect(got.symbol, file).toEqual(want.symbol);
      expect(got.source, file).toEqual(want.source);
      expect(got.values, file).toEqual(want.values);
    }
  });

  it('Parquet vs IPC file, and IPC stream vs Parquet, are at parity row for row', async () => {
    for (const [a, b] of [
      [parquet, join(dir, 'a.arrow')],
      [join(dir, 'a.arrows'), parquet],
      [join(dir, 'a.feather'), join(dir, 'a.ipc')],
    ]) {
      const { report } = await diffSources(await openRowSource(a), await openRowSource(b));
      expect(report.verdict, `${a} vs ${b}`).toBe('parity');
      expect(report.rowsA).toBe(table.numRows);
      expect(report.rowsB).toBe(table.numRows);
      expect(report.matchedRows).toBe(table.numRows);
      expect(report.mismatchedCells).toBe(0);
      expect(report.columnTypeDifferences).toBeUndefined();
      expect(report.factors.length).toBe(table.schema.fields.length - 5);
    }
  });

  it('a value one ulp off in the IPC file is exactly one mismatched cell', async () => {
    const col = 'ma_5m';
    const vec = table.getChild(col)!;
    // a row in the middle of the day with a value (not warming up), in its chunk
    let chunk = -1;
    let at = -1;
    let row = 0;
    for (let c = 0; c < vec.data.length && chunk < 0; c++) {
      const d = vec.data[c];
      if (row >= table.numRows / 2) {
        for (let i = 0; i < d.length; i++) {
          if (d.getValid(i) && d.values[d.offset + i] > 0) {
            [chunk, at] = [c, i];
            break;
          }
        }
      }
      if (chunk < 0) row += d.length;
    }
    expect(chunk).toBeGreaterThanOrEqual(0);
    const datas = vec.data.map((d, c): Data<Float64> => {
      if (c !== chunk) return d as Data<Float64>;
      const values = Float64Array.from(d.values.subarray(d.offset, d.offset + d.length));
      values[at] = nextUp(values[at]);
      return makeData({ type: d.type as Float64, length: d.length, nullCount: d.nullCount, nullBitmap: d.nullBitmap, data: values, offset: 0 });
    });
    writeFileSync(join(dir, 'ulp.arrow'), tableToIPC(replaceColumn(table, col, makeVector(datas)), 'file'));

    const { report } = await diffSources(await openRowSource(parquet), await openRowSource(join(dir, 'ulp.arrow')));
    expect(report.verdict).toBe('skew');
    expect(report.matchedRows).toBe(table.numRows);
    expect(report.mismatchedCells).toBe(1);
    const byFactor = Object.fromEntries(report.factors.map((f) => [f.factor, f]));
    expect(byFactor[col].mismatched).toBe(1);
    expect(byFactor[col].maxUlp).toBe('1');
    expect(report.factors.filter((f) => f.mismatched > 0).map((f) => f.factor)).toEqual([col]);
    const seq = table.getChild('seq')!.data[chunk];
    const d = report.firstDivergencePerSymbol.find((x) => x.factor === col)!;
    expect(BigInt(d.seq)).toBe((seq.values as BigInt64Array)[seq.offset + at]);
    const before = vec.data[chunk].values[vec.data[chunk].offset + at];
    expect([d.a, d.b]).toEqual([before, nextUp(before)]);
  });

  it('a missing key column, an empty file and a truncated stream are input errors naming the file', async () => {
    const noSeq = join(dir, 'no-seq.arrow');
    writeFileSync(noSeq, tableToIPC(table.select(table.schema.fields.map((f) => f.name).filter((n) => n !== 'seq')), 'file'));
    await expect(openRowSource(noSeq)).rejects.toMatchObject({ name: 'InputError', message: `${noSeq}, field seq: missing key column (a factor table needs symbol, source, seq, ts_recv)` });

    const empty = join(dir, 'empty.arrows');
    writeFileSync(empty, new Uint8Array(0));
    await expect(openArrowIpcSource(empty)).rejects.toMatchObject({ name: 'InputError', message: `${empty}: not a readable Arrow IPC file or stream (no schema message; the file is empty)` });

    await expect(openRowSource(join(dir, 'absent.feather'))).rejects.toMatchObject({ name: 'UsageError', message: expect.stringMatching(/absent\.feather: no such file$/) });

    // the schema and the first batches are intact: the error comes mid-read, at the cut batch
    const stream = readFileSync(join(dir, 'a.arrows'));
    const cut = join(dir, 'cut.arrows');
    writeFileSync(cut, stream.subarray(0, stream.length >> 1));
    const src = await openRowSource(cut);
    await expect(diffSources(await openRowSource(parquet), src)).rejects.toMatchObject({ name: 'InputError', message: expect.stringMatching(/cut\.arrows, row \d+: record batch \d+ is unreadable \(/) });
  });

  it('the CLI diffs Parquet against IPC (exit 0) and refuses a corrupt .arrow (exit 2)', () => {
    const ok = cli(parquet, join(dir, 'a.arrow'));
    expect(ok.stderr).not.toMatch(/lockstep:/);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(new RegExp(`^PARITY: ${table.numRows.toLocaleString('en-US')} rows matched`));

    const file = readFileSync(join(dir, 'a.arrow'));
    writeFileSync(join(dir, 'corrupt.arrow'), file.subarray(0, file.length >> 1));
    const bad = cli(parquet, join(dir, 'corrupt.arrow'));
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^lockstep: .*corrupt\.arrow: not a readable Arrow IPC file or stream \(/m);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
  });
});
