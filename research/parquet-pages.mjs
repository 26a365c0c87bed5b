// A narrow Parquet page reader for the gather of historicalFeatures (research/gather-worker.mjs):
// it reads the matched rows of flat float64 (DOUBLE) columns straight from the file's data pages,
// PLAIN-encoded, uncompressed or Snappy, data page v1 or v2, which is what replay's writer
// produces for every feature column (numeric dictionaries are off: replay/parquet-io.ts). Anything
// else (a dictionary page, another encoding or codec, a nested schema) makes it answer "not
// mine" and the caller falls back to parquet-wasm, so it never has to be complete.
//
// Why not parquet-wasm for these: a row group's 37 feature columns decoded to Arrow cost about
// twice the Snappy decompression itself; here the page is decompressed (hysnappy, wasm) and only
// the matched rows' values are read out of it: no Arrow arrays, no copies of the unmatched rows.
// Plain JavaScript, like its caller (a worker thread runs it without a TypeScript loader).
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { snappyUncompressor } from 'hysnappy';

// Thrift compact protocol, enough of it to read a FileMetaData and a PageHeader into plain
// objects keyed by field id (integers as Number: offsets and sizes stay far below 2^53).
const T_TRUE = 1;
const T_FALSE = 2;
const T_BYTE = 3;
const T_I16 = 4;
const T_I32 = 5;
const T_I64 = 6;
const T_DOUBLE = 7;
const T_BINARY = 8;
const T_LIST = 9;
const T_SET = 10;
const T_MAP = 11;
const T_STRUCT = 12;

class Reader {
  constructor(bytes, pos = 0) {
    this.b = bytes;
    this.pos = pos;
  }
  varint() {
    let result = 0;
    let mul = 1;
    for (;;) {
      const x = this.b[this.pos++];
      if (x === undefined) throw new Error('truncated thrift data');
      result += (x & 0x7f) * mul;
      if (x < 0x80) return result;
      mul *= 128;
    }
  }
  zigzag() {
    const v = this.varint();
    return v % 2 === 0 ? v / 2 : -(v + 1) / 2;
  }
  value(type) {
    switch (type) {
      case T_TRUE:
        return true;
      case T_FALSE:
        return false;
      case T_BYTE:
        return this.b[this.pos++];
      case T_I16:
      case T_I32:
      case T_I64:
        return this.zigzag();
      case T_DOUBLE:
        this.pos += 8;
        return 0;
      case T_BINARY: {
        const len = this.varint();
        const s = this.b.subarray(this.pos, this.pos + len);
        this.pos += len;
        return s;
      }
      case T_LIST:
      case T_SET: {
        const h = this.b[this.pos++];
        let size = h >> 4;
        const et = h & 0x0f;
        if (size === 15) size = this.varint();
        const out = new Array(size);
        // booleans in a list are one byte each
        for (let i = 0; i < size; i++) out[i] = et === T_TRUE || et === T_FALSE ? this.b[this.pos++] === 1 : this.value(et);
        return out;
      }
      case T_MAP: {
        const size = this.varint();
        if (size === 0) return null;
        const kv = this.b[this.pos++];
        for (let i = 0; i < size; i++) {
          this.value(kv >> 4);
          this.value(kv & 0x0f);
        }
        return null;
      }
      case T_STRUCT:
        return this.struct();
      default:
        throw new Error(`thrift type ${type}`);
    }
  }
  struct() {
    const out = {};
    let id = 0;
    for (;;) {
      const h = this.b[this.pos++];
      if (h === undefined) throw new Error('truncated thrift data');
      if (h === 0) return out;
      const delta = h >> 4;
      id = delta === 0 ? this.zigzag() : id + delta;
      out[id] = this.value(h & 0x0f);
    }
  }
}

const PAGE_DATA = 0;
const PAGE_DICTIONARY = 2;
const PAGE_DATA_V2 = 3;
const ENC_PLAIN = 0;
const ENC_RLE = 3;
const CODEC_NONE = 0;
const CODEC_SNAPPY = 1;
const TYPE_DOUBLE = 5;
const REP_REQUIRED = 0;
const REP_OPTIONAL = 1;

