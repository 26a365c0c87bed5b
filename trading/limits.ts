/**
 * Risk limits: the limits file, and a pure evaluation against the ledger that emits a breach
 * record (with the limit, the value, the scope and the configured action) once when a breach
 * starts and a `clear` record when it ends. Deterministic: it reads only the ledger's state and the
 * event time, and is evaluated after every fill and every mark, on what they changed (O(1)).
 *
 * ```json
 * { "symbols": { "AAPL": { "max_position": 1000, "max_notional": 250000 } },
 *   "default_symbol": { "max_position_lots": 100000 },
 *   "max_gross_exposure": 1000000, "max_daily_loss": 5000, "max_drawdown": 3000, "max_order_rate": 50,
 *   "books": { "acct1/mm": { "max_daily_loss": 2000 } },
 *   "actions": { "position": "kill-symbol", "daily_loss": "kill-all" } }
 * ```
 * - symbol limits apply to the symbol's net position across all books: `max_position` in units
 *   (shares, coins), `max_position_lots` in lots, `max_notional` in the currency (|net| × mark);
 * - `max_gross_exposure`, `max_daily_loss` (a loss, > 0), `max_drawdown` (from the day's PnL
 *   high-water mark) apply to the whole deployment (scope `total`), and per book under `books`
 *   (key `ACCOUNT/STRATEGY`);
 * - `max_order_rate`: orders per second of event time per (account, strategy), which the execution
 *   side checks with `checkOrderRate` when it emits an order;
 * - `actions` maps each limit (position, notional, gross, daily_loss, drawdown, order_rate) to
 *   `alert`, `kill-symbol`, `kill-all` or `reduce-only` (defaults: alert, except daily_loss and
 *   drawdown: kill-all).
 * Unknown keys and impossible values (≤ 0, not a number, an unknown action) are refused naming the
 * field and value.
 */
import { InputError } from '../core/errors.ts';
import type { Ledger } from './ledger.ts';
import { sumNumber } from './money.ts';

/** What a breach asks the kill switch to do. */
export type LimitAction = 'alert' | 'kill-symbol' | 'kill-all' | 'reduce-only';

/** Which limit. */
export type LimitKind = 'position' | 'notional' | 'gross' | 'daily_loss' | 'drawdown' | 'order_rate';

export interface SymbolLimits {
  maxPosition?: number;
  maxPositionLots?: number;
  maxNotional?: number;
}

export interface BookLimits {
  maxGrossExposure?: number;
  maxDailyLoss?: number;
  maxDrawdown?: number;
  maxOrderRate?: number;
}

/** The parsed limits file. */
export interface Limits {
  symbols: Map<string, SymbolLimits>;
  defaultSymbol: SymbolLimits | null;
  total: BookLimits;
  books: Map<string, BookLimits>;
  actions: Record<LimitKind, LimitAction>;
}

/** A breach starting (`breach`) or ending (`clear`). Values are in lots, units or the currency as the limit. */
export interface LimitRecord {
  ts: bigint;
  event: 'breach' | 'clear';
  limit: LimitKind;
  /** `symbol AAPL`, `total`, or `book ACCOUNT/STRATEGY`. */
  scope: string;
  value: number;
  threshold: number;
  action: LimitAction;
}

const ACTIONS: readonly LimitAction[] = ['alert', 'kill-symbol', 'kill-all', 'reduce-only'];
const KINDS: readonly LimitKind[] = ['position', 'notional', 'gross', 'daily_loss', 'drawdown', 'order_rate'];
const SYMBOL_KEYS: Record<string, keyof SymbolLimits> = { max_position: 'maxPosition', max_position_lots: 'maxPositionLots', max_notional: 'maxNotional' };
const BOOK_KEYS: Record<string, keyof BookLimits> = { max_gross_exposure: 'maxGrossExposure', max_daily_loss: 'maxDailyLoss', max_drawdown: 'maxDrawdown', max_order_rate: 'maxOrderRate' };
const TOP_KEYS = new Set(['symbols', 'default_symbol', 'books', 'actions', ...Object.keys(BOOK_KEYS)]);

/** No limits at all. */
export function noLimits(): Limits {
  return { symbols: new Map(), defaultSymbol: null, total: {}, books: new Map(), actions: defaultActions() };
}

function defaultActions(): Record<LimitKind, LimitAction> {
  return { position: 'alert', notional: 'alert', gross: 'alert', daily_loss: 'kill-all', drawdown: 'kill-all', order_rate: 'alert' };
}

function obj(file: string, field: string, v: unknown): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new InputError({ file, field, value: JSON.stringify(v), reason: 'must be an object' });
  return v as Record<string, unknown>;
}

function limitsOf<T>(file: string, path: string, raw: unknown, keys: Record<string, keyof T>): T {
  const o = obj(file, path, raw);
  const out = {} as Record<string, number>;
  for (const [k, v] of Object.entries(o)) {
    const name = keys[k];
    if (name === undefined) throw new InputError({ file, field: path ? `${path}.${k}` : k, value: k, reason: `unknown key (known: ${Object.keys(keys).join(', ')})` });
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new InputError({ file, field: path ? `${path}.${k}` : k, value: typeof v === 'number' || typeof v === 'string' ? v : JSON.stringify(v), reason: 'must be a number > 0' });
    out[name as string] = v;
  }
  return out as T;
}

