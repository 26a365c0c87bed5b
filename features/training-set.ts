/**
 * `lockstep training-set`: plans the parts of a build (one per date), builds them (in this process,
 * in `--jobs` worker threads, or only a `--partition` share), assembles the final file and writes
 * the manifest. Output bytes depend only on the parameters and the catalog, never on scheduling:
 * each part is built alone from its own job, and the final file is assembled from the part files.
 *
 * Layout beside `--out F.parquet`: `F.parquet.parts/<date>.parquet` (the parts),
 * `F.parquet.parts/manifest-<i>-of-<N>.json` (what a partition built), `F.parquet.manifest.json`
 * (the build's parameters, the parts with their sha256, the output files).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { InputError, UsageError } from '../core/errors.ts';
import type { AnyFactor } from '../core/factor.ts';
import { createFactorSet } from '../core/fold.ts';
import { DEFAULT_FACTORS, factorManifest, featureSetVersion, withFactorParams } from '../core/registry.ts';
import { dateStartNs, listCatalog, readCatalogSessions, utcDate } from '../replay/catalog.ts';
import { lineageOf, type StagesFor } from '../replay/lineage.ts';
import { selectReplayFiles } from '../replay/selection.ts';
import { lockstepMetadata, openParquet } from '../replay/parquet-io.ts';
import { isoNs } from '../replay/time-format.ts';
import { startTsWorker } from '../replay/worker-thread.ts';
import { assemble, type AssembledFile } from './assemble.ts';
import { buildPart, type PartHooks, type PartJob, type PartResult } from './build-part.ts';
import { readEntities, samplingOrder } from './entities.ts';
import { trainingSetSpecs } from './row-store.ts';
import { durationName, parseLabels, parseSplits, selectFeatures, type SampleSpec } from './spec.ts';

export interface TrainingSetOptions {
  catalog: string;
  /** The dates asked; with `range`, dates the catalog lacks are skipped (weekends), else refused. */
  dates: string[];
  range: boolean;
  symbols?: string[];
  sample: SampleSpec;
  /** The --labels text ('' for none). */
  labels: string;
  features?: string[];
  factorParams?: string[];
  haltGapNs: bigint;
  split?: string;
  embargoNs?: bigint;
  splitFiles?: boolean;
  /** Earlier catalog dates folded before each date (default 1). */
  warmup?: number;
  jobs?: number;
  partition?: { index: number; count: number };
  /** Only assemble parts that --partition runs built. */
  assembleOnly?: boolean;
  checkLeakage?: boolean;
  out: string;
}

export interface TrainingSetResult {
  parts: PartResult[];
  /** Output files (none for a --partition run). */
  files: AssembledFile[];
  manifest: string;
  featureSetVersion: string;
}

const MARKET = new Set(['trade', 'quote', 'book']);
const LEAK_WINDOW_NS = 30n * 60_000_000_000n;

const json = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x), 2);

function writeAtomic(path: string, text: string): void {
  writeFileSync(`${path}.tmp-${process.pid}`, text);
  renameSync(`${path}.tmp-${process.pid}`, path);
}

function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** The dates with market data (trades, quotes or book) in the catalog, sorted. */
function marketDates(catalog: string): string[] {
  return [...new Set(listCatalog(catalog).filter((f) => MARKET.has(f.kind)).map((f) => f.date))].sort();
}

interface Plan {
  jobs: PartJob[];
  sessions: ReturnType<typeof readCatalogSessions>;
  params: Record<string, unknown>;
  buildKey: string;
  fsVersion: string;
  factors: readonly AnyFactor[];
  features: string[];
  /** `--registry`: the model stages every part folds after the factors, and their lineage. */
  models?: ReturnType<StagesFor>;
}

