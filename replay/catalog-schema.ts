/**
 * The canonical catalog's Parquet schemas, one per event kind, and the conversion between Arrow
 * columns and `MarketEvent`s in both directions.
 *
 * Column names follow the conventions quants already use: `ts_event` / `ts_recv` as in
 * NautilusTrader (`ts_init`) and Databento; `bid_px` / `ask_px` / `bid_sz` / `ask_sz` as Databento
 * MBP-1; book rows like Tardis `incremental_book_L2` (side, price, size, is-snapshot).
 */
import type { Table } from 'apache-arrow';
import type { BookEvent, CorporateActionEvent, FundamentalEvent, Kind, MarketEvent, NewsEvent, QuoteEvent, TradeEvent } from '../core/events.ts';
import { chunkValues, type ColumnData, type ColumnSpec } from './parquet-io.ts';
import { InputError } from '../core/errors.ts';
import { emptyBatch, eventAt, firstInvalidRow, int64ToF64, type EventBatch } from '../core/event-batch.ts';

const COMMON: ColumnSpec[] = [
  { name: 'ts_event', type: 'timestamp' },
  { name: 'ts_recv', type: 'timestamp' },
  { name: 'symbol', type: 'utf8' },
  { name: 'seq', type: 'int64' },
];

/** Required columns per kind (after the common four), then optional ones. */
export const KIND_COLUMNS: Record<Kind, { required: ColumnSpec[]; optional: ColumnSpec[] }> = {
  trade: {
    required: [
      { name: 'price', type: 'float64' },
      { name: 'size', type: 'float64' },
      { name: 'side', type: 'int8' },
    ],
    optional: [
      { name: 'exchange', type: 'utf8', nullable: true },
      { name: 'conditions', type: 'utf8', nullable: true },
      { name: 'trade_id', type: 'int64', nullable: true },
    ],
  },
  quote: {
    required: [
      { name: 'bid_px', type: 'float64' },
      { name: 'bid_sz', type: 'float64' },
      { name: 'ask_px', type: 'float64' },
      { name: 'ask_sz', type: 'float64' },
    ],
    optional: [{ name: 'exchange', type: 'utf8', nullable: true }],
  },
  book: {
    required: [
      { name: 'side', type: 'int8' },
      { name: 'price', type: 'float64' },
      { name: 'size', type: 'float64' },
      { name: 'snapshot', type: 'bool' },
      { name: 'last', type: 'bool' },
    ],
    optional: [{ name: 'update_id', type: 'int64', nullable: true }],
  },
  fundamental: {
    required: [
      { name: 'fiscal_year', type: 'int32' },
      { name: 'fiscal_period', type: 'utf8' },
      { name: 'eps', type: 'float64', nullable: true },
      { name: 'eps_ttm', type: 'float64', nullable: true },
      { name: 'book_value_per_share', type: 'float64', nullable: true },
      { name: 'shares_outstanding', type: 'float64', nullable: true },
    ],
    optional: [
      { name: 'period_end', type: 'date', nullable: true },
      { name: 'form', type: 'utf8', nullable: true },
    ],
  },
  corporate_action: {
    // ts_event = ts_recv = announcement; ts_ex = when it takes effect. ratio is null for a
    // dividend, amount null for a split.
    required: [
      { name: 'action', type: 'utf8' },
      { name: 'ts_ex', type: 'timestamp' },
      { name: 'ratio', type: 'float64', nullable: true },
      { name: 'amount', type: 'float64', nullable: true },
    ],
    optional: [],
  },
  news: {
    required: [{ name: 'sentiment', type: 'float64' }],
    optional: [
      { name: 'headline', type: 'utf8', nullable: true },
      { name: 'provider', type: 'utf8', nullable: true },
    ],
  },
  heartbeat: { required: [], optional: [] },
};

/** Full column list for a kind: common, required, then the optional columns present. */
export function kindSchema(kind: Kind, optional: readonly string[] = []): ColumnSpec[] {
  const k = KIND_COLUMNS[kind];
  return [...COMMON, ...k.required, ...k.optional.filter((c) => optional.includes(c.name))];
}

/** Arrow type names the reader accepts for each column type (dictionary strings are fine). */
const ACCEPT: Record<ColumnSpec['type'], RegExp> = {
  timestamp: /^Timestamp<NANOSECOND(, UTC)?>$/,
  int64: /^Int64$/,
  float64: /^Float64$/,
  int8: /^Int8$/,
  int32: /^Int32$/,
  bool: /^Bool$/,
  utf8: /^(Utf8|LargeUtf8|Dictionary<Int\d+, (Large)?Utf8>)$/,
  date: /^Date(Day|32)/,
};

