/**
 * `lockstep report`: a factor table (a replay's output, or any Parquet table with the key columns
 * and numeric factor columns) as one self-contained HTML page. Reads the table twice, a row group at
 * a time (aggregate.ts), so memory is bounded by the summary, not the table.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { InputError } from '../core/errors.ts';
import { openParquet } from '../replay/parquet-io.ts';
import { openFactorTableStream } from '../replay/read-factor-table.ts';
import type { FactorTableChunk } from '../replay/read-factor-table.ts';
import { ReportAccumulator, type ReportSummary } from './aggregate.ts';
import { icTable } from './ic-html.ts';
import { IcAccumulator, icFeatures, icLabels, type IcSummary } from './ic.ts';
import { PANELS, reportHtml } from './html.ts';

/** A training set's identity columns (features/row-store.ts): neither keys nor values of the report. */
const TRAINING_IDENTITY = ['asof_ts_recv', 'asof_source', 'asof_seq', 'entity_row', 'split'];

/**
 * A training set (`lockstep training-set`) keys its rows by (symbol, ts), the sample time, where a
 * replay's table has the input event's identity; its chunks are read as a factor table's with the
 * sample time on the time axis.
 */
const isTrainingSet = (columns: readonly string[]) => columns.includes('ts') && columns.includes('asof_ts_recv') && !columns.includes('ts_recv');

function asFactorChunk(c: FactorTableChunk): FactorTableChunk {
  return { ...c, source: new Array<string>(c.n).fill('sample'), tsRecv: c.keys![1] as unknown as BigInt64Array };
}

export interface ReportOptions {
  input: string;
  out: string;
  /** Symbols to chart (default: the busiest `maxCharts`). */
  symbols?: readonly string[];
  maxCharts?: number;
  /** A training set's rank IC: the fewest symbols with both values for a sample time to count (default 5). */
  icMinSymbols?: number;
  title?: string;
}

const require = createRequire(import.meta.url);

/** uPlot's script and stylesheet from the installed package (never a CDN). */
function uplotAssets(): { js: string; css: string } {
  const dir = join(dirname(require.resolve('uplot/package.json')), 'dist');
  return { js: readFileSync(join(dir, 'uPlot.iife.min.js'), 'utf8'), css: readFileSync(join(dir, 'uPlot.min.css'), 'utf8') };
}

/** Reads the table and returns its summary (the page's data). */
export async function summarizeTable(opts: Pick<ReportOptions, 'input' | 'symbols' | 'maxCharts' | 'icMinSymbols'>): Promise<{ summary: ReportSummary; metadata: Map<string, string>; ic: IcSummary | null }> {
  // a training set is keyed by its sample (symbol, ts); a replay's table by its input event
  const training = isTrainingSet((await openParquet(opts.input)).columns.map((c) => c.name));
  const t = training ? await openFactorTableStream(opts.input, ['symbol', 'ts'], { exclude: TRAINING_IDENTITY }) : await openFactorTableStream(opts.input);
  const chunks = training ? async function* () { for await (const c of t.chunks()) yield asFactorChunk(c); } : () => t.chunks();
  if (t.factorColumns.length === 0) throw new InputError({ file: opts.input, reason: 'has no numeric factor columns: not a factor table (a replay output has one per factor)' });
  const chart = [...new Set(PANELS.flatMap((p) => p.columns))].filter((c) => t.factorColumns.includes(c));
  const acc = new ReportAccumulator(t.factorColumns, t.numRows, chart, t.factorColumns.includes('last_price') ? 'last_price' : null);
  const labels = training ? icLabels(t.factorColumns) : [];
  const ic = labels.length > 0 ? new IcAccumulator(icFeatures(t.factorColumns), labels, opts.icMinSymbols ?? 5) : null;
  const col = (name: string) => t.factorColumns.indexOf(name);
  const icIx = ic === null ? [] : [...icFeatures(t.factorColumns), ...labels].map(col);
  for await (const c of chunks()) {
    acc.first(c);
    if (ic !== null)
      ic.add(c.n, c.tsRecv, (k, i) => {
        const fc = c.columns[icIx[k]];
        const ok = fc.bits === null || (fc.bits[(fc.bitOffset + i) >> 3] >> ((fc.bitOffset + i) & 7)) & 1;
        return ok ? fc.values[i] : NaN;
      });
  }
  const unknown = (opts.symbols ?? []).filter((s) => !acc.summary().symbols.some((x) => x.symbol === s));
  if (unknown.length > 0) throw new InputError({ file: opts.input, field: 'symbol', value: unknown[0], reason: `no rows for --symbols ${unknown.join(',')}` });
  acc.settle(opts.symbols && opts.symbols.length > 0 ? opts.symbols : null, opts.maxCharts ?? 4);
  for await (const c of chunks()) acc.second(c);
  return { summary: acc.summary(), metadata: t.metadata, ic: ic === null ? null : ic.summary() };
}

/** Writes the report; returns what it holds, for the command's one-line summary. */
export async function writeReport(opts: ReportOptions): Promise<{ rows: number; symbols: number; charts: number; bytes: number }> {
  const { summary, metadata, ic } = await summarizeTable(opts);
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
  const html = reportHtml({ title: opts.title ?? `Factor report: ${basename(opts.input)}`, file: basename(opts.input), summary, facts, uplotJs: js, uplotCss: css, extra: ic === null ? undefined : icTable(ic) });
  writeFileSync(opts.out, html);
  return { rows: summary.rows, symbols: summary.symbols.length, charts: summary.series.length, bytes: Buffer.byteLength(html) };
}

const isoOf = (ns: bigint) => `${new Date(Number(ns / 1_000_000n)).toISOString().replace('.000Z', 'Z')}`;
