/**
 * A model slot's scorecard per version, from output rows (replay output, or the live output
 * streams read by `lockstep models watch`): how many rows each version made, the distribution of
 * its signal, how far it is from the other version computed beside it (the shadow, or for a
 * canary the version a symbol is not served), its evaluation error and missing rates (from the
 * status columns of both sides: a shadow's failures count as a served version's do), and, once
 * the forward returns are known, its hit rate and information coefficient. Pure.
 *
 * Forward return of a row at receive time t: price of the symbol's first row at or after t + horizon
 * over its price at t, minus 1 (rows whose horizon is not reached yet have none). Hit rate: the share
 * of rows where the signal's sign (its distance from `center`: 0 for a score, 0.5 for a probability)
 * equals the return's sign, zeros left out. IC: Spearman rank correlation of signal and forward
 * return, pooled over all rows of the version (not a mean of per-instant cross-sections: the live
 * watcher sees too few symbols per instant for those).
 */
import { MODEL_STATUS } from './model.ts';

/** The rows a scorecard reads: one entry per output row, columns as arrays. */
export interface ScorecardRows {
  symbol: readonly string[];
  tsRecv: readonly bigint[];
  /** The price the forward returns are taken on (e.g. last_price, mid). */
  price: readonly (number | null)[];
  /** `<slot>_<output>`, `<slot>_version`, `<slot>_status`, `<slot>_<output>_unserved`, `<slot>_unserved_version`, `<slot>_unserved_status`. */
  served: readonly (number | null)[];
  version: readonly (number | null)[];
  status: readonly (number | null)[];
  unserved: readonly (number | null)[];
  unservedVersion: readonly (number | null)[];
  unservedStatus: readonly (number | null)[];
}

export interface Distribution {
  mean: number;
  std: number;
  q05: number;
  q25: number;
  q50: number;
  q75: number;
  q95: number;
}

export interface VersionScore {
  version: number;
  /** Rows served by this version. */
  served: number;
  /** Rows where it was computed beside the served one (shadow, or the other side of a canary). */
  unserved: number;
  /** Its non-null outputs, served and unserved. */
  distribution: Distribution | null;
  /** Over rows where it and another version both have a value: mean |this − other|, and their correlation. */
  divergence: { rows: number; meanAbs: number; correlation: number } | null;
  /** Of the rows it was evaluated on (served or unserved): status error (threw, NaN) and missing input. */
  errorRate: number;
  missingRate: number;
  /** Rows with a known forward return, its hit rate and IC (null until some are known). */
  realized: { rows: number; hitRate: number; ic: number } | null;
}

export interface ScorecardOptions {
  horizonNs: bigint;
  /** The neutral signal value (0 for scores, 0.5 for probabilities). */
  center?: number;
}

/** Forward return of each row over `horizonNs` (null when its horizon is not reached or a price is missing). */
export function forwardReturns(rows: Pick<ScorecardRows, 'symbol' | 'tsRecv' | 'price'>, horizonNs: bigint): (number | null)[] {
  const n = rows.symbol.length;
  const bySym = new Map<string, number[]>();
  for (let i = 0; i < n; i++) {
    let l = bySym.get(rows.symbol[i]);
    if (l === undefined) bySym.set(rows.symbol[i], (l = []));
    l.push(i);
  }
  const out: (number | null)[] = new Array(n).fill(null);
  for (const ix of bySym.values()) {
    ix.sort((a, b) => (rows.tsRecv[a] < rows.tsRecv[b] ? -1 : rows.tsRecv[a] > rows.tsRecv[b] ? 1 : a - b));
    let j = 0;
    for (let k = 0; k < ix.length; k++) {
      const i = ix[k];
      const target = rows.tsRecv[i] + horizonNs;
      if (j < k) j = k;
      while (j < ix.length && rows.tsRecv[ix[j]] < target) j++;
      if (j >= ix.length) break;
      const p0 = rows.price[i];
      const p1 = rows.price[ix[j]];
      if (p0 !== null && p1 !== null && p0 !== 0 && Number.isFinite(p0) && Number.isFinite(p1)) out[i] = p1 / p0 - 1;
    }
  }
  return out;
}

