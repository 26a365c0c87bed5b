import type { Argv, CommandModule } from 'yargs';
import { modelsFitCommand } from './models-fit.ts';
import { type ArgsOf, factorSet, factorSetOptions, NS } from '../options.ts';
import { modelsExportLogCommand, modelsScorecardCommand, modelsWatchCommand } from './models-live.ts';

// The commands live here, in cli/ (the top layer), because they build the feature set the way
// every other command does (cli/options.ts factorSet); what they do is models/rollout.ts.

const REGISTRY = { type: 'string', demandOption: true, describe: 'model registry folder (created by register)' } as const;
const AT = { type: 'string', describe: 'when the change takes effect, in receive time: 2024-03-11T14:30:00Z, epoch ns, or HH:MM[:SS] with --date (required without --redis)' } as const;
/** Live mode: the change goes into the deployment's Redis log, at an instant just ahead of every shard (live/live/models/live-log.ts). */
const LIVE = { type: 'string', describe: "a live deployment (redis://...): log the change in its Redis log, effective --lead after the newest input any shard has (no --at)" } as const;
const LEAD = { type: 'string', default: '2s', describe: 'with --redis: how far ahead of the newest input the change takes effect (event time)' } as const;

/**
 * Logs one change: into the registry's deployments.jsonl at --at, or with --redis into the live
 * deployment's log (the version must be registered in --registry, which the workers load).
 */
async function logChange(a: { registry: string; at?: string; date?: string; redis?: string; ns: string; lead: string }, e: Omit<import('../../models/deployment.ts').DeploymentEntry, 'at'>): Promise<string> {
  const { changeDeployment, describeAssignment } = await import('../../models/rollout.ts');
  const { isoNs } = await import('../../replay/time-format.ts');
  const { UsageError } = await import('../../core/errors.ts');
  if (a.redis === undefined) {
    if (a.at === undefined) throw new UsageError('--at: say when the change takes effect (or give --redis for a live deployment)');
    const { parseAt } = await import('../../models/at-time.ts');
    const at = parseAt(a.at, a.date);
    return `at ${isoNs(at)}: ${describeAssignment(changeDeployment(a.registry, { ...e, at }))}`;
  }
  if (a.at !== undefined) throw new UsageError('--at and --redis: a live change takes effect just ahead of the shards (--lead); give one of them');
  const { listRegistry } = await import('../../models/registry.ts');
  const { ModelError } = await import('../../models/errors.ts');
  if (e.action === 'deploy' && !(listRegistry(a.registry).get(e.slot)?.some((v) => v.spec.version === e.version) ?? false)) throw new ModelError(a.registry, `${e.slot}@${e.version} is not registered`);
  const { parseDuration } = await import('../../features/spec.ts');
  const { appendLiveDeployment } = await import('../../live/models/live-log.ts');
  const { openRedis } = await import('../../live/redis-connect.ts');
  const r = await openRedis(a.redis, { name: 'lockstep-models' });
  try {
    const { entry } = await appendLiveDeployment(r, a.ns, e, parseDuration(a.lead, '--lead'));
    return `at ${isoNs(entry.at)} (live ${a.ns})`;
  } finally {
    r.disconnect();
  }
}
const DATE = { type: 'string', describe: 'the date of an --at given as HH:MM[:SS] (YYYY-MM-DD, UTC)' } as const;

/** The feature set a registered model is checked against: the catalog's sessions and the factor flags. */
async function featureSetRef(a: { catalog?: string; factors?: string; only?: string[]; 'factor-param'?: string[] }) {
  const { readCatalogSessions } = await import('../../replay/catalog.ts');
  return { factors: await factorSet(a), sessions: a.catalog !== undefined ? readCatalogSessions(a.catalog) : undefined };
}

const registerBuilder = (y: Argv) =>
  factorSetOptions(y)
    .positional('file', { type: 'string', demandOption: true, describe: 'the model file (JSON, see README "Models")' })
    .option('registry', REGISTRY)
    .option('catalog', { type: 'string', describe: "the catalog the model serves (its sessions enter the feature-set version, as in replay)" })
    .option('force', { type: 'boolean', describe: 'register even when the model was trained on another feature set' })
    .example('$0 models register momo.json --registry reg --catalog cat', 'check and register a model');

