/**
 * The read client for trading engines: `getOnlineFeatures({ symbols, features })` reads the
 * latest values of many symbols and features in one round trip (one pipeline of HGETs of each
 * symbol's packed row on a single node; on Cluster one pipeline per shard, sent together). Read
 * through `openFeatureSource(url)` (row-reader.ts): a lean connection on a single node, several
 * times faster than ioredis at the tail; an ioredis client works too.
 * `getOnlineFeaturesJson` gives the same answer as JSON text for the HTTP API.
 *
 * Each value comes with a status: `present` (fresh), `stale` (not refreshed within `maxAgeMs` of
 * wall-clock time since the worker computed it), `missing` (never computed, warming up, or
 * expired), or `killed` (the kill switch is on for the symbol: the value is withheld, and the
 * symbol's `killed` says why; kill-switch.ts), plus the event time and sequence of the row that
 * produced it. The kill switch is read with the rows, in the same round trip.
 */
import { RowReader, type FeatureSource } from './row-reader.ts';
import { killSwitchKey, latestKey, metaKey, pnlKey, positionsKey, riskKey, SYMBOL_RE, type KeyLayout } from './keys.ts';
import { decodeDeskFields, type DeskRecord } from './pnl-record.ts';
import { killFor, parseKillState, type KillEntry, type KillState } from './kill-switch.ts';
import { UserError } from '../core/errors.ts';

export type ValueStatus = 'present' | 'stale' | 'missing' | 'killed';

export interface FeatureValue {
  value: number | null;
  status: ValueStatus;
}

export interface SymbolFeatures {
  symbol: string;
  /** ts_event of the input event whose row set these values (epoch ns), null if none. */
  tsEvent: bigint | null;
  seq: bigint | null;
  /** Wall-clock ms when the worker computed the row. */
  computedAt: number | null;
  featureSetVersion: string | null;
  features: Record<string, FeatureValue>;
  /** Present only while the kill switch is on for this symbol: every value is then null, `killed`. */
  killed?: KillEntry;
}

export interface OnlineQuery {
  symbols: readonly string[];
  features: readonly string[];
  /** Values older than this (ms since computed) are `stale`. Default 5000. */
  maxAgeMs?: number;
  /** Injected clock for tests. */
  now?: number;
}

export const FEATURE_RE = /^[a-z][a-z0-9_]{0,63}$/;

export class QueryError extends UserError {}

/**
 * A query's bounds: 1,000 symbols, 4,096 features (a wide deployment serves ~1,000 columns per
 * symbol, examples/factors-1000.json, and a reader may want all of them).
 */
export const QUERY_LIMITS = { symbols: 1000, features: 4096 };

export function validateQuery(q: OnlineQuery, limits = QUERY_LIMITS): void {
  if (q.symbols.length === 0) throw new QueryError('symbols: at least one symbol is required');
  if (q.features.length === 0) throw new QueryError('features: at least one feature is required');
  if (q.symbols.length > limits.symbols) throw new QueryError(`symbols: at most ${limits.symbols} per request, got ${q.symbols.length}`);
  if (q.features.length > limits.features) throw new QueryError(`features: at most ${limits.features} per request, got ${q.features.length}`);
  for (const s of q.symbols) if (!SYMBOL_RE.test(s)) throw new QueryError(`symbols: invalid symbol ${JSON.stringify(s)}`);
  for (const f of q.features) if (!FEATURE_RE.test(f)) throw new QueryError(`features: invalid feature name ${JSON.stringify(f)}`);
}

/** Column order of a deployment's rows (from `<ns>:meta`), cached per namespace and feature set. */
const columnCache = new Map<string, { fsv: string; index: Map<string, number> }>();

async function fetchColumns(r: FeatureSource, keys: KeyLayout): Promise<Map<string, number>> {
  const [cols, version] = await r.hmget(metaKey(keys), 'columns', 'featureSetVersion');
  const index = new Map((cols ?? '').split(',').filter(Boolean).map((c, i) => [c, i]));
  columnCache.set(keys.ns, { fsv: version ?? '', index });
  return index;
}

