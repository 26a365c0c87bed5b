/**
 * The PnL and risk ledger: a pure fold over fills and marks, per (account, strategy, symbol)
 * position and per (account, strategy) book, plus a running total of everything.
 *
 * ## Money is exact
 * Prices are integer ticks, quantities integer lots, and money (cash, fees, cost basis, PnL) an
 * integer number of money units (`Instruments.moneyGrid`, 1e-8 of the currency by default); an
 * instrument's `unit` is the money value of one tick × one lot (an exact integer, checked when the
 * instruments file is loaded). So cash = −Σ side·qty·price·unit is an integer. Marks are kept in
 * money units per lot (price·unit for a price on the tick grid; a quote mid between two ticks is
 * still a whole number of money units unless the money grid is as coarse as the tick, in which
 * case it is rounded to the nearest unit), so the market value MV = qty·mark is an integer too.
 * Both are kept exactly (bigint, or `ExactSum`'s float64 fast path below 2^53).
 *
 * Average cost makes one quantity fractional: after buying 3 lots at 10 and 11 ticks the average is
 * 10.5, and closing 1 lot leaves a cost basis of 2/3 of 31 ticks. The ledger keeps the open cost
 * basis B as an exact bigint rational `basisNum / basisDen` (reduced): opening adds
 * `side·qty·price·unit`; closing c of |Q| lots scales B by (|Q|−c)/|Q| (so the average B/Q is
 * unchanged, as average-cost accounting requires); a close through zero opens the remainder at the
 * fill price. Then, exactly:
 * - realized   = cash + B − B₀       (B₀: the start-of-day basis; = Σ closed qty·(price − average))
 * - unrealized = MV − B
 * - realized + unrealized = cash + MV − B₀   (the cash-flow identity, an integer)
 * - day PnL    = cash + MV − fees − R₀ (R₀: start-of-day positions at their reference price,
 *   the positions file's `mark_price`, else the symbol's first mark of the day)
 * B's denominator divides the position size at the last close, so it stays small. Book totals of
 * B are kept as an exact integer part plus the sum of the fractions (each below one money unit,
 * a float64): book realized/unrealized are therefore exact to far below a money unit; the
 * position's own figures and the day PnL are exact.
 *
 * ## Cost per price change
 * A mark updates only the positions in that symbol (usually one per account/strategy holding it):
 * ΔMV = Q·(m₁ − m₀), Δgross = |Q|·(m₁ − m₀) (prices are > 0), a new VaR term, then the
 * book's day PnL, its high-water mark and drawdown — O(1) in the number of positions. Concentration
 * (largest |notional| / gross) needs a maximum over the book, so `snapshot` computes it (once per
 * sampled second), not each mark.
 *
 * With thousands of positions the cost of a mark is memory, not arithmetic: the per-mark numbers
 * of a position (mark, notional, VaR term, lots, book, ...) and of a symbol (mark, rv) are rows of
 * two Float64Arrays (`HotStore`; `Position`/`SymbolState` fields read and write them), so a mark
 * reads the symbol's Map entry, the symbol object, its row and its position's row — no boxed
 * doubles, no per-mark allocation, no index or Map lookup per position. The exact sums stay exact
 * without bigint work per mark: ΔMV and Δgross are integers added to `ExactSum`s by one float
 * multiply-add while the product and the running float part are below 2^53 (every integer there
 * is a double, so nothing rounds) and through the bigint part otherwise (`addQtyPx`;
 * ledger-fastpath.test.ts holds it to bigint arithmetic at and above 2^53).
 *
 * ## Value at risk (volatility, delta-normal)
 * VaR_i = z · σ_h · |notional_i| with σ_h = rv · √(h / N): `rv` is the realized volatility of
 * 1-minute log returns over the last N minutes (core/factors/realized-vol.ts: √Σr², the N-minute
 * volatility), so the 1-minute variance is rv²/N and the h-minute one h·rv²/N (square-root-of-time
 * scaling of i.i.d. returns). This is the parametric (variance-covariance) VaR of RiskMetrics
 * (J.P. Morgan/Reuters, RiskMetrics Technical Document, 4th ed., 1996, §6) and Jorion (Value at
 * Risk, 3rd ed., 2007, ch. 5). The book's VaR is the sum of the positions' VaRs: perfectly
 * correlated positions, an upper bound of the diversified VaR (no correlation matrix is estimated).
 * A symbol without an rv yet contributes 0 and is counted in `varMissing`.
 *
 * No I/O, clock, randomness or promises; state is data (maps, arrays, bigints, two Float64Arrays)
 * plus two small row classes whose fields are accessors into those arrays: a `structuredClone` of a
 * ledger would drop the accessors: ledger-codec.ts is the exact copy (desk checkpoints).
 */
