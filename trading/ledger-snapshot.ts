/**
 * `snapshot`: the ledger's state at an event time as plain records (currency amounts as decimal
 * numbers, for output files, Redis and HTTP serving). Money is exact inside the ledger; the
 * conversion to a float64 here is for display only.
 */
import { bookRealizedUnits, bookUnrealizedUnits, positionRealized, positionUnrealized, type Book, type Ledger } from './ledger.ts';
import { sumNumber } from './money.ts';

/** One book's (account, strategy) figures; account and strategy `*` is the total of all books. */
export interface BookRecord {
  ts: bigint;
  account: string;
  strategy: string;
  /** Open positions (qty ≠ 0). */
  positions: number;
  realized: number;
  unrealized: number;
  fees: number;
  /** realized + unrealized − fees, against the start-of-day reference prices. */
  dayPnl: number;
  hwm: number;
  drawdown: number;
  /** Σ|notional| and Σ notional (market value), in the currency. */
  gross: number;
  net: number;
  /** Largest |notional| / gross (0 with no exposure). */
  concentration: number;
  var: number;
  /** Open positions whose symbol has no rv yet (not in `var`). */
  varMissing: number;
}

/** One position's figures. */
export interface PositionRecord {
  ts: bigint;
  account: string;
  strategy: string;
  symbol: string;
  /** Lots (signed) and units (lots × lot size). */
  lots: number;
  qty: number;
  /** Average cost per unit in the currency (0 when flat). */
  avgPrice: number;
  /** Mark in the currency (null before the symbol's first mark). */
  mark: number | null;
  realized: number;
  unrealized: number;
  fees: number;
  notional: number;
}

/** The ledger at `ts`: books sorted by account then strategy (the total `*`/`*` first), positions by account, strategy, symbol. */
export interface LedgerSnapshot {
  ts: bigint;
  books: BookRecord[];
  positions: PositionRecord[];
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Plain records of the ledger at `ts`; `positions: false` leaves the per-position records out. */
export function snapshot(l: Ledger, ts: bigint, opts: { positions?: boolean } = {}): LedgerSnapshot {
  const scale = 10 ** l.cfg.instruments.moneyDecimals;
  const books = l.books.map((b) => bookRecord(l, b, ts, scale));
  const total = books[0];
  const rest = books.slice(1).sort((a, b) => cmp(a.account, b.account) || cmp(a.strategy, b.strategy));
  const out: LedgerSnapshot = { ts, books: [total, ...rest], positions: [] };
  if (opts.positions !== false) {
    for (const p of l.positions) {
      const sym = l.symbols.get(p.symbol)!;
      const [rn, rd] = positionRealized(p);
      const [un, ud] = positionUnrealized(p);
      const units = p.qty * sym.lot;
      out.positions.push({
        ts, account: p.account, strategy: p.strategy, symbol: p.symbol, lots: p.qty, qty: units,
        avgPrice: p.qty === 0 ? 0 : Number(p.basisNum) / Number(p.basisDen) / scale / (units * sym.multiplier),
        mark: p.mark === null ? null : (p.mark / p.unit) * sym.tick,
        realized: ratio(rn, rd) / scale, unrealized: ratio(un, ud) / scale, fees: Number(p.fees) / scale,
        notional: p.mark === null ? 0 : (p.qty * p.mark) / scale,
      });
    }
    out.positions.sort((a, b) => cmp(a.account, b.account) || cmp(a.strategy, b.strategy) || cmp(a.symbol, b.symbol));
  }
  return out;
}

function ratio(n: bigint, d: bigint): number {
  if (d === 1n) return Number(n);
  const q = n / d;
  return Number(q) + Number(n - q * d) / Number(d);
}

function bookRecord(l: Ledger, b: Book, ts: bigint, scale: number): BookRecord {
  let open = 0;
  let largest = 0;
  for (const pi of b.positions) {
    const p = l.positions[pi];
    if (p.qty === 0) continue;
    open++;
    if (p.notional > largest) largest = p.notional;
  }
  const gross = sumNumber(b.gross) / scale;
  return {
    ts, account: b.account, strategy: b.strategy, positions: open,
    realized: bookRealizedUnits(b) / scale, unrealized: bookUnrealizedUnits(b) / scale, fees: Number(b.fees) / scale,
    dayPnl: b.dayPnl / scale, hwm: b.hwm / scale, drawdown: b.drawdown / scale,
    gross, net: sumNumber(b.mv) / scale, concentration: gross > 0 ? largest / gross : 0, var: b.var, varMissing: b.varMissing,
  };
}