/** Throws InputError when a file's columns do not match the kind's schema. */
export function checkSchema(file: string, kind: Kind, columns: { name: string; type: string }[]): void {
  const have = new Map(columns.map((c) => [c.name, c.type]));
  for (const spec of [...COMMON, ...KIND_COLUMNS[kind].required, ...KIND_COLUMNS[kind].optional]) {
    const t = have.get(spec.name);
    const required = !KIND_COLUMNS[kind].optional.includes(spec);
    if (t === undefined) {
      if (required) throw new InputError({ file, field: spec.name, reason: `missing column "${spec.name}" required for ${kind} files (has: ${columns.map((c) => c.name).join(', ')})` });
      continue;
    }
    if (!ACCEPT[spec.type].test(t)) {
      throw new InputError({ file, field: spec.name, value: t, reason: `column "${spec.name}" has type ${t}; expected ${spec.type}` });
    }
  }
}

/** The columns a reader of `kind` events decodes: the common and required ones, in the file's order. */
export function readColumns(kind: Kind, columns: readonly { name: string }[]): string[] {
  const used = new Set([...COMMON, ...KIND_COLUMNS[kind].required].map((c) => c.name));
  return columns.map((c) => c.name).filter((n) => used.has(n));
}

/** Column data for writing a list of events of one kind. */
export function eventsToColumns(kind: Kind, events: readonly MarketEvent[], extra: Record<string, ColumnData> = {}): { specs: ColumnSpec[]; columns: Record<string, ColumnData>; n: number } {
  const n = events.length;
  const tsEvent = new BigInt64Array(n);
  const tsRecv = new BigInt64Array(n);
  const seq = new BigInt64Array(n);
  const symbol: string[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const e = events[i];
    if (e.kind !== kind) throw new Error(`eventsToColumns(${kind}): row ${i} is a ${e.kind}`);
    tsEvent[i] = e.tsEvent;
    tsRecv[i] = e.tsRecv;
    seq[i] = e.seq;
    symbol[i] = e.symbol;
  }
  const columns: Record<string, ColumnData> = { ts_event: tsEvent, ts_recv: tsRecv, symbol, seq, ...kindColumns(kind, events), ...extra };
  return { specs: kindSchema(kind, Object.keys(extra)), columns, n };
}

const f64 = <E>(events: readonly E[], get: (e: E) => number) => Float64Array.from(events, get);
const nullableF64 = <E>(events: readonly E[], get: (e: E) => number) => events.map((e) => (Number.isNaN(get(e)) ? null : get(e)));

function kindColumns(kind: Kind, events: readonly MarketEvent[]): Record<string, ColumnData> {
  switch (kind) {
    case 'trade': {
      const ev = events as TradeEvent[];
      return { price: f64(ev, (e) => e.price), size: f64(ev, (e) => e.size), side: Int8Array.from(ev, (e) => e.side) };
    }
    case 'quote': {
      const ev = events as QuoteEvent[];
      return { bid_px: f64(ev, (e) => e.bidPx), bid_sz: f64(ev, (e) => e.bidSz), ask_px: f64(ev, (e) => e.askPx), ask_sz: f64(ev, (e) => e.askSz) };
    }
    case 'book': {
      const ev = events as BookEvent[];
      return {
        side: Int8Array.from(ev, (e) => e.side),
        price: f64(ev, (e) => e.price),
        size: f64(ev, (e) => e.size),
        snapshot: ev.map((e) => e.snapshot),
        last: ev.map((e) => e.last),
      };
    }
    case 'fundamental': {
      const ev = events as FundamentalEvent[];
      return {
        fiscal_year: Int32Array.from(ev, (e) => e.fiscalYear),
        fiscal_period: ev.map((e) => e.fiscalPeriod),
        eps: nullableF64(ev, (e) => e.eps),
        eps_ttm: nullableF64(ev, (e) => e.epsTtm),
        book_value_per_share: nullableF64(ev, (e) => e.bookValuePerShare),
        shares_outstanding: nullableF64(ev, (e) => e.sharesOutstanding),
      };
    }
    case 'corporate_action': {
      const ev = events as CorporateActionEvent[];
      return {
        action: ev.map((e) => e.action),
        ts_ex: BigInt64Array.from(ev, (e) => e.tsEx),
        ratio: nullableF64(ev, (e) => e.ratio),
        amount: nullableF64(ev, (e) => e.amount),
      };
    }
    case 'news': {
      const ev = events as NewsEvent[];
      return { sentiment: f64(ev, (e) => e.sentiment) };
    }
    case 'heartbeat':
      return {};
  }
}

