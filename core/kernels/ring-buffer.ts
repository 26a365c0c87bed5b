/**
 * Fixed-capacity ring of float64 values: the storage under count-based windows.
 *
 * Plain data (a Float64Array and two integers) so it survives state-codec snapshots unchanged.
 * Pushing never allocates; once full, each push overwrites the oldest value.
 */

export interface RingBuffer {
  buf: Float64Array;
  /** Slot of the oldest value. */
  head: number;
  /** Number of values held (<= buf.length). */
  len: number;
}

/** An empty ring that holds at most `capacity` values (an integer >= 1). */
export function initRing(capacity: number): RingBuffer {
  if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`ring capacity ${capacity} must be an integer >= 1`);
  return { buf: new Float64Array(capacity), head: 0, len: 0 };
}

/**
 * Appends `x`. When the ring is full the oldest value is overwritten and returned; otherwise the
 * result is NaN. Callers that may store NaN should test `ringFull` before pushing instead.
 */
export function ringPush(r: RingBuffer, x: number): number {
  const cap = r.buf.length;
  if (r.len < cap) {
    let slot = r.head + r.len;
    if (slot >= cap) slot -= cap;
    r.buf[slot] = x;
    r.len++;
    return NaN;
  }
  const old = r.buf[r.head];
  r.buf[r.head] = x;
  r.head = r.head + 1 === cap ? 0 : r.head + 1;
  return old;
}

/** The i-th value counting from the oldest (0 = oldest); NaN when out of range. */
export function ringGet(r: RingBuffer, i: number): number {
  if (i < 0 || i >= r.len) return NaN;
  let slot = r.head + i;
  if (slot >= r.buf.length) slot -= r.buf.length;
  return r.buf[slot];
}

/** Oldest value held; NaN when empty. */
export function ringOldest(r: RingBuffer): number {
  return r.len === 0 ? NaN : r.buf[r.head];
}

/** Newest value held; NaN when empty. */
export function ringNewest(r: RingBuffer): number {
  return r.len === 0 ? NaN : ringGet(r, r.len - 1);
}

/** Number of values held. */
export function ringSize(r: RingBuffer): number {
  return r.len;
}

/** Capacity given at init. */
export function ringCapacity(r: RingBuffer): number {
  return r.buf.length;
}

/** True once the ring holds `capacity` values (the next push evicts). */
export function ringFull(r: RingBuffer): boolean {
  return r.len === r.buf.length;
}

/** Empties the ring without reallocating. */
export function ringClear(r: RingBuffer): void {
  r.head = 0;
  r.len = 0;
}
