/**
 * Constant latencies, split as hftbacktest splits them (hftbacktest/src/backtest/models/latency.rs,
 * `ConstantLatency`; docs: https://hftbacktest.readthedocs.io/en/latest/latency_models.html):
 *
 * - feed latency: the algorithm sees a market event `feedNs` after the exchange/our receiver
 *   stamped it (`tsRecv`); the simulator's exchange reads the event at `tsRecv`, the algorithm at
 *   `tsRecv + feedNs` (`seenAt`). hftbacktest takes it from the data (exchange vs local time);
 *   here the data's own `tsRecv - tsEvent` is already in the merge clock, and `feedNs` adds to it.
 * - order entry latency: an order or cancel decided at `ts` reaches the exchange at
 *   `ts + entryNs` (`arrivalAt`); it takes effect there, against the book of that instant.
 * - order response latency: an ack, fill or cancel confirmation made at exchange time `t`
 *   reaches the algorithm at `t + responseNs` (`responseAt`): that is the fill's `tsRecv`.
 *
 * All in event-time nanoseconds (bigint). Negative latencies are refused (hftbacktest reads a
 * negative entry latency as an exchange rejection; rejections are not modelled here).
 *
 * Or recorded order latencies, interpolated, as hftbacktest's `IntpOrderLatency`
 * (hftbacktest/src/backtest/models/latency.rs): a table of (request, exchange, response)
 * timestamps of real orders. The entry latency of an order sent at `ts` is `exch - req`
 * interpolated linearly between the two rows whose request times bracket `ts`; the response
 * latency of a report made at exchange time `t`, `resp - exch` between the rows whose exchange
 * times bracket `t`; before the first row or after the last, that row's. Bigint arithmetic, the
 * quotient truncated toward zero: deterministic. The constant `entryNs`/`responseNs` of a table
 * model are its smallest latencies (a lower bound: when a report can come at the earliest), and
 * `maxEntryNs`/`maxResponseNs` its largest. Unlike hftbacktest, one session is FIFO
 * (matcher.ts): an order or cancel never reaches the exchange before one sent earlier, nor a
 * report the algorithm before one made earlier, so a cancel never overtakes its order.
 */
import { SimInputError } from './errors.ts';

/** Recorded order latencies: request times strictly increasing, exchange times non-decreasing. */
export interface LatencyTable {
  req: BigInt64Array;
  exch: BigInt64Array;
  resp: BigInt64Array;
}

/** The three latencies, ns: constant, or entry and response from a table (`entryNs`, `responseNs` then its least). */
export interface Latency {
  feedNs: bigint;
  entryNs: bigint;
  responseNs: bigint;
  table?: LatencyTable;
  maxEntryNs?: bigint;
  maxResponseNs?: bigint;
}

/** Zero latency everywhere: the algorithm acts at the very instant it reads the event. */
export const ZERO_LATENCY: Readonly<Latency> = Object.freeze({ feedNs: 0n, entryNs: 0n, responseNs: 0n });

/** A latency model checked: missing parts are 0, negative ones are refused; a table is checked and kept (its bounds recomputed). */
export function constantLatency(parts: Partial<Latency> = {}): Latency {
  const lat: Latency = { feedNs: parts.feedNs ?? 0n, entryNs: parts.entryNs ?? 0n, responseNs: parts.responseNs ?? 0n };
  for (const [k, v] of Object.entries(lat)) {
    if (typeof v !== 'bigint') throw new SimInputError(`latency.${k}`, v, 'must be a bigint number of nanoseconds');
    if (v < 0n) throw new SimInputError(`latency.${k}`, v, 'must be >= 0 (rejections are not modelled)');
  }
  return parts.table === undefined ? lat : tableLatency(parts.table, lat.feedNs);
}

