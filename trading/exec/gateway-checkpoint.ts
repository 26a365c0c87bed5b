/**
 * The simulated gateway's checkpoint (gateway-sim.ts): everything it needs to go on after a
 * SIGKILL as if it had not stopped, written in the same MULTI as the fills, reports and heartbeats
 * it covers, so a restart neither fills again what it filled nor forgets an order it had read:
 * the simulators (resting orders, queue positions, the book, the ids known), which parent each
 * child belongs to, the market events read but not yet played (pacing), the stream positions
 * (last `<ns>:orders` entry and last input-stream entry of each shard read) and its clocks.
 *
 * Encoded with the structured-clone serializer (node:v8): the state is plain data (Maps, typed
 * arrays, bigints: trading/sim/matcher.ts), so numbers and bigints come back exactly. A record of
 * another version or shard count is refused (the caller says why and starts over).
 */
import { deserialize, serialize } from 'node:v8';
import type { MarketEvent } from '../../core/events.ts';
import type { SimState } from '../sim/index.ts';

const VERSION = 1;

/** What the gateway carries from one poll to the next. */
export interface GatewayState {
  sims: Map<string, SimState>;
  parentOf: Map<string, string>;
  /** Per shard: XRANGE start of the next read (`-` or `(<last id>`), and events read but not played. */
  inFrom: string[];
  held: MarketEvent[][];
  ordersFrom: string;
  /** The market time played to, the last heartbeat written, the last fill's or report's ts_recv. */
  now: bigint | null;
  lastHb: bigint | null;
  lastOut: bigint;
}

/** The state as checkpoint bytes. */
export function encodeGatewayState(g: GatewayState): Buffer {
  return serialize({ v: VERSION, g });
}

/** Checkpoint bytes back, or why they are not used (another version, another shard count, unreadable). */
export function decodeGatewayState(bytes: Buffer, shards: number): GatewayState | { refused: string } {
  let d: { v?: unknown; g?: GatewayState };
  try {
    d = deserialize(bytes) as typeof d;
  } catch (e) {
    return { refused: `unreadable (${(e as Error).message})` };
  }
  if (d?.v !== VERSION || d.g === undefined) return { refused: `version ${String(d?.v)}, not ${VERSION}` };
  if (d.g.inFrom.length !== shards) return { refused: `written for ${d.g.inFrom.length} shards, the deployment has ${shards}` };
  return d.g;
}
