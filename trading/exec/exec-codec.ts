/**
 * An exact, versioned checkpoint of the execution fold (exec-fold.ts) and of where its live adapter
 * stands in its input streams: what `lockstep execute --redis` writes in the same MULTI as its
 * orders and progress, so a restart resumes from it instead of refolding the streams from the start
 * (which the streams, trimmed, may no longer hold).
 *
 * Two parts (ckpt-journal.ts), so that a write costs what changed: the head (the fold but for what
 * only grows, and the cursor), rewritten on every write, and segments of what only grows (the fills
 * applied, the fill ids seen, and for `--orders`/`--inputs-out` the actions and input lines), each
 * holding the entries added since the previous write.
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
import type { Fill, KillMode, OrderAction } from '../types.ts';
import type { ExecFoldState } from './exec-fold.ts';
import type { ExecConfig, ParentOrder } from './types.ts';

/** Bumped on any change of the layout of `ExecFoldState`, `ExecCursor` or the segments (2: head and segments). */
export const EXEC_CODEC_VERSION = 2;

/** Where the live adapter stands: XRANGE starts (`-` or `(<id>`) of its streams, and the kill mode it last logged. */
export interface ExecCursor {
  market: string;
  fills: string;
  reports: string;
  kills: string;
  mode: KillMode;
  /** The kill switch's changes stream `{<ns>:kill}:changes` read up to (null: not yet; absent in checkpoints from before it). */
  changes?: string | null;
  /** Kept only when the run records them (`--orders`, `--inputs-out`): what a file written at the end needs. */
  actions: OrderAction[];
  inputs: string[];
}

/** A checkpoint refused: names why (the caller logs it and folds from the start). */
export class ExecCodecError extends LockstepError {}

/** The hash of a parent and its configuration: a checkpoint is restored only under the same. */
export const execConfigHash = (parent: ParentOrder, cfg: ExecConfig): string => hashState({ parent, cfg });

/** How many entries of each growing array the segments hold. */
export interface ExecLogged {
  fills: number;
  ids: number;
  actions: number;
  inputs: number;
}

interface Segment {
  fills: Fill[];
  ids: string[];
  actions: OrderAction[];
  inputs: string[];
}

interface Head {
  v: number;
  configHash: string;
  st: ExecFoldState;
  cur: ExecCursor;
  segs: number;
  n: ExecLogged;
}

export const NOTHING_LOGGED: Readonly<ExecLogged> = Object.freeze({ fills: 0, ids: 0, actions: 0, inputs: 0 });

/** The lengths of the growing arrays now. */
export const execLogged = (st: ExecFoldState, cur: ExecCursor): ExecLogged => ({ fills: st.fills.length, ids: st.fillIdLog.length, actions: cur.actions.length, inputs: cur.inputs.length });

/** Entries added since `from` (NOTHING_LOGGED: all of them). */
export const execDelta = (from: ExecLogged, now: ExecLogged): number => now.fills - from.fills + now.ids - from.ids + now.actions - from.actions + now.inputs - from.inputs;

/** The head: the fold without its growing arrays, the cursor, and how many segments and entries it covers. */
export function encodeExecHead(st: ExecFoldState, cur: ExecCursor, configHash: string, segs: number): Uint8Array {
  const merge = { marks: st.merge.marks, queues: st.merge.queues.map((q) => ({ rows: q.rows.slice(q.head), head: 0 })) };
  const head: Head = { v: EXEC_CODEC_VERSION, configHash, st: { ...st, merge, fills: [], fillIds: {}, fillIdLog: [] }, cur: { ...cur, actions: [], inputs: [] }, segs, n: execLogged(st, cur) };
  return encodeState(head);
}

/** A segment: the entries of the growing arrays from `from` on. */
export function encodeExecSegment(st: ExecFoldState, cur: ExecCursor, from: ExecLogged): Uint8Array {
  const seg: Segment = { fills: st.fills.slice(from.fills), ids: st.fillIdLog.slice(from.ids), actions: cur.actions.slice(from.actions), inputs: cur.inputs.slice(from.inputs) };
  return encodeState(seg);
}

function decodeHead(bytes: Uint8Array, configHash: string): Head {
  let d: Partial<Head>;
  try {
    d = decodeState(bytes);
  } catch (e) {
    throw new ExecCodecError(`unreadable (${(e as Error).message})`);
  }
  if (d?.v !== EXEC_CODEC_VERSION) throw new ExecCodecError(`version ${String(d?.v)}, not ${EXEC_CODEC_VERSION}`);
  if (d.configHash !== configHash) throw new ExecCodecError('taken for another parent order or configuration');
  if (d.st === undefined || d.cur === undefined || typeof d.segs !== 'number' || d.n === undefined) throw new ExecCodecError('incomplete');
  return d as Head;
}

/** How many segments a head covers (read them before `decodeExecCheckpoint`); throws `ExecCodecError` as it does. */
export const execHeadSegs = (head: Uint8Array, configHash: string): number => decodeHead(head, configHash).segs;

/** A head and its segments back; throws `ExecCodecError` naming why they cannot be used. */
export function decodeExecCheckpoint(headBytes: Uint8Array, segments: readonly Uint8Array[], configHash: string): { st: ExecFoldState; cur: ExecCursor } {
  const h = decodeHead(headBytes, configHash);
  if (segments.length !== h.segs) throw new ExecCodecError(`${segments.length} segments, the head covers ${h.segs}`);
  const st: ExecFoldState = { ...h.st, fills: [], fillIds: Object.create(null) as Record<string, true>, fillIdLog: [] };
  const cur: ExecCursor = { ...h.cur, actions: [], inputs: [] };
  for (const b of segments) {
    let s: Segment;
    try {
      s = decodeState(b);
    } catch (e) {
      throw new ExecCodecError(`a segment is unreadable (${(e as Error).message})`);
    }
    for (const f of s.fills) st.fills.push(f);
    for (const id of s.ids) st.fillIdLog.push(id);
    for (const a of s.actions) cur.actions.push(a);
    for (const l of s.inputs) cur.inputs.push(l);
  }
  const n = execLogged(st, cur);
  if (n.fills !== h.n.fills || n.ids !== h.n.ids || n.actions !== h.n.actions || n.inputs !== h.n.inputs) throw new ExecCodecError(`the segments hold ${JSON.stringify(n)} entries, the head covers ${JSON.stringify(h.n)}`);
  // no prototype: a fill id such as "constructor" must not read as seen
  for (const id of st.fillIdLog) st.fillIds[id] = true;
  return { st, cur };
}
