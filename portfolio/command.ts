/**
 * `lockstep weights`: target weights from a replay's output table (`--input`, `--out`) or live
 * from a deployment's output streams (`--redis`, `--ns`). The code it drives loads in the handler.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../core/errors.ts';

// (cli/ sits above every layer and may not be imported from here: the few option pieces are local)
type ArgsOf<B> = B extends (y: Argv) => Argv<infer U> ? U : never;
const REDIS_URL = 'redis://, rediss:// (TLS) or redis+sentinel://s1:port,s2:port/master; user:pass@ for an ACL user';

const builder = (y: Argv) =>
  y
    .option('config', { type: 'string', demandOption: true, describe: 'weights config (JSON: signal, method, construction, caps, vol, turnover, rebalance; see README)' })
    .option('input', { type: 'string', describe: 'replay: a factor table written by `lockstep replay` (or any table with the config\'s columns)' })
    .option('out', { type: 'string', describe: 'replay: the weights file to write (*.parquet: ts, trigger, symbol, weight, signal, excluded)' })
    .option('at', { type: 'string', array: true, describe: 'replay: also rebalance on demand at these times (epoch ns or ISO-8601 UTC), as request events' })
    .option('redis', { type: 'string', describe: `live: run on a deployment's output streams; ${REDIS_URL}` })
    .option('ns', { type: 'string', default: 'ls', describe: 'key namespace' })
    .option('exit-when-idle', { type: 'number', describe: 'live: exit after this many ms without new output rows once some were read (default: run until SIGTERM/SIGINT)' })
    .option('json', { type: 'boolean', default: false, describe: 'replay: print the summary as JSON' })
    .example('$0 weights --input out/f.parquet --config weights.json --out out/w.parquet', 'weights at every rebalance of a replayed day')
    .example('$0 weights --redis redis://127.0.0.1:6379 --ns ls --config weights.json', 'live: write <ns>:weights and <ns>:weights:log as the shards pass each rebalance');

/** `lockstep weights`: the target-weights step over replay output or live output streams. */
export const weightsCommand: CommandModule<{}, ArgsOf<typeof builder>> = {
  command: 'weights',
  describe: 'target weights at event-time rebalances from a signal column (replay output or live)',
  builder,
  handler: async (a) => {
    const { readWeightsConfig } = await import('./config.ts');
    const cfg = readWeightsConfig(a.config);
    if (a.redis !== undefined) {
      if (a.input !== undefined || a.out !== undefined || a.at !== undefined) throw new UsageError('--redis runs live: drop --input, --out and --at (they are for a replay output file)');
      const { runLiveWeights } = await import('./live.ts');
      const { written } = await runLiveWeights({ url: a.redis, ns: a.ns, cfg, idleStopMs: a.exitWhenIdle, log: (s) => console.log(s) });
      console.log(`weights: stopped, ${written} rebalances written`);
      return;
    }
    if (a.exitWhenIdle !== undefined) throw new UsageError('--exit-when-idle applies with --redis (live)');
    if (a.input === undefined || a.out === undefined) throw new UsageError('give --input OUT.parquet and --out WEIGHTS.parquet (replay), or --redis URL (live)');
    if (!/\.parquet$/i.test(a.out)) throw new UsageError(`--out ${a.out}: the weights are written as Parquet; name it *.parquet`);
    const at = (a.at ?? []).flatMap((s) => String(s).split(',')).filter(Boolean).map(parseInstant);
    const { weightsFromTable } = await import('./replay-weights.ts');
    const { formatWeightsSummary } = await import('./summary.ts');
    mkdirSync(dirname(resolve(a.out)), { recursive: true });
    const s = await weightsFromTable(a.input, cfg, a.out, at);
    if (a.json) console.log(JSON.stringify({ rows: s.rows, rebalances: s.rebalances, symbols: s.symbols, out: s.out, sha256: s.sha256 }));
    else console.log(formatWeightsSummary(s));
  },
};

/** `--at` value: epoch nanoseconds, or ISO-8601 UTC with up to nine fractional digits. */
function parseInstant(text: string): bigint {
  if (/^\d+$/.test(text)) return BigInt(text);
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?Z$/.exec(text);
  const ms = m ? Date.parse(`${m[1]}Z`) : NaN;
  if (!m || Number.isNaN(ms)) throw new UsageError(`--at ${JSON.stringify(text)}: not a time (epoch ns, or ISO-8601 UTC like 2024-03-15T14:00:00Z)`);
  return BigInt(ms) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}
