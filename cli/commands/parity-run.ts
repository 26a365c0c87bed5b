import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../../core/errors.ts';
import { type ArgsOf, CATALOG, DATE, FACTOR_PARAM, FACTORS, factorSet, factorSetArgv, list, ONLY } from '../options.ts';

const builder = (y: Argv) =>
  y
    .option('catalog', CATALOG)
    .option('date', DATE)
    .option('redis', { type: 'string', describe: 'default: a private redis-server on a free port' })
    .option('keep', { type: 'boolean', default: false, describe: "with --redis: keep the run's namespace (streams, checkpoints, latest values) instead of deleting it" })
    .option('workers', { type: 'number', default: 1, describe: 'live workers (child processes running lockstep live) sharing the shards' })
    .option('chaos', { type: 'string', describe: 'kill:N — SIGKILL a worker N times and restart it; dup:F — deliver a fraction F of events twice (comma-separate to combine)' })
    .option('inject-skew', { type: 'string', array: true, describe: 'prove skew is caught: the live side runs with this factor parameter changed (name.param=value)' })
    .option('speed', { type: 'number', describe: 'feed at N x real time (default: as fast as possible)' })
    .option('certificate', { type: 'string', describe: 'write the certificate (JSON) here' })
    .option('symbols', { type: 'string', array: true, describe: 'only these symbols (both paths)' })
    .option('from', { type: 'string', describe: 'start time HH:MM UTC on ts_recv (both paths)' })
    .option('to', { type: 'string', describe: 'end time HH:MM UTC, exclusive (both paths)' })
    .option('factors', { ...FACTORS, describe: `${FACTORS.describe} (both paths)` })
    .option('only', { ...ONLY, describe: `${ONLY.describe} (both paths)` })
    .option('factor-param', { ...FACTOR_PARAM, describe: `${FACTOR_PARAM.describe} (both paths; --inject-skew changes the live side only)` })
    .option('live-from', { type: 'string', describe: 'start the live side mid-session at HH:MM UTC: only later events are fed, workers warm up from the catalog (--warm-from), and their rows are compared with the whole-day replay\'s rows of the same events' })
    .option('registry', { type: 'string', describe: "a model registry: both paths run its models, so the signal columns are certified too; the live side follows <ns>:models:log (seeded with the registry's deployments.jsonl), the replay the log exported at the end" })
    .option('weights', { type: 'string', describe: 'a weights config (see `lockstep weights`): the live side also runs `lockstep weights --redis` on the workers\' output, and every rebalance\'s target weights are certified against the replay\'s, bit for bit' })
    .option('inject-weights-skew', { type: 'string', describe: 'with --weights, prove skew is caught: the live weights driver runs this config instead' })
    .option('weights-control', { type: 'boolean', describe: 'with --weights: while the live side runs, switch the kill switch on for one symbol, post a rebalance request, then switch it off (the feed waits for the driver to log each); the replay takes the driver\'s log' })
    .option('warm', { type: 'boolean', default: true, describe: 'with --live-from: start the workers with --warm-from the catalog (--no-warm: cold, which shows what a warm start fixes)' });

/** `--chaos kill:N,dup:F` as the number of SIGKILLs and the duplicated fraction. */
function parseChaos(v: string | undefined): { killN: number; duplicate?: number } {
  let killN = 0;
  let duplicate: number | undefined;
  for (const c of list(v) ?? []) {
    const m = /^(kill|dup):(.+)$/.exec(c);
    const n = m ? Number(m[2]) : NaN;
    if (m?.[1] === 'kill' && Number.isInteger(n) && n >= 0) killN = n;
    else if (m?.[1] === 'dup' && n > 0 && n <= 1) duplicate = n;
    else throw new UsageError(`--chaos ${JSON.stringify(c)}: use kill:N (SIGKILLs) and/or dup:F (fraction of events delivered twice, 0 < F <= 1), e.g. kill:2,dup:0.02`);
  }
  return { killN, duplicate };
}

/** `lockstep parity run`: the whole replay-vs-live harness on one day, ending in a certificate. */
export const parityRunCommand: CommandModule<{}, ArgsOf<typeof builder>> = {
  command: 'run',
  describe: 'replay a day (A), run it through Redis and live workers (B), diff, certify',
  builder,
  handler: async (a) => {
    const { runParity } = await import('../../parity/run-parity.ts');
    const { killN, duplicate } = parseChaos(a.chaos);
    if (a.injectWeightsSkew !== undefined && a.weights === undefined) throw new UsageError('--inject-weights-skew changes the live side of --weights: give --weights CONFIG too');
    if (a.weightsControl && a.weights === undefined) throw new UsageError('--weights-control acts on the live side of --weights: give --weights CONFIG too');
    const cert = await runParity({
      catalog: a.catalog,
      date: a.date,
      redis: a.redis,
      workers: a.workers,
      killN,
      duplicate,
      liveFactorParams: list(a.injectSkew),
      factors: await factorSet(a),
      factorArgs: await factorSetArgv(a),
      speed: a.speed,
      certificate: a.certificate,
      symbols: list(a.symbols),
      from: a.from,
      to: a.to,
      keep: a.keep,
      liveFrom: a.liveFrom,
      warm: a.warm,
      registry: a.registry,
      weights: a.weights === undefined ? undefined : { config: a.weights, liveConfig: a.injectWeightsSkew, control: a.weightsControl === true },
      log: (m) => console.error(m),
      status: true,
    });
    const d = cert.diff;
    console.log(`${cert.verdict.toUpperCase()}: ${d.matchedRows.toLocaleString('en-US')} rows, ${d.mismatchedCells} mismatched cells, ${d.onlyInA} only in replay, ${d.onlyInB} only in live; served latest values: ${cert.servedLatest.mismatched} of ${cert.servedLatest.symbols} symbols differ${d.columnsOnlyInA.length || d.columnsOnlyInB.length ? `; columns only in replay: ${d.columnsOnlyInA.join(', ') || '-'}, only in live: ${d.columnsOnlyInB.join(', ') || '-'}` : ''}`);
    const w = cert.weights;
    if (w) console.log(`weights: ${w.rebalances.matched} of ${w.rebalances.replay} rebalances equal bit for bit, ${w.rebalances.mismatched} differ, ${w.rebalances.onlyInReplay} only in replay, ${w.rebalances.onlyInLive} only in live${w.firstMismatch ? `; first: t=${w.firstMismatch.t}${w.firstMismatch.symbol ? ` ${w.firstMismatch.symbol}` : ''} ${w.firstMismatch.field} replay ${w.firstMismatch.replay} live ${w.firstMismatch.live}` : ''}`);
    if (w?.control) console.log(`weights control: ${w.control.symbol} killed in ${w.control.killedRebalances} rebalances, ${w.control.requestRebalances} requested; log: ${w.inputs.kills} kill changes, ${w.inputs.requests} requests`);
    console.log(`scenario ${JSON.stringify(cert.scenario)}; replay ${cert.outputs.replayTableHash.slice(0, 16)} live ${cert.outputs.liveTableHash.slice(0, 16)}${a.certificate ? `; certificate ${a.certificate}` : ''}`);
    if (cert.verdict !== 'parity') process.exitCode = 1;
  },
};
