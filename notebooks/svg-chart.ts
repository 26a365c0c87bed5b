/**
 * Charts for the notebooks as SVG text: a notebook shows them with tslab's `display.svg(...)`, so
 * the plot is inside the saved notebook and needs no CDN, browser or plotting package. Plain
 * functions over plain arrays (no imports), so tslab's own TypeScript compiles this file as it is.
 */

/** One line of a chart: y values aligned with the chart's x values (null leaves a gap). */
export interface Series {
  name: string;
  values: readonly (number | null)[];
  color?: string;
}

/** One panel of a line chart. */
export interface LineChartOptions {
  title: string;
  /** x positions (e.g. minutes since midnight UTC), ascending. */
  x: readonly number[];
  series: readonly Series[];
  /** How an x value is written on the axis (default: the number). */
  xLabel?: (x: number) => string;
  /** Horizontal reference lines (e.g. RSI 30 and 70, zero). */
  rules?: readonly number[];
  width?: number;
  height?: number;
}

const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2'];
const PAD = { left: 64, right: 28, top: 28, bottom: 40 };

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A short decimal for an axis tick (4 significant digits, no exponent for common ranges). */
export function tick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e6 || a < 1e-4) return v.toExponential(2);
  return String(Number(v.toPrecision(4)));
}

/** Minutes since midnight UTC of an epoch-nanosecond time, as HH:MM for an axis. */
export function hhmm(minutes: number): string {
  const m = ((Math.floor(minutes) % 1440) + 1440) % 1440;
  return `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
}

/** The [min, max] of the finite values of several series (and rules), widened when flat. */
function extent(series: readonly Series[], rules: readonly number[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of series) for (const v of s.values) if (v !== null && Number.isFinite(v)) ((lo = Math.min(lo, v)), (hi = Math.max(hi, v)));
  for (const r of rules) ((lo = Math.min(lo, r)), (hi = Math.max(hi, r)));
  if (!Number.isFinite(lo)) return [0, 1];
  if (lo === hi) return [lo - 1, hi + 1];
  const pad = (hi - lo) * 0.04;
  return [lo - pad, hi + pad];
}

/** A line chart (one or more series over one x axis) as a standalone SVG document. */
export function lineChart(o: LineChartOptions): string {
  const W = o.width ?? 760;
  const H = o.height ?? 260;
  const rules = o.rules ?? [];
  const [y0, y1] = extent(o.series, rules);
  const x0 = o.x.length > 0 ? o.x[0] : 0;
  const x1 = o.x.length > 1 ? o.x[o.x.length - 1] : x0 + 1;
  const px = (x: number) => PAD.left + ((x - x0) / (x1 - x0 || 1)) * (W - PAD.left - PAD.right);
  const py = (y: number) => H - PAD.bottom - ((y - y0) / (y1 - y0)) * (H - PAD.top - PAD.bottom);
  const label = o.xLabel ?? tick;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`);
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  parts.push(`<text x="${PAD.left}" y="16" font-size="13" font-weight="bold">${esc(o.title)}</text>`);
  for (let i = 0; i <= 4; i++) {
    const v = y0 + ((y1 - y0) * i) / 4;
    const y = py(v).toFixed(1);
    parts.push(`<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${y}" y2="${y}" stroke="#eee"/><text x="${PAD.left - 4}" y="${y}" text-anchor="end" dominant-baseline="middle">${tick(v)}</text>`);
    const xv = x0 + ((x1 - x0) * i) / 4;
    parts.push(`<text x="${px(xv).toFixed(1)}" y="${H - PAD.bottom + 14}" text-anchor="middle">${esc(label(xv))}</text>`);
  }
  for (const r of rules) parts.push(`<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${py(r).toFixed(1)}" y2="${py(r).toFixed(1)}" stroke="#999" stroke-dasharray="4 3"/>`);
  o.series.forEach((s, k) => {
    const color = s.color ?? PALETTE[k % PALETTE.length];
    let d = '';
    let pen = false;
    s.values.forEach((v, i) => {
      if (v === null || !Number.isFinite(v) || i >= o.x.length) return void (pen = false);
      d += `${pen ? 'L' : 'M'}${px(o.x[i]).toFixed(1)},${py(v).toFixed(1)}`;
      pen = true;
    });
    parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="1.4"><title>${esc(s.name)}</title></path>`);
    parts.push(`<rect x="${PAD.left + 8 + k * 120}" y="${H - 14}" width="10" height="3" fill="${color}"/><text x="${PAD.left + 22 + k * 120}" y="${H - 10}">${esc(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** Grouped bars: one group per category, one bar per series (e.g. IC by factor and horizon). */
export function barChart(o: { title: string; categories: readonly string[]; series: readonly Series[]; width?: number; height?: number }): string {
  const W = o.width ?? 760;
  const H = o.height ?? 260;
  const [lo, hi] = extent(o.series, [0]);
  const py = (y: number) => H - PAD.bottom - ((y - lo) / (hi - lo)) * (H - PAD.top - PAD.bottom);
  const group = (W - PAD.left - PAD.right) / Math.max(1, o.categories.length);
  const bar = (group * 0.8) / Math.max(1, o.series.length);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`);
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  parts.push(`<text x="${PAD.left}" y="16" font-size="13" font-weight="bold">${esc(o.title)}</text>`);
  for (let i = 0; i <= 4; i++) {
    const v = lo + ((hi - lo) * i) / 4;
    parts.push(`<text x="${PAD.left - 4}" y="${py(v).toFixed(1)}" text-anchor="end" dominant-baseline="middle">${tick(v)}</text>`);
  }
  parts.push(`<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${py(0).toFixed(1)}" y2="${py(0).toFixed(1)}" stroke="#333"/>`);
  o.categories.forEach((c, i) => {
    parts.push(`<text x="${(PAD.left + group * (i + 0.5)).toFixed(1)}" y="${H - PAD.bottom + 14}" text-anchor="middle">${esc(c)}</text>`);
    o.series.forEach((s, k) => {
      const v = s.values[i];
      if (v === null || v === undefined || !Number.isFinite(v)) return;
      const x = PAD.left + group * i + group * 0.1 + bar * k;
      const top = Math.min(py(v), py(0));
      parts.push(`<rect x="${x.toFixed(1)}" y="${top.toFixed(1)}" width="${(bar * 0.9).toFixed(1)}" height="${Math.abs(py(v) - py(0)).toFixed(1)}" fill="${s.color ?? PALETTE[k % PALETTE.length]}"><title>${esc(`${s.name} ${c}: ${tick(v)}`)}</title></rect>`);
    });
  });
  o.series.forEach((s, k) => parts.push(`<rect x="${PAD.left + 8 + k * 120}" y="${H - 14}" width="10" height="8" fill="${s.color ?? PALETTE[k % PALETTE.length]}"/><text x="${PAD.left + 22 + k * 120}" y="${H - 7}">${esc(s.name)}</text>`));
  parts.push('</svg>');
  return parts.join('\n');
}
