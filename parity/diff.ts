/**
 * The parity diff: compares two factor tables cell by cell, rows matched by the input event's
 * identity (symbol, source, seq), columns by name.
 *
 * Exact bits by default: NaN equals NaN, everything else must have the same float64 bits, and
 * -0 vs +0 is reported (it is a different value to a model that divides). Tolerances: `ulp:N`
 * (at most N representable doubles apart), `abs:X`, `rel:X`, globally or per factor. Null
 * (warming up) only equals null. (tolerance.ts)
 *
 * The report: rows only in A or only in B, columns only on one side, mismatched cells per factor,
 * the first divergence per symbol (key, both values, the event's ts_recv), the largest abs, rel and
 * ULP differences per factor, a timeline of where mismatches fall, and a verdict.
 *
 * The engine streams (stream-diff.ts): `diffSources` diffs files or a live capture batch by batch
 * in bounded memory; `diffTables` runs the same engine over two tables already in memory.
 */
import { diffBatchesSync } from './stream-diff.ts';
import { tableBatches } from './row-source.ts';
import type { Tolerance } from './tolerance.ts';
import type { TimeAxis } from '../core/row-key.ts';

export { cellsAgree, parseTolerance, ulpDistance, type Tolerance } from './tolerance.ts';

export interface DiffTable {
  columns: string[];
  symbol: string[];
  source: string[];
  seq: bigint[];
  tsRecv: bigint[];
  values: Record<string, (number | null)[]>;
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
  /** The row's values of the user's key columns (`--keys`); absent for the default key. */
  key?: Record<string, string>;
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
  /**
   * Mismatched rows per time bucket of ts_recv over A's span: where in the day skew happens.
   * `axis` is absent for ts_recv; a table without ts_recv (diffed by `--keys`) is spanned by its
   * ts_event, else by its row number.
   */
  timeline: { fromNs: string; toNs: string; buckets: number[]; axis?: TimeAxis };
  /**
   * Shared columns stored with different types (e.g. int64 in a reference table): values are
   * still compared as float64; informational, not skew. Absent when there are none.
   */
  columnTypeDifferences?: { column: string; a: string; b: string }[];
}

export interface DiffOptions {
  tolerance?: Tolerance;
  factorTolerance?: Record<string, Tolerance>;
  /**
   * Columns that identify a row (core/row-key.ts); default the input event's identity (symbol, source,
   * seq). The sources must have been opened with the same keys.
   */
  keys?: string[];
  /** Compare only these value columns (both tables may hold others); default all. */
  columns?: string[];
}

/** Diffs two tables held in memory (the same engine as the streaming diff). */
export function diffTables(a: DiffTable, b: DiffTable, opts: DiffOptions = {}): DiffReport {
  const side = (t: DiffTable) => ({ factorColumns: Object.keys(t.values), batches: () => tableBatches(t) });
  return diffBatchesSync(side(a), side(b), opts).report;
}

/** The terminal report. */
export function formatDiff(r: DiffReport): string {
  const lines = [
    `${r.verdict === 'parity' ? 'PARITY' : 'SKEW'}: ${r.matchedRows.toLocaleString('en-US')} rows matched of ${r.rowsA.toLocaleString('en-US')} (A) and ${r.rowsB.toLocaleString('en-US')} (B); ${r.mismatchedCells} mismatched cells; ${r.onlyInA} rows only in A, ${r.onlyInB} only in B`,
  ];
  if (r.columnsOnlyInA.length || r.columnsOnlyInB.length) lines.push(`columns only in A: ${r.columnsOnlyInA.join(', ') || '-'}; only in B: ${r.columnsOnlyInB.join(', ') || '-'}`);
  if (r.columnTypeDifferences?.length) lines.push(`column types differ (compared as float64): ${r.columnTypeDifferences.map((t) => `${t.column} ${t.a} vs ${t.b}`).join(', ')}`);
  if (r.onlyInASample.length) lines.push(`  first rows only in A: ${r.onlyInASample.slice(0, 5).join(', ')}`);
  if (r.onlyInBSample.length) lines.push(`  first rows only in B: ${r.onlyInBSample.slice(0, 5).join(', ')}`);
  lines.push('', '| factor | tolerance | compared | mismatched | -0/+0 | max abs | max rel | max ULP |', '|---|---|---|---|---|---|---|---|');
  for (const f of r.factors) lines.push(`| ${f.factor} | ${f.tolerance} | ${f.compared} | ${f.mismatched} | ${f.signedZero} | ${f.maxAbs.toExponential(2)} | ${f.maxRel.toExponential(2)} | ${f.maxUlp} |`);
  if (r.firstDivergencePerSymbol.length) {
    lines.push('', 'first divergence per symbol:');
    for (const d of r.firstDivergencePerSymbol) lines.push(`  ${divergenceAt(d, r.timeline.axis)}: ${d.factor} A=${d.a} B=${d.b}`);
  }
  return lines.join('\n');
}

