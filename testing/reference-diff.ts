/**
 * The oracle for the diff engine: the in-memory diff (a hash join over whole tables) that the
 * streaming diff replaced, kept verbatim so the streaming reports can be checked against it.
 */
import { cellsAgree, ulpDistance, type DiffOptions, type DiffReport, type DiffTable, type Divergence, type FactorSummary } from '../parity/diff.ts';
import type { Tolerance } from '../parity/tolerance.ts';

/** The previous, in-memory diff (a hash join over whole tables), verbatim: the oracle. */
export function referenceDiff(a: DiffTable, b: DiffTable, opts: DiffOptions = {}): DiffReport {
  const key = (t: DiffTable, i: number) => `${t.symbol[i]}\u0000${t.source[i]}\u0000${t.seq[i]}`;
  const showKey = (k: string) => k.split('\u0000').join('/');
  const tolName = (t: Tolerance) => (t.kind === 'exact' ? 'exact' : t.kind === 'ulp' ? `ulp:${t.n}` : `${t.kind}:${t.x}`);
  const colsA = Object.keys(a.values);
  const colsB = Object.keys(b.values);
  const shared = colsA.filter((c) => colsB.includes(c));
  const indexB = new Map<string, number>();
  for (let i = 0; i < b.seq.length; i++) indexB.set(key(b, i), i);
  const seenB = new Uint8Array(b.seq.length);
  const onlyInA: string[] = [];
  const summaries = new Map<string, FactorSummary>();
  for (const c of shared) {
    const t = opts.factorTolerance?.[c] ?? opts.tolerance ?? { kind: 'exact' };
    summaries.set(c, { factor: c, tolerance: tolName(t), compared: 0, mismatched: 0, signedZero: 0, maxAbs: 0, maxRel: 0, maxUlp: '0' });
  }
  const first = new Map<string, Divergence>();
  const BUCKETS = 96;
  let lo = a.tsRecv[0] ?? 0n;
  let hi = lo;
  for (const t of a.tsRecv) {
    if (t < lo) lo = t;
    if (t > hi) hi = t;
  }
  const DAY = 86_400_000_000_000n;
  if (hi - lo > DAY) lo = (hi / DAY) * DAY;
  const span = hi - lo + 1n;
  const buckets = new Array<number>(BUCKETS).fill(0);
  let matched = 0;
  let mismatchedCells = 0;
  let onlyA = 0;
  for (let i = 0; i < a.seq.length; i++) {
    const k = key(a, i);
    const j = indexB.get(k);
    if (j === undefined) {
      onlyA++;
      if (onlyInA.length < 20) onlyInA.push(showKey(k));
      continue;
    }
    seenB[j] = 1;
    matched++;
    let rowMismatch = false;
    for (const c of shared) {
      const s = summaries.get(c)!;
      const t = opts.factorTolerance?.[c] ?? opts.tolerance ?? { kind: 'exact' };
      const va = a.values[c][i];
      const vb = b.values[c][j];
      s.compared++;
      if (va !== null && vb !== null && va === 0 && vb === 0 && !Object.is(va, vb)) s.signedZero++;
      if (va !== null && vb !== null && !Number.isNaN(va) && !Number.isNaN(vb)) {
        const abs = Math.abs(va - vb);
        const rel = abs === 0 ? 0 : abs / Math.max(Math.abs(va), Math.abs(vb));
        if (abs > s.maxAbs) s.maxAbs = abs;
        if (rel > s.maxRel) s.maxRel = rel;
        const u = ulpDistance(va, vb);
        if (u > BigInt(s.maxUlp)) s.maxUlp = u.toString();
      }
      if (!cellsAgree(va, vb, t)) {
        s.mismatched++;
        mismatchedCells++;
        rowMismatch = true;
        if (!first.has(a.symbol[i])) {
          first.set(a.symbol[i], { symbol: a.symbol[i], source: a.source[i], seq: a.seq[i].toString(), tsRecv: a.tsRecv[i].toString(), factor: c, a: va, b: vb });
        }
      }
    }
    if (rowMismatch) buckets[a.tsRecv[i] < lo ? 0 : Number(((a.tsRecv[i] - lo) * BigInt(BUCKETS)) / span)]++;
  }
  const onlyInB: string[] = [];
  let onlyB = 0;
  for (let j = 0; j < b.seq.length; j++) {
    if (seenB[j]) continue;
    onlyB++;
    if (onlyInB.length < 20) onlyInB.push(showKey(key(b, j)));
  }
  const columnsOnlyInA = colsA.filter((c) => !colsB.includes(c));
  const columnsOnlyInB = colsB.filter((c) => !colsA.includes(c));
  const skew = onlyA > 0 || onlyB > 0 || mismatchedCells > 0 || columnsOnlyInA.length > 0 || columnsOnlyInB.length > 0;
  return {
    verdict: skew ? 'skew' : 'parity',
    rowsA: a.seq.length,
    rowsB: b.seq.length,
    matchedRows: matched,
    onlyInA: onlyA,
    onlyInB: onlyB,
    onlyInASample: onlyInA,
    onlyInBSample: onlyInB,
    columnsOnlyInA,
    columnsOnlyInB,
    mismatchedCells,
    factors: [...summaries.values()],
    firstDivergencePerSymbol: [...first.values()].sort((x, y) => (BigInt(x.tsRecv) < BigInt(y.tsRecv) ? -1 : 1)),
    timeline: { fromNs: lo.toString(), toNs: hi.toString(), buckets },
  };
}