const registerCommand: CommandModule<{}, ArgsOf<typeof registerBuilder>> = {
  command: 'register <file>',
  describe: 'check a model file (loads, inputs are columns, trained on this feature set) and add it to the registry',
  builder: registerBuilder,
  handler: async (a) => {
    const { registerModel } = await import('../../models/rollout.ts');
    const r = registerModel(a.registry, a.file, await featureSetRef(a), a.force === true);
    const note = r.forced && r.trainedOn !== r.current ? ` (forced: trained on feature set ${r.trainedOn ?? 'unknown'}, current ${r.current})` : '';
    console.log(`${r.existed ? 'already registered' : 'registered'} ${r.name}@${r.version} (sha256 ${r.hash.slice(0, 16)})${note}`);
  },
};

const deployBuilder = (y: Argv) =>
  y
    .positional('ref', { type: 'string', demandOption: true, describe: 'NAME@VERSION' })
    .option('mode', { type: 'string', demandOption: true, describe: 'live (served), shadow (computed, not served) or canary:P% (served to P% of symbols by a stable hash)' })
    .option('at', AT)
    .option('date', DATE)
    .option('registry', REGISTRY)
    .option('reason', { type: 'string', describe: 'a note kept in the log' })
    .option('redis', LIVE)
    .option('ns', NS)
    .option('lead', LEAD)
    .example('$0 models deploy momo@2 --mode canary:10% --at 2024-03-11T10:00:00Z --registry reg', 'serve v2 to 10% of symbols from 10:00');

const deployCommand: CommandModule<{}, ArgsOf<typeof deployBuilder>> = {
  command: 'deploy <ref>',
  describe: 'log a deployment of NAME@VERSION (live, shadow or canary) taking effect at an event-time instant',
  builder: deployBuilder,
  handler: async (a) => {
    const { parseMode, parseRef } = await import('../../models/rollout.ts');
    const ref = parseRef(a.ref);
    const mode = parseMode(a.mode);
    const done = await logChange(a, { slot: ref.name, action: 'deploy', version: ref.version, ...mode, ...(a.reason ? { reason: a.reason } : {}) });
    console.log(`deployed ${a.ref} ${a.mode} ${done}`);
  },
};

const changeBuilder = (y: Argv) =>
  y
    .positional('name', { type: 'string', demandOption: true, describe: 'the model name' })
    .option('at', AT)
    .option('date', DATE)
    .option('registry', REGISTRY)
    .option('reason', { type: 'string', describe: 'a note kept in the log' })
    .option('redis', LIVE)
    .option('ns', NS)
    .option('lead', LEAD);

/** promote and rollback: the same flags, another action. */
function changeCommand(action: 'promote' | 'rollback', describe: string): CommandModule<{}, ArgsOf<typeof changeBuilder>> {
  return {
    command: `${action} <name>`,
    describe,
    builder: changeBuilder,
    handler: async (a) => {
      const done = await logChange(a, { slot: a.name, action, ...(a.reason ? { reason: a.reason } : {}) });
      console.log(`${action === 'promote' ? 'promoted' : 'rolled back'} ${a.name} ${done}`);
    },
  };
}

const statusBuilder = (y: Argv) => y.option('registry', REGISTRY).option('at', { ...AT, demandOption: false, describe: 'the assignment at this instant (default: after the last logged change)' }).option('date', DATE);

const statusCommand: CommandModule<{}, ArgsOf<typeof statusBuilder>> = {
  command: 'status',
  describe: "each model's versions (hash, trained-on feature set) and its assignment",
  builder: statusBuilder,
  handler: async (a) => {
    const { registryStatus } = await import('../../models/rollout.ts');
    const { parseAt } = await import('../../models/at-time.ts');
    for (const line of registryStatus(a.registry, a.at !== undefined ? parseAt(a.at, a.date) : undefined)) console.log(line);
  },
};

/** `lockstep models`: fit, register, deploy, promote, rollback, status; live: export-log, scorecard, watch. */
export const modelsCommand: CommandModule = {
  command: 'models',
  describe: 'fit, register and roll out models (shadow, canary, promote, rollback) in event time',
  builder: (y) =>
    y
      .command(modelsFitCommand)
      .command(registerCommand)
      .command(deployCommand)
      .command(changeCommand('promote', "make a model's candidate (shadow or canary) its live version from an instant"))
      .command(changeCommand('rollback', "drop a model's candidate, or return to its previous live version, from an instant"))
      .command(statusCommand)
      .command(modelsExportLogCommand)
      .command(modelsScorecardCommand)
      .command(modelsWatchCommand)
      .demandCommand(1, 'choose a models command: fit, register, deploy, promote, rollback, status, export-log, scorecard or watch'),
  handler: () => {},
};
