/**
 * Compressed Arrow IPC as a parity input: record batches with LZ4_FRAME or ZSTD body compression
 * (pyarrow's feather default, polars' zstd and lz4), file and stream format, read back cell for cell
 * like the uncompressed file once `registerIpcCodecs()` has run: int64 seq beyond 2^53, timestamps,
 * nulls, NaN and -0 exactly. A damaged compressed buffer is bad input that names the file and the
 * record batch.
 *
 * The compressed bytes come from the reference `lz4` and `zstd` CLIs (test-only encoders), never from
 * the decoders under test, with the frame options Arrow C++ (pyarrow) uses and with the CLIs'
 * defaults. arrow-js writes the rest of the file.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CompressionType,
  compressionRegistry,
  Dictionary,
  Float64,
  Int32,
  Int64,
  makeData,
  makeVector,
  RecordBatchFileWriter,
  RecordBatchStreamWriter,
  Table,
  TimestampNanosecond,
  Utf8,
  vectorFromArray,
  type Vector,
} from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DiffTable } from './diff.ts';
import { decodeLz4Frame, decodeZstd, registerIpcCodecs } from './ipc-codecs.ts';
import { collectTable, openRowSource, type RowSource } from './row-source.ts';
import { diffSources } from './stream-diff.ts';

const BATCH_ROWS = [10_000, 10_000, 5_000];
const N = BATCH_ROWS.reduce((a, b) => a + b);
const SYMBOLS = ['AAPL', 'MSFT', 'ES.FUT', 'ÉTF-ü'];
/** Cycled through one column: the float64 values a lossy or sloppy path would change. */
const SPECIAL = [null, NaN, -0, 0, Infinity, -Infinity, 5e-324, Number.MAX_VALUE, 1 / 3, -2.5];

/** The factor table as plain JS values: what every file must read back as. */
const rows = {
  symbol: Array.from({ length: N }, (_, i) => SYMBOLS[i % SYMBOLS.length]),
  source: Array.from({ length: N }, (_, i) => (i % 3 === 0 ? 'xnas' : 'glbx')),
  // beyond 2^53: a float64 anywhere on the path would round them
  seq: Array.from({ length: N }, (_, i) => 2n ** 60n + 7n * BigInt(i)),
  tsEvent: Array.from({ length: N }, (_, i) => 1_710_460_800_000_000_000n + 1_000_003n * BigInt(i)),
  tsRecv: Array.from({ length: N }, (_, i) => 1_710_460_800_000_000_250n + 1_000_003n * BigInt(i) + BigInt(i % 17)),
  values: {
    // compresses well: the codec's output is stored
    mid: Array.from({ length: N }, (_, i): number | null => 100 + (i % 500) * 0.25 + Math.floor(i / 5000)),
    // random bits do not compress: arrow-js stores those buffers raw (length prefix -1)
    noise: randomDoubles(N, 20240315),
    special: Array.from({ length: N }, (_, i) => SPECIAL[i % SPECIAL.length]),
    sparse: Array.from({ length: N }, (_, i): number | null => (i % 97 === 0 ? i * 0.5 : null)),
  } as Record<string, (number | null)[]>,
};

/** Doubles with random bits (xorshift32), never NaN: a stream of incompressible bytes. */
function randomDoubles(n: number, seed: number): (number | null)[] {
  let s = seed;
  const next = () => ((s ^= s << 13), (s ^= s >>> 17), (s ^= s << 5), s >>> 0);
  return Array.from({ length: n }, () => (next() / 2 ** 32) * 2 ** (next() % 60) - 1e6);
}

function float64Vector(values: (number | null)[]): Vector<Float64> {
  const data = new Float64Array(values.length);
  const valid = new Uint8Array((values.length + 7) >> 3);
  let nullCount = 0;
  values.forEach((v, i) => {
    if (v === null) nullCount++;
    else {
      data[i] = v;
      valid[i >> 3] |= 1 << (i & 7);
    }
  });
  return makeVector(makeData({ type: new Float64(), length: values.length, nullCount, nullBitmap: nullCount > 0 ? valid : null, data }));
}

