import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../../core/errors.ts';
import type { ArgsOf, ParsedArgs } from '../options.ts';

const builder = (y: Argv) =>
  y
    .positional('what', { type: 'string', describe: 'replay | factors | wide | live | historical | training-set | onnx | weights | models | pnl | pnl-live | kill | dashboard | report | gate-spread | gate-slowdown (omit with --gate)' })
    .option('gate', { type: 'boolean', describe: 'release gate: run all benchmarks, check bench/budgets.json and bench/baseline.json; exit 1 on a breach' })
    .option('quick', { type: 'boolean', describe: 'gate: the CI-sized run (~1M-event day, ~2 min on 2 cores)' })
    .option('update-baseline', { type: 'boolean', describe: 'gate: record this run as the baseline of its mode (refused if over budget)' })
    .option('budgets', { type: 'string', describe: 'gate: budgets file (default bench/budgets.json)' })
    .option('baseline', { type: 'string', describe: 'gate: baseline file (default bench/baseline.json)' })
    .option('preset', { choices: ['tiny', 'day', 'big'] as const, default: 'day' as const, describe: 'replay, factors, training-set, report: the generated day (tiny ~50k events, day ~5M, big ~50M)' })
    .option('dir', { type: 'string', default: 'out/bench', describe: 'working directory for generated data' })
    .option('json', { type: 'string', describe: 'also write the results as JSON here (gate: default out/bench/gate.json)' })
    .option('seconds', { type: 'number', describe: 'live, dashboard: seconds per run (default 10); kill: seconds of feed (default 20)' })
    .option('rates', { type: 'string', describe: 'live: input rates in events/s, comma-separated (default 10000,50000); kill, dashboard: one rate (default 10000)' })
    .option('peer', { type: 'boolean', describe: 'live: also run the echo relay peer at each rate (default true; --no-peer skips it)' })
    .option('days', { type: 'number', describe: 'training-set: generated dates to build over (default 5)' })
    .option('events', { type: 'number', describe: 'factors: events held in memory (default 2,000,000; wide: 500,000)' })
    .option('only', { type: 'string', describe: 'gate, gate-spread, gate-slowdown: run only these benchmarks, comma-separated (replay, live, factors, wide, training, historical, report); the others are not judged' })
    .option('runs', { type: 'number', describe: 'gate-spread: quick gates to run now (0: judge the runs already in --dir); gate-slowdown: gate runs per patched copy (default 1); report: times the page is opened in Chromium (default 5)' })
    .option('slow', { type: 'string', describe: 'gate-slowdown: what the patched copy does twice: ema, rsi, macd, fold, kernels (ema, rsi, macd) or both (ema and fold; default)' })
    .option('entities', { type: 'number', describe: 'historical: entity rows joined to the day preset\'s factor table (default 1,000,000)' });

type BenchArgs = ParsedArgs<typeof builder>;

/** The release gate: every benchmark at the mode's fixed settings, against budgets and baseline. */
async function gate(a: BenchArgs): Promise<void> {
  if (a.what !== undefined) throw new UsageError(`--gate runs every benchmark; drop "${a.what}"`);
  // the gate's settings are fixed per mode so that its figures compare with budgets and baseline
  const fixed = { seconds: a.seconds, events: a.events, rates: a.rates, peer: a.peer, entities: a.entities, days: a.days, runs: a.runs, slow: a.slow };
  for (const [flag, v] of Object.entries(fixed)) if (v !== undefined) throw new UsageError(`--${flag} does not apply with --gate (its settings are fixed per mode)`);
  const { runGate } = await import('../../bench/gate.ts');
  const { WIDE_SET_FILE } = await import('../../bench/wide-bench.ts');
  const { loadFactorSetFile } = await import('../factor-set-file.ts');
  const { factors: wideFactors } = await loadFactorSetFile(WIDE_SET_FILE);
  const run = await runGate({ quick: Boolean(a.quick), dir: a.dir, json: a.json, budgets: a.budgets, baseline: a.baseline, updateBaseline: Boolean(a.updateBaseline), wideFactors, only: await parseOnly(a.only) });
  process.exitCode = run.exitCode;
}