/**
 * Opens `path` and reads its footer. `columns(features)` gives, for each feature, its column index
 * and whether it is nullable, or null when any of them is not a flat DOUBLE column (the caller then
 * uses parquet-wasm for everything).
 */
export function openPages(path) {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const tail = Buffer.alloc(8);
    readSync(fd, tail, 0, 8, size - 8);
    if (tail.toString('latin1', 4) !== 'PAR1') throw new Error('not a Parquet file');
    const len = tail.readUInt32LE(0);
    const footer = Buffer.alloc(len);
    readSync(fd, footer, 0, len, size - 8 - len);
    const md = new Reader(footer).struct();
    return { fd, md, snappy: snappyUncompressor(), scratch: { buf: Buffer.alloc(0), defs: new Uint8Array(0) } };
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

export function closePages(p) {
  closeSync(p.fd);
}

/** Column index and nullability of each feature, or null when the fast path does not apply. */
export function featureColumns(p, features) {
  const schema = p.md[2];
  const root = schema[0];
  // flat: every element after the root is a leaf (no groups, so no nesting and no repetition)
  if (schema.slice(1).some((e) => e[5] !== undefined && e[5] !== 0)) return null;
  if (root[5] !== schema.length - 1) return null;
  const leaves = schema.slice(1);
  const out = [];
  for (const f of features) {
    const c = leaves.findIndex((e) => Buffer.from(e[4]).toString('utf8') === f);
    if (c < 0) return null;
    const e = leaves[c];
    if (e[1] !== TYPE_DOUBLE || (e[3] !== REP_REQUIRED && e[3] !== REP_OPTIONAL)) return null;
    out.push({ column: c, maxDef: e[3] === REP_OPTIONAL ? 1 : 0 });
  }
  return out;
}

/**
 * Reads one column chunk's matched rows: for k in [0, m), row `rows[k]` of the row group
 * (ascending) goes to entity `ents[k]`, cell `off + ents[k]` of `values`, with `valid` set to 1
 * when the row holds a value (a null leaves both as they are). Returns false, having written
 * nothing, when the chunk is not one this reader handles (a dictionary page, another encoding or
 * codec), so the caller can decode it another way.
 */
export function gatherChunk(p, group, col, rows, ents, m, off, values, valid) {
  const cc = p.md[4][group][1][col.column];
  if (cc[1] !== undefined) return false; // the chunk lives in another file
  const meta = cc[3];
  const codec = meta[4];
  if (codec !== CODEC_NONE && codec !== CODEC_SNAPPY) return false;
  // a chunk starts at its dictionary page when it has one (its pages then answer "not mine")
  const start = meta[11] !== undefined && meta[11] > 0 && meta[11] < meta[9] ? meta[11] : meta[9];
  const size = meta[7];
  if (p.scratch.buf.length < size) p.scratch.buf = Buffer.allocUnsafe(Math.max(size, p.scratch.buf.length * 2));
  const chunk = p.scratch.buf;
  if (readSync(p.fd, chunk, 0, size, start) !== size) throw new Error('truncated column chunk');
  // first pass: check every page is one we read, so a false answer comes before any write
  const pages = [];
  const r = new Reader(chunk);
  while (r.pos < size) {
    const h = r.struct();
    const body = r.pos;
    r.pos += h[3];
    if (h[1] === PAGE_DATA) {
      const d = h[5];
      if (d[2] !== ENC_PLAIN || (col.maxDef > 0 && d[3] !== ENC_RLE)) return false;
      pages.push({ v2: false, body, compressed: h[3], uncompressed: h[2], numValues: d[1] });
    } else if (h[1] === PAGE_DATA_V2) {
      const d = h[8];
      if (d[4] !== ENC_PLAIN || d[6] !== 0 || d[3] !== d[1]) return false;
      pages.push({ v2: true, body, compressed: h[3], uncompressed: h[2], numValues: d[1], defBytes: d[5], isCompressed: d[7] !== false });
    } else if (h[1] === PAGE_DICTIONARY) return false;
    // an index page carries nothing to read
  }
  let k = 0;
  let first = 0;
  for (const pg of pages) {
    const end = first + pg.numValues;
    if (k < m && rows[k] < end) k = gatherPage(p, codec, col, pg, chunk, first, rows, ents, off, k, m, values, valid);
    first = end;
  }
  return true;
}

/** The matched rows of one data page; returns the next k (first match past the page). */
function gatherPage(p, codec, col, pg, chunk, first, rows, ents, off, k, m, values, valid) {
  const end = first + pg.numValues;
  let levels;
  let data;
  if (!pg.v2) {
    const raw = chunk.subarray(pg.body, pg.body + pg.compressed);
    const page = codec === CODEC_SNAPPY ? p.snappy(raw, pg.uncompressed) : raw;
    if (col.maxDef > 0) {
      const len = page[0] | (page[1] << 8) | (page[2] << 16) | (page[3] << 24);
      levels = page.subarray(4, 4 + len);
      data = page.subarray(4 + len);
    } else data = page;
  } else {
    levels = chunk.subarray(pg.body, pg.body + pg.defBytes);
    const raw = chunk.subarray(pg.body + pg.defBytes, pg.body + pg.compressed);
    data = codec === CODEC_SNAPPY && pg.isCompressed ? p.snappy(raw, pg.uncompressed - pg.defBytes) : raw;
    if (col.maxDef === 0) levels = undefined;
  }
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const defined = levels === undefined ? pg.numValues : expandLevels(p, levels, pg.numValues);
  if (defined === pg.numValues) {
    // every row has a value: the row's value is at its position in the page
    for (; k < m && rows[k] < end; k++) {
      values[off + ents[k]] = dv.getFloat64((rows[k] - first) * 8, true);
      valid[off + ents[k]] = 1;
    }
    return k;
  }
  if (defined === 0) {
    while (k < m && rows[k] < end) k++;
    return k;
  }
  // nulls take no slot among the values: a matched row's value index is the rows defined before it
  const defs = p.scratch.defs;
  let pos = 0;
  let before = 0;
  for (; k < m && rows[k] < end; k++) {
    const at = rows[k] - first;
    while (pos < at) before += defs[pos++];
    if (defs[at] !== 0) {
      values[off + ents[k]] = dv.getFloat64(before * 8, true);
      valid[off + ents[k]] = 1;
    }
  }
  return k;
}

/**
 * Definition levels (bit width 1: RLE / bit-packed hybrid) of `n` rows into `p.scratch.defs`
 * (1 = a value); returns how many rows have a value.
 */
function expandLevels(p, bytes, n) {
  if (p.scratch.defs.length < n) p.scratch.defs = new Uint8Array(Math.max(n, p.scratch.defs.length * 2));
  const defs = p.scratch.defs;
  const r = new Reader(bytes);
  let at = 0;
  let ones = 0;
  while (at < n && r.pos < bytes.length) {
    const h = r.varint();
    if ((h & 1) === 0) {
      const run = Math.min(h >>> 1, n - at);
      const v = bytes[r.pos++] & 1;
      defs.fill(v, at, at + run);
      if (v) ones += run;
      at += run;
    } else {
      const groups = h >>> 1;
      for (let g = 0; g < groups; g++) {
        const byte = bytes[r.pos++];
        for (let b = 0; b < 8 && at < n; b++) {
          const v = (byte >> b) & 1;
          defs[at++] = v;
          ones += v;
        }
      }
    }
  }
  if (at < n) throw new Error('definition levels end early');
  return ones;
}

const TYPE_INT64 = 2;
const TYPE_BYTE_ARRAY = 6;
const ENC_PLAIN_DICTIONARY = 2;
const ENC_RLE_DICTIONARY = 8;
const CONVERTED_INT_64 = 18;

/** The leaf schema element and column index of `name`, or null. */
function leaf(p, name) {
  const leaves = p.md[2].slice(1);
  const c = leaves.findIndex((e) => e[5] === undefined && Buffer.from(e[4]).toString('utf8') === name);
  return c < 0 ? null : { column: c, e: leaves[c] };
}

/**
 * Whether the key columns can be read here: `ts` a required INT64 holding nanoseconds (a
 * TIMESTAMP(NANOS), or a plain or INTEGER(64) int64: the ones the Arrow route also takes as
 * nanoseconds), `symbol` a required BYTE_ARRAY. Nullable keys go the Arrow route, which names
 * the row of a null.
 */
export function keyColumns(p, ts, symbol) {
  if (featureColumns(p, []) === null) return null; // not flat
  const t = leaf(p, ts);
  const s = leaf(p, symbol);
  if (t === null || s === null) return null;
  if (t.e[1] !== TYPE_INT64 || t.e[3] !== REP_REQUIRED || s.e[1] !== TYPE_BYTE_ARRAY || s.e[3] !== REP_REQUIRED) return null;
  const logical = t.e[10];
  if (logical !== undefined) {
    const nanos = logical[8] !== undefined && logical[8][2] !== undefined && logical[8][2][3] !== undefined;
    const int64 = logical[10] !== undefined && logical[10][1] === 64 && logical[10][2] === true;
    if (!nanos && !int64) return null;
  } else if (t.e[6] !== undefined && t.e[6] !== CONVERTED_INT_64) return null;
  return { ts: t.column, symbol: s.column };
}

/** The decompressed body of each page of a chunk (header fields kept), or null on a codec it does not read. */
function chunkPages(p, group, column) {
  const cc = p.md[4][group][1][column];
  if (cc[1] !== undefined) return null; // the chunk lives in another file
  const meta = cc[3];
  const codec = meta[4];
  if (codec !== CODEC_NONE && codec !== CODEC_SNAPPY) return null;
  const start = meta[11] !== undefined && meta[11] > 0 && meta[11] < meta[9] ? meta[11] : meta[9];
  const size = meta[7];
  const chunk = Buffer.allocUnsafe(size);
  if (readSync(p.fd, chunk, 0, size, start) !== size) throw new Error('truncated column chunk');
  const out = [];
  const r = new Reader(chunk);
  while (r.pos < size) {
    const h = r.struct();
    const raw = chunk.subarray(r.pos, r.pos + h[3]);
    r.pos += h[3];
    if (h[1] === PAGE_DATA || h[1] === PAGE_DICTIONARY) {
      out.push({ type: h[1], header: h, body: codec === CODEC_SNAPPY ? p.snappy(raw, h[2]) : raw });
    } else if (h[1] === PAGE_DATA_V2) {
      const d = h[8];
      if (d[6] !== 0 || d[5] !== 0) return null; // required flat columns have no levels
      out.push({ type: h[1], header: h, body: codec === CODEC_SNAPPY && d[7] !== false ? p.snappy(raw, h[2]) : raw });
    }
  }
  return out;
}

/** Unpacks `count` values of `width` bits (RLE / bit-packed hybrid) from `bytes` at `pos` into `out` from `at`. */
function hybrid(bytes, pos, width, count, out, at) {
  const r = new Reader(bytes, pos);
  const byteWidth = (width + 7) >> 3;
  const end = at + count;
  while (at < end) {
    if (r.pos >= bytes.length) throw new Error('dictionary indices end early');
    const h = r.varint();
    if ((h & 1) === 0) {
      let v = 0;
      for (let b = 0; b < byteWidth; b++) v |= bytes[r.pos++] << (8 * b);
      const run = Math.min(h >>> 1, end - at);
      out.fill(v, at, at + run);
      at += run;
    } else {
      const values = (h >>> 1) * 8;
      const start = r.pos * 8;
      const mask = width === 32 ? 0xffffffff : (1 << width) - 1;
      const take = Math.min(values, end - at);
      if (width <= 24) {
        // a value spans at most 4 bytes (7 bits of shift + 24 of width): one little-endian word
        for (let k = 0; k < take; k++) {
          const bit = start + k * width;
          const b = bit >> 3;
          out[at++] = ((bytes[b] | (bytes[b + 1] << 8) | (bytes[b + 2] << 16) | (bytes[b + 3] << 24)) >>> (bit & 7)) & mask;
        }
      } else {
        for (let k = 0; k < take; k++) {
          let v = 0;
          for (let b = 0, bit = start + k * width; b < width; b++, bit++) v |= ((bytes[bit >> 3] >> (bit & 7)) & 1) << b;
          out[at++] = v & mask;
        }
      }
      r.pos += (h >>> 1) * width;
    }
  }
}

/**
 * The key columns of one row group: `ts` (exact int64) into `tsOut` and `symbol` as indices into
 * the returned list of strings into `symOut`, both from `at`. Null, having perhaps written part of
 * its rows (the caller then reads the group another way), when a page is not one it reads.
 */
export function readKeys(p, group, cols, tsOut, symOut, at) {
  const rows = Number(p.md[4][group][3]);
  const tsPages = chunkPages(p, group, cols.ts);
  if (tsPages === null) return null;
  let w = at;
  for (const pg of tsPages) {
    if (pg.type === PAGE_DICTIONARY) return null;
    const d = pg.type === PAGE_DATA ? pg.header[5] : pg.header[8];
    const enc = pg.type === PAGE_DATA ? d[2] : d[4];
    if (enc !== ENC_PLAIN) return null;
    const nv = d[1];
    const body = pg.body;
    if (body.length < nv * 8) throw new Error('short page');
    if (w - at + nv > rows) return null;
    // little-endian int64s, the layout of a BigInt64Array on every platform Node runs on
    new Uint8Array(tsOut.buffer, tsOut.byteOffset + w * 8, nv * 8).set(body.subarray(0, nv * 8));
    w += nv;
  }
  if (w - at !== rows) return null;
  const symPages = chunkPages(p, group, cols.symbol);
  if (symPages === null) return null;
  let dict = null; // the chunk's dictionary page, as strings
  const list = []; // the strings this group's indices refer to
  let plainIds = null; // for PLAIN pages: string -> index in list
  w = at;
  for (const pg of symPages) {
    if (pg.type === PAGE_DICTIONARY) {
      const n = pg.header[7][1];
      dict = plainStrings(pg.body, n, 0);
      continue;
    }
    const d = pg.type === PAGE_DATA ? pg.header[5] : pg.header[8];
    const enc = pg.type === PAGE_DATA ? d[2] : d[4];
    const nv = d[1];
    if (w - at + nv > rows) return null;
    if ((enc === ENC_RLE_DICTIONARY || enc === ENC_PLAIN_DICTIONARY) && dict !== null) {
      if (list.length === 0) list.push(...dict);
      hybrid(pg.body, 1, pg.body[0], nv, symOut, w);
      for (let i = w; i < w + nv; i++) if (symOut[i] >= dict.length) throw new Error('dictionary index out of range');
    } else if (enc === ENC_PLAIN && dict === null) {
      plainIds ??= new Map();
      const strings = plainStrings(pg.body, nv, 0);
      for (let i = 0; i < nv; i++) {
        let id = plainIds.get(strings[i]);
        if (id === undefined) {
          id = list.length;
          list.push(strings[i]);
          plainIds.set(strings[i], id);
        }
        symOut[w + i] = id;
      }
    } else return null;
    w += nv;
  }
  if (w - at !== rows) return null;
  return list;
}

/** `n` PLAIN byte arrays (4-byte length, then the bytes) as strings, from `pos`. */
function plainStrings(bytes, n, pos) {
  const out = new Array(n);
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < n; i++) {
    const len = buf.readUInt32LE(pos);
    out[i] = buf.toString('utf8', pos + 4, pos + 4 + len);
    pos += 4 + len;
  }
  return out;
}
