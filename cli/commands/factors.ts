import type { Argv, CommandModule } from 'yargs';
import { type ArgsOf, jsonFlag } from '../options.ts';

const listBuilder = (y: Argv) => y.option('json', jsonFlag('print the feature-set version and the manifest as JSON'));

/** `lockstep factors list`: the registry as a table (or JSON), with each factor's code hash. */
export const factorsListCommand: CommandModule<{}, ArgsOf<typeof listBuilder>> = {
  command: 'list',
  describe: 'name, version, parameters and code hash of each factor',
  builder: listBuilder,
  handler: async (a) => {
    const { DEFAULT_FACTORS, factorManifest, featureSetVersion } = await import('../../core/registry.ts');
    const m = factorManifest(DEFAULT_FACTORS);
    if (a.json) {
      console.log(JSON.stringify({ featureSetVersion: featureSetVersion(DEFAULT_FACTORS), factors: m }, null, 2));
      return;
    }
    const rows = m.map((f) => [f.name, `v${f.version}`, JSON.stringify(f.params), f.columns.join(','), f.inputs.join(','), f.codeHash]);
    const head = ['name', 'version', 'params', 'columns', 'inputs', 'code hash'];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const fmt = (r: string[]) => r.map((c, i) => c.padEnd(widths[i])).join('  ');
    console.log(fmt(head));
    console.log(widths.map((w) => '-'.repeat(w)).join('  '));
    for (const r of rows) console.log(fmt(r));
    console.log(`\nfeature set version ${featureSetVersion(DEFAULT_FACTORS)} (${m.length} factors)`);
  },
};

/** `lockstep factors`: the registered factor set (one subcommand, `list`, for now). */
export const factorsCommand: CommandModule = {
  command: 'factors',
  describe: 'the registered factor set',
  builder: (y) => y.command(factorsListCommand).demandCommand(1, 'try: lockstep factors list'),
  // never runs: demandCommand sends a bare `lockstep factors` to the usage error
  handler: () => {},
};
