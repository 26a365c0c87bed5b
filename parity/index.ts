/**
 * Parity: proves two factor tables agree (replay against live, one build against another) cell
 * by cell, bit for bit or within a stated tolerance, and writes certificates of whole runs.
 *
 * ```ts
 * import { openRowSource, diffSources, formatDiff } from 'lockstep/parity';
 * ```
 *
 * @packageDocumentation
 * @module lockstep/parity
 */

export { diffTables, formatDiff, htmlReport } from './diff.ts';
export type { DiffOptions, DiffReport, DiffTable, Divergence, FactorSummary } from './diff.ts';
export { cellsAgree, parseTolerance, toleranceName, ulpDistance } from './tolerance.ts';
export type { Tolerance } from './tolerance.ts';
export { diffSources, formatStats } from './stream-diff.ts';
export type { StreamDiffOptions, StreamStats } from './stream-diff.ts';
export { collectTable, openRowSource } from './row-source.ts';
export type { RowBatch, RowSource, SourceOptions } from './row-source.ts';
export { loadTable } from './load-table.ts';
export { IDENTITY_KEYS, parseKeys } from '../core/row-key.ts';
export type { KeyColumn, KeyValue, TimeAxis } from '../core/row-key.ts';
export { runParity, tableHash } from './run-parity.ts';
export type { Certificate, ParityRunOptions } from './run-parity.ts';
export { formatReferenceSummary, REFERENCE_COLUMNS, writeReference } from './cross-impl.ts';
export type { MaColumn, ReferenceOptions, ReferenceSummary } from './cross-impl.ts';
export { projectFactorTable } from './project-table.ts';
export type { ProjectionSummary } from './project-table.ts';
