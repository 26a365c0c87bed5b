/**
 * The as-of match at the heart of `historicalFeatures`, on plain typed arrays (pure: no I/O).
 *
 * Rule: entity row e (symbol s, time t) matches the factor row of symbol s with the greatest
 * ts_recv <= t; among several rows with that ts_recv, the last one in the factor table's row order.
 * A replay writes its rows in the fold's order (core's merge order), so that is the row the fold
 * produced last at t: the state a model would have read at t. No row (an unknown symbol, or t
 * before the symbol's first row) matches -1.
 *
 * Both sides are ordered by (symbol, time) with a stable sort, then merged symbol by symbol with
 * one forward pointer: O(n + m) after the sorts. Times are compared as two 32-bit halves read from
 * the BigInt64Array's buffer (signed high word, unsigned low word), which is exact and allocates
 * no BigInt per comparison. The factor side is usually in time order per symbol already (a replay
 * writes it so), which is checked in one pass and then needs only a counting sort by symbol.
 * When it is in time order as a whole (a replay's output is: rows in merge order), there is no
 * factor-side sort at all: one sweep through both (sweepMatch).
 */

/** Rows ordered by (symbol, time), stable: `order[start[s] .. start[s + 1])` are symbol s's rows. */
export interface SymbolTimeOrder {
  order: Int32Array;
  /** nSymbols + 1 offsets; rows with symbol -1 (unknown) are left out. */
  start: Int32Array;
}

/** High (signed) and low (unsigned) 32-bit halves of each int64, as views of its buffer. */
export function halves(ts: BigInt64Array): { hi: Int32Array; lo: Uint32Array } {
  // little-endian (every platform Node runs on): the low word comes first
  return { hi: new Int32Array(ts.buffer, ts.byteOffset, ts.length * 2), lo: new Uint32Array(ts.buffer, ts.byteOffset, ts.length * 2) };
}

/** Stable order of rows by (symbol id, ts); symbol ids are 0..nSymbols-1, or -1 to leave a row out. */
export function orderBySymbolTime(sym: Int32Array, ts: BigInt64Array, nSymbols: number): SymbolTimeOrder {
  const n = sym.length;
  const { hi, lo } = halves(ts);
  const start = new Int32Array(nSymbols + 1);
  let known = 0;
  for (let i = 0; i < n; i++) if (sym[i] >= 0) start[sym[i] + 1]++, known++;
  for (let s = 0; s < nSymbols; s++) start[s + 1] += start[s];
  const order = new Int32Array(known);
  const bySymbol = (from: Int32Array | null): void => {
    const next = start.slice(0, nSymbols);
    for (let k = 0; k < (from ? from.length : n); k++) {
      const i = from ? from[k] : k;
      const s = sym[i];
      if (s >= 0) order[next[s]++] = i;
    }
  };
  bySymbol(null);
  if (timeOrdered(order, start, hi, lo)) return { order, start };
  bySymbol(timeOrder(hi, lo, n));
  return { order, start };
}

/**
 * Stable order of n rows by 64-bit time (LSD radix sort, 16 bits a pass). Each pass's digits are
 * computed once into an array (a closure call per row cost 10x more), and a pass whose digit is
 * the same on every row (the high bits, for times within a few days) is skipped.
 */
function timeOrder(hi: Int32Array, lo: Uint32Array, n: number): Int32Array {
  let cur = new Int32Array(n);
  for (let i = 0; i < n; i++) cur[i] = i;
  let tmp = new Int32Array(n);
  const count = new Int32Array(65537);
  const dig = new Uint16Array(n);
  for (let pass = 0; pass < 4; pass++) {
    const shift = (pass & 1) * 16;
    if (pass < 2) for (let i = 0; i < n; i++) dig[i] = lo[2 * i] >>> shift;
    else for (let i = 0; i < n; i++) dig[i] = ((hi[2 * i + 1] ^ 0x80000000) >>> shift) & 0xffff;
    count.fill(0);
    for (let i = 0; i < n; i++) count[dig[i] + 1]++;
    if (count.some((c) => c === n)) continue; // every row has this digit: the pass would not move one
    for (let d = 0; d < 65536; d++) count[d + 1] += count[d];
    for (let k = 0; k < n; k++) {
      const i = cur[k];
      tmp[count[dig[i]]++] = i;
    }
    [cur, tmp] = [tmp, cur];
  }
  return cur;
}