/**
 * Latest-value key of each symbol, per layout: the key embeds the symbol's shard (a hash of its
 * UTF-8 bytes), and a reader asks for the same symbols again and again. Bounded: cleared when it
 * grows past 100k names.
 */
const keyCache = new Map<string, Map<string, string>>();

function keyOf(keys: KeyLayout, symbol: string): string {
  const layout = `${keys.ns}\u0000${keys.shards}`;
  let m = keyCache.get(layout);
  if (m === undefined) keyCache.set(layout, (m = new Map()));
  let k = m.get(symbol);
  if (k === undefined) {
    if (m.size >= 100_000) m.clear();
    m.set(symbol, (k = latestKey(keys, symbol)));
  }
  return k;
}

/** Each symbol's packed latest row (`_row`, null where there is none) and the kill switch: one round trip. */
async function readRows(r: FeatureSource, keys: KeyLayout, symbols: readonly string[]): Promise<{ rows: (string | null)[]; kill: string | null }> {
  const killKey = killSwitchKey(keys);
  if (r instanceof RowReader) {
    const rows = await r.hgetEachThenGet(symbols.map((s) => keyOf(keys, s)), '_row', killKey);
    const kill = rows.pop() ?? null;
    return { rows, kill };
  }
  // ioredis: commands sent in the same tick share the connection's write, so this is one round trip
  const kill = r.get(killKey);
  if (symbols.length === 1) {
    const [row, k] = await Promise.all([r.hget(keyOf(keys, symbols[0]), '_row'), kill]);
    return { rows: [row], kill: k };
  }
  // on Cluster every HGET on its own, all at once: a Cluster pipeline cut short by a failover can
  // leave a connection out of step for good (cluster-commands.ts)
  if ((r as { isCluster?: boolean }).isCluster === true) {
    const [rows, k] = await Promise.all([Promise.all(symbols.map((s) => r.hget(keyOf(keys, s), '_row'))), kill]);
    return { rows, kill: k };
  }
  // one pipeline, one write, on a single node
  const rows: (string | null)[] = new Array(symbols.length).fill(null);
  const p = r.pipeline();
  for (const s of symbols) p.hget(keyOf(keys, s), '_row');
  // awaited together: a failed read must not leave the kill switch's rejection unhandled
  const [res, k] = await Promise.all([p.exec(), kill]);
  const out = res ?? [];
  for (let i = 0; i < symbols.length; i++) {
    const [err, v] = out[i] ?? [new Error('no reply'), null];
    if (err) throw err;
    rows[i] = v as string | null;
  }
  return { rows, kill: k };
}

/** A query's raw read: each symbol's packed latest row (null where none) and the column of each feature. */
export interface RawRead {
  rows: (string | null)[];
  /** Per requested feature, its position in a row's values (-1: not a column of the deployment). */
  cols: number[];
  kill: KillState;
}

/**
 * Reads each symbol's packed latest row (`_row`: ts_event|ts_recv|seq|source|computed-at ms|
 * feature-set version|v1,v2,...) with one HGET per symbol, pipelined and sent together: one round
 * trip, and one short reply per symbol instead of one per feature.
 */
export async function readRaw(r: FeatureSource, keys: KeyLayout, q: OnlineQuery): Promise<RawRead> {
  validateQuery(q);
  const { rows, kill } = await readRows(r, keys, q.symbols);
  // the column order comes from meta: fetched once, and again when a row was made by another
  // feature set than the cached order's
  const cached = columnCache.get(keys.ns);
  let index = cached?.index;
  for (let i = 0; i < rows.length && index !== undefined; i++) {
    const raw = rows[i];
    if (raw !== null && fieldOf(raw, 5) !== cached!.fsv) index = undefined;
  }
  if (index === undefined) index = await fetchColumns(r, keys);
  return { rows, cols: q.features.map((f) => index.get(f) ?? -1), kill: parseKillState(kill) };
}