/** symbol dictionary-encoded, source plain utf8, ts_event int64, ts_recv TIMESTAMP(NANOS), in three record batches. */
function factorTable(): Table {
  const int64 = (v: bigint[]) => makeVector(makeData({ type: new Int64(), length: N, data: BigInt64Array.from(v) }));
  const whole = new Table({
    symbol: vectorFromArray(rows.symbol, new Dictionary(new Utf8(), new Int32())),
    source: vectorFromArray(rows.source, new Utf8()),
    seq: int64(rows.seq),
    ts_event: int64(rows.tsEvent),
    ts_recv: makeVector(makeData({ type: new TimestampNanosecond('UTC'), length: N, data: BigInt64Array.from(rows.tsRecv) })),
    ...Object.fromEntries(Object.entries(rows.values).map(([name, v]) => [name, float64Vector(v)])),
  });
  let from = 0;
  return new Table(
    BATCH_ROWS.flatMap((n) => {
      const part = whole.slice(from, from + n).batches;
      from += n;
      return part;
    }),
  );
}

/** One call of a test encoder: what arrow-js gave it and what the CLI returned. */
interface Encoded {
  input: Uint8Array;
  output: Uint8Array;
}

interface Case {
  file: string;
  format: 'file' | 'stream';
  type: CompressionType;
  /** How the frames are made, and the CLI command for an input of `n` bytes. */
  frames: string;
  cli: (n: number) => [string, string[]];
  /** The flag byte every frame must carry (LZ4), or whether frames state their content size (zstd). */
  lz4Flags?: number;
  zstdContentSize?: boolean;
  log: Encoded[];
}

const CASES: Case[] = [
  {
    file: 'lz4.arrow',
    format: 'file',
    type: CompressionType.LZ4_FRAME,
    frames: 'as Arrow C++ makes them: 64 KB linked blocks, no checksums, no content size',
    cli: () => ['lz4', ['-q', '-c', '-B4', '-BD', '--no-frame-crc']],
    lz4Flags: 0x40,
    log: [],
  },
  {
    file: 'lz4.arrows',
    format: 'stream',
    type: CompressionType.LZ4_FRAME,
    frames: "the lz4 CLI's defaults: 4 MB independent blocks, content checksum",
    cli: () => ['lz4', ['-q', '-c']],
    lz4Flags: 0x64,
    log: [],
  },
  {
    file: 'zstd.feather',
    format: 'file',
    type: CompressionType.ZSTD,
    frames: 'as Arrow C++ makes them: content size, no checksum',
    cli: (n) => ['zstd', ['-q', '-c', '--no-check', `--stream-size=${n}`]],
    zstdContentSize: true,
    log: [],
  },
  {
    file: 'zstd.ipc',
    format: 'stream',
    type: CompressionType.ZSTD,
    frames: "the zstd CLI's defaults from a pipe: no content size, XXH64 checksum",
    cli: () => ['zstd', ['-q', '-c']],
    zstdContentSize: false,
    log: [],
  },
];

function requireCli(cmd: string): void {
  try {
    execFileSync(cmd, ['--version'], { stdio: 'pipe' });
  } catch (e) {
    throw new Error(`this test writes its compressed fixtures with the reference \`${cmd}\` CLI, which is not runnable here (Debian: apt-get install ${cmd}): ${(e as Error).message}`);
  }
}

/** Registers a test-only encoder beside the product's decoder (arrow-js keeps one codec per type). */
function useCliEncoder(c: Case): void {
  const decode = compressionRegistry.get(c.type)?.decode;
  expect(decode, 'registerIpcCodecs() first').toBeTypeOf('function');
  compressionRegistry.set(c.type, {
    decode,
    encode(input: Uint8Array): Uint8Array {
      const [cmd, args] = c.cli(input.length);
      const out = execFileSync(cmd, args, { input, maxBuffer: 1 << 28 });
      const output = new Uint8Array(out.buffer, out.byteOffset, out.length);
      c.log.push({ input: input.slice(), output });
      return output;
    },
  });
}

function writeIpc(t: Table, format: 'file' | 'stream', compressionType: CompressionType | null): Uint8Array {
  const writer = format === 'file' ? RecordBatchFileWriter : RecordBatchStreamWriter;
  return writer.writeAll(t, { compressionType }).toUint8Array(true);
}

const int64le = (n: number | bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigInt64LE(BigInt(n));
  return b;
};