/** An interpolated model from recorded (request, exchange, response) times; `feedNs` stays constant. */
export function tableLatency(t: LatencyTable, feedNs = 0n): Latency {
  const n = t.req?.length;
  if (!(t.req instanceof BigInt64Array) || !(t.exch instanceof BigInt64Array) || !(t.resp instanceof BigInt64Array) || t.exch.length !== n || t.resp.length !== n) throw new SimInputError('latency.table', n, 'needs three BigInt64Arrays of one length');
  if (n === 0) throw new SimInputError('latency.table', 0, 'needs at least one row');
  let minE = 0n, maxE = 0n, minR = 0n, maxR = 0n;
  for (let i = 0; i < n; i++) {
    const e = t.exch[i] - t.req[i];
    const r = t.resp[i] - t.exch[i];
    if (e < 0n) throw new SimInputError(`latency.table row ${i + 1} exch_ts`, t.exch[i], `is before its req_ts ${t.req[i]} (rejections are not modelled)`);
    if (r < 0n) throw new SimInputError(`latency.table row ${i + 1} resp_ts`, t.resp[i], `is before its exch_ts ${t.exch[i]}`);
    if (i > 0 && t.req[i] <= t.req[i - 1]) throw new SimInputError(`latency.table row ${i + 1} req_ts`, t.req[i], 'must be after the previous row\'s');
    if (i > 0 && t.exch[i] < t.exch[i - 1]) throw new SimInputError(`latency.table row ${i + 1} exch_ts`, t.exch[i], 'must not be before the previous row\'s');
    if (i === 0 || e < minE) minE = e;
    if (i === 0 || e > maxE) maxE = e;
    if (i === 0 || r < minR) minR = r;
    if (i === 0 || r > maxR) maxR = r;
  }
  return { feedNs, entryNs: minE, responseNs: minR, table: { req: t.req.slice(), exch: t.exch.slice(), resp: t.resp.slice() }, maxEntryNs: maxE, maxResponseNs: maxR };
}

/** `ys[i] - xs[i]` at `x`, interpolated between the rows whose `xs` bracket it (held flat outside; xs non-decreasing). */
function interp(xs: BigInt64Array, ys: BigInt64Array, x: bigint): bigint {
  const n = xs.length;
  if (x <= xs[0]) return ys[0] - xs[0];
  if (x >= xs[n - 1]) return ys[n - 1] - xs[n - 1];
  // the last row with xs[i] <= x
  let lo = 0;
  let hi = n - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (xs[mid] <= x) lo = mid;
    else hi = mid;
  }
  const l0 = ys[lo] - xs[lo];
  const l1 = ys[hi] - xs[hi];
  const dx = xs[hi] - xs[lo];
  return dx === 0n ? l1 : l0 + ((l1 - l0) * (x - xs[lo])) / dx;
}

/** The entry latency of an order or cancel sent at `ts`. */
export const entryLatency = (lat: Latency, ts: bigint): bigint => (lat.table === undefined ? lat.entryNs : interp(lat.table.req, lat.table.exch, ts));

/** The response latency of a report made at exchange time `t`. */
export const responseLatency = (lat: Latency, t: bigint): bigint => (lat.table === undefined ? lat.responseNs : interp(lat.table.exch, lat.table.resp, t));

/** The largest entry + response a model gives (how long a round trip can take). */
export const maxRoundTrip = (lat: Latency): bigint => (lat.maxEntryNs ?? lat.entryNs) + (lat.maxResponseNs ?? lat.responseNs);

/**
 * `--latency-ms X`: X ms on each of the three legs (feed, entry, response), so a round trip from
 * an event to the fill report the algorithm reads is 3X. Fractions down to 1 ns are kept.
 */
export function latencyFromMs(ms: number, field = '--latency-ms'): Latency {
  if (!Number.isFinite(ms) || ms < 0) throw new SimInputError(field, ms, 'must be a number of milliseconds >= 0');
  const ns = BigInt(Math.round(ms * 1e6));
  return { feedNs: ns, entryNs: ns, responseNs: ns };
}

/** When the algorithm sees a market event received at `tsRecv`. */
export function seenAt(lat: Latency, tsRecv: bigint): bigint {
  return tsRecv + lat.feedNs;
}

/** When an order or cancel decided at `ts` reaches the exchange (before the session's FIFO, matcher.ts). */
export function arrivalAt(lat: Latency, ts: bigint): bigint {
  return ts + entryLatency(lat, ts);
}

/** When a report made at exchange time `t` reaches the algorithm (before the session's FIFO, matcher.ts). */
export function responseAt(lat: Latency, t: bigint): bigint {
  return t + responseLatency(lat, t);
}
