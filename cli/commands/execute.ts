/**
 * `lockstep execute`: one parent order run by an execution algorithm against the fill simulator over
 * a replayed catalog date, with its TCA report. The code it drives loads in the handler.
 */
import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../../core/errors.ts';
import { ensureParent } from '../ensure-parent.ts';
import { NS, type ArgsOf } from '../options.ts';

const builder = (y: Argv) =>
  y
    .option('catalog', { type: 'string', describe: 'catalog root directory (replay; live: only vwap needs it, for its volume curve)' })
    .option('date', { type: 'string', demandOption: true, describe: 'market date YYYY-MM-DD (UTC date of ts_recv)' })
    .option('algo', { choices: ['vwap', 'twap', 'pov'] as const, demandOption: true, describe: 'the schedule' })
    .option('symbol', { type: 'string', demandOption: true, describe: 'the symbol to trade' })
    .option('side', { choices: ['buy', 'sell'] as const, demandOption: true, describe: 'buy or sell' })
    .option('qty', { type: 'number', demandOption: true, describe: 'parent quantity, lots (whole, > 0)' })
    .option('from', { type: 'string', demandOption: true, describe: 'window start HH:MM UTC (the parent arrives then)' })
    .option('to', { type: 'string', demandOption: true, describe: 'window end HH:MM UTC (exclusive)' })
    .option('limit', { type: 'number', describe: 'limit price (no child priced through it)' })
    .option('pov', { type: 'number', default: 0.1, describe: 'pov: share of live traded volume' })
    .option('latency-ms', { type: 'number', default: 1, describe: 'feed, order-entry and response latency, each (ms)' })
    .option('latency-file', { type: 'string', describe: 'recorded order latencies (CSV: req_ts, exch_ts, resp_ts in ns): entry and response interpolated from them (--latency-ms stays the feed latency)' })
    .option('queue', { type: 'string', default: 'risk-averse', describe: 'queue model: risk-averse, prob-power, prob-log (or power:N, log, power2:N, log2, power3:N)' })
    .option('urgency', { type: 'number', default: 0.9, describe: 'cross the spread once behind schedule by (1 - urgency) x qty' })
    .option('min-child', { type: 'number', describe: 'smallest child, lots (default 1)' })
    .option('max-child', { type: 'number', describe: 'largest child, lots (default: qty)' })
    .option('max-order-rate', { type: 'number', describe: 'at most this many child orders per second of event time' })
    .option('vwap-days', { type: 'number', default: 5, describe: 'vwap: earlier dates of the symbol averaged into the volume curve' })
    .option('instruments', { type: 'string', describe: 'instruments file (JSON: tick, lot, multiplier per symbol, default, fee_grid); default: tick 0.01, lot 1, fee grid 1e-8' })
    .option('tick', { type: 'string', describe: 'price tick of the symbol (overrides --instruments; default 0.01)' })
    .option('lot', { type: 'string', describe: 'lot size of the symbol, units per lot (overrides --instruments; default 1)' })
    .option('maker-bps', { type: 'string', describe: 'maker fee, bps of the notional (negative: a rebate; default 0)' })
    .option('taker-bps', { type: 'string', describe: 'taker fee, bps of the notional (default 0)' })
    .option('start-position', { type: 'string', describe: 'signed lots held before the parent starts (what reduce-only reduces; default 0)' })
    .option('repeg-ticks', { type: 'string', describe: 'anti-churn: keep a passive child at most this many ticks off the touch (0: re-peg on every move; default 2)...' })
    .option('min-rest-ms', { type: 'string', describe: '...until it has rested this long (event time, ms; default 1000)' })
    .option('orders', { type: 'string', describe: 'write the child orders, cancels and fills here (JSON lines)' })
    .option('json', { type: 'boolean', default: false, describe: 'print the TCA report as JSON' })
    .option('redis', { type: 'string', describe: 'live: read the symbol\'s input stream, <ns>:fills and the kill switch, write child orders to <ns>:orders' })
    .option('ns', NS)
    .option('id', { type: 'string', describe: 'parent order id, the prefix of its children\'s ids (default: SYMBOL-ALGO)' })
    .option('fills', { type: 'string', describe: 'replay with the gateway\'s fills and kill changes of this inputs file (a live run\'s --inputs-out) instead of the simulator' })
    .option('inputs-out', { type: 'string', describe: 'live: write the fills and kill changes read here when done (for --fills)' })
    .option('exit-when-idle', { type: 'number', describe: 'live: stop after this many ms without new input (tests)' })
    .option('heartbeat-ms', { type: 'number', default: 1000, describe: 'live: refresh <ns>:exec:<parent> this often when idle (5 missed: the dashboard reads stalled)' })
    .example('$0 execute --catalog cat --date 2012-06-21 --algo twap --symbol AAPL --side buy --qty 2000 --from 14:00 --to 15:00', 'TWAP 2,000 shares over an hour, with its TCA')
    .example('$0 execute --redis redis://127.0.0.1:6379 --ns ls --date 2012-06-21 --algo twap --symbol AAPL --side buy --qty 2000 --from 14:00 --to 15:00', 'live: child orders to ls:orders, fills from ls:fills')
    .example('$0 execute --catalog cat --date 2024-08-09 --algo pov --pov 0.05 --symbol BTCUSDT --instruments instruments.json --taker-bps 4 --maker-bps 2 --side sell --qty 100000 --from 00:00 --to 00:05 --json', '5% of volume with fees, JSON report');

