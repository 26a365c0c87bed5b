/**
 * The weights driver's checkpoint: the whole weights fold state (fold.ts: the merge's watermarks and
 * queued rows, every symbol's latest row, the weights held, the grid, the pending requests, the
 * kill switch in force and its pending changes) and the position it has read each input stream up
 * to (live: each shard's output stream, then the control log `<ns>:weights:inputs`) with the
 * position of the last request entry it logged (`asked`) and of the kill switch's changes stream
 * (`changes`), as one exact, versioned binary value
 * (core/state-codec.ts: every float bit, -0 and NaN included, and every bigint round-trip).
 *
 * `lockstep weights --redis` writes it in the same MULTI as the rebalances it covers (live.ts), so
 * the checkpoint and the log are never out of step: a restart decodes it, reads each output stream
 * after its position and refolds only what came after. Entries before the positions are never read
 * again, so the output streams may be trimmed up to them.
 *
 * A checkpoint is restored only by the same version and under the same configuration and number
 * of input streams: otherwise the restored state would not be the fold of the inputs, and the driver folds
 * the streams from their start instead (`decodeWeightsCheckpoint` says why).
 *
 * No I/O, clock, randomness or promises.
 */
import { decodeState, encodeState, hashState } from '../core/state-codec.ts';
import type { WeightsConfig } from './config.ts';
import { initWeightsFold, type WeightsFoldState, type WeightsKill, type WeightsRow } from './fold.ts';
import type { GridPoint } from './schedule.ts';

/** Bumped on any change of the layout below or of the fold state it holds. */
export const WEIGHTS_CHECKPOINT_VERSION = 2;

type Latest = WeightsFoldState['latest'] extends Map<string, infer L> ? L : never;

interface WeightsCheckpointData {
  v: number;
  cfg: string;
  marks: (bigint | null)[];
  queues: WeightsRow[][];
  latest: Map<string, Latest>;
  seen: string[];
  prev: Map<string, number>;
  grid: GridPoint | null;
  requests: bigint[];
  kill: WeightsFoldState['kill'];
  kills: WeightsKill[];
  lastT: bigint | null;
  /** XRANGE starts of each input stream (live: the shards' output streams, then the control log): `-` or `(<id>`. */
  from: string[];
  /** XRANGE start of `<ns>:weights:requests`: the requests after it are not logged yet. */
  asked: string;
  /**
   * The kill switch's changes stream (`{<ns>:kill}:changes`) read up to this entry ID; null or
   * absent (a checkpoint from before the stream): not known, read on from the stream's end.
   * Optional, so the layout's version did not change: checkpoints either side of it restore.
   */
  changes?: string | null;
}

/** What a checkpoint must be restored under: the configuration (every field the fold reads) and the shards. */
function configHash(cfg: WeightsConfig, shards: number): string {
  return hashState({ cfg: { ...cfg, universe: cfg.universe === 'all' ? 'all' : [...cfg.universe], vol: cfg.vol === null ? null : { ...cfg.vol } }, shards });
}

/**
 * The checkpoint of `st` (a fold of `from.length` input streams) having read each up to `from`, the
 * requests stream up to `asked` and the kill switch's changes up to `changes`.
 */
export function encodeWeightsCheckpoint(st: WeightsFoldState, from: readonly string[], asked = '-', changes: string | null = null): Uint8Array {
  const d: WeightsCheckpointData = {
    v: WEIGHTS_CHECKPOINT_VERSION,
    cfg: configHash(st.cfg, st.marks.length),
    marks: [...st.marks],
    // only what is still queued: the consumed prefix is nothing the fold reads again
    queues: st.queues.map((q) => q.rows.slice(q.head).map((r) => ({ symbol: r.symbol, ts: r.ts, values: [...r.values] }))),
    latest: new Map([...st.latest].map(([k, l]) => [k, { ...l }])),
    seen: [...st.seen],
    prev: new Map(st.prev),
    grid: st.grid === null ? null : { ...st.grid },
    requests: [...st.requests],
    kill: { all: st.kill.all, symbols: new Map(st.kill.symbols) },
    kills: st.kills.map((k) => ({ ...k })),
    lastT: st.lastT,
    from: [...from],
    asked,
    changes,
  };
  return encodeState(d);
}

/** The restored fold and positions, or why the checkpoint cannot be used (then: refold from the start). */
export function decodeWeightsCheckpoint(cfg: WeightsConfig, streams: number, bytes: Uint8Array): { st: WeightsFoldState; from: string[]; asked: string; changes: string | null } | { refused: string } {
  let d: WeightsCheckpointData;
  try {
    d = decodeState<WeightsCheckpointData>(bytes);
  } catch (e) {
    return { refused: `unreadable (${(e as Error).message})` };
  }
  if (d === null || typeof d !== 'object' || d.v !== WEIGHTS_CHECKPOINT_VERSION) return { refused: `version ${String((d as { v?: unknown } | null)?.v)}, this build reads ${WEIGHTS_CHECKPOINT_VERSION}` };
  if (!Array.isArray(d.from) || d.from.length !== streams || d.marks.length !== streams) return { refused: `taken with ${Array.isArray(d.from) ? d.from.length : '?'} input streams, the driver reads ${streams}` };
  if (d.cfg !== configHash(cfg, streams)) return { refused: 'taken under another weights configuration' };
  // the derived parts (book spec, column positions, universe set) come from the config, as in a fresh fold
  const st = initWeightsFold(cfg, streams);
  st.marks = [...d.marks];
  st.queues = d.queues.map((rows) => ({ rows, head: 0 }));
  st.latest = d.latest;
  st.seen = d.seen;
  st.prev = d.prev;
  st.grid = d.grid;
  st.requests = d.requests;
  st.kill = d.kill;
  st.kills = d.kills;
  st.lastT = d.lastT;
  return { st, from: d.from, asked: d.asked, changes: typeof d.changes === 'string' ? d.changes : null };
}
