/**
 * One part of a training set: the samples of one date, built from the catalog into one Parquet
 * file. A part folds its warm-up dates first (no samples), then its date (samples), then, when
 * labels are asked, the start of the next selected date (labels only). It depends on nothing but
 * its job description, so any process can build it and get the same bytes.
 */
import { applyEvent, createFactorSet, initFold, type RowSink } from '../core/fold.ts';
import type { AnyFactor } from '../core/factor.ts';
import type { SymbolStage } from '../core/stage.ts';
import type { StagesFor } from '../replay/lineage.ts';
import { dateStartNs, readCatalogSessions } from '../replay/catalog.ts';
import { ParquetStreamWriter } from '../replay/parquet-stream-writer.ts';
import { finishBuilder, initBuilder, stepBuilder, takeReady, type BuilderConfig, type BuilderSample, type EntityRow } from './builder.ts';
import { nextDateStart, startDate } from './day-boundary.ts';
import { openEventSource, type DateSlice, type OpenSource } from './event-source.ts';
import { compareCut, initCutRecord, perturbEvent, recordSample, type CutRecord } from './leakage.ts';
import { trainingSetSpecs } from './row-store.ts';
import { parseLabels, parseSplits, type SampleSpec } from './spec.ts';
import { planSplits, splitOf } from './split.ts';
import { utcDate } from '../replay/catalog.ts';

const DAY_NS = 86_400_000_000_000n;

/** Everything a part needs, as plain data (it crosses to worker threads). */
export interface PartJob {
  catalog: string;
  date: string;
  /** Earlier catalog dates folded first, oldest first. */
  warmup: string[];
  /** The next selected date, read up to `toNs` for labels only. */
  lookahead?: { date: string; toNs: bigint };
  symbols?: string[];
  factorParams: string[];
  features: string[];
  /** The --labels text ('' for none). */
  labels: string;
  haltGapNs: bigint;
  sample: Exclude<SampleSpec, { kind: 'entities' }> | { kind: 'entities'; file: string; rows: EntityRow[] };
  split?: { text: string; embargoNs: bigint };
  /** Run the leakage check on this part (2 cuts). */
  checkLeakage?: { windowNs: bigint };
  /** The part file to write. */
  out: string;
  metadata: Record<string, unknown>;
}

export interface PartResult {
  date: string;
  file: string;
  rows: number;
  bytes: number;
  sha256: string;
  /** Events folded (warm-up, date and look-ahead). */
  events: number;
  leakage?: { cuts: string[]; compared: number };
}

/** In-process hooks: tests pass their own factors or source (a worker always uses the defaults). */
export interface PartHooks {
  factors?: readonly AnyFactor[];
  openSource?: OpenSource;
  /** `--registry`: model stages over the factor columns (a build with them runs in-process). */
  models?: StagesFor;
  /** The stages `models` gave (the plan resolves them once; every part folds the same). */
  stages?: readonly SymbolStage[];
}

async function factorsOf(job: PartJob, hooks: PartHooks): Promise<readonly AnyFactor[]> {
  if (hooks.factors) return hooks.factors;
  const { DEFAULT_FACTORS, withFactorParams } = await import('../core/registry.ts');
  return withFactorParams(DEFAULT_FACTORS, job.factorParams);
}

function configOf(job: PartJob, factors: readonly AnyFactor[], stages: readonly SymbolStage[] = []): BuilderConfig {
  const labels = job.labels ? parseLabels(job.labels) : [];
  const maxH = labels.reduce((m, l) => (l.horizonNs > m ? l.horizonNs : m), 0n);
  const plan = job.split ? planSplits(parseSplits(job.split.text), maxH, job.split.embargoNs) : undefined;
  const fromNs = dateStartNs(job.date);
  const sample: BuilderSample = job.sample.kind === 'entities' ? { kind: 'entities', rows: job.sample.rows } : job.sample;
  return {
    // each symbol's session (`session: 'auto'` factors) from the catalog, as replay and live read it
    set: createFactorSet(factors, { sessions: readCatalogSessions(job.catalog), stages }),
    features: job.features,
    labels,
    haltGapNs: job.haltGapNs,
    sample,
    fromNs,
    toNs: fromNs + DAY_NS,
    split: plan ? (t) => splitOf(plan, utcDate(t), t) : undefined,
  };
}

function slices(job: PartJob, upTo?: bigint): DateSlice[] {
  const out: DateSlice[] = job.warmup.map((date) => ({ date, optional: true }));
  out.push({ date: job.date, toNs: upTo });
  if (job.lookahead && upTo === undefined) out.push({ date: job.lookahead.date, toNs: job.lookahead.toNs, optional: true });
  return out;
}