/** Latest values of some features for some symbols, each with its status (present, stale, missing, killed). */
export async function getOnlineFeatures(r: FeatureSource, keys: KeyLayout, q: OnlineQuery): Promise<SymbolFeatures[]> {
  const { rows, cols, kill } = await readRaw(r, keys, q);
  const now = q.now ?? Date.now();
  const maxAge = q.maxAgeMs ?? 5000;
  const make = recordMaker(q.features);
  const n = q.features.length;
  const fv: FeatureValue[] = new Array(n);
  const out: SymbolFeatures[] = new Array(q.symbols.length);
  for (let i = 0; i < q.symbols.length; i++) {
    const symbol = q.symbols[i];
    const raw = rows[i];
    if (raw === null) {
      const killed = killFor(kill, symbol);
      for (let j = 0; j < n; j++) fv[j] = { value: null, status: killed ? 'killed' : 'missing' };
      out[i] = { symbol, tsEvent: null, seq: null, computedAt: null, featureSetVersion: null, features: make(fv) };
      if (killed) out[i].killed = killed;
      continue;
    }
    const [te, , seq, , at, fsv, packed] = raw.split('|');
    const computedAt = Number(at);
    const killed = killFor(kill, symbol);
    if (killed !== null) {
      for (let j = 0; j < n; j++) fv[j] = { value: null, status: 'killed' };
      out[i] = { symbol, tsEvent: BigInt(te), seq: BigInt(seq), computedAt, featureSetVersion: fsv, features: make(fv), killed };
      continue;
    }
    const values = packed.split(',');
    const stale = now - computedAt > maxAge;
    for (let j = 0; j < n; j++) {
      const k = cols[j];
      const rawV = k < 0 ? '' : (values[k] ?? '');
      const value = rawV === '' ? null : Number(rawV);
      fv[j] = { value, status: value === null ? 'missing' : stale ? 'stale' : 'present' };
    }
    out[i] = { symbol, tsEvent: BigInt(te), seq: BigInt(seq), computedAt, featureSetVersion: fsv, features: make(fv) };
  }
  return out;
}

/**
 * The same answer as `getOnlineFeatures`, as the JSON text `{"symbols":[...]}` that
 * `JSON.stringify` makes of it (bigints as strings), built straight from the packed rows: the
 * stored values are already JavaScript's shortest round-trip decimals (the worker writes
 * `String(x)`), which is what JSON.stringify prints for a finite number, so they are copied
 * instead of parsed and printed again; NaN and ±Infinity print as null, as in JSON.stringify.
 */
export async function getOnlineFeaturesJson(r: FeatureSource, keys: KeyLayout, q: OnlineQuery): Promise<string> {
  const { rows, cols, kill } = await readRaw(r, keys, q);
  const now = q.now ?? Date.now();
  const maxAge = q.maxAgeMs ?? 5000;
  // an object keeps the first position of a repeated key: the JSON does too
  const names: string[] = [];
  const where: number[] = [];
  q.features.forEach((f, j) => {
    if (names.includes(f)) return;
    names.push(f);
    where.push(cols[j]);
  });
  const keysJson = names.map((f) => JSON.stringify(f));
  let json = '{"symbols":[';
  for (let i = 0; i < q.symbols.length; i++) {
    if (i > 0) json += ',';
    json += `{"symbol":${JSON.stringify(q.symbols[i])},`;
    const raw = rows[i];
    if (raw === null) {
      const killed = killFor(kill, q.symbols[i]);
      json += '"tsEvent":null,"seq":null,"computedAt":null,"featureSetVersion":null,"features":{';
      for (let j = 0; j < names.length; j++) json += `${j > 0 ? ',' : ''}${keysJson[j]}:{"value":null,"status":${killed ? '"killed"' : '"missing"'}}`;
      json += killed ? `},"killed":${JSON.stringify(killed)}}` : '}}';
      continue;
    }
    const [te, , seq, , at, fsv, packed] = raw.split('|');
    const computedAt = Number(at);
    json += `"tsEvent":"${BigInt(te)}","seq":"${BigInt(seq)}","computedAt":${JSON.stringify(computedAt)},"featureSetVersion":${JSON.stringify(fsv)},"features":{`;
    const killed = killFor(kill, q.symbols[i]);
    if (killed !== null) {
      for (let j = 0; j < names.length; j++) json += `${j > 0 ? ',' : ''}${keysJson[j]}:{"value":null,"status":"killed"}`;
      json += `},"killed":${JSON.stringify(killed)}}`;
      continue;
    }
    const values = packed.split(',');
    const status = now - computedAt > maxAge ? '"stale"}' : '"present"}';
    for (let j = 0; j < names.length; j++) {
      const k = where[j];
      const v = k < 0 ? '' : (values[k] ?? '');
      json += `${j > 0 ? ',' : ''}${keysJson[j]}:{"value":`;
      if (v === '') json += 'null,"status":"missing"}';
      else json += `${nonFinite(v) ? 'null' : v},"status":${status}`;
    }
    json += '}}';
  }
  return json + ']}';
}