/** Where a divergence is: the event identity, or the user's key columns. */
function divergenceAt(d: Divergence, axis: TimeAxis = 'ts_recv'): string {
  if (d.key === undefined) return `${d.symbol} ${d.source} seq ${d.seq} (ts_recv ${d.tsRecv})`;
  const key = Object.entries(d.key)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  return axis === 'row' ? key : `${key} (${axis} ${d.tsRecv})`;
}

const esc = (x: unknown) => String(x).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** A self-contained HTML report: verdict, per-factor table, first divergences, mismatch timeline. */
export function htmlReport(r: DiffReport, titleA: string, titleB: string): string {
  const axis = r.timeline.axis ?? 'ts_recv';
  const iso = (ns: string) => (axis === 'row' ? `row ${ns}` : new Date(Number(BigInt(ns) / 1_000_000n)).toISOString());
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
  const keyed = r.firstDivergencePerSymbol.some((d) => d.key !== undefined);
  const firsts = r.firstDivergencePerSymbol
    .map((d) => (keyed ? `<tr><td>${esc(divergenceAt(d, axis))}</td>` : `<tr><td>${esc(d.symbol)}</td><td>${esc(d.source)}</td><td>${d.seq}</td><td>${iso(d.tsRecv)}</td>`) + `<td>${esc(d.factor)}</td><td>${esc(d.a)}</td><td>${esc(d.b)}</td></tr>`)
    .join('');
  return `<!doctype html><html><head><meta charset="utf-8"><title>Lockstep parity: ${r.verdict}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;color:#222}h1{font-size:20px}.parity{color:#1e8449}.skew{color:#c0392b}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td:first-child,th:first-child{text-align:left}tr.bad td{background:#fdecea}</style></head><body>
<h1 class="${r.verdict}">${r.verdict === 'parity' ? 'PARITY' : 'SKEW'}</h1>
<p>A: ${esc(titleA)}<br>B: ${esc(titleB)}</p>
<p>${r.matchedRows} rows matched of ${r.rowsA} (A) and ${r.rowsB} (B); ${r.mismatchedCells} mismatched cells; ${r.onlyInA} rows only in A, ${r.onlyInB} only in B.
${r.columnsOnlyInA.length || r.columnsOnlyInB.length ? `Columns only in A: ${esc(r.columnsOnlyInA.join(', ') || '-')}; only in B: ${esc(r.columnsOnlyInB.join(', ') || '-')}.` : ''}${r.columnTypeDifferences?.length ? ` Column types differ (compared as float64): ${esc(r.columnTypeDifferences.map((t) => `${t.column} ${t.a} vs ${t.b}`).join(', '))}.` : ''}</p>
<h2>Where in the ${axis === 'row' ? 'table (by row of A)' : 'day'} mismatches occur</h2>
<svg width="${w}" height="${h + 20}" role="img"><rect width="${w}" height="${h}" fill="#f6f6f6"/>${bars}
<text x="0" y="${h + 15}" font-size="11">${iso(r.timeline.fromNs)}</text><text x="${w}" y="${h + 15}" font-size="11" text-anchor="end">${iso(r.timeline.toNs)}</text></svg>
<h2>Per factor</h2><table><tr><th>factor</th><th>tolerance</th><th>compared</th><th>mismatched</th><th>-0/+0</th><th>max abs</th><th>max rel</th><th>max ULP</th></tr>${rows}</table>
<h2>First divergence per symbol</h2>${firsts ? `<table><tr>${keyed ? '<th>key</th>' : '<th>symbol</th><th>source</th><th>seq</th><th>ts_recv</th>'}<th>factor</th><th>A</th><th>B</th></tr>${firsts}</table>` : '<p>none</p>'}
</body></html>`;
}
