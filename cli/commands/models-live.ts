/**
 * The live-mode commands of `lockstep models`: export-log (the live deployment log as a
 * deployments.jsonl a replay reads), scorecard (per-version scorecard of a slot in an output file)
 * and watch (automatic rollback of a canary or shadow past a threshold). The code loads in the handlers.
 */
import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../../core/errors.ts';
import { type ArgsOf, redisOptions } from '../options.ts';

const exportBuilder = (y: Argv) =>
  redisOptions(y).option('out', { type: 'string', demandOption: true, describe: 'the deployments.jsonl to write (late entries carry their shards\' amended points)' });

/** `lockstep models export-log`: `<ns>:models:log` → deployments.jsonl. */
export const modelsExportLogCommand: CommandModule<{}, ArgsOf<typeof exportBuilder>> = {
  command: 'export-log',
  describe: 'write the live deployment log (<ns>:models:log) as a deployments.jsonl, so a replay of the day uses exactly what live did',
  builder: exportBuilder,
  handler: async (a) => {
    const { openRedis } = await import('../../live/redis-connect.ts');
    const { exportLiveLog } = await import('../../live/models/live-log.ts');
    const r = await openRedis(a.redis, { name: 'lockstep-models' });
    try {
      const entries = await exportLiveLog(r as never, a.ns, a.out);
      const late = entries.filter((e) => e.late !== undefined).length;
      console.log(`wrote ${entries.length} entries to ${a.out}${late > 0 ? ` (${late} late, with their shards' switch points)` : ''}`);
    } finally {
      r.disconnect();
    }
  },
};

const scorecardBuilder = (y: Argv) =>
  y
    .option('input', { type: 'string', demandOption: true, describe: 'a replay output (Parquet) with the slot\'s columns' })
    .option('slot', { type: 'string', demandOption: true, describe: 'the model (slot) name' })
    .option('output', { type: 'string', default: 'score', describe: 'which of its outputs to score' })
    .option('price', { type: 'string', default: 'last_price', describe: 'the price column for realized forward returns' })
    .option('horizon', { type: 'string', default: '5m', describe: 'forward-return horizon in receive time (e.g. 30s, 5m, 1h)' })
    .option('center', { type: 'number', describe: 'neutral signal value for the hit rate (default 0; 0.5 for a probability)' });

/** `lockstep models scorecard`: prints a slot's per-version scorecard from an output file. */
export const modelsScorecardCommand: CommandModule<{}, ArgsOf<typeof scorecardBuilder>> = {
  command: 'scorecard',
  describe: "per version of a model: rows, signal distribution, divergence from the unserved version, error and missing rates, hit rate and IC on forward returns",
  builder: scorecardBuilder,
  handler: async (a) => {
    const { parseDuration } = await import('../../features/spec.ts');
    const { loadTable } = await import('../../parity/load-table.ts');
    const { formatScorecard, scorecard, scorecardRows } = await import('../../models/scorecard.ts');
    const horizonNs = parseDuration(a.horizon, '--horizon');
    const t = await loadTable(a.input);
    let rows;
    try {
      rows = scorecardRows(t, a.slot, a.output, a.price);
    } catch (e) {
      throw new UsageError(`${a.input}: ${(e as Error).message} (is --slot ${a.slot} a model of this output, --output ${a.output} one of its outputs, --price ${a.price} a column?)`);
    }
    const center = a.center ?? (a.output === 'prob' ? 0.5 : 0);
    for (const line of formatScorecard(a.slot, a.output, scorecard(rows, { horizonNs, center }))) console.log(line);
  },
};

const watchBuilder = (y: Argv) =>
  redisOptions(y)
    .option('shards', { type: 'number', demandOption: true, describe: 'number of input streams' })
    .option('registry', { type: 'string', demandOption: true, describe: 'the registry the workers run (which slots and outputs to watch)' })
    .option('max-error-rate', { type: 'number', default: 0.01, describe: "roll back when more than this share of the candidate's rows fail" })
    .option('max-divergence', { type: 'number', describe: 'roll back when mean |candidate - incumbent| passes this' })
    .option('min-rows', { type: 'number', default: 100, describe: 'rows of the candidate needed before deciding (for --max-latency-p99: evaluations in the window)' })
    .option('max-latency-p99', { type: 'string', describe: "roll back when the p99 of the candidate's evaluation time, as the workers measure it, passes this (e.g. 500us, 2ms)" })
    .option('latency-window', { type: 'string', default: '60s', describe: 'the window of --max-latency-p99' })
    .option('lead', { type: 'string', default: '2s', describe: 'the rollback takes effect this much event time after the newest input fed' })
    .option('interval-ms', { type: 'number', default: 1000, describe: 'time between checks' })
    .option('once', { type: 'boolean', default: false, describe: 'check once and exit (scripts, tests)' });

/** `lockstep models watch`: automatic rollback of canaries and shadows. */
export const modelsWatchCommand: CommandModule<{}, ArgsOf<typeof watchBuilder>> = {
  command: 'watch',
  describe: "keep the scorecard of each deployed canary or shadow from the live output and the workers' evaluation times, and roll it back (through the live log, with an alert) when a threshold is passed",
  builder: watchBuilder,
  handler: async (a) => {
    if (!(a.maxErrorRate >= 0 && a.maxErrorRate <= 1)) throw new UsageError(`--max-error-rate must be in [0, 1], got ${a.maxErrorRate}`);
    if (!(Number.isInteger(a.minRows) && a.minRows >= 1)) throw new UsageError(`--min-rows must be a whole number >= 1, got ${a.minRows}`);
    const { parseDuration } = await import('../../features/spec.ts');
    const { listRegistry } = await import('../../models/registry.ts');
    const { ModelWatcher } = await import('../../live/models/watch.ts');
    const { openRedis } = await import('../../live/redis-connect.ts');
    const leadNs = parseDuration(a.lead, '--lead', true);
    const maxLatencyP99Ns = a.maxLatencyP99 === undefined ? undefined : Number(parseDuration(a.maxLatencyP99, '--max-latency-p99'));
    const latencyWindowMs = Number(parseDuration(a.latencyWindow, '--latency-window') / 1_000_000n);
    if (latencyWindowMs < 1) throw new UsageError(`--latency-window must be at least 1ms, got ${a.latencyWindow}`);
    const slots = new Map([...listRegistry(a.registry)].map(([name, versions]) => [name, versions[0].spec.outputs[0]]));
    if (slots.size === 0) throw new UsageError(`${a.registry}: no registered model`);
    const r = await openRedis(a.redis, { name: 'lockstep-models-watch' });
    const w = new ModelWatcher(r, { ns: a.ns, shards: a.shards }, slots, { maxErrorRate: a.maxErrorRate, maxDivergence: a.maxDivergence, minRows: a.minRows, maxLatencyP99Ns, latencyWindowMs }, leadNs, (m) => console.log(m));
    let stop = false;
    process.once('SIGTERM', () => (stop = true));
    process.once('SIGINT', () => (stop = true));
    try {
      do {
        await w.step();
        if (!a.once) await new Promise((res) => setTimeout(res, a.intervalMs));
      } while (!a.once && !stop);
    } finally {
      r.disconnect();
    }
  },
};

/** The live-mode subcommands, for the `models` group. */
export const MODELS_LIVE_COMMANDS = [modelsExportLogCommand, modelsScorecardCommand, modelsWatchCommand] as const;
