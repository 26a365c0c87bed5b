// Worker side of research/gather.ts: decodes its share of a factor table's row groups with
// parquet-wasm (feature columns only, through a file-backed Blob) and writes each matched entity's
// values into the shared output arrays (values[j * n + i], valid[j * n + i]). Replies {} when done,
// or { error }. Plain JavaScript on purpose, like parity/row-group-worker.mjs: a TypeScript worker
// must register tsx first, which costs a loader thread, a second and ~100 MB.
//
// Three routes, fastest first. Flat float64 columns in PLAIN pages (replay's own files) are read
// from the file's pages directly (research/parquet-pages.mjs): decompress, then read the matched
// rows only. Otherwise float64 columns decoded by parquet-wasm are read in place, in the wasm
// memory, through the Arrow C data interface (RecordBatch.intoFFI): only the matched rows' values
// and validity bits are touched. The IPC route (serialize in wasm, copy out, parse, copy into a
// scratch array, unpack every validity bit) touches each cell of a row group four times; it is
// left for other column types.
import { openAsBlob } from 'node:fs';
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';
import { closePages, featureColumns, gatherChunk, openPages } from './parquet-pages.mjs';

// parquet-wasm and apache-arrow are loaded only when the page route does not apply: compiling
// parquet-wasm's module costs each thread more than reading its share of the pages
const require = createRequire(import.meta.url);
let pq;
let tableFromIPC;
let Type;
let makeVector;
async function loadArrow() {
  pq = require('parquet-wasm/node');
  ({ tableFromIPC, Type, makeVector } = await import('apache-arrow'));
  return pq.ParquetFile.fromFile(await openAsBlob(path));
}

const { path, plan, groups, values, valid } = workerData;
const { n, features, groupStart, byGroup, count, match } = plan;

/** Float64 values and validity (1 = a value) of one column, widening other numeric types. */
function floats(v, out, ok) {
  let at = 0;
  for (const d of v.data) {
    const len = d.length;
    const raw = d.values.subarray(d.offset, d.offset + len);
    if (raw instanceof Float64Array) out.set(raw, at);
    else if (d.type.typeId === Type.Bool) {
      const vec = makeVector(d);
      for (let i = 0; i < len; i++) out[at + i] = vec.get(i) ? 1 : 0;
    } else for (let i = 0; i < len; i++) out[at + i] = Number(raw[i]);
    if (d.nullCount === 0) ok.fill(1, at, at + len);
    else {
      const bits = d.nullBitmap;
      for (let i = 0; i < len; i++) ok[at + i] = (bits[(d.offset + i) >> 3] >> ((d.offset + i) & 7)) & 1;
    }
    at += len;
  }
}

/** The IPC route: any column type, one scratch copy per column. */
async function gatherViaIpc(file, g, rows, scratch, ok) {
  const t = tableFromIPC((await file.read({ rowGroups: [g], columns: features, batchSize: Math.max(1, rows) })).intoIPCStream());
  const base = groupStart[g];
  for (let j = 0; j < features.length; j++) {
    floats(t.getChild(features[j]), scratch, ok);
    const off = j * n;
    for (let k = count[g]; k < count[g + 1]; k++) {
      const i = byGroup[k];
      const r = match[i] - base;
      if (ok[r] !== 0) {
        values[off + i] = scratch[r];
        valid[off + i] = 1;
      }
    }
  }
}

const cString = (mem, ptr) => {
  const bytes = new Uint8Array(mem, ptr);
  return Buffer.from(bytes.subarray(0, bytes.indexOf(0))).toString('utf8');
};

/**
 * The columns of one record batch exported through the C data interface (wasm32: pointers are 4
 * bytes; ArrowArray is 5 int64 then 5 pointers, ArrowSchema 3 pointers, an int64, an int64 and 4
 * pointers), by name: format, length, offset, validity and values addresses. Null when a column is
 * not float64 ("g") or a buffer is not 8-byte aligned (never seen; the IPC route then handles it).
 */
