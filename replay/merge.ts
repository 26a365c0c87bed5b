/**
 * K-way merge of event cursors by core's one ordering (compareEvents): a binary min-heap of the
 * cursors' heads. Synchronous: cursors decode row groups on demand.
 *
 * Heads are compared on their float64 ts_recv first (exact when they differ, see tsRecvApprox)
 * and with compareEvents only on ties, which keeps bigint and string comparisons off the hot path
 * without changing the order.
 */
import { compareEvents, type MarketEvent } from '../core/events.ts';
import type { EventCursor } from './event-cursor.ts';

export class EventMerge {
  private readonly heap: EventCursor[];

  constructor(cursors: readonly EventCursor[]) {
    this.heap = cursors.filter((c) => c.head !== null);
    for (let i = (this.heap.length >> 1) - 1; i >= 0; i--) this.down(i);
  }

  /** The next event in order, or null when every cursor is exhausted. */
  next(): MarketEvent | null {
    const h = this.heap;
    if (h.length === 0) return null;
    const top = h[0];
    const ev = top.head!;
    top.advance();
    if (top.head === null) {
      const last = h.pop()!;
      if (h.length > 0) {
        h[0] = last;
        this.down(0);
      }
    } else {
      this.down(0);
    }
    return ev;
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
  return compareEvents(a.head!, b.head!) < 0;
}
