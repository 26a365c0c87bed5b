/**
 * Warm start (`lockstep live --warm-from CATALOG`): a shard with no checkpoint yet gets its fold
 * state from the catalog, up to the first event of its input stream, instead of starting empty,
 * so a worker started at 10:30 serves what a worker running since the open would.
 *
 * - The cutoff is the stream's first entry that decodes as an event: every catalog event of the
 *   shard's symbols (and every heartbeat) sorting before it in core's order is folded
 *   (replay/warm-fold.ts, the replay's own selection, cursors and merge), none at or after it.
 * - The warm state is treated like a restored checkpoint that covers no input: no row is emitted
 *   for a warm-up event, and the sequence guards hold the warm-up's last sequence numbers, so the
 *   stream's later events apply normally (and a re-sent earlier one is a duplicate, as in replay).
 *   Each symbol's newest warm-up row is served as its latest value (input ID `0-0`, so any row
 *   from the stream replaces it) until the stream updates it.
 * - A checkpoint wins: a shard that has a saved state is recovered from it (the log says so). A
 *   shard recovered before its first state save is warmed again, to the same cutoff (the stream is
 *   trimmed only after a state save), so a crash in between changes nothing.
 * - An empty stream: the shard waits, and is warmed when its first entry arrives (live-worker.ts).
 */
import { relative, sep } from 'node:path';
import { compareEvents, type MarketEvent } from '../../core/events.ts';
import type { FactorSet, FoldState } from '../../core/fold.ts';
import { shardOf } from '../shard.ts';
import type { Entry } from '../stream-reader.ts';
import { decodeEvent } from '../wire.ts';
import type { WorkerRedis } from './commands.ts';
import { LeaseExpiredError } from './errors.ts';
import { valueTexts, type LatestRow } from './row-format.ts';
import { decodeState, encodeState } from '../../core/state-codec.ts';
import type { ShardRun } from './shard-run.ts';
import type { LineageInput } from '../../replay/lineage.ts';

/** Where a warm start reads its history. */
export interface WarmStartOptions {
  catalog: string;
  /** Fold only these symbols (default: every symbol of the shard): the feed's `--symbols`. */
  symbols?: readonly string[];
}

/** What warming a shard works with. */
export interface WarmContext {
  writer: WorkerRedis;
  set: FactorSet;
  shards: number;
  warm: WarmStartOptions;
  /** Renews the worker's leases during a long warm-up. */
  renew: () => Promise<void>;
  log: (msg: string) => void;
  /**
   * Per shard, its last warm-up (encoded) and the cutoff it was made for: a shard recovered again
   * before its first state save (a lease lost meanwhile) reuses it instead of reading the catalog again.
   */
  cache: Map<number, { cutoff: string; state: Uint8Array; latest: [string, LatestRow][]; line: string; inputs: LineageInput[] }>;
}

/** The first entry of a stream that decodes as an event, or null when it holds none (yet). */
export async function firstInputEvent(writer: WorkerRedis, stream: string): Promise<MarketEvent | null> {
  let from = '-';
  for (;;) {
    const entries = (await writer.xrange(stream, from, '+', 'COUNT', 100)) as Entry[];
    if (entries.length === 0) return null;
    for (const [, fields] of entries) {
      if (fields === null) continue;
      const d = decodeEvent(fields, true);
      if (d.ok) return d.event;
    }
    from = `(${entries[entries.length - 1][0]}`;
  }
}

/** A line's worth of an event's identity. */
export const describeEvent = (e: MarketEvent): string => `ts_recv ${e.tsRecv}, ${e.kind}${e.kind === 'heartbeat' ? '' : ` ${e.symbol}`}, seq ${e.seq}`;

/**
 * Warms `run` (fresh: no checkpoint) from the catalog up to `first`, the first event of its input.
 * Sets its fold, and its latest values to each symbol's newest warm-up row; returns the files
 * folded, hashed, for the shard's lineage.
 */
export async function warmRun(c: WarmContext, run: ShardRun, first: MarketEvent): Promise<LineageInput[]> {
  const cutoff = describeEvent(first);
  const hit = c.cache.get(run.shard);
  if (hit?.cutoff === cutoff) {
    run.fold = decodeState<FoldState>(hit.state);
    run.warmPending = false;
    for (const [symbol, r] of hit.latest) run.latest.set(symbol, { ...r });
    c.log(`shard ${run.shard}: warm start again (${hit.line})`);
    return hit.inputs;
  }
  const tick = async (): Promise<void> => {
    try {
      await c.renew();
    } catch (e) {
      // another shard's lease expired meanwhile: this shard's recovery is cut short with it, so
      // it must be recovered again too (as a commit cut short by a lease does, commit.ts)
      if (e instanceof LeaseExpiredError) throw new LeaseExpiredError(e.lost, [...new Set([...e.stale, run.shard])]);
      throw e;
    }
  };
  const t0 = performance.now();
  const only = c.warm.symbols ? new Set(c.warm.symbols) : null;
  const { foldCatalogBefore } = await import('../../replay/warm-fold.ts');
  const { fileSha256 } = await import('../../replay/lineage.ts');
  const w = await foldCatalogBefore({
    catalog: c.warm.catalog,
    set: c.set,
    before: first,
    keep: (s) => shardOf(s, c.shards) === run.shard && (only === null || only.has(s)),
    tick,
  });
  run.fold = w.fold;
  run.warmPending = false;
  for (const [symbol, r] of w.latest) {
    // the cutoff sorts after every warm-up row
    if (compareEvents(r.event, first) >= 0) continue;
    run.latest.set(symbol, { id: '0-0', kind: r.event.kind, seq: r.event.seq, tsEvent: r.event.tsEvent, tsRecv: r.event.tsRecv, text: valueTexts(r.values) });
  }
  const line = `folded ${w.events} events of ${w.date} (${w.files.length} files, ${w.fold.order.length} symbols) before the first input (${cutoff})`;
  c.log(`shard ${run.shard}: warm start from ${c.warm.catalog}: ${line} in ${Math.round(performance.now() - t0)} ms`);
  // encoded before anything can apply an entry to the fold
  const state = encodeState(w.fold);
  // hashed one file at a time, leases renewed in between (a file is hashed once per process)
  const inputs: LineageInput[] = [];
  for (const f of w.files) {
    inputs.push({ path: relative(c.warm.catalog, f.path).split(sep).join('/'), ...fileSha256(f.path) });
    await tick();
  }
  c.cache.set(run.shard, { cutoff, state, latest: [...run.latest].map(([sym, r]) => [sym, { ...r }]), line, inputs });
  return inputs;
}

/**
 * Warms a fresh shard if its stream has an event; otherwise marks it to be warmed when its first
 * entry arrives (`run.warmPending`).
 */
export async function warmOrWait(c: WarmContext, run: ShardRun, stream: string): Promise<LineageInput[] | undefined> {
  const first = await firstInputEvent(c.writer, stream);
  if (first !== null) return warmRun(c, run, first);
  run.warmPending = true;
  c.log(`shard ${run.shard}: its input is empty; warming it from ${c.warm.catalog} when the first entry arrives`);
}
