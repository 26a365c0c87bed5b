import type { Argv, CommandModule } from 'yargs';
import { type ArgsOf, factorSet, factorSetOptions, jsonFlag } from '../options.ts';

const listBuilder = (y: Argv) => factorSetOptions(y.option('json', jsonFlag('print the feature-set version and the manifest as JSON')));

/** `lockstep factors list`: the registry as a table (or JSON), with each factor's code hash. */
export const factorsListCommand: CommandModule<{}, ArgsOf<typeof listBuilder>> = {
  command: 'list',
  describe: 'name, version, parameters and code hash of each factor',
  builder: listBuilder,
  handler: async (a) => {
    const { factorManifest, featureSetVersion } = await import('../../core/registry.ts');
    const set = await factorSet(a);
    const m = factorManifest(set);
    if (a.json) {
      console.log(JSON.stringify({ featureSetVersion: featureSetVersion(set), factors: m }, null, 2));
      return;
    }
    const rows = m.map((f) => [f.name, `v${f.version}`, JSON.stringify(f.params), f.columns.join(','), f.inputs.join(','), f.codeHash]);
    const head = ['name', 'version', 'params', 'columns', 'inputs', 'code hash'];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const fmt = (r: string[]) => r.map((c, i) => c.padEnd(widths[i])).join('  ');
    console.log(fmt(head));
    console.log(widths.map((w) => '-'.repeat(w)).join('  '));
    for (const r of rows) console.log(fmt(r));
    console.log(`\nfeature set version ${featureSetVersion(set)} (${m.length} factors)`);
  },
};

const checkBuilder = (y: Argv) =>
  y
    .positional('file', { type: 'string', demandOption: true, describe: 'a factor module (.ts, .js, .mjs) or a factor set file (.json)' })
    .option('json', jsonFlag('print the reports as JSON'))
    .example('$0 factors check examples/my-factors.ts', "run the contract suite on a module's factors");

/** `lockstep factors check FILE`: the contract suite on the factors a file defines or lists. */
export const factorsCheckCommand: CommandModule<{}, ArgsOf<typeof checkBuilder>> = {
  command: 'check <file>',
  describe: 'run the factor contract suite (warm-up, determinism, snapshot/restore, purity) on your own factors',
  builder: checkBuilder,
  handler: async (a) => {
    const { loadFactorFile } = await import('../factor-module.ts');
    const { checkFactors } = await import('../factor-check.ts');
    const loaded = await loadFactorFile(a.file);
    const r = checkFactors(a.file, loaded.own, loaded.factors);
    if (a.json) {
      console.log(JSON.stringify(r, null, 2));
      return;
    }
    const n = (x: number) => x.toLocaleString('en-US');
    const width = Math.max(...r.checks.map((c) => c.factor.length));
    for (const c of r.checks) {
      console.log(`ok  ${c.factor.padEnd(width)}  v${c.version}  ${n(c.values)} values over ${c.streams} streams (${n(c.events)} events), restored at ${c.restoreCuts} cuts, code ${c.codeHash}${c.values === 0 ? ' (never past its warm-up on these streams: the checks saw only nulls)' : ''}`);
    }
    console.log(`${r.checks.length} factor${r.checks.length === 1 ? '' : 's'} of ${a.file} pass${r.checks.length === 1 ? 'es' : ''} the contract: null before input, determinism, snapshot/restore, batch splits, purity`);
    console.log(`feature set version ${r.featureSetVersion} (${loaded.factors.length} factors with --factors ${a.file})`);
  },
};

/** `lockstep factors`: the registered factor set and your own. */
export const factorsCommand: CommandModule = {
  command: 'factors',
  describe: 'the registered factor set, and checks of your own factors',
  builder: (y) => y.command(factorsListCommand).command(factorsCheckCommand).demandCommand(1, 'try: lockstep factors list'),
  // never runs: demandCommand sends a bare `lockstep factors` to the usage error
  handler: () => {},
};
