/**
 * The parent order and the algorithm's configuration from `lockstep execute`'s flags, built one way
 * for the two runs that must agree byte for byte: live (exec-live.ts) and the replay over a live
 * run's fills (run-execute-fills.ts). Built as run-execute.ts builds them for the simulator (the
 * same defaults: cancels count as working for 2 × (entry + response) + feed latency, or until the
 * venue's report: the simulator and the test gateway confirm every cancel, at zero latency too, where
 * a child cancelled on the market event of an instant may have filled on it: its fill comes after).
 */
import { UsageError } from '../../core/errors.ts';
import { dateStartNs } from '../../replay/catalog.ts';
import { defaultInstruments, instrumentOf, type Instruments } from '../instruments.ts';
import * as sim from '../sim/index.ts';
import type { Instrument } from '../types.ts';
import { readLatencyFile } from './latency-file.ts';
import { toTicks } from './market-view.ts';
import { checkFlags, hhmm, readFlagInstruments, type ExecuteOptions } from './execute-options.ts';
import type { ExecConfig, ParentOrder } from './types.ts';
import { historicalCurve } from './volume-curve.ts';

export interface ExecSetup {
  parent: ParentOrder;
  cfg: ExecConfig;
  instrument: Instrument;
  /** The instruments the fills are read against (the file's, with the flags' overrides for the symbol). */
  ins: Instruments;
  latency: sim.Latency;
  notes: string[];
}

/** `--id`: a parent id usable in Redis keys and stream fields. */
const ID_RE = /^[A-Za-z0-9._\-:]{1,64}$/;

/** Validates the flags and builds the parent and its configuration (vwap reads its curve from `o.catalog`). */
export async function execSetup(o: Omit<ExecuteOptions, 'catalog'> & { id?: string; catalog?: string }): Promise<ExecSetup> {
  if (!Number.isInteger(o.qty) || o.qty <= 0) throw new UsageError(`--qty ${o.qty}: must be a whole number of lots > 0`);
  if (o.id !== undefined && !ID_RE.test(o.id)) throw new UsageError(`--id ${JSON.stringify(o.id)}: must be 1-64 letters, digits or . _ - :`);
  const start = hhmm(o.date, o.from, '--from');
  const end = hhmm(o.date, o.to, '--to');
  if (start >= end) throw new UsageError(`--from ${o.from} is not before --to ${o.to}: the window is empty (--to is exclusive)`);
  checkFlags(o);
  const file = o.instrumentsFile === undefined ? null : readFlagInstruments(o.instrumentsFile);
  const own = file === null ? null : instrumentOf(file, o.symbol);
  if (file !== null && own === null) throw new UsageError(`--instruments ${o.instrumentsFile}: no instrument for ${o.symbol} and no "default"`);
  const instrument: Instrument = { symbol: o.symbol, tick: o.instrument?.tick ?? own?.tick ?? 0.01, lot: o.instrument?.lot ?? own?.lot ?? 1, multiplier: o.instrument?.multiplier ?? own?.multiplier ?? 1 };
  const base = file ?? defaultInstruments();
  const ins: Instruments = { ...base, bySymbol: new Map(base.bySymbol).set(o.symbol, instrument) };
  const notes: string[] = [];
  let curve;
  if (o.algo === 'vwap') {
    if (!o.catalog) throw new UsageError('--algo vwap needs --catalog (its volume curve comes from the earlier dates of the symbol)');
    const day = dateStartNs(o.date);
    const c = await historicalCurve({ catalog: o.catalog, symbol: o.symbol, date: o.date, fromOffsetNs: start - day, toOffsetNs: end - day, lookback: o.vwapDays ?? 5 });
    curve = c;
    notes.push(c.dates.length === 0 ? `vwap: no earlier date of ${o.symbol} in the catalog: flat volume curve (the schedule is TWAP's)` : `vwap: volume curve from ${c.dates.length} earlier date(s): ${c.dates.join(', ')}`);
  }
  const ms = sim.latencyFromMs(o.latencyMs ?? 1);
  const latency = o.latencyFile === undefined ? ms : readLatencyFile(o.latencyFile, ms.feedNs);
  const parent: ParentOrder = { id: o.id ?? `${o.symbol}-${o.algo}`, symbol: o.symbol, side: o.side, qty: o.qty, limitPx: o.limit === undefined ? null : toTicks(o.limit, instrument.tick, '--limit'), start, end, minChild: o.minChild, maxChild: o.maxChild, urgency: o.urgency };
  const cfg: ExecConfig = { algo: o.algo, instrument, povRate: o.pov, curve, cancelSettleNs: 2n * sim.maxRoundTrip(latency) + latency.feedNs, cancelAcks: true, maxOrdersPerSec: o.maxOrdersPerSec, repegTicks: o.repegTicks, minRestNs: o.minRestMs === undefined ? undefined : BigInt(Math.round(o.minRestMs * 1e6)), startPosition: o.startPosition };
  return { parent, cfg, instrument, ins, latency, notes };
}
