/**
 * `historicalFeatures`: the point-in-time join of a user's entity rows (symbol, time) with a factor
 * table already written (a replay's output: the offline store). Feast's `get_historical_features`,
 * on Lockstep's clock: "as known at t" is by receive time (ts_recv), never by event time, so a
 * late correction delivered after t cannot leak into the row at t.
 *
 * Columnar all the way: the factor table's keys (symbol, ts_recv) are read first, two columns of
 * every row group; the match is computed on typed arrays (research/as-of.ts); then each row group's
 * feature columns are decoded once and scattered into the output's float64 arrays. No object per
 * row, and memory is the keys plus the output plus one decoded row group.
 */
import { Float64, makeData, makeVector, Table, type Vector } from 'apache-arrow';
import { UsageError } from '../core/errors.ts';
import { asOfMatch } from './as-of.ts';
import { column, openSource, readFloats, readNanos, readSymbolIds, type ColumnarSource, type TableInput } from './columnar-source.ts';

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
    for (const f of features) if (!available.includes(f)) throw new UsageError(`feature ${JSON.stringify(f)} is not a column of ${fsrc.name}; features: ${available.join(', ')}`);
    esrc = await openSource(entities, 'entities');
    for (const c of [symbolColumn, tsColumn]) if (!esrc.columns.includes(c)) throw new UsageError(`${esrc.name}: no ${c} column (entity rows need a symbol and a time column; columns: ${esrc.columns.join(', ')})`);
    const clash = features.filter((f) => esrc!.columns.includes(f));
    if (clash.length > 0) throw new UsageError(`${esrc.name}: column ${clash.join(', ')} is also a feature name; rename it or leave the feature out with features: [...]`);

    // the factor table's keys
    const ids = new Map<string, number>();
    const fSym = new Int32Array(fsrc.numRows);
    const fTs = new BigInt64Array(fsrc.numRows);
    const groupStart = [0];
    for (let g = 0; g < fsrc.groupRows.length; g++) {
      const t = await fsrc.read(g, ['symbol', 'ts_recv']);
      readSymbolIds(column(t, 'symbol', fsrc), fSym, groupStart[g], ids, true, fsrc, 'symbol', groupStart[g]);
      readNanos(column(t, 'ts_recv', fsrc), fTs, groupStart[g], fsrc, 'ts_recv', groupStart[g]);
      groupStart.push(groupStart[g] + fsrc.groupRows[g]);
    }

    // the entities, whole: their columns come back in the output
    const et = await esrc.readAll();
    const n = et.numRows;
    const eSym = new Int32Array(n);
    const eTs = new BigInt64Array(n);
    readSymbolIds(column(et, symbolColumn, esrc), eSym, 0, ids, false, esrc, symbolColumn, 0);
    readNanos(column(et, tsColumn, esrc), eTs, 0, esrc, tsColumn, 0);

    const match = asOfMatch(fSym, fTs, eSym, eTs, ids.size);
    const out = await gather(fsrc, groupStart, match, features);
    const columns: Record<string, Vector> = {};
    for (const f of et.schema.fields) columns[f.name] = et.getChild(f.name)!;
    features.forEach((f, j) => (columns[f] = out[j]));
    return new Table(columns);
  } finally {
    fsrc.close();
    esrc?.close();
  }
}

/**
 * The feature values of each entity's matched row: entities are bucketed by the row group of their
 * match, then each row group with any is decoded once (only the feature columns).
 */
async function gather(src: ColumnarSource, groupStart: number[], match: Int32Array, features: string[]): Promise<Vector[]> {
  const n = match.length;
  const groups = src.groupRows.length;
  const values = features.map(() => new Float64Array(n));
  const bits = features.map(() => new Uint8Array((n + 7) >> 3));
  const nulls = features.map(() => n);
  // entity indices by the row group of their match (a counting sort; unmatched ones are left out)
  const groupOf = new Int32Array(n);
  const count = new Int32Array(groups + 1);
  let g = 0;
  for (let i = 0; i < n; i++) {
    const m = match[i];
    if (m < 0) {
      groupOf[i] = -1;
      continue;
    }
    // most lookups land in the group of the previous one (entities are often in time order)
    if (m < groupStart[g] || m >= groupStart[g + 1]) g = upperBound(groupStart, m) - 1;
    groupOf[i] = g;
    count[g + 1]++;
  }
  for (let k = 0; k < groups; k++) count[k + 1] += count[k];
  const byGroup = new Int32Array(count[groups]);
  const next = count.slice(0, groups);
  for (let i = 0; i < n; i++) if (groupOf[i] >= 0) byGroup[next[groupOf[i]]++] = i;

  const maxRows = Math.max(0, ...src.groupRows);
  const scratch = new Float64Array(maxRows);
  const valid = new Uint8Array(maxRows);
  for (let grp = 0; grp < groups; grp++) {
    if (count[grp] === count[grp + 1]) continue;
    const t = await src.read(grp, features);
    const base = groupStart[grp];
    for (let j = 0; j < features.length; j++) {
      readFloats(column(t, features[j], src), scratch, valid, 0, src, features[j]);
      const vj = values[j];
      const bj = bits[j];
      let nj = nulls[j];
      for (let k = count[grp]; k < count[grp + 1]; k++) {
        const i = byGroup[k];
        const r = match[i] - base;
        if (valid[r] !== 0) {
          vj[i] = scratch[r];
          bj[i >> 3] |= 1 << (i & 7);
          nj--;
        }
      }
      nulls[j] = nj;
    }
  }
  return features.map((_, j) => makeVector(makeData({ type: new Float64(), length: n, data: values[j], nullBitmap: bits[j], nullCount: nulls[j] })));
}

/** The first index whose value is > x (`a` ascending). */
function upperBound(a: number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
