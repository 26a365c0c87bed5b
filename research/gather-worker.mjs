// Worker side of research/gather.ts: decodes its share of a factor table's row groups with
// parquet-wasm (feature columns only, through a file-backed Blob) and writes each matched entity's
// values into the shared output arrays (values[j * n + i], valid[j * n + i]). Replies {} when done,
// or { error }. Plain JavaScript on purpose, like parity/row-group-worker.mjs: a TypeScript worker
// must register tsx first, which costs a loader thread, a second and ~100 MB.
import { openAsBlob } from 'node:fs';
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';
import { tableFromIPC, Type, makeVector } from 'apache-arrow';

const require = createRequire(import.meta.url);
const pq = require('parquet-wasm/node');

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

try {
  const file = await pq.ParquetFile.fromFile(await openAsBlob(path));
  const maxRows = Math.max(0, ...groups.map((g) => groupStart[g + 1] - groupStart[g]));
  const scratch = new Float64Array(maxRows);
  const ok = new Uint8Array(maxRows);
  for (const g of groups) {
    const rows = groupStart[g + 1] - groupStart[g];
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
  file.free();
  parentPort.postMessage({});
} catch (e) {
  parentPort.postMessage({ error: `${path}: ${e?.message ?? String(e)}` });
}
