/**
 * `trainingSet`: `lockstep training-set` as a function returning an Arrow table. It runs the same
 * builder (features/training-set.ts: the replay's own fold sampled by receive time, forward labels,
 * splits) into a Parquet file, reads that back and, without `out`, removes it. Options take the
 * CLI's spellings (`sample: 'every:1m'`, `labels: 'fwd_return:5m'`, `dates: '2024-03-11..2024-03-15'`),
 * checked by the same parsers, so a notebook and a shell build the same bytes.
 */
import type { Table } from 'apache-arrow';
import type { AnyFactor } from '../core/factor.ts';
import { parseDates, parseDuration, parseSample } from '../features/spec.ts';
import { buildTrainingSet, type TrainingSetResult } from '../features/training-set.ts';
import { writtenTable } from './file-output.ts';

export interface TrainingSetApiOptions {
  catalog: string;
  /** `YYYY-MM-DD`, a range `A..B` (dates the catalog lacks are skipped) or a comma list. */
  dates: string;
  symbols?: string[];
  /** `every:1s`, `bars:1m`, `trades` or `entities:FILE`. */
  sample: string;
  /** e.g. `fwd_return:5m,fwd_vol:30m` (default: none). */
  labels?: string;
  /** Only these feature columns (default: every column of the factor set). */
  features?: string[];
  /** The factor set (default: the default set); `factorParams` change its parameters. */
  factors?: readonly AnyFactor[];
  factorParams?: string[];
  /** A gap longer than this inside a label's horizon makes the label null (default `5m`). */
  haltGap?: string;
  /** e.g. `train:2024-03-11..2024-03-13,test:2024-03-14`, with an `embargo` such as `30m`. */
  split?: string;
  embargo?: string;
  /** Earlier catalog dates folded before each date (default 1). */
  warmup?: number;
  jobs?: number;
  checkLeakage?: boolean;
  /** Also keep the Parquet file (and its manifest) at this path. */
  out?: string;
  /** Called with the build's result (parts, files and their sha256, the feature-set version). */
  onResult?: (r: TrainingSetResult) => void;
}

/**
 * Builds a point-in-time training set and returns it as an Arrow table: symbol, ts, the as-of
 * identity of each symbol's last applied event, the features, the labels (and `split`), with
 * nanosecond times exact. The Parquet metadata (feature-set version, lineage, build parameters)
 * is the schema's metadata.
 *
 * ```ts
 * const t = await trainingSet({ catalog: 'out/demo/catalog', dates: '2024-03-15', sample: 'every:1m', labels: 'fwd_return:5m' });
 * ```
 */
export async function trainingSet(o: TrainingSetApiOptions): Promise<Table> {
  const range = o.dates.includes('..');
  const dates = parseDates(o.dates, range ? '--dates' : '--date');
  return writtenTable(o.out, 'lockstep-training-set-', 'training-set.parquet', async (out) => {
    const r = await buildTrainingSet(
      {
        catalog: o.catalog,
        dates,
        range,
        symbols: o.symbols,
        sample: parseSample(o.sample),
        labels: o.labels ?? '',
        features: o.features,
        factorParams: o.factorParams,
        haltGapNs: parseDuration(o.haltGap ?? '5m', 'haltGap'),
        split: o.split,
        embargoNs: o.embargo !== undefined ? parseDuration(o.embargo, 'embargo', true) : undefined,
        warmup: o.warmup,
        jobs: o.jobs,
        checkLeakage: o.checkLeakage,
        out,
      },
      o.factors ? { factors: o.factors } : {},
    );
    o.onResult?.(r);
  });
}
