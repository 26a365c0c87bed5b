/**
 * The diff engine: compares two factor tables cell by cell, rows matched by the input event's
 * identity (symbol, source, seq), columns by name.
 *
 * Exact bits by default: NaN equals NaN, everything else must have the same float64 bits, and
 * -0 vs +0 is reported (it is a different value to a model that divides). Tolerances: `ulp:N`
 * (at most N representable doubles apart), `abs:X`, `rel:X`, globally or per factor. Null
 * (warming up) only equals null.
 *
 * The report: rows only in A or only in B, columns only on one side, mismatched cells per factor,
 * the first divergence per symbol (key, both values, the event's ts_recv), the largest abs, rel and
 * ULP differences per factor, and a verdict. Rows are held in memory (a hash join on the key):
 * fine for a day of a few hundred thousand rows; a streaming merge-join for 5M-row tables is not
 * built yet.
 */

export interface DiffTable {
  columns: string[];
  symbol: string[];
  source: string[];
  seq: bigint[];
  tsRecv: bigint[];
  values: Record<string, (number | null)[]>;
}

export type Tolerance = { kind: 'exact' } | { kind: 'ulp'; n: number } | { kind: 'abs'; x: number } | { kind: 'rel'; x: number };

export function parseTolerance(s: string): Tolerance {
  if (s === 'exact') return { kind: 'exact' };
  const m = /^(ulp|abs|rel):(.+)$/.exec(s);
  const x = m ? Number(m[2]) : NaN;
  if (!m || !Number.isFinite(x) || x < 0 || (m[1] === 'ulp' && !Number.isInteger(x))) {
    throw new Error(`invalid tolerance ${JSON.stringify(s)}: use exact, ulp:N, abs:X or rel:X`);
  }
  return m[1] === 'ulp' ? { kind: 'ulp', n: x } : m[1] === 'abs' ? { kind: 'abs', x } : { kind: 'rel', x };
}

const f64 = new Float64Array(1);
const i64 = new BigInt64Array(f64.buffer);

/** Number of representable doubles between a and b (0 when equal bits). */
export function ulpDistance(a: number, b: number): bigint {
  const ord = (x: number) => {
    f64[0] = x;
    const bits = i64[0];
    return bits < 0n ? -0x8000000000000000n - bits : bits;
  };
  const d = ord(a) - ord(b);
  return d < 0n ? -d : d;
}

function sameBits(a: number, b: number): boolean {
  if (Number.isNaN(a) && Number.isNaN(b)) return true;
  return Object.is(a, b);
}

/** True when a and b agree under the tolerance (nulls only equal nulls). */
export function cellsAgree(a: number | null, b: number | null, t: Tolerance): boolean {
  if (a === null || b === null) return a === b;
  if (sameBits(a, b)) return true;
  if (Number.isNaN(a) || Number.isNaN(b)) return false;
  switch (t.kind) {
    case 'exact':
      return false;
    case 'ulp':
      return ulpDistance(a, b) <= BigInt(t.n);
    case 'abs':
      return Math.abs(a - b) <= t.x;
    case 'rel':
      return Math.abs(a - b) <= t.x * Math.max(Math.abs(a), Math.abs(b));
  }
}

export interface FactorSummary {
  factor: string;
  tolerance: string;
  compared: number;
  mismatched: number;
  signedZero: number;
  maxAbs: number;
  maxRel: number;
  maxUlp: string;
}

export interface Divergence {
  symbol: string;
  source: string;
  seq: string;
  tsRecv: string;
  factor: string;
  a: number | null;
  b: number | null;
}

export interface DiffReport {
  verdict: 'parity' | 'skew';
  rowsA: number;
  rowsB: number;
  matchedRows: number;
  onlyInA: number;
  onlyInB: number;
  onlyInASample: string[];
  onlyInBSample: string[];
  columnsOnlyInA: string[];
  columnsOnlyInB: string[];
  mismatchedCells: number;
  factors: FactorSummary[];
  firstDivergencePerSymbol: Divergence[];
  /** Mismatched rows per time bucket of ts_recv over A's span: where in the day skew happens. */
  timeline: { fromNs: string; toNs: string; buckets: number[] };
}

export interface DiffOptions {
  tolerance?: Tolerance;
  factorTolerance?: Record<string, Tolerance>;
}

const key = (t: DiffTable, i: number) => `${t.symbol[i]}\u0000${t.source[i]}\u0000${t.seq[i]}`;
const showKey = (k: string) => k.split('\u0000').join('/');
const tolName = (t: Tolerance) => (t.kind === 'exact' ? 'exact' : t.kind === 'ulp' ? `ulp:${t.n}` : `${t.kind}:${t.x}`);