/** Builds one part into `job.out` (temporary name, renamed when complete). */
export async function buildPart(job: PartJob, hooks: PartHooks = {}): Promise<PartResult> {
  const factors = await factorsOf(job, hooks);
  const cfg = configOf(job, factors, hooks.stages);
  const open = hooks.openSource ?? openEventSource;
  const b = initBuilder(cfg);
  // every 256th event time of the date: the leakage check cuts at quantiles of the date's events
  const dayStart = cfg.fromNs;
  const dayEnd = cfg.toNs;
  const sampled: bigint[] = [];
  let inDay = 0;
  const src = await open({ catalog: job.catalog, dates: slices(job), symbols: job.symbols });
  const specs = trainingSetSpecs(b.store.layout);
  const writer = new ParquetStreamWriter(job.out, specs, { metadata: job.metadata, statisticsColumns: ['symbol', 'ts'] });
  let events = 0;
  try {
    for (let ev = src.next(); ev !== null; ev = src.next()) {
      stepBuilder(b, ev);
      if (ev.tsRecv >= dayStart && ev.tsRecv < dayEnd && (inDay++ & 255) === 0) sampled.push(ev.tsRecv);
      if ((++events & 4095) === 0) for (let batch = takeReady(b); batch !== null; batch = takeReady(b)) await writer.write(batch.columns, batch.n);
    }
    finishBuilder(b);
    for (let batch = takeReady(b); batch !== null; batch = takeReady(b)) await writer.write(batch.columns, batch.n);
    await src.close();
    await writer.close();
  } catch (e) {
    await src.close();
    await writer.abort();
    throw e;
  }
  const result: PartResult = { date: job.date, file: job.out, rows: writer.rows, bytes: writer.bytesWritten, sha256: writer.sha256, events };
  if (job.checkLeakage && sampled.length > 0) {
    const cuts = [sampled[Math.floor(sampled.length / 3)] - 1n, sampled[Math.floor((sampled.length * 2) / 3)] - 1n];
    result.leakage = await checkPart(job, factors, open, cuts, job.checkLeakage.windowNs);
  }
  return result;
}

/**
 * The leakage check of a part: two cuts, just before the events a third and two thirds into the
 * date (by count, so they fall where the data is); for each, a clean and a perturbed run of the
 * fold up to the cut (cost: about 2 x the part's fold time in all).
 */
async function checkPart(job: PartJob, factors: readonly AnyFactor[], open: OpenSource, cuts: bigint[], windowNs: bigint): Promise<{ cuts: string[]; compared: number }> {
  let compared = 0;
  for (const t0 of cuts) {
    const runs: CutRecord[] = [];
    for (const perturbed of [false, true]) {
      const rec = initCutRecord(t0, windowNs);
      const b = initBuilder({ ...configOf(job, factors), labels: [], tap: (s, t, v, idx) => recordSample(rec, s, t, v, idx) });
      // the fold runs past t0 only to the first event after it: samples <= t0 are taken by then
      const src = await open({ catalog: job.catalog, dates: slices(job), symbols: job.symbols, perturbAfter: perturbed ? t0 : undefined, perturb: perturbEvent });
      try {
        for (let ev = src.next(); ev !== null; ev = src.next()) {
          stepBuilder(b, ev);
          if (ev.tsRecv > t0) break;
        }
        finishBuilder(b);
      } finally {
        await src.close();
      }
      runs.push(rec);
    }
    compared += compareCut(runs[0], runs[1], job.features);
  }
  return { cuts: cuts.map(String), compared };
}

/** A fold with no samples over the same source (the benchmark's own-fold peer reuses it). */
export async function foldOnly(job: PartJob, hooks: PartHooks = {}): Promise<number> {
  const set = createFactorSet(await factorsOf(job, hooks), { sessions: readCatalogSessions(job.catalog), stages: hooks.stages });
  const fold = initFold();
  const src = await (hooks.openSource ?? openEventSource)({ catalog: job.catalog, dates: slices(job), symbols: job.symbols });
  const none: RowSink = () => {};
  let n = 0;
  let dateEnd = -1n;
  for (let ev = src.next(); ev !== null; ev = src.next(), n++) {
    if (ev.tsRecv >= dateEnd) {
      if (dateEnd >= 0n) startDate(fold);
      dateEnd = nextDateStart(ev.tsRecv);
    }
    applyEvent(set, fold, ev, none);
  }
  await src.close();
  return n;
}
