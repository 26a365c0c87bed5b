/**
 * `lockstep/datasets`: filling a catalog. The synthetic market-day generator (deterministic: the
 * same arguments give byte-identical files) and the importers from real formats into the canonical
 * Parquet layout, each with a report of what it wrote, noted and rejected.
 *
 * ```ts
 * import { generateDay, catalogStats } from 'lockstep/datasets';
 * await generateDay({ date: '2024-03-15', symbols: 5, seed: 7, preset: 'tiny', out: 'catalog' });
 * console.log(await catalogStats('catalog'));
 * ```
 */

// Synthetic days (what `lockstep datasets generate` writes)
export { generateDay } from './generate.ts';
export type { GeneratedPlan, GenerateOptions, GenerateResult } from './generate.ts';
export { PRESETS } from './presets.ts';
export type { PresetName } from './presets.ts';

// Importers (what `lockstep datasets import --format ...` runs)
export { importBinance } from './import-binance.ts';
export { importDukascopy } from './import-dukascopy.ts';
export { importLobster } from './import-lobster.ts';
export { importSec } from './import-sec.ts';
export { importTaq } from './import-taq.ts';
export type { ImportOptions, ImportReport, OnError, RejectedRow } from './import-report.ts';

// What a catalog holds
export { catalogStats, formatStats } from './stats.ts';
export type { CatalogStats } from './stats.ts';