/** `--only factors,wide` as gate benchmark names; a usage error naming the unknown one. */
async function parseOnly(v: string | undefined): Promise<import('../../bench/gate.ts').GateBench[] | undefined> {
  if (v === undefined) return undefined;
  const { GATE_BENCHES } = await import('../../bench/gate.ts');
  const names = v.split(',').map((x) => x.trim());
  const bad = names.find((x) => !(GATE_BENCHES as readonly string[]).includes(x));
  if (bad !== undefined || names.length === 0) throw new UsageError(`--only ${JSON.stringify(v)}: unknown benchmark "${bad}"; use ${GATE_BENCHES.join(', ')}`);
  return names as import('../../bench/gate.ts').GateBench[];
}

/** `--rates 10000,50000` as events/s; a usage error unless each is a positive whole number. */
function parseRates(v: string | undefined): number[] | undefined {
  if (v === undefined) return undefined;
  const rates = v.split(',').map(Number);
  if (rates.some((r) => !Number.isInteger(r) || r <= 0)) throw new UsageError(`--rates ${JSON.stringify(v)}: give positive whole events/s, comma-separated (e.g. 10000,50000)`);
  return rates;
}

/** One benchmark by name. */
async function single(a: BenchArgs): Promise<void> {
  if (a.what === 'gate-spread') {
    // the gate's own spread on unchanged code: N quick gates, judged against the budgets and baseline
    const { runSpread } = await import('../../bench/gate-spread.ts');
    await runSpread({ runs: a.runs ?? 10, dir: a.dir === 'out/bench' ? 'out/gate-spread' : a.dir, budgets: a.budgets, baseline: a.baseline, only: a.only });
    return;
  }
  if (a.what === 'gate-slowdown') {
    const { runSlowdown } = await import('../../bench/gate-slowdown.ts');
    const run = await runSlowdown({ slow: a.slow ?? 'both', runs: a.runs ?? 1, dir: a.dir === 'out/bench' ? 'out/gate-slowdown' : a.dir, budgets: a.budgets, baseline: a.baseline, only: a.only });
    process.exitCode = run.exitCode;
    return;
  }
  const gateOnly = { quick: a.quick, 'update-baseline': a.updateBaseline, budgets: a.budgets, baseline: a.baseline, only: a.only };
  for (const [flag, v] of Object.entries(gateOnly)) if (v !== undefined && v !== false) throw new UsageError(`--${flag} only applies with --gate`);
  if (a.what === undefined) throw new UsageError('choose a benchmark (replay, factors, wide, live, historical, training-set, onnx, weights, models, pnl, pnl-live, kill, dashboard, report, gate-spread, gate-slowdown) or --gate');
  if (a.what === 'replay') {
    const { benchReplay } = await import('../../bench/replay-bench.ts');
    await benchReplay({ preset: a.preset, dir: a.dir, json: a.json, arrow: true });
    return;
  }
  if (a.what === 'factors') {
    const { benchFactors } = await import('../../bench/factor-bench.ts');
    await benchFactors({ preset: a.preset, dir: a.dir, json: a.json, events: a.events });
    return;
  }
  if (a.what === 'wide') {
    const { benchWide, WIDE_SET_FILE } = await import('../../bench/wide-bench.ts');
    const { loadFactorSetFile } = await import('../factor-set-file.ts');
    const { factors } = await loadFactorSetFile(WIDE_SET_FILE);
    await benchWide({ factors, preset: a.preset, dir: a.dir, json: a.json, events: a.events });
    return;
  }
  if (a.what === 'training-set') {
    const { benchTrainingSet } = await import('../../bench/training-set-bench.ts');
    await benchTrainingSet({ preset: a.preset, dir: a.dir, json: a.json, days: a.days });
    return;
  }
  if (a.what === 'live') {
    const { benchLive } = await import('../../bench/live-bench.ts');
    const rates = parseRates(a.rates);
    await benchLive({ dir: a.dir, json: a.json, seconds: a.seconds, rates, peer: a.peer });
    return;
  }
  if (a.what === 'kill') {
    const rates = parseRates(a.rates);
    if (rates && rates.length !== 1) throw new UsageError(`--rates ${JSON.stringify(a.rates)}: the kill bench runs at one rate (e.g. --rates 10000)`);
    const { benchKillLatency } = await import('../../bench/kill-latency.ts');
    await benchKillLatency({ rate: rates?.[0], seconds: a.seconds, json: a.json });
    return;
  }
  if (a.what === 'dashboard') {
    const rates = parseRates(a.rates);
    if (rates && rates.length !== 1) throw new UsageError(`--rates ${JSON.stringify(a.rates)}: the dashboard bench feeds at one rate (e.g. --rates 10000)`);
    const { benchDashboard } = await import('../../bench/dashboard-bench.ts');
    await benchDashboard({ rate: rates?.[0], seconds: a.seconds, json: a.json });
    return;
  }
  if (a.what === 'pnl-live') {
    const rates = parseRates(a.rates);
    if (rates && rates.length !== 1) throw new UsageError(`--rates ${JSON.stringify(a.rates)}: the pnl-live bench runs at one rate (e.g. --rates 10000)`);
    const { benchPnlLive } = await import('../../bench/pnl-live-bench.ts');
    await benchPnlLive({ rate: rates?.[0], seconds: a.seconds, json: a.json });
    return;
  }
  if (a.what === 'report') {
    if (a.runs !== undefined && (!Number.isInteger(a.runs) || a.runs <= 0)) throw new UsageError(`--runs ${a.runs}: give a positive whole number of page opens`);
    const { benchReport } = await import('../../bench/report-bench.ts');
    const r = await benchReport({ preset: a.preset, dir: a.dir, json: a.json, opens: a.runs });
    // over the targets: the figures are printed, and the exit status says so
    if (!r.targets.rssMet || !r.targets.openMet) process.exitCode = 1;
    return;
  }
  if (a.what === 'weights') {
    const { benchWeights } = await import('../../bench/weights-bench.ts');
    await benchWeights({ json: a.json });
    return;
  }
  if (a.what === 'pnl') {
    const { benchPnl } = await import('../../bench/pnl-bench.ts');
    benchPnl({ json: a.json });
    return;
  }
  if (a.what === 'models') {
    const { benchModels } = await import('../../bench/models-bench.ts');
    await benchModels({ json: a.json });
    return;
  }
  if (a.what === 'historical') {
    if (a.entities !== undefined && (!Number.isInteger(a.entities) || a.entities <= 0)) throw new UsageError(`--entities ${a.entities}: give a positive whole number of rows`);
    const { benchHistorical } = await import('../../bench/historical-bench.ts');
    await benchHistorical({ dir: a.dir, json: a.json, entities: a.entities });
    return;
  }
  if (a.what === 'onnx') {
    const { benchOnnx } = await import('../../bench/onnx-bench.ts');
    await benchOnnx({ json: a.json });
    return;
  }
  throw new UsageError(`unknown benchmark "${a.what}"; available: replay, factors, wide, live, historical, training-set, onnx, weights, models, pnl, pnl-live, kill, dashboard, report, gate-spread, gate-slowdown`);
}

/** `lockstep bench [what]`: one benchmark, or `--gate` for all of them against the budgets. */
export const benchCommand: CommandModule<{}, ArgsOf<typeof builder>> = {
  command: 'bench [what]',
  describe: 'benchmarks: replay, factors, wide, live, historical, training-set, onnx, weights, models, pnl, pnl-live, kill, dashboard, report, gate-spread, gate-slowdown; --gate checks them all against budgets and baseline',
  builder,
  handler: (a) => (a.gate ? gate(a) : single(a)),
};