type Col = { data: { values: ArrayBufferView; offset: number; length: number; nullCount: number }[]; get(i: number): unknown; isValid(i: number): boolean };

function col(table: Table, name: string): Col {
  const c = table.getChild(name);
  if (!c) throw new Error(`column ${name} missing`);
  return c as unknown as Col;
}

/** Single-chunk typed values of a column (readRowGroup yields one chunk per batch; we concatenate). */
function numeric<T extends ArrayBufferView>(table: Table, name: string, Ctor: { new (n: number): T }): T {
  const c = col(table, name);
  if (c.data.length === 1) return chunkValues(c.data[0]) as unknown as T;
  const out = new Ctor(table.numRows) as unknown as { set(a: ArrayLike<unknown>, o: number): void };
  let o = 0;
  for (const d of c.data) {
    const v = chunkValues(d) as unknown as ArrayLike<unknown>;
    out.set(v, o);
    o += v.length;
  }
  return out as unknown as T;
}

function nullableNumbers(table: Table, name: string): Float64Array {
  const c = col(table, name);
  const v = numeric(table, name, Float64Array);
  const out = new Float64Array(v);
  if (c.data.some((d) => d.nullCount > 0)) for (let i = 0; i < out.length; i++) if (!c.isValid(i)) out[i] = NaN;
  return out;
}

/** A string column's values; dictionary columns decode each distinct string once. */
function strings(table: Table, name: string): string[] {
  const c = col(table, name) as unknown as { data: { dictionary?: { toArray(): string[] }; values: Int32Array; offset: number; length: number; nullCount: number }[]; get(i: number): string | null };
  const n = table.numRows;
  const out: string[] = new Array(n);
  let o = 0;
  for (const d of c.data) {
    if (d.dictionary && d.nullCount === 0) {
      const dict = d.dictionary.toArray();
      const idx = d.values;
      for (let i = 0; i < d.length; i++) out[o + i] = dict[idx[d.offset + i]];
      o += d.length;
    } else {
      for (let i = 0; i < d.length; i++, o++) out[o] = c.get(o) ?? '';
    }
  }
  return out;
}

/** A boolean column's values read straight from its bit-packed buffer (nulls read as false). */
function bools(table: Table, name: string): Uint8Array {
  const c = col(table, name) as unknown as { data: { values: Uint8Array; offset: number; length: number; nullCount: number; nullBitmap?: Uint8Array }[] };
  const out = new Uint8Array(table.numRows);
  let o = 0;
  for (const d of c.data) {
    const bits = d.values;
    const valid = d.nullCount > 0 ? d.nullBitmap : undefined;
    for (let i = 0; i < d.length; i++, o++) {
      const j = d.offset + i;
      const set = (bits[j >> 3] >> (j & 7)) & 1;
      out[o] = valid && ((valid[j >> 3] >> (j & 7)) & 1) === 0 ? 0 : set;
    }
  }
  return out;
}

/**
 * Symbol strings of one file mapped to small ids, shared by all its batches: row groups (and the
 * Arrow chunks within one) each carry their own dictionary, and the merge and the order check
 * compare ids within a file instead of strings.
 */
export class SymbolIds {
  readonly symbols: string[] = [];
  private readonly ids = new Map<string, number>();

  id(s: string): number {
    let id = this.ids.get(s);
    if (id === undefined) {
      id = this.symbols.length;
      this.ids.set(s, id);
      this.symbols.push(s);
    }
    return id;
  }
}

/** A string column as ids into `dict` (nulls read as ''); dictionary chunks map each entry once. */
function stringIds(table: Table, name: string, dict: SymbolIds): Int32Array {
  const c = col(table, name) as unknown as { data: { dictionary?: { toArray(): string[] }; values: Int32Array; offset: number; length: number; nullCount: number }[]; get(i: number): string | null };
  const out = new Int32Array(table.numRows);
  let o = 0;
  for (const d of c.data) {
    if (d.dictionary && d.nullCount === 0) {
      const map = Int32Array.from(d.dictionary.toArray(), (s) => dict.id(s));
      const idx = d.values;
      for (let i = 0; i < d.length; i++) out[o + i] = map[idx[d.offset + i]];
      o += d.length;
    } else {
      for (let i = 0; i < d.length; i++, o++) out[o] = dict.id(c.get(o) ?? '');
    }
  }
  return out;
}

