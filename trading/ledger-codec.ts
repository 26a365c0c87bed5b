/**
 * An exact, versioned copy of a ledger (ledger.ts) as plain data, and back: what `lockstep desk`
 * checkpoints so that a restart resumes from the checkpoint instead of refolding the day.
 *
 * Why a codec of its own: the ledger's positions and symbols are row classes whose number fields
 * are accessors into two Float64Arrays (ledger.ts `HotStore`), so neither a structuredClone nor
 * core/state-codec.ts (plain data only) can copy one. Here the cold fields become plain records,
 * the hot arrays are copied as they are (every bit: NaN for "no mark", the float VaR terms), and
 * the float accumulators (book VaR, basis fractions, `ExactSum` parts) are kept bit for bit: a
 * ledger decoded from a checkpoint continues exactly as the one encoded would have, output by output.
 *
 * The configuration (instruments, mark, VaR parameters, start positions) is not copied: it is the
 * caller's, given again to `ledgerFromData`; `configHash` lets the caller refuse a checkpoint taken
 * under another configuration (a restored ledger would then not be the fold of its inputs).
 *
 * No I/O, clock, randomness or promises.
 */
import { LockstepError } from '../core/errors.ts';
import { hashState } from '../core/state-codec.ts';
import { HOT, PositionRow, SymbolRow, type Book, type HotStore, type Ledger, type LedgerConfig } from './ledger.ts';

/** Bumped on any change of `LedgerData`'s layout; a checkpoint of another version is not restored. */
export const LEDGER_CODEC_VERSION = 2;

interface PositionData {
  account: string;
  strategy: string;
  symbol: string;
  book: number;
  unit: number;
  basisNum: bigint;
  basisDen: bigint;
  basis0: bigint;
  cash: bigint;
  fees: bigint;
  fills: number;
}

interface SymbolData {
  symbol: string;
  unit: number;
  lot: number;
  tick: number;
  multiplier: number;
  markTs: bigint | null;
  positions: number[];
  netLots: number;
  dirty: boolean;
  pos0: number;
  many: boolean;
}

/** A ledger as plain data (core/state-codec.ts encodes it exactly). */
export interface LedgerData {
  v: number;
  positions: PositionData[];
  /** The positions' hot rows, `HOT` slots each, and the store's capacity (so it grows as the original would). */
  hot: Float64Array;
  hotCap: number;
  books: Book[];
  symbols: SymbolData[];
  symHot: Float64Array;
  symHotCap: number;
  /** The fill ids remembered, oldest applied first, and their ts_event (a typed array: one copy, not an entry per id); and the window's clock. */
  fillIds: string[];
  fillTsEvent: BigInt64Array;
  fillClock: bigint | null;
  dirtyBooks: number[];
  dirtySymbols: string[];
  applied: number;
  rejected: number;
}

/** A refused checkpoint: names why (version, shape). */
export class LedgerCodecError extends LockstepError {}

const copyBook = (b: Book): Book => ({ ...b, positions: [...b.positions], mv: { ...b.mv }, gross: { ...b.gross } });

/** The remembered fill ids and their ts_event, oldest first (one pass: a checkpoint may hold an hour of them). */
function fillIdsData(l: Ledger): { fillIds: string[]; fillTsEvent: BigInt64Array } {
  const q = l.fillQueue;
  const n = q.length - l.fillHead;
  const fillIds = new Array<string>(n);
  const fillTsEvent = new BigInt64Array(n);
  for (let i = 0; i < n; i++) {
    const x = q[l.fillHead + i];
    fillIds[i] = x.id;
    fillTsEvent[i] = x.tsEvent;
  }
  return { fillIds, fillTsEvent };
}

/** The ledger as plain data (a copy: the ledger may go on changing). */
export function ledgerToData(l: Ledger): LedgerData {
  const syms = [...l.symbols.values()] as SymbolRow[];
  return {
    v: LEDGER_CODEC_VERSION,
    positions: l.positions.map((p) => ({ account: p.account, strategy: p.strategy, symbol: p.symbol, book: p.book, unit: p.unit, basisNum: p.basisNum, basisDen: p.basisDen, basis0: p.basis0, cash: p.cash, fees: p.fees, fills: p.fills })),
    hot: l.hot.f.slice(0, HOT * l.positions.length),
    hotCap: l.hot.f.length,
    books: l.books.map(copyBook),
    symbols: syms.map((s) => ({ symbol: s.symbol, unit: s.unit, lot: s.lot, tick: s.tick, multiplier: s.multiplier, markTs: s.markTs, positions: [...s.positions], netLots: s.netLots, dirty: s.dirty, pos0: s.pos0, many: s.many })),
    symHot: l.symHot.f.slice(0, 2 * syms.length),
    symHotCap: l.symHot.f.length,
    ...fillIdsData(l),
    fillClock: l.fillClock,
    dirtyBooks: [...l.dirtyBooks],
    dirtySymbols: [...l.dirtySymbols],
    applied: l.applied,
    rejected: l.rejected,
  };
}

