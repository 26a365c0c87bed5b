/**
 * `lockstep models fit`: a training set written by `lockstep training-set` → a model file. Rows with
 * a null (or non-finite) label or feature are dropped and counted. What the model was trained on
 * (feature-set version from the training set's own metadata, the file, rows, label) goes into
 * `trained_on`, which `models register` checks against the serving feature set.
 */
import { writeFileSync } from 'node:fs';
import { UsageError } from '../core/errors.ts';
import { lockstepMetadata, openParquet } from '../replay/parquet-io.ts';
import { fitLinear, fitLogistic, type Design, type Fitted } from './fit.ts';
import { ModelError } from './errors.ts';
import { parseModelSpec, parseTrigger } from './spec.ts';

export interface FitOptions {
  trainingSet: string;
  label: string;
  features: string[];
  kind: 'linear' | 'logistic';
  name: string;
  version: number;
  out: string;
  trigger?: string;
  missing?: 'null' | 'mean';
  l2: number;
  clip?: [number, number];
}

export interface FitResult extends Fitted {
  rows: number;
  dropped: number;
  featureSet: string;
  positives?: number;
}

/** Reads the label and feature columns as numbers (null → NaN), with the file's feature-set version. */
async function readDesign(o: FitOptions): Promise<{ d: Design; dropped: number; featureSet: string }> {
  let src: Awaited<ReturnType<typeof openParquet>>;
  try {
    src = await openParquet(o.trainingSet);
  } catch (e) {
    throw new UsageError(`--training-set ${o.trainingSet}: cannot read it as Parquet (${(e as Error).message.split('\n')[0]})`);
  }
  const meta = lockstepMetadata(src);
  const featureSet = meta.featureSetVersion;
  if (typeof featureSet !== 'string') throw new UsageError(`--training-set ${o.trainingSet}: records no featureSetVersion (not written by lockstep training-set)`);
  const names = src.columns.map((c) => c.name);
  for (const [flag, c] of [['--label', o.label], ...o.features.map((f) => ['--features', f])]) {
    if (!names.includes(c)) throw new UsageError(`${flag} ${c}: no such column in ${o.trainingSet} (columns: ${names.filter((n) => !['symbol', 'ts', 'split'].includes(n)).join(', ')})`);
  }
  const p = o.features.length;
  const want = [o.label, ...o.features];
  const xs: number[] = [];
  const ys: number[] = [];
  let dropped = 0;
  const row = new Float64Array(p + 1);
  for (let g = 0; g < src.numRowGroups; g++) {
    const t = src.readRowGroup(g, want);
    const cols = want.map((c) => t.getChild(c)!);
    for (let i = 0; i < t.numRows; i++) {
      let ok = true;
      for (let j = 0; j <= p; j++) {
        const v = cols[j].isValid(i) ? Number(cols[j].get(i)) : NaN;
        if (!Number.isFinite(v)) ok = false;
        row[j] = v;
      }
      if (!ok) {
        dropped++;
        continue;
      }
      ys.push(o.kind === 'logistic' ? (row[0] > 0 ? 1 : 0) : row[0]);
      for (let j = 1; j <= p; j++) xs.push(row[j]);
    }
  }
  return { d: { x: Float64Array.from(xs), y: Float64Array.from(ys), n: ys.length, p }, dropped, featureSet };
}

/** Fits, writes the model file (checked by the model-file parser) and returns what it did. */
export async function fitModelFile(o: FitOptions): Promise<FitResult> {
  if (o.features.length === 0) throw new UsageError('--features: name at least one feature column');
  if (!(o.l2 >= 0) || !Number.isFinite(o.l2)) throw new UsageError(`--l2 ${o.l2}: must be a finite number >= 0`);
  if (o.trigger !== undefined) parseTrigger(o.trigger, (why) => { throw new UsageError(`--trigger: ${why}`); });
  const { d, dropped, featureSet } = await readDesign(o);
  if (d.n < o.features.length + 2) throw new ModelError(o.trainingSet, `only ${d.n} rows have a label and every feature (${dropped} dropped for nulls): too few to fit ${o.features.length} coefficients`);
  const positives = o.kind === 'logistic' ? d.y.reduce((a, b) => a + b, 0) : undefined;
  if (positives === 0 || positives === d.n) throw new ModelError(o.trainingSet, `every one of the ${d.n} rows has ${o.label} ${positives === 0 ? '<= 0' : '> 0'}: a logistic model needs both classes`);
  const fit = o.kind === 'logistic' ? fitLogistic(d, o.l2, o.features, o.trainingSet) : fitLinear(d, o.l2, o.features, o.trainingSet);
  const model = {
    lockstep_model: 1,
    name: o.name,
    version: o.version,
    kind: o.kind,
    inputs: o.features,
    trigger: o.trigger ?? 'change',
    missing: o.missing ?? 'null',
    standardize: { mean: fit.mean, std: fit.std },
    ...(o.clip ? { clip: o.clip } : {}),
    coef: fit.coef,
    intercept: fit.intercept,
    trained_on: { feature_set: featureSet, training_set: o.trainingSet, rows: d.n, label: o.label, ...(o.kind === 'logistic' ? { target: `${o.label} > 0` } : {}), l2: o.l2 },
  };
  const text = JSON.stringify(model, null, 2) + '\n';
  parseModelSpec(text, o.out);
  writeFileSync(o.out, text);
  return { ...fit, rows: d.n, dropped, featureSet, positives };
}
