/**
 * `lockstep execute` on a full day against the replay's own events/s over the same events, in the
 * same run (issue 18 goal: execute ≥ 0.8× the replay).
 *
 * Both read the same selection (one catalog date, one symbol, its book, quotes and trades) from the
 * same Parquet files through the same merge; the replay folds the default factor set over it and
 * writes the factor table (`runReplay`), execute runs the fill simulator and the execution fold
 * (exec-fold.ts, the live run's, fed the simulator's fills and cancel reports) and the TCA
 * (`runExecute`, a TWAP over the data's whole span, to the minute). Figures: events/s of each (events of the symbol
 * over wall time of the run, file opening included), best of `rounds` alternating runs each, and
 * their ratio. The replay's count also holds the catalog's heartbeats (both read them; execute counts
 * only the symbol's events), which flatters the replay's rate: the ratio is conservative. Run:
 *
 *   npx tsx bench/execute-bench.ts --catalog CAT --date 2012-06-21 --symbol AAPL [--rounds 3]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runReplay } from '../replay/run-replay.ts';
import { isoNs } from '../replay/time-format.ts';
import { runExecute } from '../trading/exec/run-execute.ts';

export interface ExecuteBenchResult {
  events: number;
  replayEventsPerSec: number;
  executeEventsPerSec: number;
  /** execute / replay. */
  ratio: number;
  goal: number;
  window: string;
}

const hm = (t: bigint, up: boolean) => {
  const min = 60_000_000_000n;
  const r = up ? ((t + min - 1n) / min) * min : (t / min) * min;
  return isoNs(r).slice(11, 16);
};

/** Runs both, `rounds` times alternately; best events/s of each. */
export async function executeBench(catalog: string, date: string, symbol: string, rounds = 3): Promise<ExecuteBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'lockstep-execute-bench-'));
  try {
    let replayBest = 0;
    let execBest = 0;
    let events = 0;
    let window = '';
    for (let r = 0; r < rounds; r++) {
      const s = await runReplay({ catalog, date, symbols: [symbol], kinds: ['book', 'quote', 'trade'], out: join(dir, `f${r}.parquet`), progress: false });
      replayBest = Math.max(replayBest, s.eventsPerSec);
      if (!window) window = `${hm(s.firstTsRecv!, false)}-${hm(s.lastTsRecv!, true)}`;
      const [from, to] = window.split('-');
      const e = await runExecute({ catalog, date, symbol, algo: 'twap', side: 1, qty: 10_000, from, to, minChild: 10 });
      execBest = Math.max(execBest, e.eventsPerSec);
      events = e.events;
      console.error(`round ${r + 1}: replay ${Math.round(s.eventsPerSec)} ev/s (${s.events} events), execute ${Math.round(e.eventsPerSec)} ev/s (${e.events} events, ${e.tca.childOrders} child orders, ${e.fills.length} fills)`);
    }
    return { events, replayEventsPerSec: replayBest, executeEventsPerSec: execBest, ratio: execBest / replayBest, goal: 0.8, window };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (k: string, d?: string) => {
    const i = process.argv.indexOf(`--${k}`);
    if (i < 0 && d === undefined) throw new Error(`--${k} is required`);
    return i < 0 ? d! : process.argv[i + 1];
  };
  const r = await executeBench(arg('catalog'), arg('date'), arg('symbol'), Number(arg('rounds', '3')));
  console.log(JSON.stringify(r));
  console.log(`execute ${Math.round(r.executeEventsPerSec).toLocaleString('en-US')} ev/s vs replay ${Math.round(r.replayEventsPerSec).toLocaleString('en-US')} ev/s over the same ${r.events.toLocaleString('en-US')} events (${r.window} UTC): ratio ${r.ratio.toFixed(2)} (goal ≥ ${r.goal})`);
}
