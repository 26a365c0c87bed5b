/**
 * What a report shows of a factor table, accumulated chunk by chunk so memory stays bounded by the
 * summary, never by the table (a 5 M-row day is over a gigabyte as rows):
 *
 * - per column: rows, nulls split into warm-up nulls (before the symbol's first value) and later
 *   ones, non-finite values, min, max, mean, and a histogram between the 1st and 99th percentiles
 *   (estimated from an every-k-th-value sample; values outside are counted as under/over);
 * - per charted symbol: each charted column downsampled to at most `buckets` points over the
 *   symbol's time range (the last value of each time bucket, and for prices the bucket's low and
 *   high too, so spikes survive the downsampling).
 *
 * Two passes over the same chunks: `first` learns ranges (time per symbol, sample for percentiles),
 * `second` fills histograms and series. Pure: chunks in, plain data out.
 */
import { REFERENCE_KINDS } from '../core/events.ts';
import type { FactorTableChunk } from '../replay/read-factor-table.ts';

export interface ColumnSummary {
  name: string;
  rows: number;
  nulls: number;
  /** Nulls before the symbol's first value of this column (warming up). */
  warmup: number;
  nonFinite: number;
  min: number | null;
  max: number | null;
  mean: number | null;
  /** Histogram over [lo, hi] (1st–99th percentile), `bins` counts; under/over counted apart. */
  hist: { lo: number; hi: number; counts: number[]; under: number; over: number } | null;
}

export interface SymbolSeries {
  symbol: string;
  rows: number;
  /** Bucket times, epoch seconds (float: for drawing only). */
  t: number[];
  /** Column → last value per bucket (null where the bucket is empty or the value null). */
  values: Record<string, (number | null)[]>;
  /** Low and high of the price column per bucket. */
  low: (number | null)[];
  high: (number | null)[];
}

export interface ReportSummary {
  rows: number;
  symbols: { symbol: string; rows: number; first: bigint; last: bigint }[];
  columns: ColumnSummary[];
  series: SymbolSeries[];
}

const BINS = 30;
const REFERENCE_SOURCES: ReadonlySet<string> = new Set(REFERENCE_KINDS);
const SAMPLE = 20_000;

interface ColAcc {
  nulls: number;
  warmup: number;
  nonFinite: number;
  n: number;
  min: number;
  max: number;
  sum: number;
  sample: number[];
  seen: number;
  /** Symbols that have had a value of this column. */
  started: Set<string>;
  lo: number;
  hi: number;
  counts: number[];
  under: number;
  over: number;
}

export class ReportAccumulator {
  private readonly cols: ColAcc[];
  private readonly syms = new Map<string, { rows: number; first: bigint; last: bigint }>();
  private rows = 0;
  private readonly every: number;
  private series = new Map<string, { s: SymbolSeries; t0: bigint; span: bigint; last: number }>();
  private priceIx = -1;

  /**
   * @param columns the table's factor columns, in chunk order
   * @param totalRows the table's row count (sets the percentile sample's stride)
   * @param chartColumns columns to draw (those present in the table)
   * @param priceColumn the column drawn with a low–high band (e.g. last_price)
   */
  constructor(
    private readonly columns: readonly string[],
    totalRows: number,
    private readonly chartColumns: readonly string[],
    private readonly priceColumn: string | null,
    private readonly buckets = 1000,
  ) {
    this.every = Math.max(1, Math.ceil(totalRows / SAMPLE));
    this.cols = columns.map(() => ({ nulls: 0, warmup: 0, nonFinite: 0, n: 0, min: Infinity, max: -Infinity, sum: 0, sample: [], seen: 0, started: new Set(), lo: 0, hi: 0, counts: new Array(BINS).fill(0), under: 0, over: 0 }));
  }

  /** Pass one: counts, ranges, the percentile sample, each symbol's time range. */
  first(c: FactorTableChunk): void {
    this.rows += c.n;
    for (let i = 0; i < c.n; i++) {
      // reference rows (fundamentals, corporate actions) carry announcement times, often months
      // before the day: they would stretch the charts' time axis to nothing
      if (REFERENCE_SOURCES.has(c.source[i])) continue;
      const sym = c.symbol[i];
      const t = c.tsRecv[i];
      const s = this.syms.get(sym);
      if (s === undefined) this.syms.set(sym, { rows: 1, first: t, last: t });
      else {
        s.rows++;
        if (t < s.first) s.first = t;
        if (t > s.last) s.last = t;
      }
    }
    c.columns.forEach((col, j) => {
      const a = this.cols[j];
      for (let i = 0; i < c.n; i++) {
        const ok = col.bits === null || (col.bits[(col.bitOffset + i) >> 3] >> ((col.bitOffset + i) & 7)) & 1;
        if (!ok) {
          a.nulls++;
          if (!a.started.has(c.symbol[i])) a.warmup++;
          continue;
        }
        a.started.add(c.symbol[i]);
        const v = col.values[i];
        if (!Number.isFinite(v)) {
          a.nonFinite++;
          continue;
        }
        a.n++;
        a.sum += v;
        if (v < a.min) a.min = v;
        if (v > a.max) a.max = v;
        if (a.seen++ % this.every === 0) a.sample.push(v);
      }
    });
  }

