/**
 * What the streaming diff (stream-diff.ts) reports, accumulated as it goes: per-factor counts and
 * worst differences, the first divergence per symbol, and the mismatch timeline, whose span (A's
 * ts_recv range) is only known at the end. O(columns) + O(symbols), plus 8 bytes per mismatched
 * row.
 */
import type { KeyValue } from '../core/row-key.ts';
import type { DiffOptions, DiffReport, Divergence, FactorSummary } from './diff.ts';
import type { SideSchema } from './diff-side.ts';
import { cellsAgree, toleranceName, ulpDistance, type Tolerance } from './tolerance.ts';

const BUCKETS = 96;
const DAY = 86_400_000_000_000n;

/** A side's counts at the end of the diff. */
export interface SideCounts {
  rows: number;
  onlyIn: number;
  sample: { key: string }[];
}

/** The report's accumulator; `shared` are the compared columns, indexed by `s` below. */
export interface Tally {
  readonly shared: string[];
  /** Stats of a cell pair that is not the same bits (or has a null); true when it is a mismatch. */
  cellDiffers(s: number, va: number | null, vb: number | null): boolean;
  /** A mismatched row: the timeline, and the symbol's first divergence (smallest row of A). */
  badRow(index: number, symbol: string, source: string, seq: bigint, tsRecv: bigint, s: number, va: number | null, vb: number | null, parts?: KeyValue[]): void;
  /** Widens the timeline's span to A's rows from lo to hi. */
  /** A batch's ts range on A's side; `rows` (its ts column) is walked only when it spans days. */
  widenSpan(lo: bigint, hi: bigint, rows?: ArrayLike<bigint>): void;
  report(matched: number, a: SideCounts, b: SideCounts): DiffReport;
}

/**
 * The tally of one pass. `opts.columns` (--columns) limits the compared columns (a reference table
 * computed a few factors, not the whole set); `userKeys` name the key of a divergence.
 */
