/**
 * Symbol stages: per-symbol steps that run after the factors of each applied event and read their
 * values. The model layer (models/) builds its signals as stages, so a signal is computed by the
 * same fold, in the same row, at the same event as the factors it reads: replay, live, training sets
 * and parity all see it with no second code path.
 *
 * A stage is pure like a factor: its state is plain data (checkpointed with the fold), its update
 * reads only the row, the event's times and its own state. Stages run in the order given, each after
 * every factor, so a stage may read the columns of the stages before it.
 */
import type { MarketEvent } from './events.ts';

export interface SymbolStage<S = unknown> {
  /** Names the stage in errors and manifests. */
  readonly name: string;
  /** Output columns it writes, appended after the factor columns (and earlier stages'). */
  readonly columns: readonly string[];
  /** Columns it reads (factor columns or earlier stages'), in the order `update` receives them. */
  readonly inputs: readonly string[];
  /**
   * What, besides its columns and inputs, makes the stage compute other values (its model kinds and
   * their declared settings): part of the feature-set version. What changes within a session (the
   * deployment log, new versions) is not here: it is recorded in the stage's own lineage.
   */
  readonly versionText: string;
  /** Fresh per-symbol state (plain data). */
  init(symbol: string): S;
  /**
   * Runs after the factors of an applied event of the symbol (and after each heartbeat, for every
   * known symbol). `row` is the symbol's output row: read inputs at `inputIx`, write the stage's
   * columns from `offset` on. Returns true when any of its columns changed (a heartbeat emits a
   * row only for symbols whose values changed).
   */
  update(state: S, row: (number | null)[], inputIx: readonly number[], offset: number, ev: MarketEvent): boolean;
}
