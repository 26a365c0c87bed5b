/**
 * Fills and start-of-day positions from files, converted once to the ledger's grid (ticks, lots,
 * money units) with off-grid values refused.
 *
 * Fills (Parquet or CSV, `.csv`/`.csv.gz`): fill_id, account, strategy, symbol, side (buy/sell or
 * 1/-1), qty (units: shares, coins), price and fee (currency), order_id (optional), ts_event and
 * ts_recv (epoch ns integers or ISO-8601 UTC strings with up to nine fractional digits).
 * A bad value is a `UserError` naming the file, row (Parquet: 0-based row; CSV: 1-based line),
 * field and value. A repeated fill_id is not an error of the file but a fact of the feed: the
 * later row is kept out (never applied twice) and reported in `duplicates`, naming both rows.
 *
 * Positions (CSV or JSON: an array of objects, or `{ "positions": [...] }`): account, strategy,
 * symbol, qty (signed units), avg_price, and optionally mark_price (the reference price of the
 * day PnL, e.g. yesterday's close; default: the symbol's first mark of the day).
 */
import { readFileSync } from 'node:fs';
import { InputError } from '../core/errors.ts';
import { readCsv } from '../datasets/csv-lines.ts';
import { readTrainingSet } from '../features/table-io.ts';
import { instrumentOf, type Instruments } from './instruments.ts';
import type { StartPosition } from './ledger.ts';
import { toGrid } from './money.ts';
import type { Fill, OrderSide } from './types.ts';

/** Fills read from a file, in file order, with the duplicates left out. */
export interface FillsFile {
  fills: Fill[];
  /** One line per repeated fill_id: which row repeats which. */
  duplicates: string[];
}

const REQUIRED = ['fill_id', 'account', 'strategy', 'symbol', 'side', 'qty', 'price', 'fee', 'ts_event', 'ts_recv'] as const;

type Raw = Record<string, unknown>;

/** Reads rows of a CSV or Parquet file as raw values with their row label. */
async function rawRows(file: string, required: readonly string[]): Promise<{ rows: { at: number; v: Raw }[]; label: 'row' | 'line' }> {
  if (/\.parquet$/i.test(file)) {
    const t = await readTrainingSet(file);
    for (const c of required) if (!t.columns.includes(c)) throw new InputError({ file, field: c, reason: `missing column "${c}" (the file has: ${t.columns.join(', ')})` });
    return { rows: t.rows.map((v, i) => ({ at: i, v })), label: 'row' };
  }
  if (/\.json$/i.test(file)) {
    let doc: unknown;
    try {
      doc = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new InputError({ file, reason: `cannot read as JSON (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` });
    }
    const list = Array.isArray(doc) ? doc : (doc as { positions?: unknown } | null)?.positions;
    if (!Array.isArray(list)) throw new InputError({ file, reason: 'must be a JSON array of rows, or { "positions": [...] }' });
    return {
      rows: list.map((v, i) => {
        if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new InputError({ file, row: i, field: '(row)', value: JSON.stringify(v), reason: 'must be an object' });
        for (const c of required) if (!(c in v)) throw new InputError({ file, row: i, field: c, reason: 'missing' });
        return { at: i, v: v as Raw };
      }),
      label: 'row',
    };
  }
  const t = readCsv(file);
  const header = t.header.map((h) => h.trim());
  for (const c of required) if (!header.includes(c)) throw new InputError({ file, row: 1, rowLabel: 'line', field: c, reason: `missing column "${c}" (header has: ${header.join(', ')})` });
  return {
    rows: t.rows.map(({ line, text }) => {
      const f = text.split(',');
      if (f.length !== header.length) throw new InputError({ file, row: line, rowLabel: 'line', field: '(row)', value: text, reason: `has ${f.length} columns; the header has ${header.length}` });
      return { at: line, v: Object.fromEntries(header.map((h, i) => [h, f[i].trim()])) };
    }),
    label: 'line',
  };
}

class Cell {
  constructor(
    readonly file: string,
    readonly at: number,
    readonly label: 'row' | 'line',
  ) {}
  fail(field: string, value: unknown, reason: string): never {
    throw new InputError({ file: this.file, row: this.at, rowLabel: this.label, field, value: typeof value === 'bigint' ? value : String(value), reason });
  }
  where(field: string): string {
    return `${this.file}, ${this.label} ${this.at}, field ${field}`;
  }
  text(v: Raw, field: string): string {
    const x = v[field];
    if (x === null || x === undefined || String(x) === '') this.fail(field, x, 'empty');
    return String(x);
  }
  number(v: Raw, field: string): number {
    const x = v[field];
    const n = typeof x === 'number' ? x : typeof x === 'bigint' ? Number(x) : typeof x === 'string' && /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(x.trim()) ? Number(x) : NaN;
    if (!Number.isFinite(n)) this.fail(field, x, 'not a number');
    return n;
  }
  time(v: Raw, field: string): bigint {
    const x = v[field];
    if (typeof x === 'bigint') return x;
    if (typeof x === 'number' && Number.isSafeInteger(x)) return BigInt(x);
    const s = String(x ?? '').trim();
    if (/^\d+$/.test(s)) return BigInt(s);
    const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?Z$/.exec(s);
    const ms = m ? Date.parse(`${m[1]}Z`) : NaN;
    if (!m || Number.isNaN(ms)) this.fail(field, x, 'not a time (epoch ns integer, or ISO-8601 UTC like 2024-03-15T14:00:00.123456789Z)');
    return BigInt(ms) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
  }
}

