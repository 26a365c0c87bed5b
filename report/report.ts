/**
 * `lockstep report`: a factor table (a replay's output, or any Parquet table with the key columns
 * and numeric factor columns) as one self-contained HTML page. Reads the table twice, a row group at
 * a time (aggregate.ts), so memory is bounded by the summary, not the table.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { InputError } from '../core/errors.ts';
import { openFactorTableStream } from '../replay/read-factor-table.ts';
import { ReportAccumulator, type ReportSummary } from './aggregate.ts';
import { PANELS, reportHtml } from './html.ts';

export interface ReportOptions {
  input: string;
  out: string;
  /** Symbols to chart (default: the busiest `maxCharts`). */
  symbols?: readonly string[];
  maxCharts?: number;
  title?: string;
}

const require = createRequire(import.meta.url);

/** uPlot's script and stylesheet from the installed package (never a CDN). */
function uplotAssets(): { js: string; css: string } {
  const dir = join(dirname(require.resolve('uplot/package.json')), 'dist');
  return { js: readFileSync(join(dir, 'uPlot.iife.min.js'), 'utf8'), css: readFileSync(join(dir, 'uPlot.min.css'), 'utf8') };
}

/** Reads the table and returns its summary (the page's data). */
export async function summarizeTable(opts: Pick<ReportOptions, 'input' | 'symbols' | 'maxCharts'>): Promise<{ summary: ReportSummary; metadata: Map<string, string> }> {
  const t = await openFactorTableStream(opts.input);
  if (t.factorColumns.length === 0) throw new InputError({ file: opts.input, reason: 'has no numeric factor columns: not a factor table (a replay output has one per factor)' });
  const chart = [...new Set(PANELS.flatMap((p) => p.columns))].filter((c) => t.factorColumns.includes(c));
  const acc = new ReportAccumulator(t.factorColumns, t.numRows, chart, t.factorColumns.includes('last_price') ? 'last_price' : null);
  for await (const c of t.chunks()) acc.first(c);
  const unknown = (opts.symbols ?? []).filter((s) => !acc.summary().symbols.some((x) => x.symbol === s));
  if (unknown.length > 0) throw new InputError({ file: opts.input, field: 'symbol', value: unknown[0], reason: `no rows for --symbols ${unknown.join(',')}` });
  acc.settle(opts.symbols && opts.symbols.length > 0 ? opts.symbols : null, opts.maxCharts ?? 4);
  for await (const c of t.chunks()) acc.second(c);
  return { summary: acc.summary(), metadata: t.metadata };
}

/** Writes the report; returns what it holds, for the command's one-line summary. */
export async function writeReport(opts: ReportOptions): Promise<{ rows: number; symbols: number; charts: number; bytes: number }> {
  const { summary, metadata } = await summarizeTable(opts);
  const facts: string[] = [];
  const raw = metadata.get('lockstep');
  if (raw !== undefined) {
    try {
      const m = JSON.parse(raw) as { featureSetVersion?: string; date?: string; dates?: string[] };
      if (m.featureSetVersion) facts.push(`feature set ${m.featureSetVersion}`);
      if (m.date) facts.push(`date ${m.date}`);
      if (m.dates) facts.push(`dates ${m.dates.join(', ')}`);
    } catch {
      // metadata another tool wrote: the page simply lists fewer facts
    }
  }
  const first = summary.symbols.reduce<bigint | null>((m, s) => (m === null || s.first < m ? s.first : m), null);
  const last = summary.symbols.reduce<bigint | null>((m, s) => (m === null || s.last > m ? s.last : m), null);
  if (first !== null && last !== null) facts.push(`receive time ${isoOf(first)} to ${isoOf(last)}`);
  facts.push(`lineage: lockstep lineage ${basename(opts.input)}`);
  const { js, css } = uplotAssets();
  const html = reportHtml({ title: opts.title ?? `Factor report: ${basename(opts.input)}`, file: basename(opts.input), summary, facts, uplotJs: js, uplotCss: css });
  writeFileSync(opts.out, html);
  return { rows: summary.rows, symbols: summary.symbols.length, charts: summary.series.length, bytes: Buffer.byteLength(html) };
}

const isoOf = (ns: bigint) => `${new Date(Number(ns / 1_000_000n)).toISOString().replace('.000Z', 'Z')}`;
