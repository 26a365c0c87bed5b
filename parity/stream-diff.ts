/**
 * The streaming diff engine: a merge join of two factor tables read a batch at a time, so a diff
 * of two 5M-row tables holds two batches, not two tables.
 *
 * Both sides normally arrive in the replay order (ts_recv, source priority, symbol, seq): a second
 * replay writes the same order, and a live capture is merged across shards by it. The engine
 * always consumes the smaller head of the two; equal heads start a run of rows the two sides share
 * in the same order, compared where they lie, column by column (the common case: no copies, no
 * per-row allocation). A row whose partner has not arrived yet waits in its side's window, a map
 * keyed by (symbol, source, seq); a row arriving later on the other side finds it there. So rows
 * out of order still match: order is what keeps the windows small, not what makes the answer
 * right. The report is the same whatever the order.
 *
 * Rows only on one side would pile up in a window. When the other side has been in order so far,
 * a waiting row that sorts before the other side's head can no longer get a partner, so once a
 * window holds `retireAfter` rows, such rows are retired: counted as only on their side, with the
 * first 20 kept as examples. Should a later row of the other side find no partner and sort at or
 * below the largest retired key (that side was not in order after all), a retired row might have
 * been its partner: the first pass is then abandoned and the diff starts over with retirement off
 * (exact, at the cost of memory). The stats say how many passes it took and how large the windows
 * got.
 *
 * Everything else is O(columns) (per-factor counts and worst differences) or O(symbols) (first
 * divergence per symbol), plus 8 bytes per mismatched row for the timeline (diff-tally.ts). A
 * side's batch, window and order checks are in diff-side.ts.
 *
 * A key repeated on one side is a table error; here every row matches at most one row on the
 * other side, and a repeat left without a partner counts as a row only on its side.
 */
import { endianness } from 'node:os';
import { isIdentityKeys } from '../core/row-key.ts';
import type { DiffOptions, DiffReport } from './diff.ts';
import { cmpKey, cmpRows, hold, keyAt, keyStringAt, loadBatch, newSide, onlyIn, partsAt, type Held, type Side, type SideSchema } from './diff-side.ts';
import { createTally } from './diff-tally.ts';
import type { RowBatch, RowSource } from './row-source.ts';

if (endianness() !== 'LE') throw new Error('the diff engine reads int64 keys as two 32-bit halves and needs a little-endian machine');

export interface StreamDiffOptions extends DiffOptions {
  /** Rows a window may hold before rows that can no longer match are retired (default 16384). */
  retireAfter?: number;
}

/** Options of one pass. */
export interface StreamDiffPassOptions extends StreamDiffOptions {
  /**
   * Retire rows that can no longer match (default true). A pass redone because a side turned out
   * disordered after retiring runs with it off: exact, at the cost of memory.
   */
  retire?: boolean;
}

export interface StreamStats {
  /** 1, or 2 when a side's disorder made the first pass's retirements unsafe. */
  passes: number;
  /** Most rows held waiting for a partner at once (both sides), and per side. */
  windowHighWater: number;
  windowHighWaterA: number;
  windowHighWaterB: number;
  /** Rows counted as only on one side before the end, by order. */
  retired: number;
  /** Matched rows that met head to head (same order) and through a window (out of order). */
  headMatches: number;
  windowMatches: number;
}

/** Which side the diff needs a batch of next, that it is done, or that the pass must start over. */
export type Need = 'A' | 'B' | 'done' | 'restart';

/**
 * One diff pass as a state machine: `push` a side's next batch (null at its end), `step` until it
 * says which side it needs next, `report` when it says done. Synchronous, so the same engine
 * serves in-memory tables (`diffTables`) and streamed sources (`diffSources`).
 */
export interface StreamDiff {
  push(side: 'A' | 'B', batch: RowBatch | null): void;
  step(): Need;
  report(): DiffReport;
  stats(passes: number): StreamStats;
}

