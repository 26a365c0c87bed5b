/**
 * Reads a factor table back into plain columns (exact: bigint keys and times, float64 values with
 * nulls as null). Used by tests, the parity diff and notebooks.
 */
import { chunkValues, openParquet } from './parquet-io.ts';

export interface FactorTable {
  columns: string[];
  symbol: string[];
  source: string[];
  seq: bigint[];
  tsEvent: bigint[];
  tsRecv: bigint[];
  /** Factor columns by name; null = warming up. */
  values: Record<string, (number | null)[]>;
  metadata: Map<string, string>;
}

export async function readFactorTable(path: string): Promise<FactorTable> {
  const src = await openParquet(path);
  const factorCols = src.columns.map((c) => c.name).filter((n) => !['symbol', 'source', 'seq', 'ts_event', 'ts_recv'].includes(n));
  const t: FactorTable = { columns: src.columns.map((c) => c.name), symbol: [], source: [], seq: [], tsEvent: [], tsRecv: [], values: Object.fromEntries(factorCols.map((c) => [c, []])), metadata: src.metadata };
  for (let g = 0; g < src.numRowGroups; g++) {
    const table = src.readRowGroup(g);
    const big = (name: string, out: bigint[]) => {
      for (const d of table.getChild(name)!.data) for (const v of chunkValues(d as unknown as { values: BigInt64Array; offset: number; length: number })) out.push(v);
    };
    big('seq', t.seq);
    big('ts_event', t.tsEvent);
    big('ts_recv', t.tsRecv);
    const sym = table.getChild('symbol')!;
    const source = table.getChild('source')!;
    for (let i = 0; i < table.numRows; i++) {
      t.symbol.push(sym.get(i) as string);
      t.source.push(source.get(i) as string);
    }
    for (const c of factorCols) {
      const col = table.getChild(c)!;
      const out = t.values[c];
      for (let i = 0; i < table.numRows; i++) out.push(col.isValid(i) ? (col.get(i) as number) : null);
    }
  }
  return t;
}