async function plan(o: TrainingSetOptions, hooks: PartHooks): Promise<Plan> {
  if (!/\.parquet$/i.test(o.out)) throw new UsageError(`--out ${o.out}: a training set is written as Parquet; name it *.parquet`);
  const factors = hooks.factors ?? withFactorParams(DEFAULT_FACTORS, o.factorParams ?? []);
  // each symbol's session (`session: 'auto'` factors) from the catalog, as replay and live read it
  const sessions = readCatalogSessions(o.catalog);
  const models = hooks.models?.(createFactorSet(factors, { sessions }).columns);
  const set = createFactorSet(factors, { sessions, stages: models?.stages });
  const features = selectFeatures(set.columns, o.features);
  const labels = o.labels ? parseLabels(o.labels) : [];
  if (labels.length > 0 && (!set.columns.includes('mid') || !set.columns.includes('last_price'))) throw new UsageError("--labels reads the fold's own mid and last_price: the factor set must include them");
  const maxH = labels.reduce((m, l) => (l.horizonNs > m ? l.horizonNs : m), 0n);
  const present = marketDates(o.catalog);
  const dates = o.range ? o.dates.filter((d) => present.includes(d)) : o.dates;
  for (const d of dates) if (!present.includes(d)) throw new UsageError(`catalog ${o.catalog} has no market data for ${d}; dates present: ${present.join(', ') || 'none'}`);
  if (dates.length === 0) throw new UsageError(`catalog ${o.catalog} has no market data in ${o.dates[0]}..${o.dates.at(-1)}; dates present: ${present.join(', ') || 'none'}`);
  if (o.split) {
    const ranges = parseSplits(o.split);
    for (const d of dates) if (!ranges.some((r) => r.dates.includes(d))) throw new UsageError(`--split: ${d} is in no split (splits: ${o.split})`);
  }
  if (o.splitFiles && !o.split) throw new UsageError('--split-files needs --split');
  let entities: Map<string, PartJob['sample'] & { kind: 'entities' }> | undefined;
  if (o.sample.kind === 'entities') {
    const file = o.sample.file;
    const rows = await readEntities(file);
    entities = new Map(dates.map((d) => [d, { kind: 'entities', file, rows: [] }]));
    for (const r of samplingOrder(rows)) {
      const part = entities.get(utcDate(r.ts));
      if (!part) throw new InputError({ file, row: r.row, field: 'timestamp', value: isoNs(r.ts), reason: `outside the dates of the build (${dates.join(', ')})` });
      part.rows.push(r);
    }
  }
  const warmup = o.warmup ?? 1;
  const params = {
    catalog: basename(o.catalog),
    dates,
    symbols: o.symbols ?? null,
    sample: o.sample.kind === 'entities' ? `entities:${basename(o.sample.file)}` : o.sample.kind === 'trades' ? 'trades' : `${o.sample.kind}:${durationName(o.sample.stepNs)}`,
    labels: labels.map((l) => l.name),
    haltGap: durationName(o.haltGapNs),
    features,
    factorParams: o.factorParams ?? [],
    split: o.split ?? null,
    embargo: o.split ? (o.embargoNs ? durationName(o.embargoNs) : '0') : null,
    warmupDates: warmup,
    entitySha256: o.sample.kind === 'entities' ? sha256File(o.sample.file) : null,
    // the models' hashes and deployment log enter the build key: another log, other signal columns
    ...(models ? { models: models.lineage } : {}),
  };
  const fsVersion = featureSetVersion(factors, sessions, models?.stages);
  const buildKey = createHash('sha256').update(json({ params, fsVersion })).digest('hex').slice(0, 16);
  const partsDir = `${o.out}.parts`;
  const jobs = dates.map((date, i): PartJob => {
    const earlier = present.filter((d) => d < date);
    const before = warmup === 0 ? [] : earlier.slice(-warmup);
    const next = dates[i + 1];
    return {
      catalog: o.catalog,
      date,
      warmup: before,
      lookahead: next && labels.length > 0 ? { date: next, toNs: dateStartNs(next) + maxH + o.haltGapNs + 1n } : undefined,
      symbols: o.symbols,
      factorParams: o.factorParams ?? [],
      features,
      labels: o.labels,
      haltGapNs: o.haltGapNs,
      sample: entities ? entities.get(date)! : (o.sample as Exclude<SampleSpec, { kind: 'entities' }>),
      split: o.split ? { text: o.split, embargoNs: o.embargoNs ?? 0n } : undefined,
      checkLeakage: o.checkLeakage ? { windowNs: LEAK_WINDOW_NS } : undefined,
      out: join(partsDir, `${date}.parquet`),
      metadata: { featureSetVersion: fsVersion, buildKey, part: date, trainingSet: params },
    };
  });
  // an entity build folds only the dates that hold entity rows
  const needed = entities ? jobs.filter((j) => j.sample.kind === 'entities' && j.sample.rows.length > 0) : jobs;
  return { jobs: needed, params, buildKey, fsVersion, factors, features, sessions, models };
}

/** Builds `jobs` in `n` worker threads (each builds parts one after another). */
async function inWorkers(jobs: PartJob[], n: number): Promise<PartResult[]> {
  const results: PartResult[] = new Array(jobs.length);
  let next = 0;
  let failure: Error | null = null;
  const one = () =>
    new Promise<void>((resolve) => {
      const w = startTsWorker(new URL('./part-worker.ts', import.meta.url), {});
      const feed = () => {
        if (failure || next >= jobs.length) {
          w.postMessage({ type: 'exit' });
          void w.terminate().then(() => resolve());
          return;
        }
        const i = next++;
        w.once('message', (m: { type: string; result?: PartResult; message?: string; user?: boolean }) => {
          if (m.type === 'done') results[i] = m.result!;
          else failure ??= m.user ? new UsageError(m.message!) : new Error(`part ${jobs[i].date}: ${m.message}`);
          feed();
        });
        w.postMessage({ type: 'build', job: jobs[i] });
      };
      w.once('error', (e: Error) => {
        failure ??= e;
        resolve();
      });
      feed();
    });
  await Promise.all(Array.from({ length: Math.min(n, jobs.length) }, one));
  if (failure) throw failure;
  return results;
}

