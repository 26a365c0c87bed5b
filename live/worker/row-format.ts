/**
 * How the worker writes what it computed: output rows (stream field `r`, parsed by
 * read-output.ts) and a symbol's packed latest row (`_row` of its latest-value hash, expanded by
 * the commit script, commit-script.ts). Runs per row: string building only, no other allocation.
 */
import type { MarketEvent } from '../../core/events.ts';

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
  /** Values as in the output row: `v1,v2,...`, empty for null. */
  packed: string;
}

/**
 * A symbol's packed latest row, `_row` of its latest-value hash:
 * `ts_event|ts_recv|seq|source|at|fsv|v1,v2,...` (at = computed-at, the commit's wall time in ms).
 * The commit script derives the hash's other fields from it (commit-script.ts).
 */
export function latestRow(r: LatestRow, fsv: string, at: string): string {
  return `${r.tsEvent}|${r.tsRecv}|${r.seq}|${r.kind}|${at}|${fsv}|${r.packed}`;
}
