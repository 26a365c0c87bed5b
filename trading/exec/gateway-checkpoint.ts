/**
 * The simulated gateway's checkpoint (gateway-sim.ts): everything it needs to go on after a
 * SIGKILL as if it had not stopped, written in the same MULTI as the fills, reports and heartbeats
 * it covers, so a restart neither fills again what it filled nor forgets an order it had read:
 * the simulators (resting orders, queue positions, the book, the ids known), which parent each
 * child belongs to, the market events read but not yet played (pacing), the stream positions
 * (last `<ns>:orders` entry and last input-stream entry of each shard read) and its clocks.
 *
 * Two parts (ckpt-journal.ts), so that a write costs what changed, not the orders seen: the head
 * (everything but the order ids known and their parents: resting orders, the books, held events,
 * positions; reports already drained are left out), rewritten on every write, and segments of
 * entries `['k', symbol, id, complete]` (a simulator's `known`, from its `knownLog`) and
 * `['p', id, parent]` (`parentOf`), each holding the changes since the previous write. Replaying
 * them in order rebuilds the same Maps in the same iteration order.
 *
 * Encoded with the structured-clone serializer (node:v8): the state is plain data (Maps, typed
 * arrays, bigints: trading/sim/matcher.ts), so numbers and bigints come back exactly. A record of
 * another version or shard count is refused (the caller says why and starts over).
 */
import { deserialize, serialize } from 'node:v8';
import type { MarketEvent } from '../../core/events.ts';
import type { SimState } from '../sim/index.ts';

const VERSION = 2;

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

/** One change of the ids known: a simulator's order id (complete or not), or a child's parent. */
export type GatewayEntry = ['k', string, string, boolean] | ['p', string, string];

interface Head {
  v: number;
  g: GatewayState;
  segs: number;
  /** Entries the state's Maps hold: what the segments must rebuild. */
  known: number;
  parents: number;
}

const counts = (g: GatewayState) => ({ known: [...g.sims.values()].reduce((a, s) => a + s.known.size, 0), parents: g.parentOf.size });

/** The head as bytes: the state without the ids known, covering `segs` segments. */
export function encodeGatewayHead(g: GatewayState, segs: number): Buffer {
  const sims = new Map<string, SimState>();
  for (const [sym, s] of g.sims) {
    const { knownLog: _, ...rest } = s;
    sims.set(sym, { ...rest, known: new Map(), outbox: s.outbox.slice(s.outHead), outHead: 0 });
  }
  const head: Head = { v: VERSION, g: { ...g, sims, parentOf: new Map() }, segs, ...counts(g) };
  return serialize(head);
}

/** The changes since the last write (`knownLog` of every simulator, and the parents set), to write as a segment. */
export function gatewayDelta(g: GatewayState, parentLog: readonly [string, string][]): GatewayEntry[] {
  const out: GatewayEntry[] = [];
  for (const [sym, s] of g.sims) for (const [id, done] of s.knownLog ?? []) out.push(['k', sym, id, done]);
  for (const [id, p] of parentLog) out.push(['p', id, p]);
  return out;
}

/** Every id known, as entries (a compaction's segment). */
export function gatewayFull(g: GatewayState): GatewayEntry[] {
  const out: GatewayEntry[] = [];
  for (const [sym, s] of g.sims) for (const [id, done] of s.known) out.push(['k', sym, id, done]);
  for (const [id, p] of g.parentOf) out.push(['p', id, p]);
  return out;
}

export const encodeGatewaySegment = (entries: GatewayEntry[]): Buffer => serialize(entries);

/** How many segments a head covers, or why it is not used (another version, another shard count, unreadable). */
export function gatewayHeadSegs(bytes: Buffer, shards: number): number | { refused: string } {
  const h = readHead(bytes, shards);
  return 'refused' in h ? h : h.segs;
}

function readHead(bytes: Buffer, shards: number): Head | { refused: string } {
  let d: Partial<Head>;
  try {
    d = deserialize(bytes) as typeof d;
  } catch (e) {
    return { refused: `unreadable (${(e as Error).message})` };
  }
  if (d?.v !== VERSION || d.g === undefined || typeof d.segs !== 'number') return { refused: `version ${String(d?.v)}, not ${VERSION}` };
  if (d.g.inFrom.length !== shards) return { refused: `written for ${d.g.inFrom.length} shards, the deployment has ${shards}` };
  return d as Head;
}

/** A head and its segments back, or why they are not used. */
export function decodeGatewayState(bytes: Buffer, segments: readonly Uint8Array[], shards: number): GatewayState | { refused: string } {
  const h = readHead(bytes, shards);
  if ('refused' in h) return h;
  if (segments.length !== h.segs) return { refused: `${segments.length} segments, the head covers ${h.segs}` };
  const g = h.g;
  for (const b of segments) {
    let entries: GatewayEntry[];
    try {
      entries = deserialize(b) as GatewayEntry[];
    } catch (e) {
      return { refused: `a segment is unreadable (${(e as Error).message})` };
    }
    for (const e of entries) {
      if (e[0] === 'p') g.parentOf.set(e[1], e[2]);
      else {
        const s = g.sims.get(e[1]);
        if (s === undefined) return { refused: `a segment names symbol ${e[1]}, which the head has no simulator for` };
        s.known.set(e[2], e[3]);
      }
    }
  }
  const n = counts(g);
  if (n.known !== h.known || n.parents !== h.parents) return { refused: `the segments rebuild ${n.known} order ids and ${n.parents} parents, the head covers ${h.known} and ${h.parents}` };
  return g;
}