import { rememberFill, staleFill } from './ledger-fill-ids.ts';
import { UserError } from '../core/errors.ts';
import { instrumentOf, type Instruments } from './instruments.ts';
import { addProduct, exactSum, floorDiv, gcd, sumNumber, sumValue, type ExactSum } from './money.ts';
import type { Fill } from './types.ts';

/** Mark positions to the quote mid or the last trade price (the factor columns `mid` / `last_price`). */
export type MarkSource = 'mid' | 'last';

/** A start-of-day position (the positions file, already on the grid). */
export interface StartPosition {
  account: string;
  strategy: string;
  symbol: string;
  /** Lots, signed (negative: short). */
  qty: number;
  /** Average cost in money units per lot (an integer: the average price on the money grid). */
  avgCost: number;
  /** Reference price for the day PnL in ticks (yesterday's close), or null: the day's first mark. */
  markTicks: number | null;
}

/** The ledger's configuration. */
export interface LedgerConfig {
  instruments: Instruments;
  mark: MarkSource;
  /** VaR: the rv factor's window N in minutes (rv_5m → 5), the horizon h in minutes and z. */
  varRvMinutes: number;
  varHorizonMinutes: number;
  varZ: number;
  startPositions?: readonly StartPosition[];
  /** How long of exchange time a fill id is remembered to refuse its repeat, ns (default `FILL_ID_WINDOW_NS`, ledger-fill-ids.ts; see `applyFill`). */
  fillIdWindowNs?: bigint;
}

/** Defaults: mark to mid; 99% one-sided (z = 2.326) one-hour VaR from rv_5m. */
export const DEFAULT_VAR = { varRvMinutes: 5, varHorizonMinutes: 60, varZ: 2.3263478740408408 } as const;

/** One position's state. */
export interface Position {
  account: string;
  strategy: string;
  symbol: string;
  book: number;
  unit: number;
  /** Lots, signed. */
  qty: number;
  basisNum: bigint;
  basisDen: bigint;
  basis0: bigint;
  cash: bigint;
  fees: bigint;
  /** The mark this position's MV was last computed at (money units per lot), or null before its symbol's first mark. */
  mark: number | null;
  /** Start-of-day lots whose reference price is the symbol's first mark (0 once it came). */
  sodPending: number;
  /** |notional| in the currency and its VaR term, as last added to the book. */
  notional: number;
  var: number;
  /** Counted in its books' `varMissing` (open, and its symbol has no rv yet). */
  noRv: boolean;
  fills: number;
}

/**
 * The per-position numbers a mark reads and writes (mark, notional, VaR term, lots, book, noRv,
 * start lots pending), struct-of-arrays: `HOT` float64 slots per position in one `Float64Array`,
 * so a price change touches one contiguous slot row instead of a position object and the
 * separately boxed doubles its number fields point to (a 5,000-position ledger does not fit the
 * cache; the misses, not the arithmetic, were most of the cost per mark). Every value stored is
 * an integer below 2^53 or the float the object field held, so nothing changes by a bit; a mark of
 * null is NaN. `Position`'s fields of the same names read and write here (accessors).
 */
export interface HotStore {
  f: Float64Array;
}

/** Float64 slots per position row (exported for ledger-codec.ts, which rebuilds the rows). */
export const HOT = 8;
const H_MARK = 0;
const H_NOTIONAL = 1;
const H_VAR = 2;
const H_QTY = 3;
const H_BOOK = 4;
const H_NORV = 5;
const H_SOD = 6;

