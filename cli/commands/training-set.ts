import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../../core/errors.ts';
import { ensureParent } from '../ensure-parent.ts';
import { type ArgsOf, CATALOG, factorSet, factorSetOptions, jsonFlag, list, stagesFor, SYMBOLS } from '../options.ts';

const builder = (y: Argv) =>
  factorSetOptions(y)
    .option('catalog', CATALOG)
    .option('dates', { type: 'string', describe: 'market dates YYYY-MM-DD..YYYY-MM-DD (dates the catalog lacks are skipped)' })
    .option('date', { type: 'string', describe: 'one market date YYYY-MM-DD (instead of --dates)' })
    .option('symbols', SYMBOLS)
    .option('sample', { type: 'string', demandOption: true, describe: 'sample instants: every:DURATION, bars:DURATION, trades or entities:FILE (.parquet/.csv with symbol, timestamp)' })
    .option('labels', { type: 'string', describe: 'forward labels, e.g. fwd_return:5m,fwd_vol:30m,fwd_sign:5m (columns fwd_ret_mid_5m, fwd_ret_last_5m, ...)' })
    .option('features', { type: 'string', array: true, describe: 'only these feature columns (default: every column of the factor set)' })
    .option('halt-gap', { type: 'string', default: '5m', describe: 'a gap in a symbol\'s events longer than this inside a label\'s horizon makes the label null' })
    .option('split', { type: 'string', describe: 'splits by date, e.g. train:2024-03-11..2024-03-13,valid:2024-03-14,test:2024-03-15 (a split column)' })
    .option('embargo', { type: 'string', describe: 'with --split: rows this long after a split boundary are marked embargoed (e.g. 30m)' })
    .option('split-files', { type: 'boolean', describe: 'with --split: one file per split (OUT.<name>.parquet), purged and embargoed rows left out' })
    .option('warmup', { type: 'number', default: 1, describe: 'earlier catalog dates folded before each date (0 = start cold)' })
    .option('jobs', { type: 'number', default: 1, describe: 'build the dates in N worker threads (same bytes for any N)' })
    .option('partition', { type: 'string', describe: 'build only share i/N of the dates (e.g. a Kubernetes Indexed Job); then --assemble' })
    .option('assemble', { type: 'boolean', describe: 'only assemble the parts that --partition runs built into --out' })
    .option('check-leakage', { type: 'boolean', describe: 'check each date for look-ahead: alter the events after two cut times, features before them must not move (about 2x the fold time)' })
    .option('out', { type: 'string', demandOption: true, describe: 'output Parquet file (a manifest is written beside it)' })
    .option('registry', { type: 'string', describe: "a model registry (lockstep models): its models' signal columns become features (built in this process)" })
    .option('json', jsonFlag('print the result as JSON'))
    .example('$0 training-set --catalog cat --dates 2024-03-11..2024-03-15 --sample every:1s --labels fwd_return:5m,fwd_vol:5m --out train.parquet', 'five days, one row per symbol and second')
    .example('$0 training-set --catalog cat --date 2024-03-15 --sample entities:orders.csv --labels fwd_return:1m --out orders-features.parquet', "features as of the user's own order times");

/** `lockstep training-set`: point-in-time features at sample instants, joined to forward labels. */
export const trainingSetCommand: CommandModule<{}, ArgsOf<typeof builder>> = {
  command: 'training-set',
  describe: 'build a point-in-time training set: the fold\'s features at sample times, forward labels, splits',
  builder,
  handler: async (a) => {
    const spec = await import('../../features/spec.ts');
    const { buildTrainingSet } = await import('../../features/training-set.ts');
    if ((a.dates === undefined) === (a.date === undefined)) throw new UsageError('give --dates A..B or --date D (one of them)');
    if (a.partition !== undefined && a.assemble) throw new UsageError('--partition builds parts, --assemble joins them: run them separately');
    if (!Number.isInteger(a.jobs) || a.jobs < 1) throw new UsageError(`--jobs must be a whole number >= 1, got ${a.jobs}`);
    if (!Number.isInteger(a.warmup) || a.warmup < 0) throw new UsageError(`--warmup must be a whole number of dates >= 0, got ${a.warmup}`);
    if ((a.embargo !== undefined || a['split-files']) && a.split === undefined) throw new UsageError('--embargo and --split-files need --split');
    ensureParent(a.out);
    // your own factors (--factors/--only) run in this process: worker threads build the default set
    const own = a.factors !== undefined || list(a.only) !== undefined || a.registry !== undefined ? { factors: await factorSet(a) } : {};
    if (a.registry !== undefined) Object.assign(own, { models: await stagesFor(a.registry) });
    const r = await buildTrainingSet({
      catalog: a.catalog,
      dates: spec.parseDates(a.dates ?? a.date!, a.dates !== undefined ? '--dates' : '--date'),
      range: a.dates !== undefined,
      symbols: list(a.symbols),
      sample: spec.parseSample(a.sample),
      labels: a.labels ?? '',
      features: list(a.features),
      factorParams: list(a['factor-param']),
      haltGapNs: spec.parseDuration(a['halt-gap'], '--halt-gap'),
      split: a.split,
      embargoNs: a.embargo !== undefined ? spec.parseDuration(a.embargo, '--embargo', true) : undefined,
      splitFiles: a['split-files'],
      warmup: a.warmup,
      jobs: a.jobs,
      partition: a.partition !== undefined ? spec.parsePartition(a.partition) : undefined,
      assembleOnly: a.assemble,
      checkLeakage: a['check-leakage'],
      out: a.out,
    }, own);
    if (a.json) {
      console.log(JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)));
      return;
    }
    const leak = r.parts.filter((p) => p.leakage);
    for (const p of r.parts) console.log(`part ${p.date}: ${p.rows.toLocaleString('en-US')} rows sha256:${p.sha256.slice(0, 16)}`);
    for (const f of r.files) console.log(`wrote ${f.rows.toLocaleString('en-US')} rows -> ${f.path} sha256:${f.sha256.slice(0, 16)}`);
    if (leak.length > 0) console.log(`leakage check passed: ${leak.reduce((n, p) => n + p.leakage!.compared, 0).toLocaleString('en-US')} samples before ${leak.length * 2} cut times unchanged when later events were altered`);
    console.log(`feature set ${r.featureSetVersion}; manifest ${r.manifest}`);
  },
};