  /** Between the passes: percentiles from the samples, and which symbols get charts. */
  settle(chartSymbols: readonly string[] | null, maxCharts: number): void {
    for (const a of this.cols) {
      a.sample.sort((x, y) => x - y);
      if (a.sample.length === 0) continue;
      const q = (p: number) => a.sample[Math.min(a.sample.length - 1, Math.floor(p * (a.sample.length - 1)))];
      a.lo = q(0.01);
      a.hi = q(0.99);
      if (!(a.hi > a.lo)) {
        a.lo = a.min;
        a.hi = a.max;
      }
    }
    // the busiest symbols by default, ties by name: the same charts every run
    const by = [...this.syms.entries()].sort((x, y) => y[1].rows - x[1].rows || (x[0] < y[0] ? -1 : 1));
    const chosen = chartSymbols ?? by.slice(0, maxCharts).map(([s]) => s);
    this.priceIx = this.priceColumn === null ? -1 : this.columns.indexOf(this.priceColumn);
    for (const sym of chosen) {
      const r = this.syms.get(sym);
      if (r === undefined) continue;
      const span = r.last - r.first + 1n;
      const n = Number(span < BigInt(this.buckets) ? span : BigInt(this.buckets));
      const t = Array.from({ length: n }, (_, b) => Number(r.first + (span * BigInt(b)) / BigInt(n)) / 1e9);
      const values = Object.fromEntries(this.chartColumns.map((col) => [col, new Array<number | null>(n).fill(null)]));
      this.series.set(sym, { s: { symbol: sym, rows: r.rows, t, values, low: new Array(n).fill(null), high: new Array(n).fill(null) }, t0: r.first, span, last: n });
    }
  }

  /** Pass two: histograms and downsampled series. */
  second(c: FactorTableChunk): void {
    c.columns.forEach((col, j) => {
      const a = this.cols[j];
      if (!(a.hi > a.lo) && a.n > 0) a.hi = a.lo + 1; // one distinct value: a one-bin spike, not a division by zero
      const w = (a.hi - a.lo) / BINS;
      for (let i = 0; i < c.n; i++) {
        const ok = col.bits === null || (col.bits[(col.bitOffset + i) >> 3] >> ((col.bitOffset + i) & 7)) & 1;
        if (!ok) continue;
        const v = col.values[i];
        if (!Number.isFinite(v)) continue;
        if (v < a.lo) a.under++;
        else if (v > a.hi) a.over++;
        else a.counts[Math.min(BINS - 1, Math.floor((v - a.lo) / w))]++;
      }
    });
    if (this.series.size === 0) return;
    const chartIx = this.chartColumns.map((cname) => this.columns.indexOf(cname));
    for (let i = 0; i < c.n; i++) {
      const e = this.series.get(c.symbol[i]);
      if (e === undefined || REFERENCE_SOURCES.has(c.source[i])) continue;
      const b = Number(((c.tsRecv[i] - e.t0) * BigInt(e.last)) / e.span);
      chartIx.forEach((ix, k) => {
        const col = c.columns[ix];
        const ok = col.bits === null || (col.bits[(col.bitOffset + i) >> 3] >> ((col.bitOffset + i) & 7)) & 1;
        if (ok && Number.isFinite(col.values[i])) e.s.values[this.chartColumns[k]][b] = col.values[i];
      });
      if (this.priceIx >= 0) {
        const col = c.columns[this.priceIx];
        const ok = col.bits === null || (col.bits[(col.bitOffset + i) >> 3] >> ((col.bitOffset + i) & 7)) & 1;
        const v = col.values[i];
        if (ok && Number.isFinite(v)) {
          const lo = e.s.low[b];
          const hi = e.s.high[b];
          if (lo === null || v < lo) e.s.low[b] = v;
          if (hi === null || v > hi) e.s.high[b] = v;
        }
      }
    }
  }

  summary(): ReportSummary {
    return {
      rows: this.rows,
      symbols: [...this.syms.entries()].sort((x, y) => (x[0] < y[0] ? -1 : 1)).map(([symbol, r]) => ({ symbol, ...r })),
      columns: this.columns.map((name, j) => {
        const a = this.cols[j];
        return {
          name,
          rows: this.rows,
          nulls: a.nulls,
          warmup: a.warmup,
          nonFinite: a.nonFinite,
          min: a.n > 0 ? a.min : null,
          max: a.n > 0 ? a.max : null,
          mean: a.n > 0 ? a.sum / a.n : null,
          hist: a.n > 0 ? { lo: a.lo, hi: a.hi, counts: a.counts, under: a.under, over: a.over } : null,
        };
      }),
      series: [...this.series.values()].map((e) => e.s),
    };
  }
}
