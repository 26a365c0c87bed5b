/**
 * LZ4 frame compression (the LZ4_FRAME codec of Arrow IPC body compression), in plain TypeScript:
 * neither apache-arrow JS nor flechette ship an encoder, and the format is small. Greedy matching
 * over a 4-byte hash, independent 4 MB blocks, no checksums (the frame descriptor says so); a block
 * that does not shrink is stored raw, as the frame format allows. Output decodes with the `lz4`
 * tool, pyarrow and any LZ4 frame reader; ratio is below lz4's own fast mode, never its format.
 */

const MAGIC = 0x184d2204;
const BLOCK = 4 << 20;
/** FLG: version 01, independent blocks, no block/content checksum, no content size, no dict id. */
const FLG = 0x60;
/** BD: block max size 4 MB. */
const BD = 0x70;
const MIN_MATCH = 4;
const MF_LIMIT = 12;
const LAST_LITERALS = 5;
const HASH_LOG = 16;

const P1 = 2654435761;
const P2 = 2246822519;
const P3 = 3266489917;
const P5 = 374761393;

/** xxHash32 of a few bytes (the frame descriptor's header checksum). */
function xxh32Short(bytes: readonly number[], seed = 0): number {
  let h = (seed + P5 + bytes.length) >>> 0;
  for (const b of bytes) {
    h = (h + Math.imul(b, P5)) >>> 0;
    h = Math.imul((h << 11) | (h >>> 21), P1) >>> 0;
  }
  h ^= h >>> 15;
  h = Math.imul(h, P2) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, P3) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

const HC = (xxh32Short([FLG, BD]) >>> 8) & 0xff;
const table = new Int32Array(1 << HASH_LOG);

function read32(s: Uint8Array, i: number): number {
  return s[i] | (s[i + 1] << 8) | (s[i + 2] << 16) | (s[i + 3] << 24);
}

function writeLength(dst: Uint8Array, pos: number, len: number): number {
  while (len >= 255) {
    dst[pos++] = 255;
    len -= 255;
  }
  dst[pos++] = len;
  return pos;
}

/** One LZ4 block of src[start, end) into dst at pos; returns the new position. */
function compressBlock(src: Uint8Array, start: number, end: number, dst: Uint8Array, pos: number): number {
  table.fill(-1);
  let anchor = start;
  let ip = start;
  const mfLimit = end - MF_LIMIT;
  const matchLimit = end - LAST_LITERALS;
  while (ip < mfLimit) {
    const seq = read32(src, ip);
    const h = Math.imul(seq, P1) >>> (32 - HASH_LOG);
    const ref = table[h];
    table[h] = ip;
    if (ref >= start && ip - ref <= 65535 && read32(src, ref) === seq) {
      let ml = MIN_MATCH;
      while (ip + ml < matchLimit && src[ref + ml] === src[ip + ml]) ml++;
      const lit = ip - anchor;
      const token = pos++;
      if (lit >= 15) pos = writeLength(dst, pos, lit - 15);
      dst.set(src.subarray(anchor, ip), pos);
      pos += lit;
      const off = ip - ref;
      dst[pos++] = off & 0xff;
      dst[pos++] = off >>> 8;
      const mc = ml - MIN_MATCH;
      if (mc >= 15) pos = writeLength(dst, pos, mc - 15);
      dst[token] = ((lit >= 15 ? 15 : lit) << 4) | (mc >= 15 ? 15 : mc);
      ip += ml;
      anchor = ip;
    } else {
      // skip faster through data that does not match (floats, mostly), as lz4 itself does
      ip += 1 + ((ip - anchor) >> 6);
    }
  }
  const lit = end - anchor;
  const token = pos++;
  if (lit >= 15) pos = writeLength(dst, pos, lit - 15);
  dst[token] = (lit >= 15 ? 15 : lit) << 4;
  dst.set(src.subarray(anchor, end), pos);
  return pos + lit;
}

/** `src` as one LZ4 frame. */
export function lz4FrameCompress(src: Uint8Array): Uint8Array {
  const blocks = Math.max(1, Math.ceil(src.length / BLOCK));
  // worst case per block: every byte a literal, plus length bytes and the block header
  const dst = new Uint8Array(7 + 4 + src.length + blocks * (8 + Math.ceil(BLOCK / 255)) + 4);
  const dv = new DataView(dst.buffer);
  dv.setUint32(0, MAGIC, true);
  dst[4] = FLG;
  dst[5] = BD;
  dst[6] = HC;
  let pos = 7;
  for (let s = 0; s < src.length; s += BLOCK) {
    const e = Math.min(src.length, s + BLOCK);
    const end = compressBlock(src, s, e, dst, pos + 4);
    const size = end - pos - 4;
    if (size >= e - s) {
      // stored raw: high bit of the block size
      dv.setUint32(pos, ((e - s) | 0x80000000) >>> 0, true);
      dst.set(src.subarray(s, e), pos + 4);
      pos += 4 + (e - s);
    } else {
      dv.setUint32(pos, size, true);
      pos = end;
    }
  }
  dv.setUint32(pos, 0, true);
  return dst.slice(0, pos + 4);
}

/** Decodes one LZ4 frame written as above (or by any encoder using independent blocks). For tests and readers. */
export function lz4FrameDecompress(src: Uint8Array, size: number): Uint8Array {
  const dv = new DataView(src.buffer, src.byteOffset, src.byteLength);
  if (dv.getUint32(0, true) !== MAGIC) throw new Error('not an LZ4 frame');
  const flg = src[4];
  let pos = 6 + (flg & 0x08 ? 8 : 0) + (flg & 0x01 ? 4 : 0) + 1;
  const out = new Uint8Array(size);
  let op = 0;
  for (;;) {
    const bs = dv.getUint32(pos, true);
    pos += 4;
    if (bs === 0) break;
    const len = bs & 0x7fffffff;
    if (bs & 0x80000000) {
      out.set(src.subarray(pos, pos + len), op);
      op += len;
    } else {
      const end = pos + len;
      let ip = pos;
      while (ip < end) {
        const token = src[ip++];
        let lit = token >>> 4;
        if (lit === 15) for (let b = 255; b === 255; lit += b) b = src[ip++];
        out.set(src.subarray(ip, ip + lit), op);
        ip += lit;
        op += lit;
        if (ip >= end) break;
        const off = src[ip] | (src[ip + 1] << 8);
        ip += 2;
        let ml = token & 15;
        if (ml === 15) for (let b = 255; b === 255; ml += b) b = src[ip++];
        ml += MIN_MATCH;
        for (let k = 0; k < ml; k++, op++) out[op] = out[op - off];
      }
    }
    pos += len + (flg & 0x10 ? 4 : 0);
  }
  return out;
}
