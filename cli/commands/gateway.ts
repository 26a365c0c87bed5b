/**
 * `lockstep gateway --sim`: a test order gateway that plays `<ns>:orders` against the fill
 * simulator over the deployment's input streams and writes the fills to `<ns>:fills`
 * (trading/exec/gateway-sim.ts). The code it drives loads in the handler.
 */
import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../../core/errors.ts';
import { type ArgsOf, redisOptions } from '../options.ts';

const builder = (y: Argv) =>
  redisOptions(y)
    .option('sim', { type: 'boolean', default: false, describe: 'match the orders with the fill simulator (the only gateway there is)' })
    .option('instruments', { type: 'string', describe: 'instruments file (JSON: tick, lot, multiplier per symbol, default, fee_grid); default: tick 0.01, lot 1' })
    .option('latency-ms', { type: 'number', default: 1, describe: 'order-entry and response latency, each (ms)' })
    .option('queue', { type: 'string', default: 'risk-averse', describe: 'queue model: risk-averse, prob-power, prob-log (or power:N, log, ...)' })
    .option('maker-bps', { type: 'number', default: 0, describe: 'maker fee, bps of the notional (negative: a rebate)' })
    .option('taker-bps', { type: 'number', default: 0, describe: 'taker fee, bps of the notional' })
    .option('lead-ms', { type: 'number', default: 2000, describe: 'pacing: play the market at most this far (event time) past the slowest running algorithm\'s decisions (0: no pacing)' })
    .option('exit-when-idle', { type: 'number', describe: 'stop after this many ms without new input (tests)' })
    .example('$0 gateway --sim --redis redis://127.0.0.1:6379 --ns ls', 'fill the orders of ls:orders against the simulated book, fills to ls:fills');

/** `lockstep gateway`. */
export const gatewayCommand: CommandModule<{}, ArgsOf<typeof builder>> = {
  command: 'gateway',
  describe: 'a test order gateway: <ns>:orders against the fill simulator, fills to <ns>:fills (Redis)',
  builder,
  handler: async (a) => {
    if (!a.sim) throw new UsageError('--sim is required: the simulated venue is the only gateway');
    const { readInstruments, defaultInstruments } = await import('../../trading/instruments.ts');
    const { latencyFromMs } = await import('../../trading/sim/index.ts');
    const { runGatewaySim } = await import('../../trading/exec/gateway-sim.ts');
    const ins = a.instruments === undefined ? defaultInstruments() : readInstruments(a.instruments);
    const lat = latencyFromMs(a['latency-ms'] as number);
    const s = await runGatewaySim({
      url: a.redis,
      ns: a.ns,
      ins,
      queue: a.queue,
      latency: { ...lat, feedNs: 0n },
      makerBps: a['maker-bps'] as number,
      takerBps: a['taker-bps'] as number,
      leadNs: BigInt(Math.round((a['lead-ms'] as number) * 1e6)),
      idleStopMs: a['exit-when-idle'] as number | undefined,
      log: (m) => console.error(m),
    });
    console.log(`gateway: stopped; ${s.orders} orders, ${s.fills} fills, ${s.reports} cancel reports, ${s.refused} entries refused`);
  },
};
