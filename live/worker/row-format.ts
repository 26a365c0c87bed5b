/**
 * How the worker writes what it computed: output rows (stream field `r`, parsed by
 * read-output.ts) and a symbol's packed latest row (`_row` of its latest-value hash, expanded by
 * the commit script, commit-script.ts). The worker writes rows straight into its batch's bytes
 * (writeRow); encodeRow is the same row as a string (for tests and producers of test streams).
 */
import type { MarketEvent } from '../../core/events.ts';
import type { ByteWriter } from './byte-writer.ts';

/**
 * An output row as one stream field `r` (one bulk string instead of fourteen keeps the commit
 * cheap): `symbol|source|seq|ts_event|ts_recv|input entry id|v1,v2,...` with values in the
 * deployment's column order (`<ns>:meta` field `columns`), shortest round-trip decimals, empty for
 * null. read-output.ts parses it.
 */
export function encodeRow(symbol: string, ev: MarketEvent, id: string, values: readonly (number | null)[]): string {
  return encodeRowPacked(symbol, ev, id, packValues(values));
}

/** `v1,v2,...`: shortest round-trip decimals, empty for null. */
export function packValues(values: readonly (number | null)[]): string {
  let v = '';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) v += ',';
    const x = values[i];
    // String(-0) is '0': the parity diff tells -0 from +0 (Object.is), so live must keep the sign
    if (x !== null) v += x === 0 && 1 / x < 0 ? '-0' : String(x);
  }
  return v;
}

/**
 * The last values packed for one symbol and their text: most columns of a row equal the previous
 * row's (bar factors move once a minute, a book row changes two depth columns), and formatting a
 * double as its shortest decimal is the costliest part of a row, so unchanged ones reuse the text.
 */
export interface PackCache {
  last: (number | null | undefined)[];
  text: string[];
}

/** packValues(values), reusing the text of values equal to the previous call's with this cache. */
export function packValuesCached(values: readonly (number | null)[], cache: PackCache): string {
  const { last, text } = cache;
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    // same number (not 0: -0 === 0) or both null; NaN never equals itself and is re-formatted
    if (x === last[i] && x !== 0) continue;
    last[i] = x;
    text[i] = x === null ? '' : x === 0 && 1 / x < 0 ? '-0' : String(x);
  }
  if (text.length !== values.length) text.length = values.length;
  return text.join(',');
}

/** A value's text in a row: shortest round-trip decimal, '-0' for -0, empty for null. */
const valueText = (x: number | null): string => (x === null ? '' : x === 0 && 1 / x < 0 ? '-0' : String(x));

/** The values' texts (packValues(values) is them joined by ','). */
export function valueTexts(values: readonly (number | null)[]): string[] {
  return values.map(valueText);
}

/**
 * A symbol's row cache for writeRow: PackCache's last values and their texts, plus the bytes of
 * its last packed values (`v1,v2,...`) and where each column starts in them (`starts[n]` = their
 * length). A row changes ~4 of the default set's 37 columns, in ~2 runs: the unchanged runs are
 * copied from the bytes instead of being written text by text (measured: copying each column's
 * text into the row, even a character at a time in JS, cost more than joining them as strings).
 */
export interface RowCache extends PackCache {
  bytes: Buffer | null;
  starts: Int32Array | null;
}

export const newRowCache = (): RowCache => ({ last: [], text: [], bytes: null, starts: null });

/**
 * Appends `encodeRow(symbol, ev, id, values)`'s bytes to `w` (UTF-8, as the string would be sent),
 * reusing the bytes of the values unchanged since the previous row of this cache, and leaves the
 * values' texts in `cache.text`. No string is made but those of changed values.
 */
export function writeRow(w: ByteWriter, symbol: string, ev: MarketEvent, id: string, values: readonly (number | null)[], cache: RowCache): void {
  w.str(symbol);
  w.byte(0x7c);
  w.str(ev.kind);
  w.byte(0x7c);
  w.bigint(ev.seq);
  w.byte(0x7c);
  w.bigint(ev.tsEvent);
  w.byte(0x7c);
  w.bigint(ev.tsRecv);
  w.byte(0x7c);
  w.str(id);
  w.byte(0x7c);
  const { last, text } = cache;
  const n = values.length;
  const from = w.len;
  const bytes = cache.bytes;
  let starts = cache.starts;
  if (bytes === null || starts === null || starts.length !== n + 1) {
    if (text.length !== n) text.length = n;
    for (let i = 0; i < n; i++) {
      const x = values[i];
      last[i] = x;
      text[i] = valueText(x);
      if (i > 0) w.byte(0x2c);
      w.str(text[i]);
    }
    starts = cache.starts = new Int32Array(n + 1);
  } else {
    // column i's bytes are [starts[i], starts[i + 1]): its text and the ',' after it
    let seg = 0;
    for (let i = 0; i < n; i++) {
      const x = values[i];
      // same number (not 0: -0 === 0) or both null; NaN never equals itself and is re-formatted
      if (x === last[i] && x !== 0) continue;
      if (seg < i) w.bytes(bytes, starts[seg], starts[i]);
      last[i] = x;
      const t = valueText(x);
      text[i] = t;
      w.str(t);
      if (i < n - 1) w.byte(0x2c);
      seg = i + 1;
    }
    if (seg < n) w.bytes(bytes, starts[seg], starts[n]);
  }
  // the next row's copy of these values: their bytes (a short text's length is its bytes: numbers are ASCII)
  let at = 0;
  for (let i = 0; i < n; i++) {
    starts[i] = at;
    at += text[i].length + (i < n - 1 ? 1 : 0);
  }
  starts[n] = at;
  const len = w.len - from;
  if (len !== at) throw new Error(`row of ${symbol}: values took ${len} bytes, expected ${at}`); // never: a worker bug
  if (cache.bytes === null || cache.bytes.length < len) cache.bytes = Buffer.allocUnsafe(Math.max(256, len * 2));
  w.buf.copy(cache.bytes, 0, from, w.len);
}

/** encodeRow with the values already packed. */
export function encodeRowPacked(symbol: string, ev: MarketEvent, id: string, packed: string): string {
  return `${symbol}|${ev.kind}|${ev.seq}|${ev.tsEvent}|${ev.tsRecv}|${id}|${packed}`;
}

/** The newest row of a symbol in the batch: the latest-value hash is built from it once, at commit. */
export interface LatestRow {
  id: string;
  kind: string;
  seq: bigint;
  tsEvent: bigint;
  tsRecv: bigint;
  /**
   * The values' texts as in the output row (valueTexts). The worker's rows leave here their text
   * cache's array, which the symbol's next row rewrites: it is read when the commit is planned,
   * before any other row is applied, and copied for what outlives that.
   */
  text: readonly string[];
}

/**
 * A symbol's packed latest row, `_row` of its latest-value hash:
 * `ts_event|ts_recv|seq|source|at|fsv|v1,v2,...` (at = computed-at, the commit's wall time in ms).
 * The commit script derives the hash's other fields from it (commit-script.ts). The values come
 * packed (`v1,v2,...`) or as their texts.
 */
export function latestRow(r: Omit<LatestRow, 'text'> & ({ packed: string } | { text: readonly string[] }), fsv: string, at: string): string {
  return `${r.tsEvent}|${r.tsRecv}|${r.seq}|${r.kind}|${at}|${fsv}|${'packed' in r ? r.packed : r.text.join(',')}`;
}
