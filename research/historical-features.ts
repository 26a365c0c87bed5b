/**
 * `historicalFeatures`: the point-in-time join of a user's entity rows (symbol, time) with a factor
 * table already written (a replay's output: the offline store). Feast's `get_historical_features`,
 * on Lockstep's clock: "as known at t" is by receive time (ts_recv), never by event time, so a
 * late correction delivered after t cannot leak into the row at t.
 *
 * Columnar all the way: the factor table's keys (symbol, ts_recv) are read first, two columns of
 * every row group, straight from a Parquet file's pages (research/keys.ts); the match is computed
 * on typed arrays (research/as-of.ts: one sweep when the table is in time order, as a replay
 * writes it); then each row group's feature columns are read once and only the matched rows'
 * values go into the output's float64 arrays (research/gather.ts, on worker threads for a large
 * file, reading the pages directly when they are plain float64: research/parquet-pages.mjs). No
 * object per row, and memory is the keys plus the output plus one column chunk per thread.
 */
import { Float64, makeData, makeVector, Table, Type, type Vector } from 'apache-arrow';
import { InputError, UsageError } from '../core/errors.ts';
import { asOfMatch } from './as-of.ts';
import { validityBitmap } from '../replay/parquet-io.ts';
import { column, openSource, readNanos, readSymbolIds, type ColumnarSource, type TableInput } from './columnar-source.ts';
import { gather, gatherThreads, planGather } from './gather.ts';
import { readFactorKeys } from './keys.ts';

/** A factor table's key columns (the input event's identity); every other column is a feature. */
export const FACTOR_KEY_COLUMNS = ['symbol', 'source', 'seq', 'ts_event', 'ts_recv'] as const;

export interface HistoricalFeaturesOptions {
  /** Feature columns to return, in this order (default: every non-key column of the factor table). */
  features?: readonly string[];
  /** The entities' symbol column (default `symbol`). */
  symbolColumn?: string;
  /**
   * The entities' time column (default `ts`): a timestamp of any unit, or an integer of epoch
   * nanoseconds. It is compared with the factor table's ts_recv exactly, to the nanosecond.
   */
  tsColumn?: string;
  /**
   * Threads that decode a Parquet factor table's row groups (default: 2 on a machine with 2 cores
   * or more, for a table of 1 M rows or more; 0 decodes in the calling thread).
   */
  threads?: number;
}

/**
 * For each entity row (symbol, ts), the features of the latest factor row of that symbol with
 * `ts_recv <= ts`; when several rows share that ts_recv, the last of them in the factor table's row
 * order (a replay writes rows in the fold's order, so that is the fold's state after every event
 * received up to and including ts). Rows come back in the entities' order, with every entity
 * column followed by the feature columns (float64); a row with no match (a symbol the table does
 * not have, or a ts before the symbol's first row) has null features.
 *
 * Either input may be an Arrow table or a Parquet file path. Parquet is read a row group at a time.
 *
 * ```ts
 * const rows = await historicalFeatures('orders.parquet', 'factors.parquet', { features: ['mid', 'rsi_14'] });
 * ```
 */
export async function historicalFeatures(entities: TableInput, factorTable: TableInput, opts: HistoricalFeaturesOptions = {}): Promise<Table> {
  const symbolColumn = opts.symbolColumn ?? 'symbol';
  const tsColumn = opts.tsColumn ?? 'ts';
  const fsrc = await openSource(factorTable, 'factor table');
  let esrc: ColumnarSource | undefined;
  try {
    for (const k of ['symbol', 'ts_recv']) {
      if (!fsrc.columns.includes(k)) throw new UsageError(`${fsrc.name}: no ${k} column: not a factor table (it needs symbol and ts_recv; columns: ${fsrc.columns.join(', ')})`);
    }
    const available = fsrc.columns.filter((c) => !(FACTOR_KEY_COLUMNS as readonly string[]).includes(c));
    const features = opts.features ? [...opts.features] : available;
    for (const f of features) {
      if (!available.includes(f)) throw new UsageError(`feature ${JSON.stringify(f)} is not a column of ${fsrc.name}; features: ${available.join(', ')}`);
      const type = fsrc.typeIds[fsrc.columns.indexOf(f)];
      if (type !== Type.Float && type !== Type.Int && type !== Type.Bool) throw new InputError({ file: fsrc.name, field: f, reason: `feature columns must be numeric, not ${Type[type]}` });
    }
    esrc = await openSource(entities, 'entities');
    for (const c of [symbolColumn, tsColumn]) if (!esrc.columns.includes(c)) throw new UsageError(`${esrc.name}: no ${c} column (entity rows need a symbol and a time column; columns: ${esrc.columns.join(', ')})`);
    const clash = features.filter((f) => esrc!.columns.includes(f));
    if (clash.length > 0) throw new UsageError(`${esrc.name}: column ${clash.join(', ')} is also a feature name; rename it or leave the feature out with features: [...]`);

    const et = await esrc.readAll();
    const n = et.numRows;
    const threads = gatherThreads(fsrc, opts.threads);
    const { match, groupStart } = await matchRows(fsrc, esrc, et, symbolColumn, tsColumn);
    const { values, valid } = await gather(fsrc, planGather(match, groupStart, features), threads);
    const columns: Record<string, Vector> = {};
    for (const f of et.schema.fields) columns[f.name] = et.getChild(f.name)!;
    features.forEach((f, j) => {
      const { bitmap, nullCount } = validityBitmap(valid.subarray(j * n, (j + 1) * n), n);
      columns[f] = makeVector(makeData({ type: new Float64(), length: n, data: values.subarray(j * n, (j + 1) * n), nullBitmap: bitmap, nullCount }));
    });
    return new Table(columns);
  } finally {
    fsrc.close();
    esrc?.close();
  }
}

/**
 * Each entity's matched factor row (-1: none) and the factor table's row-group offsets. Its own
 * function so that the keys (~90 MB for 5 M rows) are garbage before the gather allocates its output.
 */
async function matchRows(fsrc: ColumnarSource, esrc: ColumnarSource, et: Table, symbolColumn: string, tsColumn: string): Promise<{ match: Int32Array; groupStart: number[] }> {
  const { sym: fSym, ts: fTs, ids, groupStart } = await readFactorKeys(fsrc);
  const n = et.numRows;
  const eSym = new Int32Array(n);
  const eTs = new BigInt64Array(n);
  readSymbolIds(column(et, symbolColumn, esrc), eSym, 0, ids, false, esrc, symbolColumn, 0);
  readNanos(column(et, tsColumn, esrc), eTs, 0, esrc, tsColumn, 0);
  return { match: asOfMatch(fSym, fTs, eSym, eTs, ids.size), groupStart };
}