/** Parses a limits document (already JSON-decoded); `file` names it in errors. */
export function parseLimits(raw: unknown, file: string): Limits {
  const o = obj(file, '(top)', raw);
  for (const k of Object.keys(o)) if (!TOP_KEYS.has(k)) throw new InputError({ file, field: k, value: k, reason: `unknown key (known: ${[...TOP_KEYS].join(', ')})` });
  const topBook: Record<string, unknown> = {};
  for (const k of Object.keys(BOOK_KEYS)) if (k in o) topBook[k] = o[k];
  const out: Limits = { symbols: new Map(), defaultSymbol: null, total: limitsOf<BookLimits>(file, '', topBook, BOOK_KEYS), books: new Map(), actions: defaultActions() };
  for (const [s, v] of Object.entries(o.symbols === undefined ? {} : obj(file, 'symbols', o.symbols))) out.symbols.set(s, limitsOf<SymbolLimits>(file, `symbols.${s}`, v, SYMBOL_KEYS));
  if (o.default_symbol !== undefined) out.defaultSymbol = limitsOf<SymbolLimits>(file, 'default_symbol', o.default_symbol, SYMBOL_KEYS);
  for (const [b, v] of Object.entries(o.books === undefined ? {} : obj(file, 'books', o.books))) {
    if (!/^[^/]+\/[^/]+$/.test(b)) throw new InputError({ file, field: `books.${b}`, value: b, reason: 'a book is named ACCOUNT/STRATEGY' });
    out.books.set(b, limitsOf<BookLimits>(file, `books.${b}`, v, BOOK_KEYS));
  }
  for (const [k, v] of Object.entries(o.actions === undefined ? {} : obj(file, 'actions', o.actions))) {
    if (!(KINDS as readonly string[]).includes(k)) throw new InputError({ file, field: `actions.${k}`, value: k, reason: `unknown limit (known: ${KINDS.join(', ')})` });
    if (!(ACTIONS as readonly unknown[]).includes(v)) throw new InputError({ file, field: `actions.${k}`, value: typeof v === 'string' ? v : JSON.stringify(v), reason: `unknown action (known: ${ACTIONS.join(', ')})` });
    out.actions[k as LimitKind] = v as LimitAction;
  }
  return out;
}

/** The limits' running state: the breaches in force and each book's recent order times. Plain data. */
export interface LimitsState {
  limits: Limits;
  active: Set<string>;
  /** Per `ACCOUNT/STRATEGY`: event times of its orders in the last second (oldest first). */
  orders: Map<string, bigint[]>;
}

/** A fresh state (no breach in force). */
export function initLimits(limits: Limits): LimitsState {
  return { limits, active: new Set(), orders: new Map() };
}

function transition(st: LimitsState, out: LimitRecord[], ts: bigint, limit: LimitKind, scope: string, value: number, threshold: number | undefined): void {
  if (threshold === undefined) return;
  const key = `${limit}\u0000${scope}`;
  const on = value > threshold;
  if (on === st.active.has(key)) return;
  if (on) st.active.add(key);
  else st.active.delete(key);
  out.push({ ts, event: on ? 'breach' : 'clear', limit, scope, value, threshold, action: st.limits.actions[limit] });
}

/**
 * Checks the limits touched by the ledger's changes since its dirty lists were last cleared (the
 * caller clears them, `clearDirty`, after this). Returns the breaches that start and end now, in a
 * fixed order: symbols in the order they changed, then books.
 */
export function evaluateLimits(st: LimitsState, l: Ledger, ts: bigint): LimitRecord[] {
  const out: LimitRecord[] = [];
  const lim = st.limits;
  const scale = 10 ** l.cfg.instruments.moneyDecimals;
  for (const s of l.dirtySymbols) {
    const sl = lim.symbols.get(s) ?? lim.defaultSymbol;
    if (!sl) continue;
    const sym = l.symbols.get(s)!;
    const lots = Math.abs(sym.netLots);
    const scope = `symbol ${s}`;
    transition(st, out, ts, 'position', scope, lots, sl.maxPositionLots);
    transition(st, out, ts, 'position', `${scope} (units)`, lots * sym.lot, sl.maxPosition);
    if (sym.mark !== null) transition(st, out, ts, 'notional', scope, (lots * sym.mark) / scale, sl.maxNotional);
  }
  for (const bi of l.dirtyBooks) {
    const b = l.books[bi];
    const bl = bi === 0 ? lim.total : lim.books.get(`${b.account}/${b.strategy}`);
    if (!bl) continue;
    const scope = bi === 0 ? 'total' : `book ${b.account}/${b.strategy}`;
    transition(st, out, ts, 'gross', scope, sumNumber(b.gross) / scale, bl.maxGrossExposure);
    transition(st, out, ts, 'daily_loss', scope, -b.dayPnl / scale, bl.maxDailyLoss);
    transition(st, out, ts, 'drawdown', scope, b.drawdown / scale, bl.maxDrawdown);
  }
  return out;
}

/**
 * Records an order of (account, strategy) at event time `ts` and checks its order rate: orders
 * in (ts − 1 s, ts] against the book's `max_order_rate` (else the top-level one). Returns the
 * breach or clear record when the state changes, else null. Times must not go backwards per book.
 */
export function checkOrderRate(st: LimitsState, account: string, strategy: string, ts: bigint): LimitRecord | null {
  const key = `${account}/${strategy}`;
  const max = st.limits.books.get(key)?.maxOrderRate ?? st.limits.total.maxOrderRate;
  if (max === undefined) return null;
  let q = st.orders.get(key);
  if (!q) st.orders.set(key, (q = []));
  q.push(ts);
  let drop = 0;
  while (drop < q.length && q[drop] <= ts - 1_000_000_000n) drop++;
  if (drop > 0) q.splice(0, drop);
  const out: LimitRecord[] = [];
  transition(st, out, ts, 'order_rate', `book ${key}`, q.length, max);
  return out[0] ?? null;
}