/** One pass of the diff of two sides with these schemas. */
export function createStreamDiff(schemaA: SideSchema, schemaB: SideSchema, opts: StreamDiffPassOptions = {}): StreamDiff {
  const userKeys = isIdentityKeys(opts.keys) ? undefined : opts.keys!;
  const tally = createTally(schemaA, schemaB, opts, userKeys);
  const shared = tally.shared;
  const n = shared.length;
  const retire = opts.retire ?? true;
  const retireAfter = opts.retireAfter ?? 16384;
  const A = newSide(shared.map((c) => schemaA.factorColumns.indexOf(c)), retireAfter);
  const B = newSide(shared.map((c) => schemaB.factorColumns.indexOf(c)), retireAfter);
  let matched = 0;
  let headMatches = 0;
  let windowMatches = 0;
  let highWater = 0;
  let flushed = false;

  /** First mismatched column (and its cells) of each row of the current run, by row offset. */
  const runBad = new Map<number, { s: number; a: number | null; b: number | null }>();

  function runCell(s: number, j: number, va: number | null, vb: number | null): void {
    if (tally.cellDiffers(s, va, vb) && !runBad.has(j)) runBad.set(j, { s, a: va, b: vb });
  }

  /**
   * The next k rows of A and B are the same rows in the same order (the common case): compare them
   * where they lie, column by column, with no copies. Equal bits (telling -0 from +0) and NaN vs
   * NaN agree and change no stats, so only the rare differing cells leave the tight loops.
   */
  function matchRun(k: number): void {
    const ia = A.i;
    const ib = B.i;
    for (let s = 0; s < n; s++) {
      const ca = A.cols[s];
      const cb = B.cols[s];
      const xa = ca.values;
      const xb = cb.values;
      const ba = ca.bits;
      const bb = cb.bits;
      if (ba === null && bb === null) {
        for (let j = 0; j < k; j++) {
          const va = xa[ia + j];
          const vb = xb[ib + j];
          if (va === vb ? va !== 0 || 1 / va === 1 / vb : va !== va && vb !== vb) continue;
          runCell(s, j, va, vb);
        }
        continue;
      }
      const oa = ca.bitOffset + ia;
      const ob = cb.bitOffset + ib;
      for (let j = 0; j < k; j++) {
        const nullA = ba !== null && ((ba[(oa + j) >> 3] >> ((oa + j) & 7)) & 1) === 0;
        const nullB = bb !== null && ((bb[(ob + j) >> 3] >> ((ob + j) & 7)) & 1) === 0;
        const va = xa[ia + j];
        const vb = xb[ib + j];
        if (!nullA && !nullB) {
          if (va === vb ? va !== 0 || 1 / va === 1 / vb : va !== va && vb !== vb) continue;
        } else if (nullA && nullB) continue;
        runCell(s, j, nullA ? null : va, nullB ? null : vb);
      }
    }
    matched += k;
    headMatches += k;
    if (runBad.size > 0) {
      const b = A.batch!;
      for (const [j, f] of runBad) tally.badRow(A.base + ia + j, b.symbol[ia + j], b.source[ia + j], b.seq[ia + j], b.tsRecv[ia + j], f.s, f.a, f.b, b.keys && partsAt(b.keys, ia + j));
      runBad.clear();
    }
  }

  /** Two rows that met through a window (rare: only rows out of order get here). */
  function matchHeld(a: Held, b: Held): void {
    let bad = -1;
    let badA: number | null = null;
    let badB: number | null = null;
    for (let s = 0; s < n; s++) {
      const va = a.valid[s] ? a.values[s] : null;
      const vb = b.valid[s] ? b.values[s] : null;
      if (va === null || vb === null ? va === vb : Object.is(va, vb) || (Number.isNaN(va) && Number.isNaN(vb))) continue;
      if (tally.cellDiffers(s, va, vb) && bad < 0) {
        bad = s;
        badA = va;
        badB = vb;
      }
    }
    matched++;
    windowMatches++;
    if (bad >= 0) tally.badRow(a.index, a.symbol, a.source, a.seq, a.tsRecv, bad, badA, badB, a.parts);
  }

  /** Retires x's waiting rows that sort before o's head, when o has been in order so far. */
  function retireRows(x: Side, o: Side): void {
    if (o.inOrder) {
      const w = keyAt(o, o.i);
      for (const [k, h] of x.window) {
        if (cmpKey(h, w) >= 0) continue;
        x.window.delete(k);
        onlyIn(x, h.index, k);
        x.retired++;
        if (x.maxRetired === null || cmpKey(h, x.maxRetired) > 0) x.maxRetired = { symbol: h.symbol, source: h.source, seq: h.seq, tsRecv: h.tsRecv, parts: h.parts };
      }
    }
    x.nextScan = Math.max(retireAfter, 2 * x.window.size);
  }

  /** x's head is not o's head: find its partner in o's window, or wait in x's. True = restart. */
  function takeRow(x: Side, o: Side): boolean {
    const i = x.i;
    const b = x.batch!;
    const k = keyStringAt(b, i);
    const partner = o.window.get(k);
    if (partner !== undefined) {
      o.window.delete(k);
      const mine = hold(x, i, n);
      if (x === A) matchHeld(mine, partner);
      else matchHeld(partner, mine);
      return false;
    }
    // a retired row of o may have been this row's partner: start over without retiring
    if (o.maxRetired !== null && cmpKey(keyAt(x, i), o.maxRetired) <= 0) return true;
    if (o.ended) {
      onlyIn(x, x.base + i, k);
      return false;
    }
    const twin = x.window.get(k);
    if (twin !== undefined) {
      x.window.delete(k);
      onlyIn(x, twin.index, k);
    }
    x.window.set(k, hold(x, i, n));
    if (x.window.size > x.highWater) x.highWater = x.window.size;
    if (A.window.size + B.window.size > highWater) highWater = A.window.size + B.window.size;
    if (retire && x.window.size >= x.nextScan) retireRows(x, o);
    return false;
  }

  function push(side: 'A' | 'B', batch: RowBatch | null): void {
    const x = side === 'A' ? A : B;
    if (batch === null) {
      x.ended = true;
      x.batch = null;
      return;
    }
    if ((batch.keys !== undefined) !== (userKeys !== undefined) || (userKeys !== undefined && batch.keys!.length !== userKeys.length)) {
      throw new Error(`a ${side} batch without the key columns the diff was asked to match on (${(userKeys ?? ['symbol', 'source', 'seq']).join(',')})`);
    }
    loadBatch(x, batch);
    if (batch.n === 0) return;
    if (x === A) {
      // A's ts_recv range spans the timeline
      let lo = 0;
      let hi = 0;
      for (let i = 1; i < batch.n; i++) {
        if (x.tsI[2 * i + 1] - x.tsI[2 * lo + 1] < 0 || (x.tsI[2 * i + 1] === x.tsI[2 * lo + 1] && x.tsU[2 * i] < x.tsU[2 * lo])) lo = i;
        if (x.tsI[2 * i + 1] - x.tsI[2 * hi + 1] > 0 || (x.tsI[2 * i + 1] === x.tsI[2 * hi + 1] && x.tsU[2 * i] > x.tsU[2 * hi])) hi = i;
      }
      tally.widenSpan(batch.tsRecv[lo], batch.tsRecv[hi], batch.tsRecv.length === batch.n ? batch.tsRecv : batch.tsRecv.subarray(0, batch.n));
    }
  }

  function step(): Need {
    for (;;) {
      const aIn = A.batch !== null && A.i < A.batch.n;
      if (!aIn && !A.ended) return 'A';
      const bIn = B.batch !== null && B.i < B.batch.n;
      if (!bIn && !B.ended) return 'B';
      if (!aIn && !bIn) {
        if (!flushed) {
          flushed = true;
          for (const [k, h] of A.window) onlyIn(A, h.index, k);
          for (const [k, h] of B.window) onlyIn(B, h.index, k);
          A.window.clear();
          B.window.clear();
        }
        return 'done';
      }
      const c = aIn && bIn ? cmpRows(A, A.i, B, B.i) : aIn ? -1 : 1;
      if (c === 0) {
        // extend to the whole run of rows the two sides share in the same order
        const most = Math.min(A.batch!.n - A.i, B.batch!.n - B.i);
        let k = 1;
        while (k < most && cmpRows(A, A.i + k, B, B.i + k) === 0) k++;
        matchRun(k);
        A.i += k;
        B.i += k;
      } else if (c < 0) {
        if (takeRow(A, B)) return 'restart';
        A.i++;
      } else {
        if (takeRow(B, A)) return 'restart';
        B.i++;
      }
    }
  }

  function report(): DiffReport {
    if (!flushed) throw new Error('report() before the diff is done');
    return tally.report(matched, A, B);
  }

  function stats(passes: number): StreamStats {
    return { passes, windowHighWater: highWater, windowHighWaterA: A.highWater, windowHighWaterB: B.highWater, retired: A.retired + B.retired, headMatches, windowMatches };
  }

  return { push, step, report, stats };
}

