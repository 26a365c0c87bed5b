/**
 * An event-time merge of K input streams by watermarks: pure, plain-data state, shared by the
 * folds that meet several streams (portfolio/fold.ts: factor rows of K shards; trading/desk-fold.ts:
 * K shards plus the fills stream).
 *
 * - Each stream's clock only moves forward: an item's time is max(ts, the stream's watermark), so a
 *   late item counts at the stream's current time, decided by its own stream alone. Stream s's
 *   watermark W_s is the greatest time it has delivered (items, heartbeats): it will deliver
 *   nothing before W_s any more.
 * - An item is ready once every stream has reached its time (W = min_s W_s ≥ ts); items come out in
 *   time order across streams, ties to the lower stream index. A fold that needs an item at T of a
 *   stream to wait until no other stream can deliver anything more at T (every other W_o > ts)
 *   names that stream `strict`: at one instant its items then come after all the others'.
 * Hence what comes out depends only on each stream's own sequence, not on how the streams
 * interleave or how they are batched.
 *
 * No I/O, clock, randomness or promises.
 */

/** One stream's items not yet taken, in arrival order (a consumed prefix before `head`). */
export interface MergeQueue<T> {
  rows: T[];
  head: number;
}

/** The merge's state: per stream its watermark (null: nothing delivered yet, which holds everything back) and queue. */
export interface MergeState<T extends { ts: bigint }> {
  marks: (bigint | null)[];
  queues: MergeQueue<T>[];
}

/** A merge of `streams` streams, none of which has delivered anything yet. */
export function initMerge<T extends { ts: bigint }>(streams: number): MergeState<T> {
  if (!Number.isInteger(streams) || streams < 1) throw new RangeError(`streams must be a positive integer, not ${streams}`);
  return { marks: new Array<bigint | null>(streams).fill(null), queues: Array.from({ length: streams }, () => ({ rows: [], head: 0 })) };
}

/** Moves stream `s`'s watermark to at least `ts`; returns the time `ts` counts at (the new watermark). */
export function advanceMark(st: MergeState<{ ts: bigint }>, s: number, ts: bigint): bigint {
  if (!(s >= 0 && s < st.marks.length)) throw new RangeError(`stream ${s} is not one of 0..${st.marks.length - 1}`);
  const m = st.marks[s];
  if (m === null || ts > m) {
    st.marks[s] = ts;
    return ts;
  }
  return m;
}

/** Stream `s` delivers `item`; a late one is queued at the stream's watermark (`retime` makes the copy). */
export function enqueue<T extends { ts: bigint }>(st: MergeState<T>, s: number, item: T, retime: (item: T, ts: bigint) => T): void {
  const t = advanceMark(st, s, item.ts);
  st.queues[s].rows.push(t === item.ts ? item : retime(item, t));
}

/** The watermark every stream has reached (null until each has delivered something). */
export function globalMark(st: MergeState<{ ts: bigint }>): bigint | null {
  let w: bigint | null = null;
  for (const m of st.marks) {
    if (m === null) return null;
    if (w === null || m < w) w = m;
  }
  return w;
}

/** The stream whose next item is earliest (ties: by `tie` when given, then the lower index), or -1 when every queue is empty. */
export function earliestStream<T extends { ts: bigint }>(st: MergeState<T>, tie?: (a: T, b: T) => number): number {
  let best = -1;
  let bestItem: T | null = null;
  for (let s = 0; s < st.queues.length; s++) {
    const q = st.queues[s];
    if (q.head >= q.rows.length) continue;
    const x = q.rows[q.head];
    if (best < 0 || x.ts < bestItem!.ts || (tie !== undefined && x.ts === bestItem!.ts && tie(x, bestItem!) < 0)) {
      best = s;
      bestItem = x;
    }
  }
  return best;
}

/** The next item of stream `s` without taking it (undefined when its queue is empty). */
export function peek<T extends { ts: bigint }>(st: MergeState<T>, s: number): T | undefined {
  const q = st.queues[s];
  return q.head < q.rows.length ? q.rows[q.head] : undefined;
}

/** Takes the next item of stream `s` (its queue must not be empty). */
export function take<T extends { ts: bigint }>(st: MergeState<T>, s: number): T {
  const q = st.queues[s];
  const r = q.rows[q.head++];
  // drop the consumed prefix now and then: a queue holds at most what the slowest stream holds back
  if (q.head >= 1024 && q.head * 2 >= q.rows.length) {
    q.rows = q.rows.slice(q.head);
    q.head = 0;
  }
  return r;
}

/**
 * The next item that may be applied now, taken from its queue, or null: the earliest queued item
 * whose time the watermark has reached (`≤ W`; for the streams `strict` names, every other stream
 * past it) and that is before `before` (a fold's own timer, run first at an equal time) when
 * given. With every stream strict, `tie` orders the items of one instant whatever stream they
 * came on (all of them are in hand by then): the merge then equals one sorted stream.
 */
export function nextReady<T extends { ts: bigint }>(st: MergeState<T>, before: bigint | null = null, strict: (s: number) => boolean = () => false, tie?: (a: T, b: T) => number): T | null {
  const w = globalMark(st);
  if (w === null) return null;
  const s = earliestStream(st, tie);
  if (s < 0) return null;
  const ts = st.queues[s].rows[st.queues[s].head].ts;
  if (ts > w) return null;
  // strict: every other stream must have passed ts (its own later items at ts come after it anyway)
  if (strict(s)) for (let o = 0; o < st.marks.length; o++) if (o !== s && st.marks[o]! <= ts) return null;
  if (before !== null && ts >= before) return null;
  return take(st, s);
}