function store(rows: Float64Array, cap: number, what: string): HotStore {
  if (!Number.isSafeInteger(cap) || cap < rows.length) throw new LedgerCodecError(`${what}: capacity ${cap} below its ${rows.length} slots`);
  const f = new Float64Array(cap);
  f.set(rows);
  return { f };
}

/** The ledger `d` describes, under `cfg` (the configuration it was encoded under: see `configHash`). */
export function ledgerFromData(cfg: LedgerConfig, d: LedgerData): Ledger {
  if (d.v !== LEDGER_CODEC_VERSION) throw new LedgerCodecError(`ledger codec version ${String(d.v)}, this build reads ${LEDGER_CODEC_VERSION}`);
  if (!(d.hot instanceof Float64Array) || d.hot.length !== HOT * d.positions.length) throw new LedgerCodecError(`hot rows: ${d.hot?.length} slots for ${d.positions.length} positions`);
  if (!(d.fillTsEvent instanceof BigInt64Array) || d.fillTsEvent.length !== d.fillIds.length) throw new LedgerCodecError(`fill ids: ${d.fillTsEvent?.length} ts_event for ${d.fillIds.length} ids`);
  if (!(d.symHot instanceof Float64Array) || d.symHot.length !== 2 * d.symbols.length) throw new LedgerCodecError(`symbol rows: ${d.symHot?.length} slots for ${d.symbols.length} symbols`);
  const hot = store(new Float64Array(0), d.hotCap, 'hot rows');
  const symHot = store(new Float64Array(0), d.symHotCap, 'symbol rows');
  // the row constructors write their defaults into the store: build the rows, then lay the saved bits over them
  const positions = d.positions.map((p, i) => {
    const row = new PositionRow(hot, HOT * i, p.account, p.strategy, p.symbol, p.book, p.unit);
    row.basisNum = p.basisNum;
    row.basisDen = p.basisDen;
    row.basis0 = p.basis0;
    row.cash = p.cash;
    row.fees = p.fees;
    row.fills = p.fills;
    return row;
  });
  hot.f.set(d.hot);
  const symbols = new Map<string, SymbolRow>();
  d.symbols.forEach((s, i) => {
    const row = new SymbolRow(symHot, 2 * i, s.symbol, s.unit, s.lot, s.tick, s.multiplier);
    row.markTs = s.markTs;
    row.positions = [...s.positions];
    row.netLots = s.netLots;
    row.dirty = s.dirty;
    row.pos0 = s.pos0;
    row.many = s.many;
    symbols.set(s.symbol, row);
  });
  symHot.f.set(d.symHot);
  const books = d.books.map(copyBook);
  // the indexes are insertion-ordered as the ledger built them: position i and book i were the i-th created
  const posIndex = new Map(positions.map((p, i) => [`${p.account}\u0000${p.strategy}\u0000${p.symbol}`, i] as const));
  const bookIndex = new Map(books.slice(1).map((b, i) => [`${b.account}\u0000${b.strategy}`, i + 1] as const));
  return {
    cfg,
    moneyScale: 10 ** cfg.instruments.moneyDecimals,
    varScale: cfg.varZ * Math.sqrt(cfg.varHorizonMinutes / cfg.varRvMinutes),
    positions,
    hot,
    posIndex,
    books,
    bookIndex,
    symbols,
    symHot,
    fillIds: new Map(d.fillIds.map((id, i) => [id, d.fillTsEvent[i]] as const)),
    fillQueue: d.fillIds.map((id, i) => ({ id, tsEvent: d.fillTsEvent[i] })),
    fillHead: 0,
    fillClock: d.fillClock,
    dirtyBooks: [...d.dirtyBooks],
    dirtySymbols: [...d.dirtySymbols],
    applied: d.applied,
    rejected: d.rejected,
  };
}

/** A hash of a ledger configuration: a checkpoint is restored only under the configuration it was taken with. */
export function configHash(cfg: LedgerConfig): string {
  return hashState({ ...cfg, startPositions: cfg.startPositions ? [...cfg.startPositions] : [] });
}