/**
 * The file with each compressed buffer's 8-byte prefix set to its uncompressed length, as the Arrow
 * spec (and pyarrow, polars) have it: arrow-js 21.2.0's writer stores the compressed length there.
 * Every compressed buffer must be found with that prefix, so a fixed arrow-js fails this loudly.
 */
function withSpecLengthPrefixes(bytes: Uint8Array, log: Encoded[]): Buffer {
  const out = Buffer.from(bytes);
  let compressed = 0;
  let fixed = 0;
  for (const { input, output } of log) {
    // a codec output no smaller than its input is not used: arrow-js stores the input, prefix -1
    if (output.length >= input.length) continue;
    compressed++;
    const needle = Buffer.concat([int64le(output.length), output]);
    for (let at = out.indexOf(needle); at >= 0; at = out.indexOf(needle, at + 8)) {
      out.writeBigInt64LE(BigInt(input.length), at);
      fixed++;
    }
  }
  expect(compressed).toBeGreaterThan(0);
  expect(fixed, 'compressed buffers found behind a compressed-length prefix').toBe(compressed);
  return out;
}

/** The compressed buffer holding `mid` of record batch 1 (rows 10000..19999): offset in the file and length. */
function midOfBatch1(bytes: Buffer, c: Case): { at: number; input: number; output: number } {
  const raw = Buffer.from(Float64Array.from(rows.values.mid.slice(BATCH_ROWS[0], BATCH_ROWS[0] + BATCH_ROWS[1]) as number[]).buffer);
  const e = c.log.find((x) => raw.equals(x.input))!;
  expect(e.output.length).toBeLessThan(e.input.length);
  const at = bytes.indexOf(e.output);
  expect(at).toBeGreaterThan(8);
  expect(bytes.indexOf(e.output, at + 1), 'one buffer with these bytes').toBe(-1);
  return { at, input: e.input.length, output: e.output.length };
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

let dir: string;
let plain: string;
let want: DiffTable;
const path = (name: string) => join(dir, name);

beforeAll(async () => {
  requireCli('lz4');
  requireCli('zstd');
  registerIpcCodecs();
  dir = mkdtempSync(join(tmpdir(), 'lockstep-arrow-ipc-compressed-'));
  const table = factorTable();
  plain = path('plain.arrow');
  writeFileSync(plain, writeIpc(table, 'file', null));
  for (const c of CASES) {
    useCliEncoder(c);
    const bytes = writeIpc(table, c.format, c.type);
    writeFileSync(path(`arrowjs-${c.file}`), bytes);
    writeFileSync(path(c.file), withSpecLengthPrefixes(bytes, c.log));
  }
  want = await collectTable(await openRowSource(plain));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Every cell the same: bigints exact, floats by Object.is (NaN equals NaN, -0 differs from 0), nulls. */
function expectSameTable(got: DiffTable, exp: DiffTable, label: string): void {
  expect(got.columns, label).toEqual(exp.columns);
  expect(got.symbol, label).toEqual(exp.symbol);
  expect(got.source, label).toEqual(exp.source);
  expect(got.seq, label).toEqual(exp.seq);
  expect(got.tsRecv, label).toEqual(exp.tsRecv);
  expect(Object.keys(got.values), label).toEqual(Object.keys(exp.values));
  for (const [name, col] of Object.entries(exp.values)) {
    expect(got.values[name].length, `${label} ${name}`).toBe(col.length);
    expect(
      col.findIndex((v, i) => !Object.is(v, got.values[name][i])),
      `${label} ${name}: first row that differs`,
    ).toBe(-1);
  }
}

async function batchSizes(s: RowSource): Promise<number[]> {
  const out: number[] = [];
  for await (const b of s.batches()) out.push(b.n);
  return out;
}

describe('compressed Arrow IPC factor tables', () => {
  it('the uncompressed file reads back as the table was built', () => {
    const exp: DiffTable = { columns: want.columns, symbol: rows.symbol, source: rows.source, seq: rows.seq, tsRecv: rows.tsRecv, values: rows.values };
    expect(want.columns).toEqual(['symbol', 'source', 'seq', 'ts_event', 'ts_recv', 'mid', 'noise', 'special', 'sparse']);
    expect(want.seq.some((s) => BigInt(Number(s)) !== s)).toBe(true);
    expectSameTable(want, exp, 'plain.arrow');
  });

  it('the fixtures are compressed as described, through both the codec and the stored-raw path', () => {
    for (const c of CASES) {
      // arrow-js's registry check encodes 8 bytes once; the rest are the file's buffers
      const buffers = c.log.slice(1);
      expect(buffers.some((e) => e.output.length < e.input.length), `${c.file}: some buffers compressed`).toBe(true);
      expect(buffers.some((e) => e.output.length >= e.input.length), `${c.file}: some buffers stored raw`).toBe(true);
      for (const { output } of buffers) {
        // the CLI marks a one-block frame's blocks independent (0x20) whatever it was asked
        if (c.lz4Flags !== undefined) expect(output[4] | 0x20, `${c.file}: ${c.frames}`).toBe(c.lz4Flags | 0x20);
        // zstd frame header descriptor: a content size field unless both its flag bits are 0
        else expect((output[4] & 0xe0) !== 0, `${c.file}: ${c.frames}`).toBe(c.zstdContentSize);
      }
    }
    // an 80 KB buffer in Arrow C++-style LZ4 frames spans two 64 KB linked blocks
    const lz4 = CASES[0].log.find((e) => e.input.length === BATCH_ROWS[0] * 8 && e.output.length < e.input.length)!;
    expect(lz4.output[4]).toBe(0x40);
    expect(decodeLz4Frame(lz4.output)).toEqual(lz4.input);
  });

  it('reads every compressed file cell for cell like the uncompressed one, one record batch at a time', async () => {
    for (const c of CASES) {
      for (const file of [c.file, `arrowjs-${c.file}`]) {
        const src = await openRowSource(path(file));
        expect(await batchSizes(src), file).toEqual(BATCH_ROWS);
        expectSameTable(await collectTable(src), want, `${file} (${c.frames})`);
      }
    }
  });

  it('diffs each compressed file against the uncompressed one at parity', async () => {
    for (const c of CASES) {
      const { report } = await diffSources(await openRowSource(path(c.file)), await openRowSource(plain));
      expect(report.verdict, c.file).toBe('parity');
      expect(report.rowsA).toBe(N);
      expect(report.matchedRows).toBe(N);
      expect(report.mismatchedCells).toBe(0);
      expect(report.columnTypeDifferences).toBeUndefined();
    }
  });

  it('a damaged compressed buffer is an input error naming the file and the record batch', async () => {
    for (const c of CASES) {
      const good = readFileSync(path(c.file));
      const mid = midOfBatch1(good, c);
      const name = CompressionType[c.type];
      const damages: [string, (b: Buffer) => void, string][] = [
        ['magic', (b) => (b[mid.at] ^= 0xff), c.type === CompressionType.LZ4_FRAME ? 'not an LZ4 frame \\(magic 0x[0-9a-f]{8}\\)' : 'not decodable as zstd \\(.+\\)'],
        ['prefix', (b) => b.writeBigInt64LE(BigInt(mid.input + 8), mid.at - 8), `decoded ${mid.input} bytes, the length prefix says ${mid.input + 8}`],
        ['cut', (b) => b.writeBigInt64LE(BigInt(mid.input - 1), mid.at - 8), c.type === CompressionType.LZ4_FRAME ? `LZ4 block \\d decodes past ${mid.input - 1} bytes` : `decoded ${mid.input} bytes, the length prefix says ${mid.input - 1}`],
      ];
      // a content checksum catches a changed byte the block format cannot
      if (c.lz4Flags === 0x64) damages.push(['byte', (b) => (b[mid.at + (mid.output >> 1)] ^= 0x01), '.+']);
      for (const [what, damage, reason] of damages) {
        const file = path(`${what}-${c.file}`);
        const bad = Buffer.from(good);
        damage(bad);
        writeFileSync(file, bad);
        const message = new RegExp(`^${escape(file)}, row ${BATCH_ROWS[0]}: record batch 1 is unreadable \\(${name} buffer of ${mid.output} bytes: ${reason}\\)$`);
        await expect(collectTable(await openRowSource(file)), file).rejects.toMatchObject({ name: 'InputError', message: expect.stringMatching(message) });
      }
      await expect(diffSources(await openRowSource(plain), await openRowSource(path(`magic-${c.file}`)))).rejects.toMatchObject({
        name: 'InputError',
        message: expect.stringMatching(new RegExp(`^${escape(path(`magic-${c.file}`))}, row ${BATCH_ROWS[0]}: record batch 1 is unreadable \\(`)),
      });
    }
  });

  it("decodes the reference CLIs' other frame options, and rejects what the reference rejects", () => {
    const data = Buffer.from(Float64Array.from({ length: 40_000 }, (_, i) => Math.round(Math.sin(i / 40) * 1e4) / 8).buffer);
    const cli = (cmd: string, args: string[], input: Uint8Array = data) => new Uint8Array(execFileSync(cmd, ['-q', '-c', ...args], { input, maxBuffer: 1 << 26 }));
    const same = (got: Uint8Array, exp: Uint8Array = data) => Buffer.from(got.buffer, got.byteOffset, got.length).equals(exp);
    for (const args of [['-BX'], ['-B5', '-BD', '--content-size'], ['-B6', '-9'], ['-B4', '-BD', '-BX', '--content-size', '--no-frame-crc']]) {
      const frame = cli('lz4', args);
      expect(same(decodeLz4Frame(frame)), `lz4 ${args.join(' ')}`).toBe(true);
      expect(same(decodeLz4Frame(frame, data.length)), `lz4 ${args.join(' ')}`).toBe(true);
    }
    for (const args of [['-19'], ['--long=27', '-3'], ['--no-check', `--stream-size=${data.length}`]]) {
      expect(same(decodeZstd(cli('zstd', args), data.length)), `zstd ${args.join(' ')}`).toBe(true);
    }
    // the zstd format allows frames back to back; they decode as one buffer
    const frames = Buffer.concat([cli('zstd', [], data.subarray(0, 1000)), cli('zstd', [], data.subarray(1000))]);
    expect(same(decodeZstd(frames, data.length))).toBe(true);

    const summed = Buffer.from(cli('lz4', ['-BX', '-B4']));
    summed[11 + (summed.readUInt32LE(7) & 0x7fffffff)] ^= 1;
    expect(() => decodeLz4Frame(summed)).toThrow('LZ4 block 0 checksum mismatch');
    // one literal, then a match 5 bytes back when 1 byte has been written: `lz4 -d` refuses it
    const block = [0x10, 0x41, 0x05, 0x00, 0x10, 0x42];
    // the header (independent 64 KB blocks, no checksums) with its checksum byte, as the CLI writes it
    const header = cli('lz4', ['-B4', '--no-frame-crc'], new Uint8Array(1)).subarray(0, 7);
    expect([...header.subarray(4, 6)]).toEqual([0x60, 0x40]);
    const frame = Buffer.concat([header, Buffer.from([block.length, 0, 0, 0, ...block, 0, 0, 0, 0])]);
    expect(() => execFileSync('lz4', ['-d', '-c', '-q'], { input: frame, stdio: 'pipe' })).toThrow();
    expect(() => decodeLz4Frame(frame)).toThrow('LZ4 block 0 is malformed: match offset 5 points before the data');
  });

  it('opening an IPC source registers the decoders; registering is idempotent and keeps a registered encoder', async () => {
    const lz4 = compressionRegistry.get(CompressionType.LZ4_FRAME)!;
    registerIpcCodecs();
    expect(compressionRegistry.get(CompressionType.LZ4_FRAME)).toBe(lz4);
    expect(lz4.encode).toBeTypeOf('function');
    try {
      // a codec without a decoder (what arrow-js has by default): arrow-js refuses the batch...
      compressionRegistry.set(CompressionType.LZ4_FRAME, {});
      const { RecordBatchReader } = await import('apache-arrow');
      const { readFileSync } = await import('node:fs');
      expect(() => [...RecordBatchReader.from(readFileSync(path('lz4.arrows')))]).toThrow(/compressed but codec not found/);
      // ...and openRowSource registers the decoders before it reads
      expectSameTable(await collectTable(await openRowSource(path('lz4.arrows'))), want, 'lz4.arrows');
    } finally {
      compressionRegistry.set(CompressionType.LZ4_FRAME, lz4);
    }
  });
});