/** NaN, Infinity, -Infinity: the only non-finite texts `String(x)` makes. */
function nonFinite(v: string): boolean {
  const c = v.charCodeAt(0);
  return c === 78 /* N */ || c === 73 /* I */ || (c === 45 /* - */ && v.charCodeAt(1) === 73);
}

/**
 * Builds a query's `features` record from its values in one object literal, compiled once per
 * feature list: adding ~30 properties one by one to `{}` cost ~3 µs per symbol, the literal ~0.2.
 * Names are validated (FEATURE_RE) before they get here, and are embedded as JSON strings.
 */
const recordMakers = new Map<string, (v: readonly FeatureValue[]) => Record<string, FeatureValue>>();

function recordMaker(features: readonly string[]): (v: readonly FeatureValue[]) => Record<string, FeatureValue> {
  const key = features.join(',');
  let make = recordMakers.get(key);
  if (make === undefined) {
    for (const f of features) if (!FEATURE_RE.test(f)) throw new QueryError(`features: invalid feature name ${JSON.stringify(f)}`);
    // a repeated name: the object literal keeps its first position and last value, like assignment
    make = new Function('v', `return {${features.map((f, j) => `${JSON.stringify(f)}: v[${j}]`).join(', ')}};`) as (v: readonly FeatureValue[]) => Record<string, FeatureValue>;
    if (recordMakers.size >= 1000) recordMakers.clear();
    recordMakers.set(key, make);
  }
  return make;
}

/** The n-th (0-based) '|'-separated field of a packed row. */
function fieldOf(raw: string, n: number): string {
  let start = 0;
  for (let k = 0; k < n; k++) start = raw.indexOf('|', start) + 1;
  const end = raw.indexOf('|', start);
  return raw.slice(start, end < 0 ? raw.length : end);
}

/** Which served desk record (`lockstep desk` writes them; pnl-record.ts). */
export type DeskView = 'pnl' | 'risk' | 'positions';

/**
 * The desk's latest record of `view` (`<ns>:pnl`, `<ns>:risk` or `<ns>:positions`): its sample time,
 * the record (books with realized/unrealized PnL, fees, day PnL, high-water mark and drawdown; or
 * exposure, concentration, VaR and the limits in breach; or every position), and when it was
 * written. Null before the desk wrote one. One HGETALL.
 */
export async function getDesk(r: FeatureSource, keys: { ns: string }, view: DeskView): Promise<DeskRecord | null> {
  const key = view === 'pnl' ? pnlKey(keys) : view === 'risk' ? riskKey(keys) : positionsKey(keys);
  return decodeDeskFields(await r.hgetall(key));
}

/** `getDesk(r, keys, 'pnl')`. */
export const getPnl = (r: FeatureSource, keys: { ns: string }) => getDesk(r, keys, 'pnl');
/** `getDesk(r, keys, 'risk')`. */
export const getRisk = (r: FeatureSource, keys: { ns: string }) => getDesk(r, keys, 'risk');
/** `getDesk(r, keys, 'positions')`. */
export const getPositions = (r: FeatureSource, keys: { ns: string }) => getDesk(r, keys, 'positions');
