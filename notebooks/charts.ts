/**
 * The notebooks' charts: small builders of plain Vega-Lite specs for the shapes they draw (lines
 * over time, lines over a number, grouped bars), and `show`, which puts a display bundle made by
 * the library's `vegaLiteBundle` (the spec for JupyterLab, its SVG for nbconvert HTML and GitHub)
 * into the cell's output.
 *
 * This file imports no library code (only tslab's types), so the project's own tsc and tslab's
 * TypeScript both compile it as it is; the notebooks import `vegaLiteBundle` from `../dist`.
 */
import * as jupyter from 'tslab/dist/jupyter.js';

/** A Vega-Lite spec as plain JSON. */
export type Spec = Record<string, unknown>;
/** What `vegaLiteBundle` returns (the MIME types it holds, plus per-type metadata). */
export interface Bundle {
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
}

/**
 * Shows one chart as one output holding every MIME type of the bundle; the frontend picks the
 * richest it can draw. tslab's public `display.raw` sends a single MIME type per output (two
 * calls would be two outputs, drawn twice in JupyterLab), so this goes through the writer that
 * `display` itself uses, set by the kernel for the cell being run.
 */
export function show(bundle: Bundle): void {
  const write = jupyter.lastWriteDisplayData;
  if (write == null) throw new Error('show: no cell is running (call it from a notebook cell)');
  write({ data: bundle.data as never, metadata: bundle.metadata as never, transient: {} } as never, false);
}

/** Minutes since midnight UTC as HH:MM (for printed times). */
export function hhmm(minutes: number): string {
  const m = ((Math.floor(minutes) % 1440) + 1440) % 1440;
  return `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
}

export interface LinesOptions {
  title: string;
  /** Wide rows: one row per x, one column per series. */
  rows: readonly Record<string, unknown>[];
  /** The x column: epoch milliseconds for a time axis (`time: true`), else any number. */
  x: string;
  /** Series to draw: column name → legend label, in legend order. */
  series: Record<string, string>;
  /** Time axis in UTC with this d3 format (e.g. '%H:%M'); omit for a numeric x axis. */
  time?: string;
  xTitle?: string;
  yTitle?: string;
  /** Horizontal reference lines (RSI 30 and 70, zero). */
  rules?: readonly number[];
  /** Include zero in the y scale (default false: prices sit far from it). */
  zero?: boolean;
  /** Draw points on the line (short series). */
  points?: boolean;
  width?: number;
  height?: number;
}

/**
 * Lines of several columns against one x column. The rows are turned long (x, series, value),
 * skipping missing values, so the spec carries exactly the points drawn.
 */
export function lines(o: LinesOptions): Spec {
  const labels = Object.values(o.series);
  const values: { x: unknown; series: string; value: number }[] = [];
  for (const r of o.rows) {
    for (const [column, label] of Object.entries(o.series)) {
      const v = r[column];
      if (typeof v === 'number' && Number.isFinite(v)) values.push({ x: r[o.x], series: label, value: v });
    }
  }
  // the x domain spans every row, so charts of one table line up even where a series is warming up
  const xs = o.rows.map((r) => r[o.x]).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  const domain = xs.length > 0 ? [Math.min(...xs), Math.max(...xs)] : undefined;
  const x = o.time
    ? { field: 'x', type: 'temporal', scale: { type: 'utc', domain }, axis: { format: o.time }, title: o.xTitle ?? 'UTC' }
    : { field: 'x', type: 'quantitative', scale: { zero: false, nice: false, domain }, title: o.xTitle ?? o.x };
  const y = { field: 'value', type: 'quantitative', scale: { zero: o.zero ?? false }, title: o.yTitle ?? null };
  const layer: Spec[] = [
    {
      mark: { type: 'line', strokeWidth: 1.4, point: o.points ?? false },
      encoding: { x, y, color: { field: 'series', type: 'nominal', scale: { domain: labels }, title: null, legend: { orient: 'bottom' } } },
    },
  ];
  if (o.rules && o.rules.length > 0) {
    layer.push({ data: { values: o.rules.map((r) => ({ value: r })) }, mark: { type: 'rule', color: '#999', strokeDash: [4, 3] }, encoding: { y: { field: 'value', type: 'quantitative' } } });
  }
  return { title: o.title, width: o.width ?? 680, height: o.height ?? 220, data: { values }, layer };
}

export interface BarsOptions {
  title: string;
  /** Categories along x, in order. */
  categories: readonly string[];
  /** Series (one bar each per category): legend label → one value per category (null: no bar). */
  series: Record<string, readonly (number | null)[]>;
  yTitle?: string;
  width?: number;
  height?: number;
}

/** Grouped bars: one group per category, one bar per series side by side (`xOffset`). */
export function bars(o: BarsOptions): Spec {
  const labels = Object.keys(o.series);
  const values: { category: string; series: string; value: number }[] = [];
  for (const [label, vs] of Object.entries(o.series)) {
    o.categories.forEach((c, i) => {
      const v = vs[i];
      if (typeof v === 'number' && Number.isFinite(v)) values.push({ category: c, series: label, value: v });
    });
  }
  const grouped = labels.length > 1;
  return {
    title: o.title,
    width: o.width ?? 680,
    height: o.height ?? 220,
    data: { values },
    mark: { type: 'bar', tooltip: true },
    encoding: {
      x: { field: 'category', type: 'nominal', sort: [...o.categories], title: null, axis: { labelAngle: 0 } },
      y: { field: 'value', type: 'quantitative', title: o.yTitle ?? null },
      ...(grouped ? { xOffset: { field: 'series', type: 'nominal', sort: labels } } : {}),
      color: { field: 'series', type: 'nominal', scale: { domain: labels }, title: null, legend: grouped ? { orient: 'bottom' } : null },
    },
  };
}