/** Reads back a part a --partition run built; refuses one built with other parameters. */
async function existingPart(job: PartJob, buildKey: string): Promise<PartResult> {
  if (!existsSync(job.out)) throw new UsageError(`--assemble: part ${job.out} is missing; build it with --partition (all of 0/N .. N-1/N)`);
  const src = await openParquet(job.out);
  const key = lockstepMetadata(src).buildKey;
  if (key !== buildKey) throw new UsageError(`--assemble: part ${job.out} was built with other parameters (build ${String(key)}, this one ${buildKey})`);
  return { date: job.date, file: job.out, rows: src.numRows, bytes: readFileSync(job.out).length, sha256: sha256File(job.out), events: 0 };
}

/** The catalog files the parts read (their dates, warm-ups and label look-aheads), each once, in path order. */
async function filesRead(catalog: string, jobs: readonly PartJob[]): Promise<string[]> {
  const dates = new Set<string>();
  for (const j of jobs) {
    dates.add(j.date);
    for (const d of j.warmup) dates.add(d);
    if (j.lookahead) dates.add(j.lookahead.date);
  }
  const paths = new Set<string>();
  const symbols = jobs[0]?.symbols;
  for (const date of [...dates].sort()) {
    // a warm-up or look-ahead date may lack some of the symbols (the parts skip them there)
    const files = await selectReplayFiles({ catalog, date, symbols }).catch(() => selectReplayFiles({ catalog, date }));
    for (const f of files) paths.add(f.path);
  }
  return [...paths].sort();
}

/** Builds a training set (or a partition's share of it) and writes its manifest. */
export async function buildTrainingSet(o: TrainingSetOptions, hooks: PartHooks = {}): Promise<TrainingSetResult> {
  const p = await plan(o, hooks);
  mkdirSync(`${o.out}.parts`, { recursive: true });
  // the parts fold the stages the plan made (one load of the registry for the whole build)
  if (p.models) hooks = { ...hooks, stages: p.models.stages };
  const mine = o.partition ? p.jobs.filter((_, i) => i % o.partition!.count === o.partition!.index) : p.jobs;
  let parts: PartResult[];
  if (o.assembleOnly) parts = await Promise.all(p.jobs.map((j) => existingPart(j, p.buildKey)));
  else if ((o.jobs ?? 1) > 1 && !hooks.factors && !hooks.openSource && !hooks.models) parts = await inWorkers(mine, o.jobs!);
  else {
    parts = [];
    for (const j of mine) parts.push(await buildPart(j, hooks));
  }
  const partList = parts.map((r) => ({ date: r.date, file: basename(r.file), rows: r.rows, sha256: r.sha256, ...(r.leakage ? { leakageCheck: r.leakage } : {}) }));
  const manifestBase = { lockstep: 'training-set', buildKey: p.buildKey, featureSetVersion: p.fsVersion, parameters: p.params };
  if (o.partition) {
    const path = join(`${o.out}.parts`, `manifest-${o.partition.index}-of-${o.partition.count}.json`);
    writeAtomic(path, json({ ...manifestBase, partition: `${o.partition.index}/${o.partition.count}`, parts: partList }));
    return { parts, files: [], manifest: path, featureSetVersion: p.fsVersion };
  }
  const layout = { features: p.features, labels: o.labels ? parseLabels(o.labels).map((l) => l.name) : [], entityRow: o.sample.kind === 'entities', split: Boolean(o.split) };
  const specs = trainingSetSpecs(layout);
  // the lineage of the features it holds: a model trained on it can be checked against a live
  // deployment's (`lockstep lineage TRAIN.parquet --redis URL --ns NS`)
  const lineage = lineageOf({ factors: p.factors, sessions: p.sessions, files: await filesRead(o.catalog, p.jobs), root: o.catalog, stages: p.models?.stages, models: p.models?.lineage });
  const metadata = { featureSetVersion: p.fsVersion, factors: factorManifest(p.factors), trainingSet: p.params, buildKey: p.buildKey, parts: partList.map((x) => ({ date: x.date, sha256: x.sha256, rows: x.rows })), lineage };
  const targets = o.splitFiles ? parseSplits(o.split!).map((r) => ({ path: o.out.replace(/\.parquet$/i, `.${r.name}.parquet`), split: r.name })) : [{ path: o.out }];
  const files = await assemble(parts.map((r) => r.file), specs, targets, metadata, layout.entityRow);
  const manifest = `${o.out}.manifest.json`;
  writeAtomic(manifest, json({ ...manifestBase, parts: partList, outputs: files.map((f) => ({ file: basename(f.path), rows: f.rows, sha256: f.sha256 })) }));
  return { parts, files, manifest, featureSetVersion: p.fsVersion };
}