/** A position: its cold fields as properties, its hot numbers in the ledger's `HotStore` row `o`. */
export class PositionRow implements Position {
  basisNum = 0n;
  basisDen = 1n;
  basis0 = 0n;
  cash = 0n;
  fees = 0n;
  fills = 0;
  constructor(
    readonly store: HotStore,
    readonly o: number,
    readonly account: string,
    readonly strategy: string,
    readonly symbol: string,
    readonly book: number,
    readonly unit: number,
  ) {
    const f = store.f;
    f[o + H_MARK] = NaN;
    f[o + H_BOOK] = book;
  }
  get qty(): number { return this.store.f[this.o + H_QTY]; }
  set qty(v: number) { this.store.f[this.o + H_QTY] = v; }
  get mark(): number | null { const v = this.store.f[this.o + H_MARK]; return v === v ? v : null; }
  set mark(v: number | null) { this.store.f[this.o + H_MARK] = v === null ? NaN : v; }
  get sodPending(): number { return this.store.f[this.o + H_SOD]; }
  set sodPending(v: number) { this.store.f[this.o + H_SOD] = v; }
  get notional(): number { return this.store.f[this.o + H_NOTIONAL]; }
  set notional(v: number) { this.store.f[this.o + H_NOTIONAL] = v; }
  get var(): number { return this.store.f[this.o + H_VAR]; }
  set var(v: number) { this.store.f[this.o + H_VAR] = v; }
  get noRv(): boolean { return this.store.f[this.o + H_NORV] !== 0; }
  set noRv(v: boolean) { this.store.f[this.o + H_NORV] = v ? 1 : 0; }
}

/** One book (account, strategy), or the total of all books (index 0, account and strategy `*`). */
export interface Book {
  account: string;
  strategy: string;
  positions: number[];
  cash: bigint;
  fees: bigint;
  ref0: bigint;
  basis0: bigint;
  basisInt: bigint;
  basisFrac: number;
  mv: ExactSum;
  gross: ExactSum;
  var: number;
  varMissing: number;
  /** cash − fees − R₀ as a float64, refreshed on fills (day PnL = this + MV). */
  fixed: number;
  /** Day PnL, its high-water mark (from 0 at the start of the day) and drawdown, in money units. */
  dayPnl: number;
  hwm: number;
  drawdown: number;
  dirty: boolean;
}

/** Per symbol: the mark, rv, the positions holding it and the net lots across books. */
export interface SymbolState {
  symbol: string;
  unit: number;
  lot: number;
  tick: number;
  multiplier: number;
  /** Money units per lot (see the header), or null before the first mark. */
  mark: number | null;
  markTs: bigint | null;
  rv: number | null;
  positions: number[];
  netLots: number;
  dirty: boolean;
}

/**
 * A symbol: its mark and rv (NaN: null) in the ledger's symbol `HotStore` row `so` (2 slots), and
 * the first position holding it as a plain index, so a mark of a symbol held once reads the
 * symbol object and two rows, no boxed doubles and no array.
 */
export class SymbolRow implements SymbolState {
  markTs: bigint | null = null;
  positions: number[] = [];
  netLots = 0;
  dirty = false;
  /** `positions[0]`, or -1 while no position holds the symbol; `many`: more than one does. */
  pos0 = -1;
  many = false;
  constructor(
    readonly store: HotStore,
    readonly so: number,
    readonly symbol: string,
    readonly unit: number,
    readonly lot: number,
    readonly tick: number,
    readonly multiplier: number,
  ) {
    store.f[so] = NaN;
    store.f[so + 1] = NaN;
  }
  get mark(): number | null { const v = this.store.f[this.so]; return v === v ? v : null; }
  set mark(v: number | null) { this.store.f[this.so] = v === null ? NaN : v; }
  get rv(): number | null { const v = this.store.f[this.so + 1]; return v === v ? v : null; }
  set rv(v: number | null) { this.store.f[this.so + 1] = v === null ? NaN : v; }
}

function grow(h: HotStore, need: number): void {
  if (need <= h.f.length) return;
  const f = new Float64Array(Math.max(need, h.f.length * 2));
  f.set(h.f);
  h.f = f;
}