/**
 * One row group of a catalog file as a column batch (core/event-batch.ts): typed arrays straight
 * from Arrow's buffers where the layout allows, no object per row. `symbols` gives the file's rows
 * shared symbol ids. Nothing is validated here: firstInvalidRow does that, a slice at a time.
 */
export function batchFromTable(kind: Kind, table: Table, symbols: SymbolIds = new SymbolIds()): EventBatch {
  const tsRecv = numeric(table, 'ts_recv', BigInt64Array);
  const b = emptyBatch(kind, table.numRows, {
    tsEvent: numeric(table, 'ts_event', BigInt64Array),
    tsRecv,
    seq: numeric(table, 'seq', BigInt64Array),
    tsRecvF: int64ToF64(tsRecv),
    symbolId: stringIds(table, 'symbol', symbols),
    symbols: symbols.symbols,
  });
  switch (kind) {
    case 'trade':
      b.price = numeric(table, 'price', Float64Array);
      b.size = numeric(table, 'size', Float64Array);
      b.side = numeric(table, 'side', Int8Array);
      break;
    case 'quote':
      b.bidPx = numeric(table, 'bid_px', Float64Array);
      b.bidSz = numeric(table, 'bid_sz', Float64Array);
      b.askPx = numeric(table, 'ask_px', Float64Array);
      b.askSz = numeric(table, 'ask_sz', Float64Array);
      break;
    case 'book':
      b.side = numeric(table, 'side', Int8Array);
      b.price = numeric(table, 'price', Float64Array);
      b.size = numeric(table, 'size', Float64Array);
      b.snapshot = bools(table, 'snapshot');
      b.last = bools(table, 'last');
      break;
    case 'fundamental':
      b.fiscalYear = numeric(table, 'fiscal_year', Int32Array);
      b.fiscalPeriod = strings(table, 'fiscal_period');
      b.eps = nullableNumbers(table, 'eps');
      b.epsTtm = nullableNumbers(table, 'eps_ttm');
      b.bookValuePerShare = nullableNumbers(table, 'book_value_per_share');
      b.sharesOutstanding = nullableNumbers(table, 'shares_outstanding');
      break;
    case 'corporate_action':
      b.action = strings(table, 'action');
      b.tsEx = numeric(table, 'ts_ex', BigInt64Array);
      b.ratio = nullableNumbers(table, 'ratio');
      b.amount = nullableNumbers(table, 'amount');
      break;
    case 'news':
      b.sentiment = numeric(table, 'sentiment', Float64Array);
      break;
    case 'heartbeat':
      break;
  }
  return b;
}

/**
 * Decodes rows [start, end) of one row group of a catalog file into events and validates each
 * (core's policy). `firstRow` is the file row number of the group's first row, so errors name the
 * real row. Columns are extracted once per row group; events are built on demand so that memory
 * holds Arrow columns, not millions of objects.
 */
export type RowDecoder = (start: number, end: number, out: MarketEvent[]) => void;

/**
 * ts_recv of every row as a float64, correctly rounded from the exact int64 (one rounding of
 * hi·2^32 + lo). Rounding is monotonic, so `approx[a] < approx[b]` implies ts_recv[a] < ts_recv[b]:
 * the merge compares these cheap numbers first and falls back to core's exact comparator on ties.
 */
export function tsRecvApprox(table: Table): Float64Array {
  return int64ToF64(numeric(table, 'ts_recv', BigInt64Array));
}

export function rowGroupDecoder(kind: Kind, table: Table, file: string, firstRow: number): RowDecoder {
  const b = batchFromTable(kind, table);
  return (start, end, out) => {
    const bad = firstInvalidRow(b, start, end);
    if (bad) throw new InputError({ file, row: firstRow + bad.row, field: bad.problem.field, value: bad.problem.value, reason: bad.problem.reason });
    for (let i = start; i < end; i++) out.push(eventAt(b, i));
  };
}

/** Decodes and validates a whole row group (see rowGroupDecoder). */
export function decodeEvents(kind: Kind, table: Table, file: string, firstRow: number): MarketEvent[] {
  const out: MarketEvent[] = [];
  rowGroupDecoder(kind, table, file, firstRow)(0, table.numRows, out);
  return out;
}