function sideOf(c: Cell, v: Raw): OrderSide {
  const x = v.side;
  const s = String(x ?? '').trim().toLowerCase();
  if (s === 'buy' || s === '1' || s === 'b') return 1;
  if (s === 'sell' || s === '-1' || s === 's') return -1;
  return c.fail('side', x, 'must be buy/sell or 1/-1');
}

/**
 * Reads a fills file (Parquet or CSV) onto the instruments' grid. Throws a `UserError` at the
 * first bad row; repeated fill ids are reported in `duplicates` and left out.
 */
export async function readFillsFile(file: string, instruments: Instruments): Promise<FillsFile> {
  const { rows, label } = await rawRows(file, REQUIRED);
  const seen = new Map<string, number>();
  const out: FillsFile = { fills: [], duplicates: [] };
  for (const { at, v } of rows) {
    const c: Cell = new Cell(file, at, label);
    const fillId = c.text(v, 'fill_id');
    const symbol = c.text(v, 'symbol');
    const inst = instrumentOf(instruments, symbol);
    if (!inst) c.fail('symbol', symbol, 'unknown symbol (not in the instruments file, and it has no default)');
    const side = sideOf(c, v);
    const qtyUnits = c.number(v, 'qty');
    if (qtyUnits <= 0) c.fail('qty', v.qty, 'must be > 0 (the side gives the direction)');
    const px = c.number(v, 'price');
    if (px <= 0) c.fail('price', v.price, 'must be > 0');
    const fee = c.number(v, 'fee');
    const fill: Fill = {
      fillId, account: c.text(v, 'account'), strategy: c.text(v, 'strategy'), symbol, side,
      qty: toGrid(qtyUnits, inst.lot, c.where('qty')),
      price: toGrid(px, inst.tick, c.where('price')),
      fee: toGrid(fee, instruments.moneyGrid, c.where('fee')),
      orderId: v.order_id === undefined || v.order_id === null ? '' : String(v.order_id),
      tsEvent: c.time(v, 'ts_event'),
      tsRecv: c.time(v, 'ts_recv'),
    };
    const first = seen.get(fillId);
    if (first !== undefined) {
      out.duplicates.push(`${file}: fill_id ${JSON.stringify(fillId)} at ${label} ${at} repeats ${label} ${first}; applied once`);
      continue;
    }
    seen.set(fillId, at);
    out.fills.push(fill);
  }
  return out;
}

/** Reads a start-of-day positions file (CSV or JSON) onto the grid. */
export async function readPositionsFile(file: string, instruments: Instruments): Promise<StartPosition[]> {
  const { rows, label } = await rawRows(file, ['account', 'strategy', 'symbol', 'qty', 'avg_price']);
  const seen = new Map<string, number>();
  return rows.map(({ at, v }) => {
    const c: Cell = new Cell(file, at, label);
    const symbol = c.text(v, 'symbol');
    const inst = instrumentOf(instruments, symbol);
    if (!inst) c.fail('symbol', symbol, 'unknown symbol (not in the instruments file, and it has no default)');
    const account = c.text(v, 'account');
    const strategy = c.text(v, 'strategy');
    const key = `${account}/${strategy}/${symbol}`;
    const prev = seen.get(key);
    if (prev !== undefined) c.fail('symbol', symbol, `${key} already given at ${label} ${prev}`);
    seen.set(key, at);
    const avg = c.number(v, 'avg_price');
    if (avg <= 0) c.fail('avg_price', v.avg_price, 'must be > 0');
    const mark = v.mark_price === undefined || v.mark_price === null || v.mark_price === '' ? null : c.number(v, 'mark_price');
    if (mark !== null && mark <= 0) c.fail('mark_price', v.mark_price, 'must be > 0');
    return {
      account, strategy, symbol,
      qty: toGrid(c.number(v, 'qty'), inst.lot, c.where('qty')),
      avgCost: toGrid(avg * inst.lot * inst.multiplier, instruments.moneyGrid, c.where('avg_price')),
      markTicks: mark === null ? null : toGrid(mark, inst.tick, c.where('mark_price')),
    };
  });
}
