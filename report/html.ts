/**
 * The report page: one self-contained HTML file (uPlot's script and style inlined, data as JSON in
 * the page), so it opens offline, from a mail attachment or a CI artifact, and loads nothing from
 * the internet. Charts are drawn by the page; the coverage table and the histograms are plain
 * HTML/SVG and read without JavaScript.
 */
import type { ColumnSummary, ReportSummary } from './aggregate.ts';

/** Which columns each chart panel draws, when the table has them. */
export const PANELS: readonly { title: string; columns: readonly string[] }[] = [
  { title: 'Price, VWAP and moving averages', columns: ['last_price', 'mid', 'vwap_session', 'ma_5m', 'ma_20m', 'ema_12', 'ema_26'] },
  { title: 'RSI', columns: ['rsi_14'] },
  { title: 'MACD', columns: ['macd', 'macd_signal', 'macd_hist'] },
  { title: 'Spread', columns: ['spread'] },
  { title: 'Imbalance', columns: ['quote_imbalance', 'depth_imbalance_5', 'depth_imbalance_10'] },
];

export interface PageInput {
  title: string;
  file: string;
  summary: ReportSummary;
  /** Lines shown under the title (feature-set version, lineage, the command). */
  facts: readonly string[];
  /** uPlot's minified script and stylesheet, inlined. */
  uplotJs: string;
  uplotCss: string;
  /** Extra sections (HTML), e.g. a training set's IC table. */
  extra?: string;
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const num = (v: number | null) => (v === null ? '—' : Math.abs(v) >= 1e6 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(3) : String(Number(v.toPrecision(6))));

function histogramSvg(h: ColumnSummary['hist']): string {
  if (h === null) return '';
  const max = Math.max(1, ...h.counts);
  const w = 3;
  const bars = h.counts.map((c, i) => `<rect x="${i * w}" y="${20 - (20 * c) / max}" width="${w - 0.5}" height="${(20 * c) / max}"/>`).join('');
  return `<svg class="hist" width="${h.counts.length * w}" height="20" viewBox="0 0 ${h.counts.length * w} 20" role="img" aria-label="distribution from ${num(h.lo)} to ${num(h.hi)}">${bars}</svg>`;
}

function coverageTable(cols: readonly ColumnSummary[]): string {
  const rows = cols
    .map((c) => {
      const present = c.rows - c.nulls;
      const pct = c.rows === 0 ? 0 : (100 * present) / c.rows;
      return `<tr><td>${esc(c.name)}</td><td>${pct.toFixed(1)}%</td><td>${c.warmup}</td><td>${c.nulls - c.warmup}</td><td>${c.nonFinite}</td><td>${num(c.min)}</td><td>${num(c.max)}</td><td>${num(c.mean)}</td><td>${histogramSvg(c.hist)}</td></tr>`;
    })
    .join('\n');
  return `<table class="coverage"><thead><tr><th>column</th><th>present</th><th>warm-up nulls</th><th>other nulls</th><th>non-finite</th><th>min</th><th>max</th><th>mean</th><th>distribution (p1–p99)</th></tr></thead><tbody>\n${rows}\n</tbody></table>`;
}

/** The whole page. */
export function reportHtml(p: PageInput): string {
  const s = p.summary;
  const panels = PANELS.map((x) => ({ title: x.title, columns: x.columns.filter((c) => s.series[0]?.values[c] !== undefined) })).filter((x) => x.columns.length > 0);
  const data = JSON.stringify({ series: s.series, panels }).replace(/</g, '\\u003c');
  const charts = s.series
    .map((x, i) => `<section class="symbol"><h3>${esc(x.symbol)} <small>${x.rows.toLocaleString('en-US')} rows</small></h3>${panels.map((_, k) => `<div class="chart" id="c${i}_${k}"></div>`).join('')}</section>`)
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(p.title)}</title>
<style>${p.uplotCss}</style>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #1b1f24; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 16px; margin-top: 28px; } h3 { font-size: 14px; margin: 16px 0 4px; }
small, .facts { color: #57606a; } .facts { margin: 0; padding-left: 18px; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; } td, th { padding: 2px 10px; text-align: right; border-bottom: 1px solid #eaeef2; }
td:first-child, th:first-child { text-align: left; } .hist rect { fill: #4f7ec4; }
.chart { margin: 4px 0 10px; }
</style></head>
<body>
<h1>${esc(p.title)}</h1>
<ul class="facts"><li>${esc(p.file)}: ${s.rows.toLocaleString('en-US')} rows, ${s.symbols.length} symbols, ${s.columns.length} factor columns</li>${p.facts.map((f) => `<li>${esc(f)}</li>`).join('')}</ul>
<h2>Charts</h2>
<p><small>Times in UTC. Downsampled to at most 1,000 points per symbol (each point the last value of its time bucket; the price band is each bucket's low and high).</small></p>
${charts || '<p>No symbol to chart.</p>'}
<h2>Coverage and distributions</h2>
${coverageTable(s.columns)}
${p.extra ?? ''}
<script type="application/json" id="report-data">${data}</script>
<script>${p.uplotJs}</script>
<script>
(function () {
  var d = JSON.parse(document.getElementById('report-data').textContent);
  var palette = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2'];
  var width = Math.max(480, Math.min(1100, document.body.clientWidth - 20));
  d.series.forEach(function (s, i) {
    d.panels.forEach(function (p, k) {
      var data = [s.t];
      var series = [{}];
      if (k === 0 && s.low.length) {
        data.push(s.low, s.high);
        series.push({ label: 'low', stroke: '#c8d1dc', width: 1, spanGaps: true }, { label: 'high', stroke: '#c8d1dc', width: 1, spanGaps: true });
      }
      p.columns.forEach(function (c, j) {
        data.push(s.values[c]);
        series.push({ label: c, stroke: palette[j % palette.length], width: 1.5, spanGaps: true });
      });
      new uPlot({ title: p.title, width: width, tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1e3), 'Etc/UTC'); }, height: k === 0 ? 260 : 160, series: series, scales: { x: { time: true } } }, data, document.getElementById('c' + i + '_' + k));
    });
  });
  window.__reportReady = true;
})();
</script>
</body></html>
`;
}