export function diffTables(a: DiffTable, b: DiffTable, opts: DiffOptions = {}): DiffReport {
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
  // the day of the last row: earlier-dated point-in-time rows (old fundamentals) would squash it
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

/** The terminal report. */
export function formatDiff(r: DiffReport): string {
  const lines = [
    `${r.verdict === 'parity' ? 'PARITY' : 'SKEW'}: ${r.matchedRows.toLocaleString('en-US')} rows matched of ${r.rowsA.toLocaleString('en-US')} (A) and ${r.rowsB.toLocaleString('en-US')} (B); ${r.mismatchedCells} mismatched cells; ${r.onlyInA} rows only in A, ${r.onlyInB} only in B`,
  ];
  if (r.columnsOnlyInA.length || r.columnsOnlyInB.length) lines.push(`columns only in A: ${r.columnsOnlyInA.join(', ') || '-'}; only in B: ${r.columnsOnlyInB.join(', ') || '-'}`);
  if (r.onlyInASample.length) lines.push(`  first rows only in A: ${r.onlyInASample.slice(0, 5).join(', ')}`);
  if (r.onlyInBSample.length) lines.push(`  first rows only in B: ${r.onlyInBSample.slice(0, 5).join(', ')}`);
  lines.push('', '| factor | tolerance | compared | mismatched | -0/+0 | max abs | max rel | max ULP |', '|---|---|---|---|---|---|---|---|');
  for (const f of r.factors) lines.push(`| ${f.factor} | ${f.tolerance} | ${f.compared} | ${f.mismatched} | ${f.signedZero} | ${f.maxAbs.toExponential(2)} | ${f.maxRel.toExponential(2)} | ${f.maxUlp} |`);
  if (r.firstDivergencePerSymbol.length) {
    lines.push('', 'first divergence per symbol:');
    for (const d of r.firstDivergencePerSymbol) lines.push(`  ${d.symbol} ${d.source} seq ${d.seq} (ts_recv ${d.tsRecv}): ${d.factor} A=${d.a} B=${d.b}`);
  }
  return lines.join('\n');
}

const esc = (x: unknown) => String(x).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** A self-contained HTML report: verdict, per-factor table, first divergences, mismatch timeline. */
export function htmlReport(r: DiffReport, titleA: string, titleB: string): string {
  const iso = (ns: string) => new Date(Number(BigInt(ns) / 1_000_000n)).toISOString();
  const max = Math.max(1, ...r.timeline.buckets);
  const w = 720;
  const h = 120;
  const bw = w / r.timeline.buckets.length;
  const bars = r.timeline.buckets
    .map((n, i) => `<rect x="${(i * bw).toFixed(1)}" y="${(h - (n / max) * h).toFixed(1)}" width="${Math.max(1, bw - 1).toFixed(1)}" height="${((n / max) * h).toFixed(1)}" fill="#c0392b"><title>${n} mismatched rows</title></rect>`)
    .join('');
  const rows = r.factors
    .map((f) => `<tr class="${f.mismatched ? 'bad' : ''}"><td>${esc(f.factor)}</td><td>${esc(f.tolerance)}</td><td>${f.compared}</td><td>${f.mismatched}</td><td>${f.signedZero}</td><td>${f.maxAbs.toExponential(2)}</td><td>${f.maxRel.toExponential(2)}</td><td>${f.maxUlp}</td></tr>`)
    .join('');
  const firsts = r.firstDivergencePerSymbol
    .map((d) => `<tr><td>${esc(d.symbol)}</td><td>${esc(d.source)}</td><td>${d.seq}</td><td>${iso(d.tsRecv)}</td><td>${esc(d.factor)}</td><td>${esc(d.a)}</td><td>${esc(d.b)}</td></tr>`)
    .join('');
  return `<!doctype html><html><head><meta charset="utf-8"><title>Lockstep parity: ${r.verdict}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;color:#222}h1{font-size:20px}.parity{color:#1e8449}.skew{color:#c0392b}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td:first-child,th:first-child{text-align:left}tr.bad td{background:#fdecea}</style></head><body>
<h1 class="${r.verdict}">${r.verdict === 'parity' ? 'PARITY' : 'SKEW'}</h1>
<p>A: ${esc(titleA)}<br>B: ${esc(titleB)}</p>
<p>${r.matchedRows} rows matched of ${r.rowsA} (A) and ${r.rowsB} (B); ${r.mismatchedCells} mismatched cells; ${r.onlyInA} rows only in A, ${r.onlyInB} only in B.
${r.columnsOnlyInA.length || r.columnsOnlyInB.length ? `Columns only in A: ${esc(r.columnsOnlyInA.join(', ') || '-')}; only in B: ${esc(r.columnsOnlyInB.join(', ') || '-')}.` : ''}</p>
<h2>Where in the day mismatches occur</h2>
<svg width="${w}" height="${h + 20}" role="img"><rect width="${w}" height="${h}" fill="#f6f6f6"/>${bars}
<text x="0" y="${h + 15}" font-size="11">${iso(r.timeline.fromNs)}</text><text x="${w}" y="${h + 15}" font-size="11" text-anchor="end">${iso(r.timeline.toNs)}</text></svg>
<h2>Per factor</h2><table><tr><th>factor</th><th>tolerance</th><th>compared</th><th>mismatched</th><th>-0/+0</th><th>max abs</th><th>max rel</th><th>max ULP</th></tr>${rows}</table>
<h2>First divergence per symbol</h2>${firsts ? `<table><tr><th>symbol</th><th>source</th><th>seq</th><th>ts_recv</th><th>factor</th><th>A</th><th>B</th></tr>${firsts}</table>` : '<p>none</p>'}
</body></html>`;
}