/** The ledger (see the header on its row classes). */
export interface Ledger {
  cfg: LedgerConfig;
  /** 10^decimals of the money grid (money units per currency unit). */
  moneyScale: number;
  /** σ_h per unit of rv: √(h/N) · z. */
  varScale: number;
  positions: Position[];
  /** The positions' hot numbers (see `HotStore`), row i·8 for position i. */
  hot: HotStore;
  posIndex: Map<string, number>;
  books: Book[];
  bookIndex: Map<string, number>;
  symbols: Map<string, SymbolState>;
  /** The symbols' marks and rvs (see `SymbolRow`), row 2·i for the i-th symbol seen. */
  symHot: HotStore;
  /** The fill ids remembered (see `applyFill`), with their ts_event, and the same in the order applied (`fillHead`: the oldest kept). */
  fillIds: Map<string, bigint>;
  fillQueue: { id: string; tsEvent: bigint }[];
  fillHead: number;
  /** The latest ts_recv of a fill applied (null before the first): the clock of the id window. */
  fillClock: bigint | null;
  /** Books and symbols changed since the caller last cleared them (limits read these). */
  dirtyBooks: number[];
  dirtySymbols: string[];
  applied: number;
  rejected: number;
}

/**
 * Why a fill was not applied. `duplicate`: its id was applied before (dead-letter it live);
 * `stale`: its ts_event is older than the id window, so a repeat of it could not be told (see `applyFill`).
 */
export type RejectReason = 'duplicate' | 'stale' | 'unknown-symbol' | 'bad-qty' | 'bad-price' | 'bad-side' | 'bad-fee';

/** The outcome of `applyFill`. */
export type FillOutcome = 'applied' | { rejected: RejectReason; detail: string };

/** A start position the ledger refuses (names the position and the field). */
export class LedgerInputError extends UserError {}

function newBook(account: string, strategy: string): Book {
  return { account, strategy, positions: [], cash: 0n, fees: 0n, ref0: 0n, basis0: 0n, basisInt: 0n, basisFrac: 0, mv: exactSum(), gross: exactSum(), var: 0, varMissing: 0, fixed: 0, dayPnl: 0, hwm: 0, drawdown: 0, dirty: false };
}

/** A new ledger, with the start-of-day positions in it. */
export function initLedger(cfg: LedgerConfig): Ledger {
  if (!(cfg.varRvMinutes > 0) || !(cfg.varHorizonMinutes > 0) || !(cfg.varZ > 0)) throw new LedgerInputError(`VaR parameters must be > 0 (rv ${cfg.varRvMinutes} min, horizon ${cfg.varHorizonMinutes} min, z ${cfg.varZ})`);
  const l: Ledger = {
    cfg, moneyScale: 10 ** cfg.instruments.moneyDecimals, varScale: cfg.varZ * Math.sqrt(cfg.varHorizonMinutes / cfg.varRvMinutes),
    positions: [], hot: { f: new Float64Array(HOT * 64) }, posIndex: new Map(), books: [newBook('*', '*')], bookIndex: new Map(), symbols: new Map(), symHot: { f: new Float64Array(2 * 64) },
    fillIds: new Map(), fillQueue: [], fillHead: 0, fillClock: null, dirtyBooks: [], dirtySymbols: [], applied: 0, rejected: 0,
  };
  for (const sp of cfg.startPositions ?? []) {
    const sym = symbolState(l, sp.symbol);
    if (!sym) throw new LedgerInputError(`start position ${sp.account}/${sp.strategy}/${sp.symbol}: unknown symbol (not in the instruments file and no default)`);
    if (!Number.isSafeInteger(sp.qty) || !Number.isSafeInteger(sp.avgCost)) throw new LedgerInputError(`start position ${sp.account}/${sp.strategy}/${sp.symbol}: qty ${sp.qty} and avg cost ${sp.avgCost} must be integers of the grid`);
    const pi = positionOf(l, sp.account, sp.strategy, sp.symbol, sym);
    const p = l.positions[pi];
    if (p.fills > 0 || p.qty !== 0) throw new LedgerInputError(`start position ${sp.account}/${sp.strategy}/${sp.symbol}: given twice`);
    if (sp.markTicks !== null) {
      const m = sp.markTicks * sym.unit;
      if (sym.mark !== null && sym.mark !== m) throw new LedgerInputError(`start position ${sp.account}/${sp.strategy}/${sp.symbol}: mark_price ${sp.markTicks} ticks differs from another row's`);
      sym.mark = m;
    }
    const basis = BigInt(sp.qty) * BigInt(sp.avgCost);
    setBasis(l, p, basis, 1n);
    p.basis0 = basis;
    p.qty = sp.qty;
    sym.netLots += sp.qty;
    for (const b of [l.books[0], l.books[p.book]]) b.basis0 += basis;
    if (sp.markTicks === null) p.sodPending = sp.qty;
    else for (const b of [l.books[0], l.books[p.book]]) b.ref0 += BigInt(sp.qty) * BigInt(sym.mark!);
  }
  // Value the start positions that have a reference price at it (day PnL starts at 0).
  for (let pi = 0; pi < l.positions.length; pi++) {
    const sym = l.symbols.get(l.positions[pi].symbol)!;
    if (sym.mark !== null) remark(l, pi, sym.rv ?? NaN, sym.mark);
  }
  // The day starts here: day PnL (0 when every start position has a reference price), its high-water mark from 0.
  for (const b of l.books) {
    refreshFixed(b);
    b.dayPnl = b.fixed + sumNumber(b.mv);
    b.hwm = b.dayPnl > 0 ? b.dayPnl : 0;
    b.drawdown = b.hwm - b.dayPnl;
  }
  l.dirtyBooks.length = 0;
  l.dirtySymbols.length = 0;
  for (const b of l.books) b.dirty = false;
  for (const s of l.symbols.values()) s.dirty = false;
  return l;
}

