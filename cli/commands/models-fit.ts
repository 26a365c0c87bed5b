import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../../core/errors.ts';
import { ensureParent } from '../ensure-parent.ts';
import { type ArgsOf, list } from '../options.ts';

const builder = (y: Argv) =>
  y
    // --version is the model's here, not lockstep's
    .version(false)
    .option('training-set', { type: 'string', demandOption: true, describe: 'a Parquet training set written by lockstep training-set' })
    .option('label', { type: 'string', demandOption: true, describe: 'the label column (logistic: the class is label > 0)' })
    .option('features', { type: 'string', array: true, demandOption: true, describe: 'feature columns, in order (comma or space separated)' })
    .option('kind', { choices: ['logistic', 'linear'] as const, demandOption: true, describe: 'logistic (Newton/IRLS) or linear (ridge)' })
    .option('name', { type: 'string', demandOption: true, describe: 'the model name (its signal columns are NAME_score, ...)' })
    .option('version', { type: 'number', demandOption: true, describe: 'the model version (a whole number >= 1)' })
    .option('out', { type: 'string', demandOption: true, describe: 'the model file to write (JSON)' })
    .option('trigger', { type: 'string', describe: 'when the model runs: change (default), bar:1m, every:5s' })
    .option('missing', { choices: ['null', 'mean'] as const, describe: 'a missing input gives null signals (default) or takes its training mean' })
    .option('l2', { type: 'number', default: 1, describe: 'L2 penalty λ on the standardised coefficients (scikit-learn: Ridge alpha=λ, LogisticRegression C=1/λ)' })
    .option('clip', { type: 'string', describe: 'clip standardised inputs to LO,HI (e.g. -5,5)' })
    .example('$0 models fit --training-set train.parquet --label fwd_ret_mid_5m --features ret_1m,rsi_14 --kind logistic --name momo --version 1 --out momo.json', 'a logistic model of the 5-minute sign');

/** `lockstep models fit`: a linear or logistic model from a training set. */
export const modelsFitCommand: CommandModule<{}, ArgsOf<typeof builder>> = {
  command: 'fit',
  describe: 'fit a linear (ridge) or logistic model on a training set and write its model file',
  builder,
  handler: async (a) => {
    const { fitModelFile } = await import('../../models/fit-file.ts');
    let clip: [number, number] | undefined;
    if (a.clip !== undefined) {
      const c = a.clip.split(',').map(Number);
      if (c.length !== 2 || !c.every(Number.isFinite) || !(c[0] < c[1])) throw new UsageError(`--clip ${a.clip}: must be LO,HI with LO < HI`);
      clip = [c[0], c[1]];
    }
    if (!Number.isSafeInteger(a.version) || a.version < 1) throw new UsageError(`--version ${a.version}: must be a whole number >= 1`);
    ensureParent(a.out);
    const r = await fitModelFile({
      trainingSet: a['training-set'],
      label: a.label,
      features: list(a.features) ?? [],
      kind: a.kind,
      name: a.name,
      version: a.version,
      out: a.out,
      trigger: a.trigger,
      missing: a.missing,
      l2: a.l2,
      clip,
    });
    const cls = r.positives !== undefined ? ` (${r.positives.toLocaleString('en-US')} with ${a.label} > 0)` : '';
    console.log(`fit ${a.kind} ${a.name}@${a.version} on ${r.rows.toLocaleString('en-US')} rows${cls}, dropped ${r.dropped.toLocaleString('en-US')} with a null label or feature; ${r.iterations} Newton step${r.iterations === 1 ? '' : 's'}`);
    console.log(`  intercept ${fmt(r.intercept)}; ${list(a.features)!.map((f, i) => `${f} ${fmt(r.coef[i])}`).join(', ')}`);
    console.log(`  trained on feature set ${r.featureSet}; wrote ${a.out}`);
  },
};

const fmt = (x: number) => (x >= 0 ? '+' : '') + x.toPrecision(4);
