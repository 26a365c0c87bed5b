/**
 * Decoders for Arrow IPC body compression (LZ4_FRAME and ZSTD), registered in arrow-js's codec
 * registry. arrow-js 21 reads a compressed record batch only through a codec registered there and
 * ships none, so without this a feather file from pyarrow (LZ4 by default) or an IPC file from
 * polars (zstd or lz4) is unreadable. Both decoders are pure JavaScript, with no native build and no
 * install script: LZ4 frames are decoded here (see {@link decodeLz4Frame} for why), zstd by fzstd.
 *
 * How arrow-js 21 (ipc/reader.mjs `_decompressBuffers`) uses a codec: each body buffer starts with
 * an 8-byte little-endian length prefix; arrow-js reads it only to spot -1 (buffer stored
 * uncompressed, returned as is without calling the codec), strips it, and passes the codec the
 * compressed bytes alone. It never compares the decoded length with the prefix, so this module does
 * (see {@link lengthPrefix}): a frame that decodes to the wrong length would otherwise shift every
 * value after it in silence. Decoded buffers are returned 8-byte aligned, because arrow-js views
 * them in place as Float64Array and BigInt64Array, which throw on a misaligned offset.
 */
import { CompressionType, compressionRegistry } from 'apache-arrow';
import { decompress as zstdDecompress } from 'fzstd';

const LZ4_MAGIC = 0x184d2204;
/** Block maximum sizes by the frame descriptor's block-size index (4 to 7). */
const LZ4_BLOCK_MAX: Record<number, number> = { 4: 1 << 16, 5: 1 << 18, 6: 1 << 20, 7: 1 << 22 };
const UNCOMPRESSED_BLOCK = 0x80000000;

/**
 * Decodes one LZ4 frame (the format of the reference library's LZ4F API and of the `lz4` CLI,
 * which Arrow's LZ4_FRAME names), as strictly as the reference decoder: every length is bounded by
 * the frame, the header, block and content checksums are verified when the frame carries them,
 * and bytes after the end mark are an error. Written here rather than taken from lz4js, whose
 * decoder reads a block checksum from before its block instead of after it and turns a match
 * that points before the output, or a literal run past its block, into zeros without an error.
 *
 * `expectedLength`: the uncompressed length, when known; the output must have exactly that length.
 * @throws Error naming what is wrong with the frame.
 */
export function decodeLz4Frame(src: Uint8Array, expectedLength?: number): Uint8Array {
  const view = new DataView(src.buffer, src.byteOffset, src.byteLength);
  const need = (at: number, n: number, what: string) => {
    if (at + n > src.length) throw new Error(`truncated in the ${what} (needs ${at + n} bytes, has ${src.length})`);
  };
  need(0, 7, 'frame header');
  const magic = view.getUint32(0, true);
  if (magic !== LZ4_MAGIC) throw new Error(`not an LZ4 frame (magic 0x${magic.toString(16).padStart(8, '0')})`);
  const flags = src[4];
  const blockDescriptor = src[5];
  if (flags >> 6 !== 1) throw new Error(`unsupported LZ4 frame version ${flags >> 6}`);
  if ((flags & 0x02) !== 0 || (blockDescriptor & 0x8f) !== 0) throw new Error('reserved bits set in the LZ4 frame header');
  // Arrow never compresses with a preset dictionary, and the frame would not decode without it
  if ((flags & 0x01) !== 0) throw new Error('the LZ4 frame needs a preset dictionary');
  const linked = (flags & 0x20) === 0;
  const blockSums = (flags & 0x10) !== 0;
  const contentSum = (flags & 0x04) !== 0;
  const blockMax = LZ4_BLOCK_MAX[(blockDescriptor >> 4) & 7];
  if (blockMax === undefined) throw new Error(`invalid LZ4 block size index ${(blockDescriptor >> 4) & 7}`);
  let at = 6;
  let contentSize: number | undefined;
  if ((flags & 0x08) !== 0) {
    need(at, 9, 'frame header');
    contentSize = Number(view.getBigUint64(at, true));
    at += 8;
  }
  if (src[at] !== ((xxh32(src, 4, at - 4) >>> 8) & 0xff)) throw new Error('LZ4 frame header checksum mismatch');
  at++;

  // first the frame's layout, so that the output is allocated once
  const blocks: { at: number; length: number; stored: boolean }[] = [];
  let bound = 0;
  for (;;) {
    need(at, 4, 'block size');
    const word = view.getUint32(at, true);
    at += 4;
    if (word === 0) break;
    const stored = word >= UNCOMPRESSED_BLOCK;
    const length = stored ? word - UNCOMPRESSED_BLOCK : word;
    if (length > blockMax) throw new Error(`LZ4 block ${blocks.length} of ${length} bytes exceeds the frame's ${blockMax}-byte blocks`);
    need(at, length + (blockSums ? 4 : 0), `block ${blocks.length}`);
    if (blockSums && xxh32(src, at, length) !== view.getUint32(at + length, true)) throw new Error(`LZ4 block ${blocks.length} checksum mismatch`);
    blocks.push({ at, length, stored });
    bound += stored ? length : blockMax;
    at += length + (blockSums ? 4 : 0);
  }
  const checksumAt = at;
  if (contentSum) need(at, 4, 'content checksum');
  const end = at + (contentSum ? 4 : 0);
  if (end !== src.length) throw new Error(`${src.length - end} bytes after the end of the LZ4 frame`);

  const size = expectedLength ?? contentSize ?? bound;
  if (size > bound) throw new Error(`the LZ4 frame holds at most ${bound} bytes, not ${size}`);
  const out = new Uint8Array(size);
  let n = 0;
  for (const [i, b] of blocks.entries()) {
    if (b.stored) {
      if (n + b.length > size) throw new Error(`LZ4 block ${i} decodes past ${size} bytes`);
      out.set(src.subarray(b.at, b.at + b.length), n);
      n += b.length;
    } else {
      const from = n;
      n = decodeLz4Block(src, b.at, b.at + b.length, out, n, linked ? 0 : n, i);
      if (n - from > blockMax) throw new Error(`LZ4 block ${i} decodes to ${n - from} bytes, more than the frame's ${blockMax}-byte blocks`);
    }
  }
  if (expectedLength !== undefined && n !== expectedLength) throw new Error(`decoded ${n} bytes, the length prefix says ${expectedLength}`);
  if (contentSize !== undefined && n !== contentSize) throw new Error(`decoded ${n} bytes, the LZ4 frame header says ${contentSize}`);
  if (contentSum && xxh32(out, 0, n) !== view.getUint32(checksumAt, true)) throw new Error('LZ4 content checksum mismatch');
  return n === size ? out : out.slice(0, n);
}

