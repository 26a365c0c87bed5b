/**
 * K-way merge of event cursors by core's one ordering (compareEvents): a binary min-heap of the
 * cursors' heads. Synchronous: cursors decode row groups on demand.
 *
 * The merge moves positions, not events: `nextRow` leaves the next event's (batch, row) in
 * `batch` / `row`, and `next` builds the event object from them for consumers that take
 * `MarketEvent`s (the fold today). Heads are compared on their float64 ts_recv first (exact when
 * they differ, see core/event-batch.ts) and on the exact columns only on ties, which keeps bigint
 * and string comparisons off the hot path without changing the order.
 */
import { compareRows, eventAt, type EventBatch } from '../core/event-batch.ts';
import type { MarketEvent } from '../core/events.ts';
import type { EventCursor } from './event-cursor.ts';

export class EventMerge {
  private readonly heap: EventCursor[];
  /** The batch of the event `nextRow` positioned on (valid until the next call). */
  batch: EventBatch | null = null;
  /** Its row in `batch`. */
  row = -1;

  constructor(cursors: readonly EventCursor[]) {
    this.heap = cursors.filter((c) => c.headT !== Infinity);
    for (let i = (this.heap.length >> 1) - 1; i >= 0; i--) this.down(i);
  }

  /** Positions `batch` / `row` on the next event in order; false when every cursor is exhausted. */
  nextRow(): boolean {
    const h = this.heap;
    if (h.length === 0) {
      this.batch = null;
      this.row = -1;
      return false;
    }
    const top = h[0];
    this.batch = top.batch;
    this.row = top.row;
    top.advance();
    if (top.headT === Infinity) {
      const last = h.pop()!;
      if (h.length > 0) {
        h[0] = last;
        this.down(0);
      }
    } else {
      this.down(0);
    }
    return true;
  }

  /** The next event in order, or null when every cursor is exhausted. */
  next(): MarketEvent | null {
    return this.nextRow() ? eventAt(this.batch!, this.row) : null;
  }

  private down(i: number): void {
    const h = this.heap;
    const n = h.length;
    const item = h[i];
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && before(h[r], h[l]) ? r : l;
      if (!before(h[c], item)) break;
      h[i] = h[c];
      i = c;
    }
    h[i] = item;
  }
}

/** True when a's head comes strictly before b's in core's order. */
function before(a: EventCursor, b: EventCursor): boolean {
  if (a.headT !== b.headT) return a.headT < b.headT;
  return compareRows(a.batch, a.row, b.batch, b.row) < 0;
}
