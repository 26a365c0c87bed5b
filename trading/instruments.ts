/**
 * The instruments file: each symbol's tick (price grid), lot (quantity grid) and multiplier, and
 * the money grid (`fee_grid`, default 1e-8 of the currency) in which the ledger keeps cash, fees
 * and PnL as exact integers.
 *
 * ```json
 * { "instruments": { "AAPL": { "tick": 0.01, "lot": 1 }, "BTCUSDT": { "tick": 0.01, "lot": 0.00001 } },
 *   "default": { "tick": 0.01, "lot": 1 }, "fee_grid": 1e-8 }
 * ```
 * A symbol missing from `instruments` uses `default`; with no default it is an unknown symbol.
 * Unknown keys and impossible values (tick ≤ 0, lot ≤ 0, a tick·lot·multiplier that is not a whole
 * number of money units) are refused with the file, field and value.
 */
import { readFileSync } from 'node:fs';
import { InputError } from '../core/errors.ts';
import { gridDecimals } from './money.ts';
import type { Instrument } from './types.ts';

/** An instrument as the ledger uses it: `unit` is the money value of one tick × one lot, in money units. */
export interface LedgerInstrument extends Instrument {
  /** tick · lot · multiplier / moneyGrid, an exact integer (checked when loaded). */
  unit: number;
}

/** The loaded instruments file. Plain data. */
export interface Instruments {
  bySymbol: Map<string, Instrument>;
  default: Omit<Instrument, 'symbol'> | null;
  /** Money grid (currency per money unit), a power of ten: 1e-8 by default. */
  moneyGrid: number;
  /** Its decimals (8 for 1e-8). */
  moneyDecimals: number;
}

/** What `lockstep pnl` uses without `--instruments`: every symbol on a 0.01 tick, lot 1. */
export function defaultInstruments(): Instruments {
  return { bySymbol: new Map(), default: { tick: 0.01, lot: 1, multiplier: 1 }, moneyGrid: 1e-8, moneyDecimals: 8 };
}

const TOP_KEYS = new Set(['instruments', 'default', 'fee_grid']);
const INSTRUMENT_KEYS = new Set(['tick', 'lot', 'multiplier']);

function positive(file: string, field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new InputError({ file, field, value: v, reason: 'must be a number > 0' });
  return v;
}

function parseOne(file: string, path: string, raw: unknown): Omit<Instrument, 'symbol'> {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new InputError({ file, field: path, value: JSON.stringify(raw), reason: 'must be an object { tick, lot, multiplier? }' });
  for (const k of Object.keys(raw)) if (!INSTRUMENT_KEYS.has(k)) throw new InputError({ file, field: `${path}.${k}`, value: k, reason: `unknown key (known: ${[...INSTRUMENT_KEYS].join(', ')})` });
  const o = raw as Record<string, unknown>;
  if (o.tick === undefined) throw new InputError({ file, field: `${path}.tick`, reason: 'missing' });
  if (o.lot === undefined) throw new InputError({ file, field: `${path}.lot`, reason: 'missing' });
  return { tick: positive(file, `${path}.tick`, o.tick), lot: positive(file, `${path}.lot`, o.lot), multiplier: o.multiplier === undefined ? 1 : positive(file, `${path}.multiplier`, o.multiplier) };
}

/** Parses an instruments document (already JSON-decoded); `file` names it in errors. */
export function parseInstruments(raw: unknown, file: string): Instruments {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new InputError({ file, reason: 'must be a JSON object { instruments, default?, fee_grid? }' });
  for (const k of Object.keys(raw)) if (!TOP_KEYS.has(k)) throw new InputError({ file, field: k, value: k, reason: `unknown key (known: ${[...TOP_KEYS].join(', ')})` });
  const o = raw as Record<string, unknown>;
  const moneyGrid = o.fee_grid === undefined ? 1e-8 : positive(file, 'fee_grid', o.fee_grid);
  const moneyDecimals = gridDecimals(moneyGrid);
  if (moneyDecimals === null) throw new InputError({ file, field: 'fee_grid', value: moneyGrid, reason: 'must be a power of ten (1e-8, 0.01, ...)' });
  const bySymbol = new Map<string, Instrument>();
  const list = o.instruments ?? {};
  if (list === null || typeof list !== 'object' || Array.isArray(list)) throw new InputError({ file, field: 'instruments', value: JSON.stringify(list), reason: 'must be an object keyed by symbol' });
  const out: Instruments = { bySymbol, default: o.default === undefined ? null : parseOne(file, 'default', o.default), moneyGrid, moneyDecimals };
  for (const [sym, v] of Object.entries(list)) {
    const inst = { symbol: sym, ...parseOne(file, `instruments.${sym}`, v) };
    bySymbol.set(sym, inst);
    unitOf(out, inst, `${file}, field instruments.${sym}`);
  }
  if (out.default) unitOf(out, { symbol: '(default)', ...out.default }, `${file}, field default`);
  return out;
}

/** Reads and parses an instruments file (JSON). */
export function readInstruments(file: string): Instruments {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError({ file, reason: `cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})` });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new InputError({ file, reason: `not JSON (${(e as Error).message})` });
  }
  return parseInstruments(raw, file);
}

/** tick·lot·multiplier in money units, refused unless it is a whole number of them. */
function unitOf(ins: Instruments, inst: Instrument, where: string): number {
  const u = (inst.tick * inst.lot * inst.multiplier) / ins.moneyGrid;
  const n = Math.round(u);
  if (n < 1 || !Number.isSafeInteger(n) || Math.abs(n - u) > 1e-9 * Math.max(1, u)) {
    throw new InputError({ file: where, value: inst.tick * inst.lot * inst.multiplier, reason: `tick·lot·multiplier must be a whole number of money units (fee_grid ${ins.moneyGrid})` });
  }
  return n;
}

/** The instrument of a symbol (its own or the default), or null when it is unknown. */
export function instrumentOf(ins: Instruments, symbol: string): LedgerInstrument | null {
  const own = ins.bySymbol.get(symbol);
  const base = own ?? (ins.default ? { symbol, ...ins.default } : null);
  if (!base) return null;
  return { ...base, unit: unitOf(ins, base, `instrument ${symbol}`) };
}