/**
 * Decodes the LZ4 block `src[from, to)` into `out` at `n`; returns the end of its output. A match
 * may reach back to `windowStart` (0 for linked blocks, the block's own start for independent
 * ones). Malformed input throws rather than decoding to something.
 */
function decodeLz4Block(src: Uint8Array, from: number, to: number, out: Uint8Array, n: number, windowStart: number, index: number): number {
  const bad = (what: string): never => {
    throw new Error(`LZ4 block ${index} is malformed: ${what}`);
  };
  const tooLong = (): never => {
    throw new Error(`LZ4 block ${index} decodes past ${out.length} bytes`);
  };
  let at = from;
  /** A length nibble of 15 continues in the following bytes, each 255 saying "more". */
  const length = (nibble: number): number => {
    let len = nibble;
    if (nibble === 15) {
      for (let b = 255; b === 255; len += b) {
        if (at >= to) bad('a length runs past the block');
        b = src[at++];
      }
    }
    return len;
  };
  for (;;) {
    if (at >= to) bad('the block does not end with literals');
    const token = src[at++];
    const literals = length(token >> 4);
    if (at + literals > to) bad('literals run past the block');
    if (n + literals > out.length) tooLong();
    // a view per short run would cost more than the copy
    if (literals < 32) for (let k = 0; k < literals; k++) out[n + k] = src[at + k];
    else out.set(src.subarray(at, at + literals), n);
    at += literals;
    n += literals;
    if (at === to) return n;
    if (at + 2 > to) bad('a match offset runs past the block');
    const offset = src[at] | (src[at + 1] << 8);
    at += 2;
    if (offset === 0) bad('match offset 0');
    if (offset > n - windowStart) bad(`match offset ${offset} points before the data`);
    const match = length(token & 15) + 4;
    if (n + match > out.length) tooLong();
    // an overlapping match (offset < length) repeats its last `offset` bytes: copied byte by byte
    if (offset >= match && match >= 32) out.copyWithin(n, n - offset, n - offset + match);
    else for (let k = 0; k < match; k++) out[n + k] = out[n + k - offset];
    n += match;
  }
}

const P1 = 0x9e3779b1;
const P2 = 0x85ebca77;
const P3 = 0xc2b2ae3d;
const P4 = 0x27d4eb2f;
const P5 = 0x165667b1;

const rotl = (x: number, r: number) => (x << r) | (x >>> (32 - r));
const read32 = (b: Uint8Array, at: number) => b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24);
const round = (acc: number, input: number) => Math.imul(rotl((acc + Math.imul(input, P2)) | 0, 13), P1);