/** Both sides' batches, for a synchronous diff of in-memory tables. */
export function diffBatchesSync(a: SideSchema & { batches(): Iterable<RowBatch> }, b: SideSchema & { batches(): Iterable<RowBatch> }, opts: StreamDiffOptions = {}): { report: DiffReport; stats: StreamStats } {
  for (let pass = 1; ; pass++) {
    const d = createStreamDiff(a, b, { ...opts, retire: pass === 1 });
    const its = { A: a.batches()[Symbol.iterator](), B: b.batches()[Symbol.iterator]() };
    for (;;) {
      const need = d.step();
      if (need === 'done') return { report: d.report(), stats: d.stats(pass) };
      if (need === 'restart') break;
      const r = its[need].next();
      d.push(need, r.done ? null : r.value);
    }
  }
}

/** Diffs two sources, streaming; reads both again if the first pass has to be redone. */
export async function diffSources(a: RowSource, b: RowSource, opts: StreamDiffOptions = {}): Promise<{ report: DiffReport; stats: StreamStats }> {
  for (let pass = 1; ; pass++) {
    const d = createStreamDiff(a, b, { ...opts, retire: pass === 1 });
    const its = { A: a.batches()[Symbol.asyncIterator](), B: b.batches()[Symbol.asyncIterator]() };
    try {
      for (;;) {
        const need = d.step();
        if (need === 'done') return { report: d.report(), stats: d.stats(pass) };
        if (need === 'restart') break;
        const r = await its[need].next();
        d.push(need, r.done ? null : r.value);
      }
    } finally {
      await its.A.return?.();
      await its.B.return?.();
    }
  }
}

/** One line for the terminal (stderr): how the streaming went. */
export function formatStats(s: StreamStats, seconds: number, rows: number): string {
  const rate = seconds > 0 ? `${(rows / seconds / 1e6).toFixed(2)}M rows/s` : '-';
  return `diffed ${rows.toLocaleString('en-US')} rows in ${seconds.toFixed(1)} s (${rate}), ${s.passes} pass${s.passes > 1 ? 'es' : ''}; unmatched window high-water ${s.windowHighWater} rows (A ${s.windowHighWaterA}, B ${s.windowHighWaterB}); ${s.windowMatches} rows matched out of order; ${s.retired} retired early`;
}
