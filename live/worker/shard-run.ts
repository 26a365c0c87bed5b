/** One held shard's state between reads: its fold, where it stands in the input, and its uncommitted work. */
import { initFold, type FoldState } from '../../core/fold.ts';
import { decodeState } from '../../core/state-codec.ts';
import type { SentLatest } from '../commit-script.ts';
import { ByteWriter } from './byte-writer.ts';
import type { LatestRow } from './row-format.ts';

export interface ShardRun {
  shard: number;
  fold: FoldState;
  /** Last input applied to `fold`. */
  applied: string;
  /**
   * Newest receive time of the input applied to `fold` in this process (-1n: none yet since the
   * checkpoint): how far the shard has passed, for late models-log entries (model-follower.ts).
   */
  appliedRecv: bigint;
  /** Last input committed (outputs + ack). */
  committed: string;
  /**
   * Last input of the newest commit sent (pipelined commits: its reply may still be on its way):
   * the checkpoint the next commit expects to follow. `committed` when none is in flight.
   */
  sentId: string;
  /** A commit in flight saves the state: the next commits do not ask for it again. */
  statePending: boolean;
  /** Input applied to the last saved state. */
  stateId: string;
  sinceState: number;
  stateAt: number;
  /**
   * The batch's output rows (row-format.ts writeRow), one per line, as they go out in the commit's
   * `rows` field; `rowCount` of them. Reused from batch to batch: a commit copies them out.
   */
  rows: ByteWriter;
  rowCount: number;
  /** Dead letters of the batch: written by the commit script, fenced like the rest. */
  dlq: string[][];
  latest: Map<string, LatestRow>;
  /**
   * Per symbol, the latest row this run last sent: the next write sends only what changed since
   * (commit-script.ts checks the hash is still at it, else writes every column).
   */
  sent: Map<string, SentLatest>;
  acks: string[];
  /** Entry IDs already dead-lettered during recovery (skip when re-read). */
  skip: Set<string>;
  /** Warm start (warm-start.ts) waits for the shard's first input entry: warm it before applying any. */
  warmPending?: boolean;
}

/** A shard's run as its checkpoint hash (HGETALL, as buffers) left it; a fresh one when it is empty. */
export function runFromCheckpoint(shard: number, ck: Record<string, Buffer>): ShardRun {
  return {
    shard,
    fold: ck.state ? decodeState<FoldState>(new Uint8Array(ck.state)) : initFold(),
    applied: ck.stateId?.toString() ?? '0-0',
    appliedRecv: -1n,
    committed: ck.outId?.toString() ?? '0-0',
    sentId: ck.outId?.toString() ?? '0-0',
    statePending: false,
    stateId: ck.stateId?.toString() ?? '0-0',
    sinceState: 0,
    stateAt: Date.now(),
    rows: new ByteWriter(16 * 1024),
    rowCount: 0,
    dlq: [],
    latest: new Map(),
    sent: new Map(),
    acks: [],
    skip: new Set(Object.keys(ck).filter((k) => k.startsWith('skip:')).map((k) => k.slice(5))),
  };
}
