/**
 * Research API for notebooks and scripts: a replayed day, a point-in-time training set and
 * point-in-time feature retrieval as
 * Apache Arrow tables, and as arquero tables with nanosecond times kept exact.
 *
 * ```ts
 * import { historicalFeatures, replayDay, toArquero, trainingSet } from 'lockstep/research';
 * ```
 *
 * @packageDocumentation
 * @module lockstep/research
 */
export { replayDay } from './replay-day.ts';
export { trainingSet } from './training-set.ts';
export type { TrainingSetApiOptions } from './training-set.ts';
export type { ReplayDayOptions } from './replay-day.ts';
export { FACTOR_KEY_COLUMNS, historicalFeatures } from './historical-features.ts';
export type { HistoricalFeaturesOptions } from './historical-features.ts';
export type { TableInput } from './columnar-source.ts';
export { arqueroReady, toArquero } from './arquero.ts';
// Model files for notebooks: read and check one, register it, load it as the fold runs it
export { listRegistry, readModelFile, registerVersion } from '../models/registry.ts';
export type { RegisteredVersion } from '../models/registry.ts';
export { loadVersion } from '../models/load.ts';
export { MODEL_STATUS } from '../models/model.ts';
export type { ModelStatus, RunnableModel } from '../models/model.ts';
export type { ModelSpec } from '../models/spec.ts';
// Charts for notebooks: a Vega-Lite spec as a Jupyter display bundle (the spec and its SVG)
export { downsample, VEGA_LITE_MIME, VEGA_LITE_SCHEMA, vegaLiteBundle } from './vega.ts';
export type { DisplayBundle, VegaLiteBundleOptions, VegaLiteSpec } from './vega.ts';
