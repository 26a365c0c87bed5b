/**
 * `lockstep desk`: live PnL, risk and limits over a deployment's factor output streams and its
 * fills stream `<ns>:fills` (trading/desk-live.ts). The code it drives loads in the handler.
 */
import type { Argv, CommandModule } from 'yargs';
import { type ArgsOf, redisOptions } from '../options.ts';

const builder = (y: Argv) =>
  redisOptions(y)
    .option('instruments', { type: 'string', demandOption: true, describe: 'instruments file (JSON: tick, lot, multiplier per symbol, default, fee_grid)' })
    .option('positions', { type: 'string', describe: 'start-of-day positions (CSV or JSON: account, strategy, symbol, qty, avg_price, mark_price?)' })
    .option('limits', { type: 'string', describe: 'limits file (JSON: max position/notional per symbol, gross, daily loss, drawdown; actions alert|kill-symbol|kill-all); published with its path and SHA-256 in <ns>:limits for the dashboard' })
    .option('mark', { choices: ['mid', 'last'] as const, default: 'mid' as const, describe: 'mark positions to the quote mid or the last trade price' })
    .option('checkpoint-every', { type: 'number', default: 1000, describe: 'checkpoint the desk state and stream positions with the outputs every N outputs (0: never; a restart then refolds the streams from the start)' })
    .option('poll-ms', { type: 'number', default: 20, describe: 'with nothing new, the longest wait on a blocking read of the streams, ms (it returns as soon as an entry lands)' })
    .option('exit-when-idle', { type: 'number', describe: 'stop after this many ms without new input (tests, batch runs)' })
    .example('$0 desk --redis redis://127.0.0.1:6379 --ns ls --instruments instruments.json --limits limits.json', 'write <ns>:pnl, <ns>:risk, <ns>:positions, the 1-second series <ns>:pnl:log and the limits in force <ns>:limits');

/** `lockstep desk`. */
export const deskCommand: CommandModule<{}, ArgsOf<typeof builder>> = {
  command: 'desk',
  describe: 'live PnL, risk and limits from the fills stream and the factor outputs (Redis)',
  builder,
  handler: async (a) => {
    const { readInstruments } = await import('../../trading/instruments.ts');
    const { readPositionsFile } = await import('../../trading/fills-file.ts');
    const { noLimits } = await import('../../trading/limits.ts');
    const { readLimitsSource } = await import('../../trading/limits-file.ts');
    const { DEFAULT_VAR } = await import('../../trading/ledger.ts');
    const { runDesk } = await import('../../trading/desk-live.ts');
    if (!Number.isInteger(a.checkpointEvery) || a.checkpointEvery < 0) {
      const { UsageError } = await import('../../core/errors.ts');
      throw new UsageError(`--checkpoint-every ${a.checkpointEvery}: must be a whole number of outputs >= 0`);
    }
    const instruments = readInstruments(a.instruments);
    const startPositions = a.positions === undefined ? [] : await readPositionsFile(a.positions, instruments);
    // read once: the limits in force and the bytes hashed for <ns>:limits are the same version
    const source = a.limits === undefined ? null : readLimitsSource(a.limits);
    const s = await runDesk({
      url: a.redis,
      ns: a.ns,
      cfg: { ledger: { instruments, mark: a.mark, ...DEFAULT_VAR, startPositions }, limits: source?.limits ?? noLimits() },
      limitsSource: source && { file: source.file, sha256: source.sha256 },
      idleStopMs: a.exitWhenIdle,
      checkpointEvery: a.checkpointEvery,
      pollMs: a.pollMs,
      log: (m) => console.error(m),
    });
    console.log(`desk: stopped; ${s.fills} fills applied (${s.killedFills} while their symbol was killed, each alerted), ${s.deadLettered} dead-lettered, ${s.written} outputs written`);
  },
};
