/**
 * A checkpoint whose write costs what changed, not what was seen (issue 18): the state that is
 * rewritten on every write (the head: working orders, the book, inputs held back, stream
 * positions; bounded) is one hash field, and what only grows (fills, fill ids, order ids known,
 * the records kept for `--orders`) is a Redis list of segments, each holding the entries added
 * since the previous write. A restore decodes the head and applies the segments in order.
 *
 * Both are written in the caller's MULTI, so the head always names how many segments it covers
 * (`segs`). A MULTI that failed with a transient error may still have been applied: the writer
 * keeps its journal unchanged until the MULTI succeeds, and every write first trims the list back
 * to the segments it knows of (LTRIM, DEL at 0), so the retry (which carries the same entries and
 * more) replaces the segment instead of repeating it.
 *
 * Compaction: once the entries in the delta segments reach those of the first (and at least
 * `MIN_COMPACT`), or the list holds `MAX_SEGS` segments, the writer replaces the list by one
 * segment of everything (the caller's `full`): each entry is rewritten O(1) times on average, and
 * a restore reads at most `MAX_SEGS` items.
 *
 * Pure planning; the Redis part only adds commands to a MULTI the caller runs.
 */
import type { RedisClient } from '../../live/redis-connect.ts';

type Multi = ReturnType<RedisClient['multi']>;

/** Where a writer's list stands (as of its last applied MULTI). */
export interface Journal {
  /** Segments in the list. */
  segs: number;
  /** Entries in the first segment (the last compaction's) and in the others. */
  baseN: number;
  deltaN: number;
}

export const MAX_SEGS = 1024;
export const MIN_COMPACT = 256;

export const newJournal = (): Journal => ({ segs: 0, baseN: 0, deltaN: 0 });

/** One write of the journal: the segment to push (null: nothing new) and the journal once applied. */
export interface JournalPlan {
  seg: Uint8Array | null;
  compact: boolean;
  next: Journal;
}

/**
 * Plans a write with `delta` new entries (encoded by `encodeDelta`) of `total` in all (encoded by
 * `encodeFull`, called only to compact).
 */
export function planJournal(j: Journal, delta: number, total: number, encodeDelta: () => Uint8Array, encodeFull: () => Uint8Array): JournalPlan {
  if (delta === 0) return { seg: null, compact: false, next: j };
  const compact = j.segs === 0 || j.segs >= MAX_SEGS || j.deltaN + delta >= Math.max(j.baseN, MIN_COMPACT);
  if (compact) return { seg: encodeFull(), compact: true, next: { segs: 1, baseN: total, deltaN: 0 } };
  return { seg: encodeDelta(), compact: false, next: { segs: j.segs + 1, baseN: j.baseN, deltaN: j.deltaN + delta } };
}

/** Adds the plan's list commands to `m` (the caller adds the head, naming `plan.next.segs`, to the same MULTI). */
export function journalToMulti(m: Multi, listKey: string, j: Journal, plan: JournalPlan): void {
  // a segment of a MULTI whose outcome was not known is dropped: this write carries its entries
  if (plan.compact || j.segs === 0) m.del(listKey);
  else m.ltrim(listKey, 0, j.segs - 1);
  if (plan.seg !== null) m.rpush(listKey, Buffer.from(plan.seg.buffer, plan.seg.byteOffset, plan.seg.byteLength));
}

/** The list's segments, to restore with a head that covers `segs` of them; a string says why not. */
export async function readJournal(r: RedisClient, listKey: string, segs: number): Promise<Uint8Array[] | string> {
  const items = segs === 0 ? [] : await r.lrangeBuffer(listKey, 0, -1);
  if (items.length !== segs) return `${listKey} holds ${items.length} segments, the checkpoint covers ${segs}`;
  return items.map((b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
}