function symbolState(l: Ledger, symbol: string): SymbolRow | null {
  const s = l.symbols.get(symbol) as SymbolRow | undefined;
  if (s) return s;
  const inst = instrumentOf(l.cfg.instruments, symbol);
  if (!inst) return null;
  const so = 2 * l.symbols.size;
  grow(l.symHot, so + 2);
  const row = new SymbolRow(l.symHot, so, symbol, inst.unit, inst.lot, inst.tick, inst.multiplier);
  l.symbols.set(symbol, row);
  return row;
}

function positionOf(l: Ledger, account: string, strategy: string, symbol: string, sym: SymbolRow): number {
  const key = `${account}\u0000${strategy}\u0000${symbol}`;
  let pi = l.posIndex.get(key);
  if (pi !== undefined) return pi;
  const bkey = `${account}\u0000${strategy}`;
  let bi = l.bookIndex.get(bkey);
  if (bi === undefined) {
    bi = l.books.length;
    l.books.push(newBook(account, strategy));
    l.bookIndex.set(bkey, bi);
  }
  pi = l.positions.length;
  grow(l.hot, HOT * (pi + 1));
  l.positions.push(new PositionRow(l.hot, HOT * pi, account, strategy, symbol, bi, sym.unit));
  l.posIndex.set(key, pi);
  l.books[bi].positions.push(pi);
  l.books[0].positions.push(pi);
  sym.positions.push(pi);
  if (sym.pos0 < 0) sym.pos0 = pi;
  else sym.many = true;
  return pi;
}

/** Replaces a position's basis, keeping the books' integer+fraction sums of it. */
function setBasis(l: Ledger, p: Position, num: bigint, den: bigint): void {
  const g = gcd(num, den);
  if (g > 1n) {
    num /= g;
    den /= g;
  }
  const oldInt = floorDiv(p.basisNum, p.basisDen);
  const oldFrac = Number(p.basisNum - oldInt * p.basisDen) / Number(p.basisDen);
  const newInt = floorDiv(num, den);
  const newFrac = Number(num - newInt * den) / Number(den);
  for (const b of [l.books[0], l.books[p.book]]) {
    b.basisInt += newInt - oldInt;
    b.basisFrac += newFrac - oldFrac;
  }
  p.basisNum = num;
  p.basisDen = den;
}

function markDirty(l: Ledger, b: Book, bi: number): void {
  if (!b.dirty) {
    b.dirty = true;
    l.dirtyBooks.push(bi);
  }
}

