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
 */
import { SimInputError } from './errors.ts';

/** The three constant latencies, ns. */
export interface Latency {
  feedNs: bigint;
  entryNs: bigint;
  responseNs: bigint;
}

/** Zero latency everywhere: the algorithm acts at the very instant it reads the event. */
export const ZERO_LATENCY: Readonly<Latency> = Object.freeze({ feedNs: 0n, entryNs: 0n, responseNs: 0n });

/** A constant latency model; missing parts are 0, negative ones are refused. */
export function constantLatency(parts: Partial<Latency> = {}): Latency {
  const lat: Latency = { feedNs: parts.feedNs ?? 0n, entryNs: parts.entryNs ?? 0n, responseNs: parts.responseNs ?? 0n };
  for (const [k, v] of Object.entries(lat)) {
    if (typeof v !== 'bigint') throw new SimInputError(`latency.${k}`, v, 'must be a bigint number of nanoseconds');
    if (v < 0n) throw new SimInputError(`latency.${k}`, v, 'must be >= 0 (rejections are not modelled)');
  }
  return lat;
}

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

/** When an order or cancel decided at `ts` reaches the exchange. */
export function arrivalAt(lat: Latency, ts: bigint): bigint {
  return ts + lat.entryNs;
}

/** When a report made at exchange time `t` reaches the algorithm. */
export function responseAt(lat: Latency, t: bigint): bigint {
  return t + lat.responseNs;
}