/** True when every row's time is >= the previous row's. */
function inTimeOrder(hi: Int32Array, lo: Uint32Array, n: number): boolean {
  for (let r = 1; r < n; r++) {
    const ha = hi[2 * r - 1];
    const hb = hi[2 * r + 1];
    if (ha > hb || (ha === hb && lo[2 * r - 2] > lo[2 * r])) return false;
  }
  return true;
}

/** True when each symbol's run of `order` is in nondecreasing time (a run may start earlier than the last ended). */
function timeOrdered(order: Int32Array, start: Int32Array, hi: Int32Array, lo: Uint32Array): boolean {
  for (let s = 0; s + 1 < start.length; s++) {
    for (let k = start[s] + 1; k < start[s + 1]; k++) {
      const a = order[k - 1];
      const b = order[k];
      const ha = hi[2 * a + 1];
      const hb = hi[2 * b + 1];
      if (ha > hb || (ha === hb && lo[2 * a] > lo[2 * b])) return false;
    }
  }
  return true;
}

/**
 * For each entity row, the factor row it matches (see the rule at the top), or -1.
 * `fSym`/`fTs`: the factor table's symbol ids and ts_recv; `eSym`/`eTs`: the entities' (symbol
 * id -1 = a symbol the factor table does not have).
 */
export function asOfMatch(fSym: Int32Array, fTs: BigInt64Array, eSym: Int32Array, eTs: BigInt64Array, nSymbols: number): Int32Array {
  const fh = halves(fTs);
  if (inTimeOrder(fh.hi, fh.lo, fTs.length)) return sweepMatch(fSym, fh, eSym, eTs, nSymbols);
  const f = orderBySymbolTime(fSym, fTs, nSymbols);
  const e = orderBySymbolTime(eSym, eTs, nSymbols);
  const eh = halves(eTs);
  const match = new Int32Array(eSym.length).fill(-1);
  for (let s = 0; s < nSymbols; s++) {
    const fFirst = f.start[s];
    const fEnd = f.start[s + 1];
    let p = fFirst - 1;
    for (let k = e.start[s]; k < e.start[s + 1]; k++) {
      const i = e.order[k];
      const th = eh.hi[2 * i + 1];
      const tl = eh.lo[2 * i];
      while (p + 1 < fEnd) {
        const r = f.order[p + 1];
        const h = fh.hi[2 * r + 1];
        if (h < th || (h === th && fh.lo[2 * r] <= tl)) p++;
        else break;
      }
      if (p >= fFirst) match[i] = f.order[p];
    }
  }
  return match;
}

/**
 * The match when the factor table is in time order as a whole (a replay writes it so): one sweep
 * through the entities in time order and the factor rows in file order, keeping each symbol's
 * latest row so far. A factor row is applied before an entity of the same time, so an entity sees
 * every row with ts_recv <= t, the last of a tie in file order. No sort of the factor side, and
 * its rows are read front to back (the per-symbol merge jumps about the table).
 */
function sweepMatch(fSym: Int32Array, fh: { hi: Int32Array; lo: Uint32Array }, eSym: Int32Array, eTs: BigInt64Array, nSymbols: number): Int32Array {
  const n = eSym.length;
  const m = fSym.length;
  const eh = halves(eTs);
  const order = inTimeOrder(eh.hi, eh.lo, n) ? null : timeOrder(eh.hi, eh.lo, n);
  const last = new Int32Array(nSymbols).fill(-1);
  const match = new Int32Array(n).fill(-1);
  const { hi, lo } = fh;
  let p = 0;
  for (let k = 0; k < n; k++) {
    const i = order === null ? k : order[k];
    const th = eh.hi[2 * i + 1];
    const tl = eh.lo[2 * i];
    while (p < m) {
      const h = hi[2 * p + 1];
      if (h > th || (h === th && lo[2 * p] > tl)) break;
      last[fSym[p]] = p;
      p++;
    }
    const s = eSym[i];
    if (s >= 0) match[i] = last[s];
  }
  return match;
}
