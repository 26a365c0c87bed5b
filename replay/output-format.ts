/**
 * A factor table's file format follows its name: `.parquet` → Parquet, `.arrow` → Arrow IPC
 * (Feather v2). Any other name would hold bytes its name lies about, so it is refused.
 */
import { UsageError } from '../core/errors.ts';
import type { ArrowCompression } from './arrow-ipc-writer.ts';

/** The factor table's file format, from the output path's extension (`.arrow` → Arrow IPC, else Parquet). */
export function outputFormat(path: string): 'parquet' | 'arrow' {
  return /\.arrow$/i.test(path) ? 'arrow' : 'parquet';
}

/** Raised for an output path or compression a factor table cannot be written as. */
export class OutputFormatError extends UsageError {}

/**
 * Checks `--out` (and `--compression`, for an `.arrow` output) before anything runs; returns the
 * Arrow compression (`none` for Parquet, whose codec is fixed).
 */
export function checkOutput(path: string, compression: string | undefined, flag = '--out'): ArrowCompression {
  if (!/\.(parquet|arrow)$/i.test(path)) {
    throw new OutputFormatError(`${flag} ${path}: the factor table is written as Parquet (name it *.parquet) or Arrow IPC (name it *.arrow)`);
  }
  if (compression === undefined) return 'none';
  if (outputFormat(path) !== 'arrow') throw new OutputFormatError(`--compression ${compression}: only an Arrow IPC output (${flag} *.arrow) takes it; Parquet is written snappy-compressed`);
  if (compression !== 'none' && compression !== 'lz4') throw new OutputFormatError(`--compression ${JSON.stringify(compression)}: use none or lz4`);
  return compression;
}
