/**
 * A rebalance's target weights as Redis fields: the hash `<ns>:weights` (the latest) and each
 * entry of the stream `<ns>:weights:log` hold the same fields, written by `lockstep weights
 * --redis` (portfolio/live.ts) and read by `/v1/weights` (http-api.ts) and the tests:
 *
 *   t         the rebalance time, epoch ns (decimal)
 *   trigger   every | request
 *   symbols   the universe at t, comma-separated, in code-unit order
 *   weights   one per symbol: shortest round-trip decimals (exact float64; -0 kept)
 *   signal    the signal value used, empty when none
 *   excluded  why a symbol took no new position (empty when it took part)
 *   gross, net, turnover   the book's figures
 *   at        wall-clock ms when it was written (metadata; not part of the record's identity)
 */
import { packValues } from './worker/row-format.ts';

/** One rebalance, as written and read (the weights fold's record, in plain fields). */
export interface WeightsFields {
  t: bigint;
  trigger: string;
  symbols: string[];
  weights: number[];
  signal: (number | null)[];
  excluded: (string | null)[];
  gross: number;
  net: number;
  turnover: number;
}

/** The fields as a flat [name, value, ...] list for HSET / XADD. */
export function encodeWeightsFields(r: WeightsFields, atMs: number): string[] {
  return [
    't', r.t.toString(),
    'trigger', r.trigger,
    'symbols', r.symbols.join(','),
    'weights', packValues(r.weights),
    'signal', packValues(r.signal),
    'excluded', r.excluded.map((x) => x ?? '').join(','),
    'gross', packValues([r.gross]),
    'net', packValues([r.net]),
    'turnover', packValues([r.turnover]),
    'at', String(atMs),
  ];
}

/** Parses what encodeWeightsFields wrote (a hash's fields or a stream entry's); null when absent or malformed. */
export function decodeWeightsFields(f: Record<string, string>): (WeightsFields & { at: number }) | null {
  if (f.t === undefined || !/^-?\d+$/.test(f.t) || f.symbols === undefined) return null;
  const symbols = f.symbols === '' ? [] : f.symbols.split(',');
  const nums = (s: string | undefined) => (s === undefined || symbols.length === 0 ? [] : s.split(',').map((x) => (x === '' ? null : Number(x))));
  const weights = nums(f.weights).map((x) => x ?? 0);
  const excluded = symbols.length === 0 ? [] : (f.excluded ?? '').split(',').map((x) => (x === '' ? null : x));
  if (weights.length !== symbols.length || excluded.length !== symbols.length) return null;
  return { t: BigInt(f.t), trigger: f.trigger ?? '', symbols, weights, signal: nums(f.signal), excluded, gross: Number(f.gross), net: Number(f.net), turnover: Number(f.turnover), at: Number(f.at) };
}

/** Flat [k, v, k, v] (a stream entry's fields) as an object without a prototype. */
export function fieldsObject(flat: readonly string[]): Record<string, string> {
  const o: Record<string, string> = Object.create(null);
  for (let i = 0; i + 1 < flat.length; i += 2) o[flat[i]] = flat[i + 1];
  return o;
}