function batchColumns(mem, arrayAddr, schemaAddr) {
  const dv = new DataView(mem);
  const nCols = Number(dv.getBigInt64(arrayAddr + 32, true));
  const children = dv.getUint32(arrayAddr + 44, true);
  const schemaChildren = dv.getUint32(schemaAddr + 32, true);
  const cols = new Map();
  for (let c = 0; c < nCols; c++) {
    const a = dv.getUint32(children + 4 * c, true);
    const s = dv.getUint32(schemaChildren + 4 * c, true);
    if (cString(mem, dv.getUint32(s, true)) !== 'g') return null;
    const buffers = dv.getUint32(a + 40, true);
    const validity = dv.getUint32(buffers, true);
    const data = dv.getUint32(buffers + 4, true);
    if (data % 8 !== 0) return null;
    cols.set(cString(mem, dv.getUint32(s + 4, true)), {
      length: Number(dv.getBigInt64(a, true)),
      nullCount: Number(dv.getBigInt64(a + 8, true)),
      offset: Number(dv.getBigInt64(a + 16, true)),
      validity,
      data,
    });
  }
  return cols;
}

/** The FFI route: false (nothing written) when a column is not float64. */
async function gatherInPlace(file, g, rows) {
  const table = await file.read({ rowGroups: [g], columns: features, batchSize: Math.max(1, rows) });
  const batches = table.recordBatches();
  table.free();
  let batchStart = groupStart[g];
  const lo = count[g];
  const hi = count[g + 1];
  try {
    for (const b of batches) {
      const len = b.numRows;
      const ffi = b.intoFFI();
      try {
        const mem = pq.wasmMemory().buffer;
        const cols = batchColumns(mem, ffi.arrayAddr(), ffi.schemaAddr());
        if (cols === null) return false;
        for (let j = 0; j < features.length; j++) {
          const c = cols.get(features[j]);
          const vals = new Float64Array(mem, c.data, c.offset + c.length);
          const off = j * n;
          if (c.validity === 0 || c.nullCount === 0) {
            for (let k = lo; k < hi; k++) {
              const i = byGroup[k];
              const r = match[i] - batchStart;
              if (r >= 0 && r < len) {
                values[off + i] = vals[c.offset + r];
                valid[off + i] = 1;
              }
            }
          } else {
            const bits = new Uint8Array(mem, c.validity, (c.offset + c.length + 7) >> 3);
            for (let k = lo; k < hi; k++) {
              const i = byGroup[k];
              const r = match[i] - batchStart;
              if (r < 0 || r >= len) continue;
              const p = c.offset + r;
              if ((bits[p >> 3] >> (p & 7)) & 1) {
                values[off + i] = vals[p];
                valid[off + i] = 1;
              }
            }
          }
        }
      } finally {
        ffi.free();
      }
      batchStart += len;
    }
  } finally {
    // batches not yet exported (after an early return) still hold wasm memory
    for (const b of batches) {
      try {
        b.free();
      } catch {
        // already consumed by intoFFI
      }
    }
  }
  return true;
}

/**
 * The page route for one row group: its matched entities ordered by row (a counting sort), then
 * each feature's chunk read for those rows. False when a chunk is not one it reads; the chunks
 * before it were written, and the next route writes the same cells again.
 */
function gatherFromPages(pages, cols, g) {
  const base = groupStart[g];
  const rowsInGroup = groupStart[g + 1] - base;
  const lo = count[g];
  const m = count[g + 1] - lo;
  const at = new Int32Array(rowsInGroup + 1);
  for (let k = lo; k < lo + m; k++) at[match[byGroup[k]] - base + 1]++;
  for (let r = 0; r < rowsInGroup; r++) at[r + 1] += at[r];
  const rows = new Int32Array(m);
  const ents = new Int32Array(m);
  for (let k = lo; k < lo + m; k++) {
    const i = byGroup[k];
    const r = match[i] - base;
    const slot = at[r]++;
    rows[slot] = r;
    ents[slot] = i;
  }
  for (let j = 0; j < features.length; j++) if (!gatherChunk(pages, g, cols[j], rows, ents, m, j * n, values, valid)) return false;
  return true;
}

try {
  let file = null;
  const pages = openPages(path);
  const cols = featureColumns(pages, features);
  const maxRows = Math.max(0, ...groups.map((g) => groupStart[g + 1] - groupStart[g]));
  let scratch = null;
  let ok = null;
  let inPlace = true;
  for (const g of groups) {
    const rows = groupStart[g + 1] - groupStart[g];
    if (cols !== null && gatherFromPages(pages, cols, g)) continue;
    file ??= await loadArrow();
    if (inPlace && (await gatherInPlace(file, g, rows))) continue;
    inPlace = false;
    scratch ??= new Float64Array(maxRows);
    ok ??= new Uint8Array(maxRows);
    await gatherViaIpc(file, g, rows, scratch, ok);
  }
  file?.free();
  closePages(pages);
  parentPort.postMessage({});
} catch (e) {
  parentPort.postMessage({ error: `${path}: ${e?.message ?? String(e)}` });
}
