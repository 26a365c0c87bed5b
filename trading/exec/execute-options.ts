/**
 * `lockstep execute`'s options and their checks, shared by the simulator replay (run-execute.ts),
 * the replay with recorded fills and the live run (exec-setup.ts): one definition of what a flag
 * accepts and of the parent it builds.
 */
import { InputError, UsageError } from '../../core/errors.ts';
import { dateStartNs } from '../../replay/catalog.ts';
import { readInstruments } from '../instruments.ts';
import * as sim from '../sim/index.ts';
import type { Instrument, KillInput } from '../types.ts';
import type { AlgoKind } from './types.ts';

export interface ExecuteOptions {
  catalog: string;
  date: string;
  symbol: string;
  algo: AlgoKind;
  side: 1 | -1;
  /** Lots. */
  qty: number;
  /** HH:MM UTC, window [from, to). */
  from: string;
  to: string;
  /** Decimal price (converted to ticks; off-grid refused). */
  limit?: number;
  pov?: number;
  latencyMs?: number;
  /** Recorded order latencies (latency-file.ts): entry and response interpolated from them; the feed latency stays `latencyMs`. */
  latencyFile?: string;
  /** risk-averse, prob-power, prob-log, or the simulator's own names (power:N, log, ...). */
  queue?: string;
  /** Overrides of the instrument (`--tick`, `--lot`): over the instruments file's, else tick 0.01, lot 1. */
  instrument?: Partial<Omit<Instrument, 'symbol'>>;
  /** An instruments file (trading/instruments.ts): the symbol's tick, lot, multiplier and the fee grid. */
  instrumentsFile?: string;
  minChild?: number;
  maxChild?: number;
  urgency?: number;
  maxOrdersPerSec?: number;
  /** Anti-churn (algo.ts): a passive child at most this many ticks off the touch is kept (default 2; 0: re-peg on every move)... */
  repegTicks?: number;
  /** ...until it has rested this long, event-time ms (default 1000). */
  minRestMs?: number;
  /** Maker/taker fees, bps of the notional (negative: a rebate); default 0. */
  makerBps?: number;
  takerBps?: number;
  /** Signed lots held before the parent starts (reduce-only needs it); default 0. */
  startPosition?: number;
  /** VWAP: previous dates averaged into the curve (default 5). */
  vwapDays?: number;
  /** Write child orders, cancels and fills as JSON lines here. */
  ordersOut?: string;
  /** Kill-switch changes to replay, each read by the algorithm at its `ts` (a control input, as live). */
  kills?: readonly KillInput[];
}

export function hhmm(date: string, v: string, flag: string): bigint {
  const m = /^(\d{2}):(\d{2})$/.exec(v);
  if (!m || Number(m[1]) > 24 || Number(m[2]) > 59 || (Number(m[1]) === 24 && Number(m[2]) > 0)) throw new UsageError(`${flag} ${JSON.stringify(v)}: must be HH:MM (UTC), 00:00 to 24:00`);
  return dateStartNs(date) + BigInt(Number(m[1]) * 3600 + Number(m[2]) * 60) * 1_000_000_000n;
}

/** `--queue`: the names, or the simulator's own. */
export function queueModel(name: string): sim.QueueModel {
  if (name === 'prob-power') return sim.parseQueueModel('power:2');
  if (name === 'prob-log') return sim.parseQueueModel('log');
  return sim.parseQueueModel(name);
}

/** The instruments file, its errors prefixed with the flag (one line: flag, file, field, value). */
export function readFlagInstruments(path: string) {
  try {
    return readInstruments(path);
  } catch (e) {
    if (e instanceof InputError) throw new UsageError(`--instruments ${e.message}`);
    throw e;
  }
}

/** The numeric flags' values: a bad one is one line naming the flag and the value. */
export function checkFlags(o: Omit<ExecuteOptions, 'catalog'>): void {
  const bad = (flag: string, v: unknown, why: string) => {
    throw new UsageError(`${flag} ${String(v)}: ${why}`);
  };
  if (o.instrument?.tick !== undefined && !(Number.isFinite(o.instrument.tick) && o.instrument.tick > 0)) bad('--tick', o.instrument.tick, 'must be a number > 0');
  if (o.instrument?.lot !== undefined && !(Number.isFinite(o.instrument.lot) && o.instrument.lot > 0)) bad('--lot', o.instrument.lot, 'must be a number > 0');
  if (o.makerBps !== undefined && !Number.isFinite(o.makerBps)) bad('--maker-bps', o.makerBps, 'must be a finite number of basis points (negative: a rebate)');
  if (o.takerBps !== undefined && !Number.isFinite(o.takerBps)) bad('--taker-bps', o.takerBps, 'must be a finite number of basis points (negative: a rebate)');
  if (o.startPosition !== undefined && !Number.isSafeInteger(o.startPosition)) bad('--start-position', o.startPosition, 'must be a whole (signed) number of lots');
  if (o.repegTicks !== undefined && !(Number.isInteger(o.repegTicks) && o.repegTicks >= 0)) bad('--repeg-ticks', o.repegTicks, 'must be a whole number of ticks ≥ 0');
  if (o.minRestMs !== undefined && !(Number.isFinite(o.minRestMs) && o.minRestMs >= 0)) bad('--min-rest-ms', o.minRestMs, 'must be a number of milliseconds ≥ 0');
}
