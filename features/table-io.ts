/**
 * Training-set Parquet files read back as writer columns (to assemble parts into the final file)
 * or as plain rows (tests, notebooks). Exact: int64 and timestamps stay bigint.
 */
import { type Data, type Table } from 'apache-arrow';
import type { ColumnData, ColumnSpec } from '../replay/parquet-io.ts';
import { openParquet } from '../replay/parquet-io.ts';

function valid(d: Data, n: number): Uint8Array {
  const out = new Uint8Array(n);
  const bits = d.nullBitmap;
  if (!bits || d.nullCount === 0) return out.fill(1);
  for (let i = 0; i < n; i++) {
    const j = d.offset + i;
    out[i] = (bits[j >> 3] >> (j & 7)) & 1;
  }
  return out;
}

function concat<T extends Float64Array | BigInt64Array | Int32Array | Uint8Array>(parts: T[], n: number, Ctor: new (n: number) => T): T {
  const out = new Ctor(n);
  let off = 0;
  for (const p of parts) {
    (out as unknown as { set(a: T, o: number): void }).set(p, off);
    off += p.length;
  }
  return out;
}

/** One column of an Arrow table as writer input (copies; dictionary strings re-indexed into one dictionary). */
export function columnOf(table: Table, spec: ColumnSpec): ColumnData {
  const n = table.numRows;
  const datas = table.getChild(spec.name)!.data as Data[];
  if (spec.type === 'utf8') {
    const dict: string[] = [];
    const ids = new Map<string, number>();
    const indices = new Int32Array(n);
    let off = 0;
    for (const d of datas) {
      const ok = valid(d, d.length);
      const words = d.dictionary!.toArray() as string[];
      const local = words.map((w) => {
        let id = ids.get(w);
        if (id === undefined) ids.set(w, (id = dict.push(w) - 1));
        return id;
      });
      const idx = d.values as Int32Array;
      for (let i = 0; i < d.length; i++) indices[off + i] = ok[i] ? local[idx[d.offset + i]] : -1;
      off += d.length;
    }
    return { dict, indices };
  }
  const slices = datas.map((d) => (d.values as Float64Array | BigInt64Array).subarray(d.offset, d.offset + d.length));
  const oks = datas.map((d) => valid(d, d.length));
  if (spec.type === 'float64') return { values: concat(slices as Float64Array[], n, Float64Array), valid: concat(oks, n, Uint8Array) };
  const values = concat(slices as BigInt64Array[], n, BigInt64Array);
  return spec.nullable ? { values, valid: concat(oks, n, Uint8Array) } : values;
}

/** A training set read whole: column name → values (bigint for int64/timestamps, null for nulls). */
export async function readTrainingSet(path: string): Promise<{ columns: string[]; rows: Record<string, unknown>[]; metadata: Record<string, unknown> }> {
  const src = await openParquet(path);
  const rows: Record<string, unknown>[] = [];
  for (let g = 0; g < src.numRowGroups; g++) {
    const t = src.readRowGroup(g);
    const cols = src.columns.map((c) => {
      const v = t.getChild(c.name)!;
      const datas = v.data as Data[];
      const bigs = c.type.startsWith('Timestamp') || c.type.startsWith('Int64');
      if (!bigs) return (i: number) => (v.isValid(i) ? v.get(i) : null);
      const vals = concat(datas.map((d) => (d.values as BigInt64Array).subarray(d.offset, d.offset + d.length)), t.numRows, BigInt64Array);
      const ok = concat(datas.map((d) => valid(d, d.length)), t.numRows, Uint8Array);
      return (i: number) => (ok[i] ? vals[i] : null);
    });
    for (let i = 0; i < t.numRows; i++) rows.push(Object.fromEntries(src.columns.map((c, j) => [c.name, cols[j](i)])));
  }
  const raw = src.metadata.get('lockstep');
  return { columns: src.columns.map((c) => c.name), rows, metadata: raw ? (JSON.parse(raw) as Record<string, unknown>) : {} };
}
