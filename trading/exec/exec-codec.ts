/**
 * An exact, versioned checkpoint of the execution fold (exec-fold.ts) and of where its live adapter
 * stands in its input streams: what `lockstep execute --redis` writes in the same MULTI as its
 * orders and progress, so a restart resumes from it instead of refolding the streams from the start
 * (which the streams, trimmed, may no longer hold).
 *
 * The fold state is plain data: core/state-codec.ts copies it exactly (bigint times, integer lots,
 * float mids bit for bit, `Infinity` for no rate limit). The merge's queues keep only the items not
 * yet taken (a consumed prefix is dropped), and the fill-id set comes back with no prototype (a fill
 * id such as "constructor" must not read as seen). A checkpoint of another version, or taken for
 * another parent or configuration (`execConfigHash`), is refused: the restored fold would not be the
 * fold of its inputs.
 *
 * No I/O, clock, randomness or promises.
 */
import { LockstepError } from '../../core/errors.ts';
import { decodeState, encodeState, hashState } from '../../core/state-codec.ts';
import type { KillMode, OrderAction } from '../types.ts';
import type { ExecFoldState } from './exec-fold.ts';
import type { ExecConfig, ParentOrder } from './types.ts';

/** Bumped on any change of the layout of `ExecFoldState` or `ExecCursor`. */
export const EXEC_CODEC_VERSION = 1;

/** Where the live adapter stands: XRANGE starts (`-` or `(<id>`) of its streams, and the kill mode it last logged. */
export interface ExecCursor {
  market: string;
  fills: string;
  reports: string;
  kills: string;
  mode: KillMode;
  /** Kept only when the run records them (`--orders`, `--inputs-out`): what a file written at the end needs. */
  actions: OrderAction[];
  inputs: string[];
}

/** A checkpoint refused: names why (the caller logs it and folds from the start). */
export class ExecCodecError extends LockstepError {}

/** The hash of a parent and its configuration: a checkpoint is restored only under the same. */
export const execConfigHash = (parent: ParentOrder, cfg: ExecConfig): string => hashState({ parent, cfg });

/** The fold and its cursor as checkpoint bytes. */
export function encodeExecCheckpoint(st: ExecFoldState, cur: ExecCursor, configHash: string): Uint8Array {
  const merge = { marks: st.merge.marks, queues: st.merge.queues.map((q) => ({ rows: q.rows.slice(q.head), head: 0 })) };
  return encodeState({ v: EXEC_CODEC_VERSION, configHash, st: { ...st, merge, fillIds: Object.keys(st.fillIds) }, cur });
}

/** Checkpoint bytes back; throws `ExecCodecError` naming why one cannot be used. */
export function decodeExecCheckpoint(bytes: Uint8Array, configHash: string): { st: ExecFoldState; cur: ExecCursor } {
  let d: { v?: unknown; configHash?: unknown; st?: Omit<ExecFoldState, 'fillIds'> & { fillIds: string[] }; cur?: ExecCursor };
  try {
    d = decodeState(bytes);
  } catch (e) {
    throw new ExecCodecError(`unreadable (${(e as Error).message})`);
  }
  if (d?.v !== EXEC_CODEC_VERSION) throw new ExecCodecError(`version ${String(d?.v)}, not ${EXEC_CODEC_VERSION}`);
  if (d.configHash !== configHash) throw new ExecCodecError('taken for another parent order or configuration');
  if (d.st === undefined || d.cur === undefined) throw new ExecCodecError('incomplete');
  const fillIds = Object.create(null) as Record<string, true>;
  for (const id of d.st.fillIds) fillIds[id] = true;
  return { st: { ...d.st, fillIds }, cur: d.cur };
}