function markSymbolDirty(l: Ledger, s: SymbolState): void {
  if (!s.dirty) {
    s.dirty = true;
    l.dirtySymbols.push(s.symbol);
  }
}

/** Revalues position pi at mark m (money units per lot; rv: its symbol's, NaN for none): MV, gross, VaR of its books; then their day PnL. */
function remark(l: Ledger, pi: number, rv: number, m: number): void {
  const f = l.hot.f;
  const o = pi * HOT;
  const total = l.books[0];
  const bi = f[o + H_BOOK];
  const book = l.books[bi];
  const q = f[o + H_QTY];
  const pm = f[o + H_MARK];
  if (pm !== pm) {
    // First mark of the symbol for this position: value it, and fix the day's reference for its start lots.
    const sod = f[o + H_SOD];
    if (sod !== 0) {
      const ref = BigInt(sod) * BigInt(m);
      total.ref0 += ref;
      book.ref0 += ref;
      refreshFixed(total);
      refreshFixed(book);
      f[o + H_SOD] = 0;
    }
    if (q !== 0) {
      addQtyPx(total.mv, q, m);
      addQtyPx(book.mv, q, m);
      addQtyPx(total.gross, q < 0 ? -q : q, m);
      addQtyPx(book.gross, q < 0 ? -q : q, m);
    }
  } else if (m !== pm && q !== 0) {
    const d = m - pm;
    addQtyPx(total.mv, q, d);
    addQtyPx(book.mv, q, d);
    const a = q < 0 ? -q : q;
    addQtyPx(total.gross, a, d);
    addQtyPx(book.gross, a, d);
  }
  f[o + H_MARK] = m;
  const notional = ((q < 0 ? -q : q) * m) / l.moneyScale;
  const v = rv !== rv ? 0 : l.varScale * rv * notional;
  const pv = f[o + H_VAR];
  if (v !== pv) {
    total.var += v - pv;
    book.var += v - pv;
  }
  const miss = q !== 0 && rv !== rv;
  if (miss !== (f[o + H_NORV] !== 0)) {
    total.varMissing += miss ? 1 : -1;
    book.varMissing += miss ? 1 : -1;
    f[o + H_NORV] = miss ? 1 : 0;
  }
  f[o + H_NOTIONAL] = notional;
  f[o + H_VAR] = v;
  updatePnl(l, total, 0);
  updatePnl(l, book, bi);
}

/**
 * Adds the integer q·m to an exact sum: `money.ts`'s `addProduct`, kept here so the per-mark path
 * makes no cross-module call (under the tsx loader an imported function is read through an export
 * getter on every call, which the profile showed as a hot frame). Exact for the same reason:
 * q and m are safe integers; when q·m is a safe integer (|q·m| < 2^53, so the float product is
 * the exact integer) and the float part stays inside ±2^53 (every integer there is a double, so
 * the add is exact), one float multiply-add does it; otherwise the whole product and the float
 * part move into the bigint part, exactly. money.test / the ledger property test hold it to bigint.
 */
function addQtyPx(s: ExactSum, q: number, m: number): void {
  const x = q * m;
  if (x < LIMIT && x > -LIMIT) {
    const t = s.acc + x;
    if (t < LIMIT && t > -LIMIT) {
      s.acc = t;
      return;
    }
  }
  addProduct(s, q, m);
}

const LIMIT = 2 ** 53;

function refreshFixed(b: Book): void {
  b.fixed = Number(b.cash - b.fees - b.ref0);
}

function updatePnl(l: Ledger, b: Book, bi: number): void {
  const pnl = b.fixed + b.mv.bigNum + b.mv.acc;
  b.dayPnl = pnl;
  if (pnl > b.hwm) b.hwm = pnl;
  b.drawdown = b.hwm - pnl;
  markDirty(l, b, bi);
}

