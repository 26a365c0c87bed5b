/**
 * Row keys: how rows of two factor tables (or a table and a live capture) are identified and
 * ordered. Pure, beside `compareEvents`, so every layer that walks rows in replay order or by the
 * user's keys shares one definition: replay reads key columns, live merges shard streams, parity
 * diffs.
 *
 * The identity key (symbol, source, seq) is walked in the replay order (`compareRowKey`): ts_recv,
 * source priority, symbol, seq.
 *
 * Keys the user chooses (`parity diff --keys ts_event,symbol`) match a table that is not keyed
 * by the input event's identity (a researcher's pandas or SQL output, keyed by symbol and time, or
 * by bar) row for row.
 *
 * A key value is normalized so that the same value matches whatever format stored it: an integer
 * (int64, timestamp in its stored unit, an integral float, or text that spells an int64 such as a
 * CSV cell) becomes a bigint, compared exactly; anything else is text (a non-integral float by its
 * shortest decimal form). The order used to walk two tables together is lexicographic over the key
 * columns as given, integers (numerically) before text (by UTF-16 code unit): a total order, the
 * same on both sides, so tables sorted by their keys diff in a window of a few rows, and the diff's
 * retirement rule stays safe for any input (see parity/stream-diff.ts).
 */
import { SOURCE_PRIORITY, isKind } from './events.ts';

/** The identity and position of an output row: what the replay order sorts by. */
export interface RowKey {
  symbol: string;
  source: string;
  seq: bigint;
  tsRecv: bigint;
}

/** Rank of a row's source at equal ts_recv; sources that are not event kinds sort after them. */
export const sourceRank = (source: string): number => (isKind(source) ? SOURCE_PRIORITY[source] : 100);

/**
 * The replay order on output rows: ts_recv, source priority, symbol, seq (compareEvents on the
 * input event; a heartbeat's fan-out rows by symbol). Unknown sources tie-break by name so the
 * order stays total.
 */
export function compareRowKey(a: RowKey, b: RowKey): number {
  if (a.tsRecv !== b.tsRecv) return a.tsRecv < b.tsRecv ? -1 : 1;
  if (a.source !== b.source) {
    const d = sourceRank(a.source) - sourceRank(b.source);
    if (d !== 0) return d;
    return a.source < b.source ? -1 : 1;
  }
  if (a.symbol !== b.symbol) return a.symbol < b.symbol ? -1 : 1;
  if (a.seq !== b.seq) return a.seq < b.seq ? -1 : 1;
  return 0;
}

export type KeyValue = string | bigint;
/** One key column of a batch: int64s as read, or normalized values. */
export type KeyColumn = BigInt64Array | KeyValue[];

/** The default key: the input event's identity, walked in the replay order. */
export const IDENTITY_KEYS = ['symbol', 'source', 'seq'] as const;
/** Columns that identify or time a row: never compared as values. */
export const IDENTITY_COLUMNS = ['symbol', 'source', 'seq', 'ts_event', 'ts_recv'];

const INT = /^-?(0|[1-9][0-9]{0,18})$/;
const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

/** A key cell read as text (CSV, utf8 columns): an int64 spelled in decimal becomes a bigint. */
export function keyValueOfText(s: string): KeyValue {
  if (INT.test(s)) {
    const b = BigInt(s);
    if (b >= I64_MIN && b <= I64_MAX) return b;
  }
  return s;
}

/** A key cell stored as a float: integral values are integers (so 3.0 matches an int64 3). */
export function keyValueOfNumber(x: number): KeyValue {
  return Number.isInteger(x) && Math.abs(x) <= Number.MAX_SAFE_INTEGER ? BigInt(x) : String(x);
}

export function compareKeyValues(a: KeyValue, b: KeyValue): number {
  if (typeof a === 'bigint') {
    if (typeof b !== 'bigint') return -1;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  if (typeof b === 'bigint') return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

export function compareKeyParts(a: readonly KeyValue[], b: readonly KeyValue[]): number {
  for (let c = 0; c < a.length; c++) {
    const d = compareKeyValues(a[c], b[c]);
    if (d !== 0) return d;
  }
  return 0;
}

/** The key's text, for the diff's maps and messages (parts joined by NUL; shown joined by '/'). */
export const keyText = (parts: readonly KeyValue[]): string => parts.join('\u0000');

export function isIdentityKeys(keys: readonly string[] | undefined): boolean {
  return keys === undefined || (keys.length === 3 && keys.every((k, i) => k === IDENTITY_KEYS[i]));
}

/** `--keys a,b,c`: non-empty, distinct column names. */
export function parseKeys(text: string): string[] {
  const keys = text.split(',').map((k) => k.trim());
  if (keys.some((k) => k === '')) throw new Error(`--keys ${JSON.stringify(text)}: give column names separated by commas`);
  const dup = keys.find((k, i) => keys.indexOf(k) !== i);
  if (dup !== undefined) throw new Error(`--keys ${JSON.stringify(text)}: column ${dup} is named twice`);
  return keys;
}

/** The columns compared as values: all but the key columns and the identity/time columns. */
export function valueColumns(columns: readonly string[], keys: readonly string[] | undefined): string[] {
  return columns.filter((c) => !IDENTITY_COLUMNS.includes(c) && !(keys ?? []).includes(c));
}

/** Which column spans the mismatch timeline of a table: ts_recv, else ts_event, else the row number. */
export type TimeAxis = 'ts_recv' | 'ts_event' | 'row';
export const timeAxisOf = (columns: readonly string[]): TimeAxis => (columns.includes('ts_recv') ? 'ts_recv' : columns.includes('ts_event') ? 'ts_event' : 'row');
