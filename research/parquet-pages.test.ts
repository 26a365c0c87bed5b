/**
 * The page reader of the gather (research/parquet-pages.mjs) on files written every way it must
 * read or hand back: v1 and v2 data pages, Snappy, none and zstd (not its codec: parquet-wasm
 * then decodes), dictionary pages (not its encoding), many small pages, required and optional
 * columns with scattered nulls (bit-packed definition levels), null runs and an all-null column.
 * Each file is joined on 2 worker threads (the page reader) and in the calling thread
 * (parquet-wasm), and against the same table in memory: the three must agree in every cell.
 */
import { Float64, Int64, makeData, makeVector, Table, tableToIPC, TimestampMicrosecond, TimestampNanosecond, Utf8, vectorFromArray, type DataType, type Vector } from 'apache-arrow';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { chance, intBelow, rngFor } from '../datasets/prng.ts';
import { historicalFeatures } from './historical-features.ts';

const pq = createRequire(import.meta.url)('parquet-wasm/node') as typeof import('parquet-wasm/node');
const dir = mkdtempSync(join(tmpdir(), 'parquet-pages-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ROWS = 6000;
const rng = rngFor(7, 16);
const symbols = ['A', 'B', 'C'];
const sym = Array.from({ length: ROWS }, () => symbols[intBelow(rng, 3)]);
const ts = BigInt64Array.from({ length: ROWS }, (_, i) => BigInt(i * 10));
const col = (f: (i: number) => number | null) => vectorFromArray(Array.from({ length: ROWS }, (_, i) => f(i)), new Float64());
const timeAs = (type: DataType, scale = 1n): Vector => makeVector(makeData({ type: type as Int64, length: ROWS, data: ts.map((t) => t / scale) }));
const factors: Table = new Table({
  symbol: vectorFromArray(sym, new Utf8()),
  ts_recv: timeAs(new Int64()),
  dense: makeVector(Float64Array.from({ length: ROWS }, (_, i) => i * 0.5 - 7)),
  scattered: col((i) => (chance(rng, 0.3) ? null : i + 0.25)),
  runs: col((i) => (i % 1500 < 700 ? null : -i)),
  warmup: col((i) => (i < 2500 ? null : i / 3)),
  none: col(() => null),
});
const entitySym = Array.from({ length: 3000 }, () => (chance(rng, 0.05) ? 'Z' : symbols[intBelow(rng, 3)]));
const entities = new Table({
  symbol: vectorFromArray(entitySym, new Utf8()),
  ts: makeVector(makeData({ type: new Int64(), length: 3000, data: BigInt64Array.from({ length: 3000 }, () => BigInt(intBelow(rng, ROWS * 10 + 50)) - 20n) })),
});

function write(name: string, props: (b: import('parquet-wasm/node').WriterPropertiesBuilder) => import('parquet-wasm/node').WriterPropertiesBuilder, table: Table = factors): string {
  const path = join(dir, `${name}.parquet`);
  const t = pq.Table.fromIPCStream(tableToIPC(table, 'stream'));
  writeFileSync(path, pq.writeParquet(t, props(new pq.WriterPropertiesBuilder().setMaxRowGroupSize(1000)).build()));
  return path;
}

const cells = (t: Table) => t.schema.fields.map((f) => [...t.getChild(f.name)!].map((v) => (typeof v === 'bigint' ? String(v) : v)));

describe('the page reader of the gather', () => {
  const noDict = (b: import('parquet-wasm/node').WriterPropertiesBuilder) => b.setDictionaryEnabled(false);
  const files: [string, (b: import('parquet-wasm/node').WriterPropertiesBuilder) => import('parquet-wasm/node').WriterPropertiesBuilder][] = [
    ['v1 snappy, small pages', (b) => noDict(b).setCompression(pq.Compression.SNAPPY).setDataPageSizeLimit(512).setWriteBatchSize(64)],
    ['v1 uncompressed', (b) => noDict(b).setCompression(pq.Compression.UNCOMPRESSED)],
    ['v2 snappy, small pages', (b) => noDict(b).setWriterVersion(pq.WriterVersion.V2).setCompression(pq.Compression.SNAPPY).setDataPageSizeLimit(512).setWriteBatchSize(64)],
    ['v2 uncompressed', (b) => noDict(b).setWriterVersion(pq.WriterVersion.V2).setCompression(pq.Compression.UNCOMPRESSED)],
    ['zstd (handed back)', (b) => noDict(b).setCompression(pq.Compression.ZSTD)],
    ['dictionary pages (handed back)', (b) => b.setDictionaryEnabled(true).setCompression(pq.Compression.SNAPPY)],
  ];
  it.each(files)('%s: 2 threads, 1 thread and the table in memory agree', async (name, props) => {
    const path = write(name.replace(/\W+/g, '-'), props);
    const expected = cells(await historicalFeatures(entities, factors));
    expect(cells(await historicalFeatures(entities, path, { threads: 0 }))).toEqual(expected);
    expect(cells(await historicalFeatures(entities, path, { threads: 2 }))).toEqual(expected);
  });

  // the keys: TIMESTAMP(NANOS) is read from the pages, microseconds are handed back (scaled by the Arrow route)
  it.each([
    ['nanoseconds', new TimestampNanosecond('UTC'), 1n],
    ['microseconds', new TimestampMicrosecond('UTC'), 1000n],
  ] as const)('ts_recv as a timestamp in %s: the same join as in memory', async (name, type, scale) => {
    const columns: Record<string, Vector> = Object.fromEntries(factors.schema.fields.map((f) => [f.name, factors.getChild(f.name)!]));
    const table = new Table({ ...columns, ts_recv: timeAs(type, scale) });
    const path = write(`ts-${name}`, (b) => b.setDictionaryEnabled(false).setCompression(pq.Compression.SNAPPY), table);
    const e = new Table({ symbol: entities.getChild('symbol')!, ts: makeVector(makeData({ type: type as TimestampNanosecond, length: entities.numRows, data: (entities.getChild('ts')!.data[0].values as BigInt64Array).map((t) => t / scale) })) });
    const expected = cells(await historicalFeatures(e, table));
    expect(cells(await historicalFeatures(e, path, { threads: 2 }))).toEqual(expected);
  });
});