/** The scorecard of every version seen in the rows, ascending. */
export function scorecard(rows: ScorecardRows, opts: ScorecardOptions): VersionScore[] {
  const center = opts.center ?? 0;
  const fwd = forwardReturns(rows, opts.horizonNs);
  const acc = new Map<number, { served: number; unserved: number; errors: number; missing: number; values: number[]; pairs: [number, number][]; real: [number, number][] }>();
  const get = (v: number) => {
    let a = acc.get(v);
    if (a === undefined) acc.set(v, (a = { served: 0, unserved: 0, errors: 0, missing: 0, values: [], pairs: [], real: [] }));
    return a;
  };
  for (let i = 0; i < rows.symbol.length; i++) {
    const v = rows.version[i];
    const u = rows.unservedVersion[i];
    const sv = rows.served[i];
    const uv = rows.unserved[i];
    if (v !== null) {
      const a = get(v);
      a.served++;
      if (rows.status[i] === MODEL_STATUS.error) a.errors++;
      if (rows.status[i] === MODEL_STATUS.missing) a.missing++;
      if (sv !== null) {
        a.values.push(sv);
        if (fwd[i] !== null) a.real.push([sv, fwd[i]!]);
        if (uv !== null) a.pairs.push([sv, uv]);
      }
    }
    if (u !== null) {
      const a = get(u);
      a.unserved++;
      if (rows.unservedStatus[i] === MODEL_STATUS.error) a.errors++;
      if (rows.unservedStatus[i] === MODEL_STATUS.missing) a.missing++;
      if (uv !== null) {
        a.values.push(uv);
        if (fwd[i] !== null) a.real.push([uv, fwd[i]!]);
        if (sv !== null) a.pairs.push([uv, sv]);
      }
    }
  }
  return [...acc.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([version, a]) => ({
      version,
      served: a.served,
      unserved: a.unserved,
      distribution: distribution(a.values),
      divergence: a.pairs.length === 0 ? null : { rows: a.pairs.length, meanAbs: mean(a.pairs.map(([x, y]) => Math.abs(x - y))), correlation: pearson(a.pairs.map((p) => p[0]), a.pairs.map((p) => p[1])) },
      errorRate: a.errors / (a.served + a.unserved),
      missingRate: a.missing / (a.served + a.unserved),
      realized: a.real.length === 0 ? null : { rows: a.real.length, hitRate: hitRate(a.real, center), ic: spearman(a.real.map((p) => p[0]), a.real.map((p) => p[1])) },
    }));
}

const mean = (x: readonly number[]) => x.reduce((s, v) => s + v, 0) / x.length;

function distribution(x: number[]): Distribution | null {
  if (x.length === 0) return null;
  const s = [...x].sort((a, b) => a - b);
  const m = mean(s);
  const q = (p: number) => {
    // linear interpolation between order statistics (numpy's default)
    const h = (s.length - 1) * p;
    const lo = Math.floor(h);
    return s[lo] + (h - lo) * ((s[Math.min(lo + 1, s.length - 1)] ?? s[lo]) - s[lo]);
  };
  return { mean: m, std: Math.sqrt(s.reduce((a, v) => a + (v - m) ** 2, 0) / s.length), q05: q(0.05), q25: q(0.25), q50: q(0.5), q75: q(0.75), q95: q(0.95) };
}

/** Pearson correlation (NaN when either side is constant). */
export function pearson(x: readonly number[], y: readonly number[]): number {
  const mx = mean(x);
  const my = mean(y);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < x.length; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
    syy += (y[i] - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}

/** Ranks with ties given their mean rank (1-based). */
function ranks(x: readonly number[]): number[] {
  const ix = x.map((_, i) => i).sort((a, b) => x[a] - x[b]);
  const r = new Array<number>(x.length);
  for (let i = 0; i < ix.length; ) {
    let j = i;
    while (j + 1 < ix.length && x[ix[j + 1]] === x[ix[i]]) j++;
    for (let k = i; k <= j; k++) r[ix[k]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return r;
}

/** Spearman rank correlation: Pearson of the ranks (ties averaged). */
export function spearman(x: readonly number[], y: readonly number[]): number {
  return pearson(ranks(x), ranks(y));
}

function hitRate(pairs: readonly [number, number][], center: number): number {
  let hits = 0;
  let n = 0;
  for (const [s, r] of pairs) {
    const a = Math.sign(s - center);
    const b = Math.sign(r);
    if (a === 0 || b === 0) continue;
    n++;
    if (a === b) hits++;
  }
  return n === 0 ? NaN : hits / n;
}

/** The slot's columns of a table as scorecard rows (`output`: which of its outputs; `price`: the price column). */
export function scorecardRows(t: { symbol: string[]; tsRecv: bigint[]; values: Record<string, (number | null)[]> }, slot: string, output: string, price: string): ScorecardRows {
  const col = (c: string) => {
    const v = t.values[c];
    if (v === undefined) throw new Error(`no column ${c}`);
    return v;
  };
  return {
    symbol: t.symbol,
    tsRecv: t.tsRecv,
    price: col(price),
    served: col(`${slot}_${output}`),
    version: col(`${slot}_version`),
    status: col(`${slot}_status`),
    unserved: col(`${slot}_${output}_unserved`),
    unservedVersion: col(`${slot}_unserved_version`),
    unservedStatus: col(`${slot}_unserved_status`),
  };
}

/** The scorecard as text lines (what `lockstep models scorecard` prints): one row per version. */
export function formatScorecard(slot: string, output: string, scores: readonly VersionScore[]): string[] {
  const f = (x: number | undefined | null, d = 4) => (x === undefined || x === null || Number.isNaN(x) ? '-' : x.toFixed(d));
  const head = ['version', 'served', 'unserved', 'mean', 'std', 'q05', 'q50', 'q95', 'div|d|', 'div corr', 'error%', 'missing%', 'realized', 'hit%', 'IC'];
  const body = scores.map((s) => {
    const d = s.distribution;
    return [`${slot}@${s.version}`, String(s.served), String(s.unserved), f(d?.mean), f(d?.std), f(d?.q05), f(d?.q50), f(d?.q95), f(s.divergence?.meanAbs), f(s.divergence?.correlation, 3), f(s.errorRate * 100, 2), f(s.missingRate * 100, 2), String(s.realized?.rows ?? 0), f(s.realized ? s.realized.hitRate * 100 : null, 1), f(s.realized?.ic, 3)];
  });
  const w = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ');
  return [`${slot}_${output}`, line(head), ...body.map(line)];
}