/** XXH32 with seed 0 of `b[at, at + len)`, the checksum of the LZ4 frame format (xxhash spec). */
export function xxh32(b: Uint8Array, at: number, len: number): number {
  const end = at + len;
  let p = at;
  let h: number;
  if (len >= 16) {
    let v1 = (P1 + P2) | 0;
    let v2 = P2;
    let v3 = 0;
    let v4 = -P1 | 0;
    for (; p + 16 <= end; p += 16) {
      v1 = round(v1, read32(b, p));
      v2 = round(v2, read32(b, p + 4));
      v3 = round(v3, read32(b, p + 8));
      v4 = round(v4, read32(b, p + 12));
    }
    h = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) | 0;
  } else {
    h = P5;
  }
  h = (h + len) | 0;
  for (; p + 4 <= end; p += 4) h = Math.imul(rotl((h + Math.imul(read32(b, p), P3)) | 0, 17), P4);
  for (; p < end; p++) h = Math.imul(rotl((h + Math.imul(b[p], P5)) | 0, 11), P1);
  h = Math.imul(h ^ (h >>> 15), P2);
  h = Math.imul(h ^ (h >>> 13), P3);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * Decodes zstd data (one or more frames, as the reference library and the `zstd` CLI write them)
 * with fzstd. fzstd checks much less than the reference decoder: it skips a frame's XXH64
 * checksum (Arrow writers add none anyway), and a frame that states its content size (Arrow C++'s
 * do) always decodes to that size. So a damaged header, a truncated frame or a wrong length prefix
 * is an error, but a byte changed inside a frame mostly decodes to wrong values of the right length,
 * which the diff then reports as mismatches rather than as an unreadable file.
 *
 * `expectedLength`: the uncompressed length, when known; the output must have exactly that length.
 * @throws Error naming what is wrong with the data.
 */
export function decodeZstd(src: Uint8Array, expectedLength?: number): Uint8Array {
  let out: Uint8Array;
  try {
    out = zstdDecompress(src);
  } catch (e) {
    throw new Error(`not decodable as zstd (${(e as Error)?.message ?? String(e)})`);
  }
  if (expectedLength !== undefined && out.length !== expectedLength) throw new Error(`decoded ${out.length} bytes, the length prefix says ${expectedLength}`);
  // fzstd returns a single frame's output as a view at byte offset 12 of its own allocation
  return out.byteOffset % 8 === 0 ? out : out.slice();
}

/**
 * The uncompressed length the writer stored in front of `frame` (the Arrow spec's 8-byte prefix),
 * or undefined when it tells nothing. arrow-js 21 hands the codec `body.subarray(offset + 8)`, so
 * the prefix is the 8 bytes before the frame in the same ArrayBuffer; a test pins this (a wrong
 * prefix must be reported), so an arrow-js that stops doing so fails loudly rather than silently.
 * arrow-js's own writer (21.2.0) stores the compressed length there instead of the uncompressed
 * one, so a prefix equal to the frame's own length is not a length to check against.
 */
function lengthPrefix(frame: Uint8Array): number | undefined {
  if (frame.byteOffset < 8) return undefined;
  const n = new DataView(frame.buffer, frame.byteOffset - 8, 8).getBigInt64(0, true);
  if (n === BigInt(frame.length)) return undefined;
  if (n < 0n || n > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`length prefix ${n} is not a buffer length`);
  return Number(n);
}

type Decode = (src: Uint8Array, expectedLength?: number) => Uint8Array;

/** The registered decoder: the prefix's length checked, every failure named by codec and size. */
function ipcDecoder(type: CompressionType, decode: Decode): (frame: Uint8Array) => Uint8Array {
  return (frame) => {
    try {
      return decode(frame, lengthPrefix(frame));
    } catch (e) {
      throw new Error(`${CompressionType[type]} buffer of ${frame.length} bytes: ${(e as Error)?.message ?? String(e)}`, { cause: e });
    }
  };
}

const DECODERS: ReadonlyArray<readonly [CompressionType, (frame: Uint8Array) => Uint8Array]> = [
  [CompressionType.LZ4_FRAME, ipcDecoder(CompressionType.LZ4_FRAME, decodeLz4Frame)],
  [CompressionType.ZSTD, ipcDecoder(CompressionType.ZSTD, decodeZstd)],
];

/**
 * Lets arrow-js read IPC record batches and dictionaries compressed with LZ4_FRAME or ZSTD.
 * Idempotent. The registry holds one codec (encoder and decoder) per compression type: an encoder
 * already registered (a writer's, a test's) is kept beside the decoder.
 */
export function registerIpcCodecs(): void {
  for (const [type, decode] of DECODERS) {
    const codec = compressionRegistry.get(type);
    if (codec?.decode === decode) continue;
    compressionRegistry.set(type, { encode: codec?.encode?.bind(codec), decode });
  }
}
