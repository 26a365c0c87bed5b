/**
 * What checking `historicalFeatures` against DuckDB's `ASOF JOIN` needs (the test and
 * `lockstep bench historical` share it): files DuckDB reads exactly, and the SQL.
 *
 * DuckDB (1.5) reads a Parquet TIMESTAMP(NANOS) adjusted to UTC, what a replay writes, as a
 * microsecond TIMESTAMPTZ: the nanoseconds are cut before any SQL runs, and an entity time 1 ns
 * before a factor row of the same microsecond would match that row. So both sides of the
 * comparison read a copy of the factor table whose ts_event and ts_recv are int64 epoch
 * nanoseconds (BIGINT in DuckDB), written by replay's Parquet writer; everything else is the
 * same, row for row, in the same order. `historicalFeatures` takes int64 as nanoseconds, and the
 * test checks that the copy and the original give the same answer.
 *
 * Ties: DuckDB's ASOF JOIN picks any one of several right-hand rows with the same time. Our rule
 * (the last row in table order) is stated in SQL by keeping, of each (symbol, ts_recv), only the
 * row with the highest file_row_number before the join.
 */
import type { ColumnData, ColumnSpec } from '../replay/parquet-io.ts';
import { encodeParquet } from '../replay/parquet-io.ts';
import { ParquetStreamWriter } from '../replay/parquet-stream-writer.ts';
import { writeFileSync, renameSync } from 'node:fs';
import type { Vector } from 'apache-arrow';
import { column, openSource, readFloats, readNanos } from './columnar-source.ts';
import { FACTOR_KEY_COLUMNS } from './historical-features.ts';

/** Copies a factor table with its timestamp columns as int64 epoch nanoseconds (see above). */
export async function writeInt64TimesCopy(src: string, dst: string): Promise<{ rows: number; features: string[] }> {
  const s = await openSource(src, src);
  const features = s.columns.filter((c) => !(FACTOR_KEY_COLUMNS as readonly string[]).includes(c));
  const specs: ColumnSpec[] = [
    { name: 'symbol', type: 'utf8' },
    { name: 'source', type: 'utf8' },
    { name: 'seq', type: 'int64' },
    { name: 'ts_event', type: 'int64' },
    { name: 'ts_recv', type: 'int64' },
    ...features.map((name) => ({ name, type: 'float64' as const, nullable: true })),
  ];
  const w = new ParquetStreamWriter(dst, specs, { rowGroupSize: Math.max(...s.groupRows, 1), statisticsColumns: ['symbol', 'ts_recv'] });
  try {
    for (let g = 0; g < s.groupRows.length; g++) {
      const t = await s.read(g, s.columns);
      const n = t.numRows;
      const cols: Record<string, ColumnData> = { symbol: strings(column(t, 'symbol', s)), source: strings(column(t, 'source', s)) };
      for (const k of ['seq', 'ts_event', 'ts_recv']) {
        const out = new BigInt64Array(n);
        readNanos(column(t, k, s), out, 0, s, k, 0);
        cols[k] = out;
      }
      for (const f of features) {
        const values = new Float64Array(n);
        const valid = new Uint8Array(n);
        readFloats(column(t, f, s), values, valid, 0, s, f);
        cols[f] = { values, valid };
      }
      await w.write(cols, n);
    }
    await w.close();
  } catch (e) {
    await w.abort();
    throw e;
  } finally {
    s.close();
  }
  return { rows: s.numRows, features };
}

function strings(v: Vector): (string | null)[] {
  const out = new Array<string | null>(v.length);
  for (let i = 0; i < v.length; i++) out[i] = v.get(i) as string | null;
  return out;
}

/** Writes entity rows (symbol, ts as int64 epoch ns) as Parquet, under a temporary name first. */
export function writeEntities(path: string, symbols: readonly string[], ts: BigInt64Array): void {
  const dict = [...new Set(symbols)];
  const at = new Map(dict.map((s, i) => [s, i]));
  const indices = Int32Array.from(symbols, (s) => at.get(s)!);
  const bytes = encodeParquet(
    [
      { name: 'symbol', type: 'utf8' },
      { name: 'ts', type: 'int64' },
    ],
    { symbol: { dict, indices }, ts },
    symbols.length,
  );
  writeFileSync(`${path}.tmp`, bytes);
  renameSync(`${path}.tmp`, path);
}

const q = (name: string) => `"${name.replace(/"/g, '""')}"`;
const lit = (path: string) => `'${path.replace(/'/g, "''")}'`;

/**
 * The ASOF JOIN of `entities` (symbol, ts: BIGINT ns) with `factors` (the int64 copy), one row per
 * entity in file order, `entity_row` first. `tieRule`: keep only the last row of each
 * (symbol, ts_recv) first, which is `historicalFeatures`' rule; without it, DuckDB's own choice.
 */
export function asOfJoinSql(entities: string, factors: string, features: readonly string[], tieRule = true): string {
  const cols = features.map((f) => `f.${q(f)}`).join(', ');
  const right = tieRule
    ? `(select symbol, ts_recv, ${features.map(q).join(', ')} from read_parquet(${lit(factors)}, file_row_number = true)
        qualify row_number() over (partition by symbol, ts_recv order by file_row_number desc) = 1)`
    : `(select symbol, ts_recv, ${features.map(q).join(', ')} from read_parquet(${lit(factors)}))`;
  return `select e.file_row_number as entity_row, ${cols}
    from read_parquet(${lit(entities)}, file_row_number = true) e
    asof left join ${right} f on e.symbol = f.symbol and e.ts >= f.ts_recv
    order by entity_row`;
}
