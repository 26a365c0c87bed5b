/**
 * `replayDay`: one replay, returned as an Arrow table instead of a file. It runs the replay itself
 * (replay/run-replay.ts: the same selection, merge and fold as `lockstep replay`) into a Parquet
 * file in a temporary directory, reads that back and removes it; with `out` the file is kept.
 */
import type { Table } from 'apache-arrow';
import type { Kind } from '../core/events.ts';
import type { AnyFactor } from '../core/factor.ts';
import { runReplay, type ReplaySummary } from '../replay/run-replay.ts';
import { writtenTable } from './file-output.ts';

export interface ReplayDayOptions {
  /** Catalog directory (`lockstep datasets generate` or an importer wrote it). */
  catalog: string;
  /** YYYY-MM-DD. */
  date: string;
  /** Only these symbols (default: every symbol of the day). */
  symbols?: readonly string[];
  /** The factor set (default: `DEFAULT_FACTORS`). */
  factors?: readonly AnyFactor[];
  kinds?: readonly Kind[];
  /** HH:MM (UTC) window on ts_recv, as `lockstep replay --from/--to`. */
  from?: string;
  to?: string;
  /** Also keep the factor table at this path (default: a temporary file, removed). */
  out?: string;
  /** Called with the replay's summary (event and row counts, the file's sha256). */
  onSummary?: (s: ReplaySummary) => void;
}

/**
 * Replays one date of a catalog through the fold and returns the factor table as an Arrow table:
 * symbol, source, seq, ts_event, ts_recv (timestamps in exact nanoseconds), then one nullable
 * float64 column per factor output, one row per output row of the fold, in the fold's order.
 * The Parquet file's metadata (feature-set version, factor manifest) is the schema's metadata.
 *
 * ```ts
 * const factors = await replayDay({ catalog: 'out/demo/catalog', date: '2024-03-15', symbols: ['SYM000'] });
 * ```
 */
export async function replayDay(opts: ReplayDayOptions): Promise<Table> {
  return writtenTable(opts.out, 'lockstep-replay-day-', 'factors.parquet', async (out) => {
    const summary = await runReplay({ catalog: opts.catalog, date: opts.date, symbols: opts.symbols, factors: opts.factors, kinds: opts.kinds, from: opts.from, to: opts.to, out, progress: false });
    opts.onSummary?.(summary);
  });
}
