/**
 * The first step of `historicalFeatures`: a factor table's keys (symbol, ts_recv) for every row,
 * as symbol ids and exact nanoseconds. A Parquet file's two columns are read straight from the
 * pages (research/parquet-pages.mjs: int64 bytes copied as they are, dictionary indices unpacked):
 * through parquet-wasm the keys of 5.5 M rows cost 2-3x more, a quarter of the join's time. Key
 * columns that the page reader does not take (nullable, another encoding or codec, a time unit
 * other than nanoseconds) are read through parquet-wasm, which also names a null's row.
 */
import { column, readNanos, readSymbolIds, type ColumnarSource } from './columnar-source.ts';

export interface FactorKeys {
  sym: Int32Array;
  ts: BigInt64Array;
  /** Each symbol's id, in order of first appearance. */
  ids: Map<string, number>;
  /** Row-group offsets: group g is rows groupStart[g] .. groupStart[g + 1]. */
  groupStart: number[];
}

/** What research/keys.ts uses of the page reader (plain JavaScript, shared with the gather's worker threads). */
interface PageReader {
  openPages(path: string): { md: Record<number, unknown> };
  closePages(p: unknown): void;
  keyColumns(p: unknown, ts: string, symbol: string): unknown;
  readKeys(p: unknown, group: number, cols: unknown, ts: BigInt64Array, sym: Int32Array, at: number): string[] | null;
}

/** Reads the keys (see above). `pages`: false keeps to parquet-wasm (tests compare the two). */
export async function readFactorKeys(src: ColumnarSource, pages = true): Promise<FactorKeys> {
  const groupStart = [0];
  for (const r of src.groupRows) groupStart.push(groupStart[groupStart.length - 1] + r);
  if (pages && src.path) {
    // a file the page reader trips on (a footer it cannot parse, a damaged page) is read the
    // Arrow way below, which reports what is wrong with it in the user's terms
    const keys = await fromPages(src.path, groupStart).catch(() => null);
    if (keys) return keys;
  }
  const ids = new Map<string, number>();
  const sym = new Int32Array(src.numRows);
  const ts = new BigInt64Array(src.numRows);
  for (let g = 0; g < src.groupRows.length; g++) {
    const t = await src.read(g, ['symbol', 'ts_recv']);
    readSymbolIds(column(t, 'symbol', src), sym, groupStart[g], ids, true, src, 'symbol', groupStart[g]);
    readNanos(column(t, 'ts_recv', src), ts, groupStart[g], src, 'ts_recv', groupStart[g]);
  }
  return { sym, ts, ids, groupStart };
}

/** The page reader's keys, or null when a group's key columns are not ones it reads. */
async function fromPages(path: string, groupStart: number[]): Promise<FactorKeys | null> {
  // by URL: the module is JavaScript (the worker threads load it without a TypeScript loader)
  const reader = (await import(new URL('./parquet-pages.mjs', import.meta.url).href)) as PageReader;
  const p = reader.openPages(path);
  try {
    const groups = groupStart.length - 1;
    const rows = groupStart[groups];
    // the page reader and parquet-wasm must see the same row groups
    const md = p.md as { 3: number; 4: unknown[] };
    if (Number(md[3]) !== rows || md[4].length !== groups) return null;
    const cols = reader.keyColumns(p, 'ts_recv', 'symbol');
    if (cols === null) return null;
    const ts = new BigInt64Array(rows);
    const sym = new Int32Array(rows);
    const ids = new Map<string, number>();
    for (let g = 0; g < groups; g++) {
      const list = reader.readKeys(p, g, cols, ts, sym, groupStart[g]);
      if (list === null) return null;
      // the group's indices into its own list become ids shared by the whole table
      const map = Int32Array.from(list, (s) => {
        let id = ids.get(s);
        if (id === undefined) ids.set(s, (id = ids.size));
        return id;
      });
      for (let r = groupStart[g]; r < groupStart[g + 1]; r++) sym[r] = map[sym[r]];
    }
    return { sym, ts, ids, groupStart };
  } finally {
    reader.closePages(p);
  }
}
