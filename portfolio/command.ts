/**
 * `lockstep weights`: target weights from a replay's output table (`--input`, `--out`) or live
 * from a deployment's output streams (`--redis`, `--ns`). The code it drives loads in the handler.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { InputError, UsageError } from '../core/errors.ts';

// (cli/ sits above every layer and may not be imported from here: the few option pieces are local)
type ArgsOf<B> = B extends (y: Argv) => Argv<infer U> ? U : never;
const REDIS_URL = 'redis://, rediss:// (TLS) or redis+sentinel://s1:port,s2:port/master; user:pass@ for an ACL user';

const builder = (y: Argv) =>
  y
    .option('config', { type: 'string', describe: 'weights config (JSON: signal, method, construction, caps, vol, turnover, rebalance; see README); required but with --request' })
    .option('input', { type: 'string', describe: 'replay: a factor table written by `lockstep replay` (or any table with the config\'s columns)' })
    .option('out', { type: 'string', describe: 'replay: the weights file to write (*.parquet: ts, trigger, symbol, weight, signal, excluded)' })
    .option('at', { type: 'string', array: true, describe: 'replay: also rebalance on demand at these times (epoch ns or ISO-8601 UTC), as request events; with --request: the one time asked for' })
    .option('inputs', { type: 'string', describe: 'replay: the requests and kill-switch changes a live driver logged (its --inputs-out file), applied at the times it gave them' })
    .option('redis', { type: 'string', describe: `live: run on a deployment's output streams; ${REDIS_URL}` })
    .option('ns', { type: 'string', default: 'ls', describe: 'key namespace' })
    .option('exit-when-idle', { type: 'number', describe: 'live: exit after this many ms without new output rows once some were read (default: run until SIGTERM/SIGINT)' })
    .option('inputs-out', { type: 'string', describe: 'live: on stopping, write the requests and kill-switch changes logged (<ns>:weights:inputs) here, for a replay\'s --inputs' })
    .option('request', { type: 'boolean', default: false, describe: 'live: post one on-demand rebalance request to <ns>:weights:requests (for now, or for --at) and exit; the running driver stamps and logs it' })
    .option('json', { type: 'boolean', default: false, describe: 'replay: print the summary as JSON' })
    .example('$0 weights --input out/f.parquet --config weights.json --out out/w.parquet', 'weights at every rebalance of a replayed day')
    .example('$0 weights --redis redis://127.0.0.1:6379 --ns ls --config weights.json', 'live: write <ns>:weights and <ns>:weights:log as the shards pass each rebalance')
    .example('$0 weights --redis redis://127.0.0.1:6379 --ns ls --request', 'live: ask the running driver for a rebalance now');

/** `lockstep weights`: the target-weights step over replay output or live output streams. */
export const weightsCommand: CommandModule<{}, ArgsOf<typeof builder>> = {
  command: 'weights',
  describe: 'target weights at event-time rebalances from a signal column (replay output or live)',
  builder,
  handler: async (a) => {
    const at = (a.at ?? []).flatMap((s) => String(s).split(',')).filter(Boolean).map(parseInstant);
    if (a.request) {
      if (a.redis === undefined) throw new UsageError('--request posts to a live deployment: give --redis URL (and --ns)');
      if (a.input !== undefined || a.out !== undefined || a.inputs !== undefined || a.inputsOut !== undefined || a.exitWhenIdle !== undefined) throw new UsageError('--request only posts a request: drop --input, --out, --inputs, --inputs-out and --exit-when-idle');
      if (at.length > 1) throw new UsageError(`--at: one request asks for one time; got ${at.length}`);
      const { postWeightsRequest } = await import('./live.ts');
      const id = await postWeightsRequest(a.redis, a.ns, at[0] ?? null);
      console.log(`weights: request ${id} posted to ${a.ns}:weights:requests${at.length ? ` for t=${at[0]}` : ' for now'}`);
      return;
    }
    if (a.config === undefined) throw new UsageError('--config WEIGHTS.json is required (but with --request)');
    const { readWeightsConfig } = await import('./config.ts');
    const cfg = readWeightsConfig(a.config);
    if (a.redis !== undefined) {
      if (a.input !== undefined || a.out !== undefined || a.at !== undefined || a.inputs !== undefined) throw new UsageError('--redis runs live: drop --input, --out, --at and --inputs (they are for a replay output file; post a request with --request)');
      const { runLiveWeights } = await import('./live.ts');
      const { written } = await runLiveWeights({ url: a.redis, ns: a.ns, cfg, idleStopMs: a.exitWhenIdle, inputsOut: a.inputsOut, log: (s) => console.log(s) });
      console.log(`weights: stopped, ${written} rebalances written`);
      return;
    }
    if (a.exitWhenIdle !== undefined) throw new UsageError('--exit-when-idle applies with --redis (live)');
    if (a.inputsOut !== undefined) throw new UsageError('--inputs-out applies with --redis (live); a replay reads such a file with --inputs');
    if (a.input === undefined || a.out === undefined) throw new UsageError('give --input OUT.parquet and --out WEIGHTS.parquet (replay), or --redis URL (live)');
    if (!/\.parquet$/i.test(a.out)) throw new UsageError(`--out ${a.out}: the weights are written as Parquet; name it *.parquet`);
    const control = a.inputs === undefined ? [] : await readInputs(a.inputs);
    const { weightsFromTable } = await import('./replay-weights.ts');
    const { formatWeightsSummary } = await import('./summary.ts');
    mkdirSync(dirname(resolve(a.out)), { recursive: true });
    const s = await weightsFromTable(a.input, cfg, a.out, at, control);
    if (a.json) console.log(JSON.stringify({ rows: s.rows, rebalances: s.rebalances, symbols: s.symbols, out: s.out, sha256: s.sha256 }));
    else console.log(formatWeightsSummary(s));
  },
};

/** A live driver's inputs file (`--inputs-out`) as control events. */
async function readInputs(path: string) {
  const { parseControlLines } = await import('./control.ts');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new InputError({ file: path, reason: `cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` });
  }
  return parseControlLines(text, path);
}

/** `--at` value: epoch nanoseconds, or ISO-8601 UTC with up to nine fractional digits. */
function parseInstant(text: string): bigint {
  if (/^\d+$/.test(text)) return BigInt(text);
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?Z$/.exec(text);
  const ms = m ? Date.parse(`${m[1]}Z`) : NaN;
  if (!m || Number.isNaN(ms)) throw new UsageError(`--at ${JSON.stringify(text)}: not a time (epoch ns, or ISO-8601 UTC like 2024-03-15T14:00:00Z)`);
  return BigInt(ms) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}