/**
 * Applies one fill: checks it (a repeated fill id is `duplicate`, never applied twice), then
 * updates the position (exact average cost, cash, fees), its books and the symbol's net lots.
 * A symbol with no mark yet is marked at the fill's price until market data marks it.
 *
 * Fill ids are remembered within a window of exchange time, so that the ledger (and the desk's
 * checkpoint) holds the last hour or two of ids, not the day's: with the clock C the latest ts_recv
 * of a fill applied (or this fill's, if later) and W the window (`fillIdWindowNs`, default 1 h),
 * - a fill whose id was applied and is still remembered is `duplicate` (dropped);
 * - a fill whose ts_event is before C − W is `stale` (dropped, dead-lettered live): its original,
 *   if it had one, may be forgotten, and applying it could count it twice. Never a double count:
 *   an id is forgotten only once its ts_event is before C − W, and C only grows, so a repeat with the
 *   original's ts_event is then stale. (A repeat carrying another ts_event is another report.)
 * The same rule in replay and live, so both drop the same fills.
 */
export function applyFill(l: Ledger, f: Fill): FillOutcome {
  const bad = checkFill(l, f);
  if (bad) {
    l.rejected++;
    return bad;
  }
  const sym = symbolState(l, f.symbol)!;
  rememberFill(l, f);
  const pi = positionOf(l, f.account, f.strategy, f.symbol, sym);
  const p = l.positions[pi];
  const total = l.books[0];
  const book = l.books[p.book];
  const t = f.side * f.qty;
  const unit = BigInt(p.unit);
  const flow = BigInt(t) * BigInt(f.price) * unit; // cost of the lots bought (negative: sold)
  const q0 = p.qty;
  if (q0 === 0 || (q0 > 0) === (t > 0)) {
    setBasis(l, p, p.basisNum + flow * p.basisDen, p.basisDen);
  } else {
    const a0 = q0 < 0 ? -q0 : q0;
    const c = Math.min(f.qty, a0);
    if (c === a0) {
      // Closed out; any rest opens at the fill price.
      const rest = BigInt(f.side * (f.qty - c)) * BigInt(f.price) * unit;
      setBasis(l, p, rest, 1n);
    } else {
      setBasis(l, p, p.basisNum * BigInt(a0 - c), p.basisDen * BigInt(a0));
    }
  }
  p.cash -= flow;
  p.fees += BigInt(f.fee);
  p.fills++;
  for (const b of [total, book]) {
    b.cash -= flow;
    b.fees += BigInt(f.fee);
    refreshFixed(b);
  }
  sym.netLots += t;
  markSymbolDirty(l, sym);
  // Revalue: the new lots at the current mark (or the fill price when the symbol has none).
  const m = sym.mark ?? f.price * p.unit;
  if (sym.mark === null) {
    sym.mark = m;
    sym.markTs = f.tsRecv;
  }
  if (p.mark !== null && q0 !== 0) {
    // Remove the old quantity's value at the old mark, then value the new quantity at m.
    const old = p.mark;
    addQtyPx(total.mv, -q0, old);
    addQtyPx(book.mv, -q0, old);
    const a = q0 < 0 ? -q0 : q0;
    addQtyPx(total.gross, -a, old);
    addQtyPx(book.gross, -a, old);
  }
  p.qty = q0 + t;
  // With its old value removed the position is valued afresh at m (remark's first-mark path, which
  // also fixes the day's reference of start-of-day lots when this fill is the symbol's first mark).
  p.mark = null;
  remark(l, pi, sym.rv ?? NaN, m);
  l.applied++;
  return 'applied';
}

function checkFill(l: Ledger, f: Fill): FillOutcome | null {
  if (l.fillIds.has(f.fillId)) return { rejected: 'duplicate', detail: `fill_id ${JSON.stringify(f.fillId)} was already applied` };
  const stale = staleFill(l, f);
  if (stale !== null) return { rejected: 'stale', detail: stale };
  if (f.side !== 1 && f.side !== -1) return { rejected: 'bad-side', detail: `side ${String(f.side)}: must be 1 (buy) or -1 (sell)` };
  if (!Number.isSafeInteger(f.qty) || f.qty <= 0) return { rejected: 'bad-qty', detail: `qty ${f.qty}: must be a whole number of lots > 0` };
  if (!Number.isSafeInteger(f.price) || f.price <= 0) return { rejected: 'bad-price', detail: `price ${f.price}: must be a whole number of ticks > 0` };
  if (!Number.isSafeInteger(f.fee)) return { rejected: 'bad-fee', detail: `fee ${f.fee}: must be a whole number of money units` };
  if (!symbolState(l, f.symbol)) return { rejected: 'unknown-symbol', detail: `symbol ${JSON.stringify(f.symbol)}: not in the instruments and no default` };
  return null;
}

