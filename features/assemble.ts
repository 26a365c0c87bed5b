/**
 * The final training set from its parts: part files read back in date order (entity builds: in the
 * user's row order) and written as one Parquet file, or one file per split with `--split-files`.
 * The bytes depend only on the parts' contents, so they are the same whichever process or
 * partition built each part.
 */
import type { ColumnData, ColumnSpec } from '../replay/parquet-io.ts';
import { openParquet } from '../replay/parquet-io.ts';
import { ParquetStreamWriter } from '../replay/parquet-stream-writer.ts';
import { columnOf } from './table-io.ts';

/** Rows `idx` of a column (a gather). */
function gather(c: ColumnData, idx: Int32Array): ColumnData {
  const n = idx.length;
  if (c instanceof BigInt64Array) return BigInt64Array.from(idx, (i) => c[i]);
  if ('dict' in c) return { dict: c.dict, indices: Int32Array.from(idx, (i) => c.indices[i]) };
  if ('valid' in c) {
    const valid = Uint8Array.from(idx, (i) => c.valid[i]);
    if (c.values instanceof BigInt64Array) {
      const v = c.values;
      return { values: BigInt64Array.from(idx, (i) => v[i]), valid };
    }
    const v = c.values;
    const values = new Float64Array(n);
    for (let k = 0; k < n; k++) values[k] = v[idx[k]];
    return { values, valid };
  }
  throw new Error('unexpected column shape');
}

function gatherAll(cols: Record<string, ColumnData>, idx: Int32Array): Record<string, ColumnData> {
  return Object.fromEntries(Object.entries(cols).map(([k, c]) => [k, gather(c, idx)]));
}

/** Each row group of the parts, in order, as writer columns. */
async function* partBatches(parts: readonly string[], specs: readonly ColumnSpec[]): AsyncGenerator<{ n: number; columns: Record<string, ColumnData> }> {
  for (const p of parts) {
    const src = await openParquet(p);
    for (let g = 0; g < src.numRowGroups; g++) {
      const t = src.readRowGroup(g);
      yield { n: t.numRows, columns: Object.fromEntries(specs.map((s) => [s.name, columnOf(t, s)])) };
    }
  }
}

/** Where each output file's rows go: the whole set, or one file per split name. */
export interface AssembleTarget {
  path: string;
  /** Keep only rows whose split is this (with --split-files). */
  split?: string;
}

export interface AssembledFile {
  path: string;
  rows: number;
  bytes: number;
  sha256: string;
}

/** Writes the targets from the parts; `entityOrder` sorts all rows by entity_row first. */
export async function assemble(parts: readonly string[], specs: readonly ColumnSpec[], targets: readonly AssembleTarget[], metadata: Record<string, unknown>, entityOrder: boolean): Promise<AssembledFile[]> {
  const writers = targets.map((t) => new ParquetStreamWriter(t.path, specs, { metadata, statisticsColumns: ['symbol', 'ts'] }));
  try {
    const route = async (n: number, columns: Record<string, ColumnData>) => {
      for (let w = 0; w < targets.length; w++) {
        const want = targets[w].split;
        if (want === undefined) {
          // each writer takes ownership of (transfers) its buffers: give each its own copy
          await writers[w].write(w === targets.length - 1 ? columns : gatherAll(columns, Int32Array.from({ length: n }, (_, i) => i)), n);
          continue;
        }
        const s = columns.split as { dict: readonly string[]; indices: Int32Array };
        const id = s.dict.indexOf(want);
        const keep: number[] = [];
        for (let i = 0; i < n; i++) if (s.indices[i] === id && id >= 0) keep.push(i);
        if (keep.length > 0) await writers[w].write(gatherAll(columns, Int32Array.from(keep)), keep.length);
      }
    };
    if (!entityOrder) {
      for await (const b of partBatches(parts, specs)) await route(b.n, b.columns);
    } else {
      // entity builds are small (the user's rows): gather all, then put them back in the user's order
      const batches: { n: number; columns: Record<string, ColumnData> }[] = [];
      for await (const b of partBatches(parts, specs)) batches.push(b);
      const all: Record<string, ColumnData> = Object.fromEntries(specs.map((s) => [s.name, concatColumn(batches.map((b) => b.columns[s.name]), s)]));
      const er = all.entity_row as BigInt64Array;
      const order = Int32Array.from({ length: er.length }, (_, i) => i).sort((x, y) => (er[x] < er[y] ? -1 : er[x] > er[y] ? 1 : 0));
      const CH = 65536;
      for (let off = 0; off < order.length; off += CH) {
        const idx = order.subarray(off, off + CH);
        await route(idx.length, gatherAll(all, idx));
      }
      if (order.length === 0) await route(0, all);
    }
    const out: AssembledFile[] = [];
    for (let w = 0; w < writers.length; w++) {
      await writers[w].close();
      out.push({ path: targets[w].path, rows: writers[w].rows, bytes: writers[w].bytesWritten, sha256: writers[w].sha256 });
    }
    return out;
  } catch (e) {
    await Promise.all(writers.map((w) => w.abort()));
    throw e;
  }
}

/** Columns of several batches joined into one (entity reordering). */
function concatColumn(cols: ColumnData[], spec: ColumnSpec): ColumnData {
  const n = cols.reduce((a, c) => a + ('dict' in c ? c.indices.length : 'valid' in c ? c.values.length : (c as BigInt64Array).length), 0);
  if (spec.type === 'utf8') {
    const dict: string[] = [];
    const indices = new Int32Array(n);
    let off = 0;
    for (const c of cols as { dict: readonly string[]; indices: Int32Array }[]) {
      const map = c.dict.map((w) => {
        let id = dict.indexOf(w);
        if (id < 0) id = dict.push(w) - 1;
        return id;
      });
      for (let i = 0; i < c.indices.length; i++) indices[off + i] = c.indices[i] < 0 ? -1 : map[c.indices[i]];
      off += c.indices.length;
    }
    return { dict, indices };
  }
  if (cols.length === 0 || cols[0] instanceof BigInt64Array) {
    const out = new BigInt64Array(n);
    let off = 0;
    for (const c of cols as BigInt64Array[]) (out.set(c, off), (off += c.length));
    return spec.nullable ? { values: out, valid: new Uint8Array(n).fill(1) } : out;
  }
  const valid = new Uint8Array(n);
  const values = spec.type === 'float64' ? new Float64Array(n) : new BigInt64Array(n);
  let off = 0;
  for (const c of cols as { values: Float64Array | BigInt64Array; valid: Uint8Array }[]) {
    (values as Float64Array).set(c.values as Float64Array, off);
    valid.set(c.valid, off);
    off += c.valid.length;
  }
  return { values, valid } as ColumnData;
}