export function createTally(schemaA: SideSchema, schemaB: SideSchema, opts: DiffOptions, userKeys: readonly string[] | undefined): Tally {
  const only = opts.columns;
  const colsA = only ? schemaA.factorColumns.filter((c) => only.includes(c)) : schemaA.factorColumns;
  const colsB = only ? schemaB.factorColumns.filter((c) => only.includes(c)) : schemaB.factorColumns;
  const shared = colsA.filter((c) => colsB.includes(c));
  const axis = schemaA.timeAxis ?? 'ts_recv';
  const tol: Tolerance[] = shared.map((c) => (opts.factorTolerance && Object.hasOwn(opts.factorTolerance, c) ? opts.factorTolerance[c] : undefined) ?? opts.tolerance ?? { kind: 'exact' }); // a column may be named like an Object method
  const sums: FactorSummary[] = shared.map((c, s) => ({ factor: c, tolerance: toleranceName(tol[s]), compared: 0, mismatched: 0, signedZero: 0, maxAbs: 0, maxRel: 0, maxUlp: '0' }));
  const maxUlp = shared.map(() => 0n);
  let mismatchedCells = 0;
  let tsLo: bigint | null = null;
  let tsHi: bigint | null = null;
  const dayMin = new Map<bigint, bigint>();
  /** ts_recv (A's) of each mismatched row, for the timeline. */
  let badTs = new BigInt64Array(1024);
  let badRows = 0;
  const first = new Map<string, { index: number; d: Divergence }>();

  function cellDiffers(s: number, va: number | null, vb: number | null): boolean {
    if (va !== null && vb !== null) {
      const sum = sums[s];
      if (va === 0 && vb === 0 && !Object.is(va, vb)) sum.signedZero++;
      if (!Number.isNaN(va) && !Number.isNaN(vb)) {
        const abs = Math.abs(va - vb);
        const rel = abs === 0 ? 0 : abs / Math.max(Math.abs(va), Math.abs(vb));
        if (abs > sum.maxAbs) sum.maxAbs = abs;
        if (rel > sum.maxRel) sum.maxRel = rel;
        const u = ulpDistance(va, vb);
        if (u > maxUlp[s]) maxUlp[s] = u;
      }
    }
    if (cellsAgree(va, vb, tol[s])) return false;
    sums[s].mismatched++;
    mismatchedCells++;
    return true;
  }

  function badRow(index: number, symbol: string, source: string, seq: bigint, tsRecv: bigint, s: number, va: number | null, vb: number | null, parts?: KeyValue[]): void {
    if (badRows === badTs.length) {
      const grown = new BigInt64Array(badTs.length * 2);
      grown.set(badTs);
      badTs = grown;
    }
    badTs[badRows++] = tsRecv;
    const f = first.get(symbol);
    if (f === undefined || index < f.index) {
      const d: Divergence = { symbol, source, seq: seq.toString(), tsRecv: tsRecv.toString(), factor: shared[s], a: va, b: vb };
      if (userKeys !== undefined && parts !== undefined) d.key = Object.fromEntries(userKeys.map((k, c) => [k, String(parts[c])]));
      first.set(symbol, { index, d });
    }
  }

  function widenSpan(lo: bigint, hi: bigint, rows?: ArrayLike<bigint>): void {
    if (tsLo === null || lo < tsLo) tsLo = lo;
    if (tsHi === null || hi > tsHi) tsHi = hi;
    // the earliest row of each day, so the timeline of a table holding earlier point-in-time rows
    // (old fundamentals) starts at the last day's first row, not at its midnight; a batch within one
    // day costs one update, only a batch spanning days is walked
    if (lo / DAY === hi / DAY || rows === undefined) {
      noteDayMin(lo);
    } else {
      for (let i = 0; i < rows.length; i++) noteDayMin(rows[i]);
    }
  }

  function noteDayMin(ts: bigint): void {
    const day = ts / DAY;
    const m = dayMin.get(day);
    if (m === undefined || ts < m) dayMin.set(day, ts);
  }

  function report(matched: number, a: SideCounts, b: SideCounts): DiffReport {
    let lo = tsLo ?? 0n;
    const hi = tsHi ?? lo;
    // the day of the last row: earlier-dated point-in-time rows (old fundamentals) would squash it
    if (axis !== 'row' && hi - lo > DAY) lo = dayMin.get(hi / DAY) ?? (hi / DAY) * DAY;
    const span = hi - lo + 1n;
    const buckets = new Array<number>(BUCKETS).fill(0);
    for (let r = 0; r < badRows; r++) {
      const t = badTs[r];
      buckets[t < lo ? 0 : Number(((t - lo) * BigInt(BUCKETS)) / span)]++;
    }
    sums.forEach((s, i) => {
      s.compared = matched;
      s.maxUlp = maxUlp[i].toString();
    });
    const columnsOnlyInA = colsA.filter((c) => !colsB.includes(c));
    const columnsOnlyInB = colsB.filter((c) => !colsA.includes(c));
    const skew = a.onlyIn > 0 || b.onlyIn > 0 || mismatchedCells > 0 || columnsOnlyInA.length > 0 || columnsOnlyInB.length > 0;
    const r: DiffReport = {
      verdict: skew ? 'skew' : 'parity',
      rowsA: a.rows,
      rowsB: b.rows,
      matchedRows: matched,
      onlyInA: a.onlyIn,
      onlyInB: b.onlyIn,
      onlyInASample: a.sample.map((x) => x.key),
      onlyInBSample: b.sample.map((x) => x.key),
      columnsOnlyInA,
      columnsOnlyInB,
      mismatchedCells,
      factors: sums,
      // in A's row order first (as the in-memory diff found them), then by ts_recv
      firstDivergencePerSymbol: [...first.values()].sort((x, y) => x.index - y.index).map((f) => f.d).sort((x, y) => (BigInt(x.tsRecv) < BigInt(y.tsRecv) ? -1 : 1)),
      timeline: { fromNs: lo.toString(), toNs: hi.toString(), buckets },
    };
    if (axis !== 'ts_recv') r.timeline.axis = axis;
    const typeDiffs = shared
      .map((c) => ({ column: c, a: schemaA.factorTypes?.[schemaA.factorColumns.indexOf(c)], b: schemaB.factorTypes?.[schemaB.factorColumns.indexOf(c)] }))
      .filter((t): t is { column: string; a: string; b: string } => t.a !== undefined && t.b !== undefined && t.a !== t.b);
    if (typeDiffs.length) r.columnTypeDifferences = typeDiffs;
    return r;
  }

  return { shared, cellDiffers, badRow, widenSpan, report };
}