/**
 * A new mark for a symbol in ticks (from the `mid` or `last_price` column; a mid may fall between
 * two ticks, e.g. 1000.5) and its rv (the configured rv column; null keeps the last one). Updates
 * every position in the symbol: O(number of books holding it), independent of the number of
 * positions in the ledger. The mark and rv of a symbol not held yet are kept for its first fill.
 */
export function applyMark(l: Ledger, symbol: string, ts: bigint, markTicks: number, rv: number | null): void {
  const sym = (l.symbols.get(symbol) as SymbolRow | undefined) ?? symbolState(l, symbol);
  if (!sym) return; // no instrument for it (and no default): it cannot be held
  markSymbol(l, sym, ts, Math.round(markTicks * sym.unit), rv);
}

/** `applyMark` with a decimal price (currency), as the factor columns carry it. */
export function applyMarkPrice(l: Ledger, symbol: string, ts: bigint, price: number, rv: number | null): void {
  const sym = symbolState(l, symbol);
  if (!sym) return;
  markSymbol(l, sym, ts, Math.round((price * sym.lot * sym.multiplier) / l.cfg.instruments.moneyGrid), rv);
}

function markSymbol(l: Ledger, sym: SymbolRow, ts: bigint, m: number, rv: number | null): void {
  if (!(m > 0) || !Number.isSafeInteger(m)) return; // no usable price (a one-sided book's mid): keep the last mark
  const f = l.symHot.f;
  const so = sym.so;
  let r = f[so + 1]; // NaN: no rv yet (never equal to a finite rv, as null was not)
  const rvChanged = rv !== null && Number.isFinite(rv) && rv !== r;
  if (rvChanged) f[so + 1] = r = rv;
  if (m === f[so] && !rvChanged) return;
  f[so] = m;
  sym.markTs = ts;
  markSymbolDirty(l, sym);
  const p0 = sym.pos0;
  if (p0 < 0) return;
  remark(l, p0, r, m);
  if (!sym.many) return; // the usual case: the array is not even read
  const ps = sym.positions;
  for (let i = 1; i < ps.length; i++) remark(l, ps[i], r, m);
}

/** Clears the changed-books/symbols lists (after the limits have read them). */
export function clearDirty(l: Ledger): void {
  for (const bi of l.dirtyBooks) l.books[bi].dirty = false;
  for (const s of l.dirtySymbols) l.symbols.get(s)!.dirty = false;
  l.dirtyBooks.length = 0;
  l.dirtySymbols.length = 0;
}

/** A book's realized PnL in money units: cash + B − B₀ (exact integer part, plus B's fractions as a float64). */
export function bookRealizedUnits(b: Book): number {
  return Number(b.cash + b.basisInt - b.basis0) + b.basisFrac;
}

/** A book's unrealized PnL in money units: MV − B. */
export function bookUnrealizedUnits(b: Book): number {
  return Number(sumValue(b.mv) - b.basisInt) - b.basisFrac;
}

/** A position's realized PnL in money units, exact as a reduced rational [num, den]: cash + B − B₀. */
export function positionRealized(p: Position): [bigint, bigint] {
  return reduce((p.cash - p.basis0) * p.basisDen + p.basisNum, p.basisDen);
}

/** A position's unrealized PnL in money units, exact as a reduced rational [num, den]: MV − B (0 before its first mark). */
export function positionUnrealized(p: Position): [bigint, bigint] {
  if (p.mark === null) return [0n, 1n];
  return reduce(BigInt(p.qty) * BigInt(p.mark) * p.basisDen - p.basisNum, p.basisDen);
}

function reduce(n: bigint, d: bigint): [bigint, bigint] {
  const g = gcd(n, d);
  return g > 1n ? [n / g, d / g] : [n, d];
}
