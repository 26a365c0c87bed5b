/**
 * The desk's checkpoint: the whole desk fold state (desk-fold.ts: the merge's watermarks and queued
 * inputs, the ledger through ledger-codec.ts, the limits in force, the sample clock, the count of
 * outputs) and the stream positions it has read up to, as one exact, versioned binary value.
 *
 * `lockstep desk` writes it in the same MULTI as the outputs it covers (desk-live.ts), so the
 * checkpoint, the outputs and the progress `n` are never out of step: a restart decodes it, reads
 * each stream after its position, and refolds only what came after, skipping the outputs between
 * the checkpoint and `n` that were already written. Entries before the positions are never read
 * again, so the input streams may be trimmed up to them.
 *
 * A checkpoint is restored only by the same version and under the same configuration (ledger,
 * limits, number of shards): otherwise the restored state would not be the fold of the inputs, and
 * the desk refolds from the start instead (`decodeDeskCheckpoint` says why).
 *
 * No I/O, clock, randomness or promises.
 */
import { decodeState, encodeState, hashState } from '../core/state-codec.ts';
import type { DeskConfig, DeskState } from './desk-fold.ts';
import { configHash, ledgerFromData, ledgerToData, type LedgerData } from './ledger-codec.ts';

/** Bumped on any change of the layout below (the ledger's own layout has its own version inside). */
export const DESK_CHECKPOINT_VERSION = 2;

/** Where the desk has read each stream up to: XRANGE starts (`-` or `(<id>`), one per shard, and the fills stream's. */
export interface DeskCursor {
  from: string[];
  fills: string;
}

type Item = DeskState['merge']['queues'][number]['rows'][number];

interface DeskCheckpointData {
  v: number;
  cfg: string;
  emitted: number;
  applied: number;
  next: bigint | null;
  last: bigint | null;
  fills: number;
  marks: (bigint | null)[];
  queues: Item[][];
  ledger: LedgerData;
  active: string[];
  orders: Map<string, bigint[]>;
  from: string[];
  fillsFrom: string;
}

/** What the checkpoint must be taken under again to be restored: the ledger's, the limits' and the shards'. */
function deskConfigHash(cfg: DeskConfig): string {
  return hashState({ ledger: configHash(cfg.ledger), limits: cfg.limits, rowStreams: cfg.rowStreams });
}

/** The checkpoint of `st` having read the streams up to `cur`. */
export function encodeDeskCheckpoint(cfg: DeskConfig, st: DeskState, cur: DeskCursor): Uint8Array {
  const d: DeskCheckpointData = {
    v: DESK_CHECKPOINT_VERSION,
    cfg: deskConfigHash(cfg),
    emitted: st.emitted,
    applied: st.applied,
    next: st.next,
    last: st.last,
    fills: st.fills,
    marks: [...st.merge.marks],
    // only what is still queued: the consumed prefix is nothing the fold reads again
    queues: st.merge.queues.map((q) => q.rows.slice(q.head)),
    ledger: ledgerToData(st.ledger),
    active: [...st.limits.active],
    orders: new Map([...st.limits.orders].map(([k, v]) => [k, [...v]])),
    from: [...cur.from],
    fillsFrom: cur.fills,
  };
  return encodeState(d);
}

/** The restored state and positions, or why the checkpoint cannot be used (then: refold from the start). */
export function decodeDeskCheckpoint(cfg: DeskConfig, bytes: Uint8Array): { st: DeskState; cur: DeskCursor } | { refused: string } {
  let d: DeskCheckpointData;
  try {
    d = decodeState<DeskCheckpointData>(bytes);
  } catch (e) {
    return { refused: `unreadable (${(e as Error).message})` };
  }
  if (d === null || typeof d !== 'object' || d.v !== DESK_CHECKPOINT_VERSION) return { refused: `version ${String((d as { v?: unknown } | null)?.v)}, this build reads ${DESK_CHECKPOINT_VERSION}` };
  if (d.cfg !== deskConfigHash(cfg)) return { refused: 'taken under another configuration (instruments, positions, limits, VaR or number of shards)' };
  if (d.queues.length !== cfg.rowStreams + 1 || d.from.length !== cfg.rowStreams) return { refused: `${d.from.length} shards, the deployment has ${cfg.rowStreams}` };
  try {
    const ledger = ledgerFromData(cfg.ledger, d.ledger);
    const st: DeskState = {
      merge: { marks: [...d.marks], queues: d.queues.map((rows) => ({ rows, head: 0 })) },
      ledger,
      limits: { limits: cfg.limits, active: new Set(d.active), orders: d.orders },
      next: d.next,
      last: d.last,
      fills: d.fills,
      emitted: d.emitted,
      applied: d.applied,
    };
    return { st, cur: { from: [...d.from], fills: d.fillsFrom } };
  } catch (e) {
    return { refused: (e as Error).message };
  }
}
