/**
 * The IC section of a training set's report: one table per label horizon group, a row per feature,
 * with the mean rank IC, its IR and t-statistic, the hit rate, and the pooled Pearson IC; cells are
 * shaded by sign and size so the strongest features stand out at a glance.
 */
import type { IcCell, IcSummary } from './ic.ts';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const f3 = (v: number | null) => (v === null ? '—' : v.toFixed(3));
const f2 = (v: number | null) => (v === null ? '—' : v.toFixed(2));

/** Background shade for an IC value: blue positive, red negative, full at |IC| ≥ 0.1. */
function shade(v: number | null): string {
  if (v === null) return '';
  const a = Math.min(1, Math.abs(v) / 0.1) * 0.45;
  return ` style="background:${v >= 0 ? `rgba(79,126,196,${a.toFixed(2)})` : `rgba(214,39,40,${a.toFixed(2)})`}"`;
}

function row(c: IcCell): string {
  return `<tr><td>${esc(c.feature)}</td><td${shade(c.mean)}>${f3(c.mean)}</td><td>${f3(c.std)}</td><td>${f2(c.ir)}</td><td>${f2(c.t)}</td><td>${c.hitRate === null ? '—' : `${(100 * c.hitRate).toFixed(1)}%`}</td><td>${c.times.toLocaleString('en-US')}</td><td${shade(c.pooled)}>${f3(c.pooled)}</td><td>${c.pooledN.toLocaleString('en-US')}</td></tr>`;
}

/** The section's HTML (placed after the coverage table). */
export function icTable(ic: IcSummary): string {
  const tables = ic.labels
    .map((label) => {
      const cells = ic.cells.filter((c) => c.label === label);
      return `<h3>${esc(label)}</h3>
<table class="ic" data-label="${esc(label)}"><thead><tr><th>feature</th><th>mean rank IC</th><th>std</th><th>IR</th><th>t</th><th>IC &gt; 0</th><th>times</th><th>pooled IC</th><th>pairs</th></tr></thead><tbody>
${cells.map(row).join('\n')}
</tbody></table>`;
    })
    .join('\n');
  return `<h2>Information coefficients</h2>
<p><small>Rank IC: at each sample time, Spearman's correlation across symbols between the feature and the forward return (times with at least ${ic.minCross} symbols having both); mean over ${ic.crossSections.toLocaleString('en-US')} sample times, IR = mean / std, t = mean / (std / √times). Pooled IC: Pearson's correlation over every row with both present.</small></p>
${tables}`;
}
