/**
 * Replay: runs a factor set over a Parquet catalog of market events (merged in the order live
 * mode sees them) and writes a factor table, plus the catalog and Parquet helpers around it.
 *
 * ```ts
 * import { runReplay, readFactorTable } from 'lockstep/replay';
 * const summary = await runReplay({ catalog: 'data/catalog', date: '2024-03-15', out: 'factors.parquet' });
 * ```
 *
 * @packageDocumentation
 * @module lockstep/replay
 */

export { openSelection, planSelection, runReplay, selectReplayFiles, sequenceSessionStarts } from './run-replay.ts';
export type { OpenedSelection, RangeSelection, ReplayOptions, ReplaySelection, ReplaySummary, SelectionPlan } from './run-replay.ts';
export { parseWarmup, resolveDates, splitDates } from './date-range.ts';
export { formatSummary } from './summary.ts';
export { parseSpeed } from './pacer.ts';
export type { Speed } from './pacer.ts';

// Lineage (what an output was computed by and from) and warm starts from a catalog
export { compareLineage, fileSha256, lineageOf, lockstepVersion, readLineage } from './lineage.ts';
export type { Lineage, LineageComparison, LineageFactor, LineageInput } from './lineage.ts';
export { foldCatalogBefore } from './warm-fold.ts';
export type { WarmFold, WarmFoldOptions, WarmRow } from './warm-fold.ts';

// Catalogs
export { catalogDates, listCatalog, loadSessionTable, readCatalogSessions, recordCatalogSessions, selectCatalog, sessionsPath, writeCatalog, writeCatalogFile } from './catalog.ts';
export type { CatalogFile, CatalogRow, CatalogSelection, PartBy, RowExtras, WriteCatalogOptions } from './catalog.ts';
export { KIND_COLUMNS, kindSchema } from './catalog-schema.ts';
export { EventCursor } from './event-cursor.ts';
export type { CursorOptions } from './event-cursor.ts';
export { EventMerge } from './merge.ts';

// Factor tables (the replay's output)
export { FactorTableSink, factorTableSpecs, KEY_COLUMNS } from './factor-table-sink.ts';
export type { FactorTableSinkOptions, SinkResult } from './factor-table-sink.ts';
export { openFactorTableStream, readFactorTable } from './read-factor-table.ts';
export type { FactorTable, FactorTableChunk, FactorTableStream, FloatColumn } from './read-factor-table.ts';

// Parquet
export { encodeParquet, lockstepMetadata, openParquet, ParquetFileError } from './parquet-io.ts';
export type { ColumnData, ColumnSpec, ColumnType, Compression, DictStrings, NullableFloat64, ParquetSource, WriteOptions } from './parquet-io.ts';
export { ParquetStreamWriter } from './parquet-stream-writer.ts';
export type { StreamWriterOptions } from './parquet-stream-writer.ts';

