/**
 * Regroups column batches into batches of a fixed row count, so an output's layout (its record
 * batches) depends only on its rows, not on how the producer happened to cut them: the Arrow IPC
 * file is then byte-identical whatever `batchRows` and whatever heartbeats forced an early flush.
 */
import type { ColumnData } from './parquet-io.ts';

interface Chunk {
  columns: Record<string, ColumnData>;
  n: number;
  /** Rows of this chunk already taken. */
  at: number;
}

type Ctor = { new (n: number): BigInt64Array | Float64Array | Int32Array | Int8Array };

/** Rows `from..from+count` of one column, copied into `out` (allocated by the first chunk). */
function copyRows(d: ColumnData, from: number, count: number, out: ColumnData | undefined, to: number, size: number): ColumnData {
  if (ArrayBuffer.isView(d)) {
    const o = (out as typeof d) ?? new (d.constructor as Ctor)(size);
    o.set(d.subarray(from, from + count) as never, to);
    return o;
  }
  if ('valid' in d) {
    const o = (out as typeof d) ?? { values: new (d.values.constructor as Ctor)(size), valid: new Uint8Array(size) };
    o.values.set(d.values.subarray(from, from + count) as never, to);
    o.valid.set(d.valid.subarray(from, from + count), to);
    return o;
  }
  if ('dict' in d) {
    // ids are stable and dictionaries only grow: the newest chunk's dictionary covers every row
    const o = (out as { dict: readonly string[]; indices: Int32Array }) ?? { dict: d.dict, indices: new Int32Array(size) };
    if (d.dict.length > o.dict.length) o.dict = d.dict;
    o.indices.set(d.indices.subarray(from, from + count), to);
    return o;
  }
  const o = (out as unknown[]) ?? new Array(size);
  for (let i = 0; i < count; i++) o[to + i] = d[from + i];
  return o as ColumnData;
}

/** Buffers batches and hands out batches of exactly `size` rows (the last one shorter). */
export class Rebatcher {
  private readonly chunks: Chunk[] = [];
  private buffered = 0;

  constructor(private readonly size: number) {}

  push(columns: Record<string, ColumnData>, n: number): void {
    if (n === 0) return;
    this.chunks.push({ columns, n, at: 0 });
    this.buffered += n;
  }

  /** The next full batch, or with `final` the rest; null when there is none. */
  take(final = false): { columns: Record<string, ColumnData>; n: number } | null {
    if (this.buffered === 0 || (!final && this.buffered < this.size)) return null;
    const n = Math.min(this.size, this.buffered);
    const first = this.chunks[0];
    // one whole chunk of the right size passes through without a copy
    if (first.at === 0 && first.n === n) {
      this.chunks.shift();
      this.buffered -= n;
      return { columns: first.columns, n };
    }
    const out: Record<string, ColumnData | undefined> = {};
    let filled = 0;
    while (filled < n) {
      const c = this.chunks[0];
      const count = Math.min(n - filled, c.n - c.at);
      for (const [name, d] of Object.entries(c.columns)) out[name] = copyRows(d, c.at, count, out[name], filled, n);
      c.at += count;
      filled += count;
      if (c.at === c.n) this.chunks.shift();
    }
    this.buffered -= n;
    return { columns: out as Record<string, ColumnData>, n };
  }
}
