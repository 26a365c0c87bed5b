/** Shared shape of every importer's options and result. */

export type OnError = 'fail' | 'skip';

export interface ImportOptions {
  /** `fail` (default): the first malformed row throws an InputError naming file, line, field, value.
   *  `skip`: malformed rows are counted and reported, the rest imported. */
  onError?: OnError;
  /** The symbol: for formats that take it from the file name (Dukascopy, LOBSTER) it replaces the
   *  name's; for formats with a symbol per row (TAQ, SEC, Binance) rows of other symbols are rejected. */
  symbol?: string;
  /** Rows per Parquet row group in the written files. */
  rowGroupSize?: number;
  /** SEC only: a CSV of stock splits (symbol, ex_date, ratio, announced); see datasets/sec-splits.ts. */
  splits?: string;
}

/** A source row whose value was implausible and was corrected before import (not served as given). */
export interface CorrectedRow {
  file: string;
  line: number;
  field: string;
  value: string;
  corrected: string;
  reason: string;
}

export interface RejectedRow {
  file: string;
  line: number;
  field: string;
  value: string;
  reason: string;
}

export interface ImportReport {
  format: string;
  /** Files written, relative to nothing: as returned by writeCatalog. */
  files: string[];
  /** Events written per kind. */
  events: Record<string, number>;
  /** Rows rejected under --on-error skip (at most the first 100 are listed in `rejectedSample`). */
  rejected: number;
  rejectedSample: RejectedRow[];
  /** Implausible source values corrected on import, one line each (SEC: share counts in the wrong units). */
  corrected?: CorrectedRow[];
  /** Free-form facts worth printing (e.g. "snapshot applied at update 50093239218"). */
  notes: string[];
}
