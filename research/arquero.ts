/**
 * Arrow tables as arquero tables (the research dataframe of the design card) with nanosecond
 * times kept exact. `aq.fromArrow(table)` on an apache-arrow table reads each value through
 * arrow-js, which turns a timestamp into a float of milliseconds (1710509400123456789 ns becomes
 * 1710509400123.4568): the nanoseconds are gone. Int64 columns, though, come through as exact
 * BigInts, so `arqueroReady` retypes each timestamp column as int64 epoch nanoseconds (no copy
 * when it is already in nanoseconds) and leaves the rest as it is.
 */
import { Int64, makeData, makeVector, Table, TimeUnit, Type, type Data, type Vector } from 'apache-arrow';
import * as aq from 'arquero';

const UNIT_NS = { [TimeUnit.SECOND]: 1_000_000_000n, [TimeUnit.MILLISECOND]: 1_000_000n, [TimeUnit.MICROSECOND]: 1_000n, [TimeUnit.NANOSECOND]: 1n } as const;

/**
 * The same table with every timestamp column as int64 epoch nanoseconds (BigInt in arquero and in
 * arrow-js `get()`); other columns are shared, not copied. Pass it to `aq.fromArrow`.
 */
export function arqueroReady(table: Table): Table {
  const columns: Record<string, Vector> = {};
  for (const f of table.schema.fields) {
    const v = table.getChild(f.name)!;
    columns[f.name] = f.type.typeId === Type.Timestamp ? makeVector(v.data.map(asNanos)) : v;
  }
  return new Table(columns);
}

function asNanos(d: Data): Data {
  const unit = (d.type as unknown as { unit: TimeUnit }).unit;
  const scale = UNIT_NS[unit];
  let values = (d.values as BigInt64Array).subarray(d.offset, d.offset + d.length);
  if (scale !== 1n) values = values.map((x) => x * scale);
  return makeData({ type: new Int64(), length: d.length, data: values, nullBitmap: d.nullCount > 0 ? (d.nullBitmap as Uint8Array) : undefined, nullCount: d.nullCount, offset: 0 } as never) as Data;
}

/**
 * An arquero table of an Arrow table, nanoseconds exact: timestamps and int64 as BigInt,
 * factor values as numbers (null where warming up), symbols as strings.
 *
 * ```ts
 * const dt = toArquero(await replayDay({ catalog, date }));
 * dt.filter((d) => d.ts_recv >= 1710509400000000000n).groupby('symbol').rollup({ n: aq.op.count() });
 * ```
 */
export function toArquero(table: Table): aq.ColumnTable {
  return aq.fromArrow(arqueroReady(table) as unknown as Parameters<typeof aq.fromArrow>[0]);
}