/** A numeric flag given as text (so a bad value is named as typed, not as NaN); ranges: run-execute.ts. */
function num(a: Record<string, unknown>, flag: string): number | undefined {
  const v = a[flag];
  if (v === undefined) return undefined;
  const t = String(Array.isArray(v) ? v[v.length - 1] : v);
  const n = Number(t);
  if (t.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${flag} ${t}: must be a number`);
  return n;
}

/** `lockstep execute`: an execution algorithm against the fill simulator, and its TCA. */
export const executeCommand: CommandModule<{}, ArgsOf<typeof builder>> = {
  command: 'execute',
  describe: 'run a VWAP/TWAP/POV parent order against the fill simulator over a catalog day and print its TCA',
  builder,
  handler: async (a) => {
    const { runExecute } = await import('../../trading/exec/run-execute.ts');
    const { formatTca } = await import('../../trading/tca.ts');
    if (!(a.qty > 0)) throw new UsageError(`--qty ${a.qty}: must be a whole number of lots > 0`);
    if (a.orders !== undefined) ensureParent(a.orders);
    if (a['inputs-out'] !== undefined) ensureParent(a['inputs-out'] as string);
    if (a.redis !== undefined && a.fills !== undefined) throw new UsageError('--fills is for a replay (--catalog); live (--redis) reads <ns>:fills');
    if (a.redis === undefined && a.catalog === undefined) throw new UsageError('--catalog is required (or --redis for live)');
    if (a.redis === undefined && a['inputs-out'] !== undefined) throw new UsageError('--inputs-out is for a live run (--redis)');
    const opts = {
      catalog: a.catalog ?? '',
      date: a.date,
      symbol: a.symbol,
      algo: a.algo,
      side: (a.side === 'buy' ? 1 : -1) as 1 | -1,
      qty: a.qty,
      from: a.from,
      to: a.to,
      limit: a.limit,
      pov: a.pov,
      latencyMs: a['latency-ms'] as number,
      latencyFile: a['latency-file'] as string | undefined,
      queue: a.queue,
      urgency: a.urgency,
      minChild: a['min-child'] as number | undefined,
      maxChild: a['max-child'] as number | undefined,
      maxOrdersPerSec: a['max-order-rate'] as number | undefined,
      vwapDays: a['vwap-days'] as number,
      instrument: { tick: num(a, 'tick'), lot: num(a, 'lot') },
      instrumentsFile: a.instruments,
      makerBps: num(a, 'maker-bps'),
      takerBps: num(a, 'taker-bps'),
      startPosition: num(a, 'start-position'),
      repegTicks: num(a, 'repeg-ticks'),
      minRestMs: num(a, 'min-rest-ms'),
      ordersOut: a.orders,
      id: a.id,
    };
    if (a.redis !== undefined) {
      const { execSetup } = await import('../../trading/exec/exec-setup.ts');
      const { runExecLive } = await import('../../trading/exec/exec-live.ts');
      const setup = await execSetup({ ...opts, catalog: a.catalog });
      const r = await runExecLive({ url: a.redis, ns: a.ns, setup, ordersOut: a.orders, inputsOut: a['inputs-out'] as string | undefined, idleStopMs: a['exit-when-idle'] as number | undefined, heartbeatMs: a['heartbeat-ms'] as number, log: (m) => console.error(m) });
      const st = r.state.algo;
      if (a.json) {
        // stdout is the report alone (null: stopped before the parent ended)
        console.log(JSON.stringify(r.tca === null ? null : { symbol: a.symbol, algo: a.algo, date: a.date, from: a.from, to: a.to, ...r.tca, fills: r.state.fills.length }));
        return;
      }
      if (r.tca !== null) console.log(formatTca(r.tca, a.symbol));
      console.log(`execute: ${setup.parent.id}: ${st.filled} of ${st.parent.qty} lots filled, ${st.sent} child orders; ${r.written} outputs written by this run, ${r.deadLetters} fills dead-lettered`);
      return;
    }
    const r = a.fills !== undefined ? await (await import('../../trading/exec/run-execute-fills.ts')).runExecuteFills({ ...opts, fills: a.fills }) : await runExecute(opts);
    if (a.json) {
      console.log(JSON.stringify({ symbol: a.symbol, algo: a.algo, date: a.date, from: a.from, to: a.to, ...r.tca, fills: r.fills.length, events: r.events, notes: r.notes }));
      return;
    }
    for (const n of r.notes) console.log(n);
    console.log(formatTca(r.tca, a.symbol));
    console.log(`  ${r.fills.length} fills over ${r.events.toLocaleString('en-US')} events of ${a.symbol} (${a.algo}, ${a.date} ${a.from}-${a.to} UTC)`);
  },
};
