/**
 * A training set's information coefficients (IC), accumulated chunk by chunk: for every feature and
 * every forward-return label, how well the feature ranks what happened next.
 *
 * - **Rank IC** (the factor researcher's IC, Grinold & Kahn, *Active Portfolio Management*, ch. 6;
 *   Qian, Hua & Sorensen, *Quantitative Equity Portfolio Management*, ch. 4): at each sample time,
 *   the Spearman correlation across symbols between the feature and the label (pairs where both are
 *   present; ranks of ties averaged), then its mean over the sample times, its standard deviation,
 *   IR = mean / std, the t-statistic mean / (std / √T) and the hit rate (share of times with IC > 0).
 *   A time with fewer than `minCross` pairs, or with a constant feature or label, has no IC.
 * - **Pooled IC**: Pearson's correlation over every row where both are present (one number over
 *   the whole set; also meaningful for an entity table, whose rows share no sample time).
 *
 * Sample times are runs of equal `ts` in file order: a training set is written in time order (all
 * symbols at t, then t + step), so each run is one cross-section; an entity table in the user's
 * order has short runs, and says so through its small number of cross-sections.
 *
 * Pure and deterministic: chunks in, plain data out; memory is one cross-section.
 */

export interface IcCell {
  feature: string;
  label: string;
  /** Sample times with an IC. */
  times: number;
  mean: number | null;
  std: number | null;
  ir: number | null;
  t: number | null;
  hitRate: number | null;
  /** Pearson over all rows with both present. */
  pooled: number | null;
  pooledN: number;
}

export interface IcSummary {
  features: string[];
  labels: string[];
  /** features × labels, row-major. */
  cells: IcCell[];
  /** Cross-sections seen (runs of equal sample time). */
  crossSections: number;
  minCross: number;
}

/** Label columns whose IC is measured: forward returns (`fwd_ret_*`), in table order. */
export const icLabels = (columns: readonly string[]) => columns.filter((c) => c.startsWith('fwd_ret_'));
/** Feature columns: every numeric column that is not a label. */
export const icFeatures = (columns: readonly string[]) => columns.filter((c) => !c.startsWith('fwd_'));

interface PairAcc {
  n: number;
  sum: number;
  sumSq: number;
  pos: number;
  // pooled Pearson, shifted by the first pair seen (numerically stable enough for a report)
  pn: number;
  sx: number;
  sy: number;
  sxx: number;
  syy: number;
  sxy: number;
  x0: number;
  y0: number;
}

/** Average ranks (1-based, ties averaged) of `v` at positions `ix`, written to `out[k]` for ix[k]. */
function ranks(v: Float64Array, ix: readonly number[], out: Float64Array): void {
  const order = ix.map((_, k) => k).sort((a, b) => v[ix[a]] - v[ix[b]] || a - b);
  let i = 0;
  while (i < order.length) {
    let j = i;
    while (j + 1 < order.length && v[ix[order[j + 1]]] === v[ix[order[i]]]) j++;
    const r = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) out[order[k]] = r;
    i = j + 1;
  }
}

/** Pearson correlation of two equal-length arrays; null when either is constant. */
function pearson(x: Float64Array, y: Float64Array, n: number): number | null {
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i] - mx;
    const dy = y[i] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : null;
}

export class IcAccumulator {
  private readonly acc: PairAcc[];
  private curTs: bigint | null = null;
  /** The current cross-section: per column (features then labels), values; NaN = absent. */
  private cross: number[][];
  private crossSections = 0;

  constructor(
    private readonly features: readonly string[],
    private readonly labels: readonly string[],
    private readonly minCross = 5,
  ) {
    this.acc = Array.from({ length: features.length * labels.length }, () => ({ n: 0, sum: 0, sumSq: 0, pos: 0, pn: 0, sx: 0, sy: 0, sxx: 0, syy: 0, sxy: 0, x0: NaN, y0: NaN }));
    this.cross = [...features, ...labels].map(() => []);
  }

  /**
   * Adds rows: `ts[i]` the sample time, `value(c, i)` column c's value (features then labels, in
   * constructor order) or NaN where null.
   */
  add(n: number, ts: ArrayLike<bigint>, value: (c: number, i: number) => number): void {
    const F = this.features.length;
    const L = this.labels.length;
    for (let i = 0; i < n; i++) {
      if (this.curTs !== ts[i]) {
        this.flush();
        this.curTs = ts[i];
      }
      for (let c = 0; c < F + L; c++) this.cross[c].push(value(c, i));
      for (let f = 0; f < F; f++) {
        const x = value(f, i);
        if (!Number.isFinite(x)) continue;
        for (let l = 0; l < L; l++) {
          const y = value(F + l, i);
          if (!Number.isFinite(y)) continue;
          const a = this.acc[f * L + l];
          if (a.pn === 0) {
            a.x0 = x;
            a.y0 = y;
          }
          const dx = x - a.x0;
          const dy = y - a.y0;
          a.pn++;
          a.sx += dx;
          a.sy += dy;
          a.sxx += dx * dx;
          a.syy += dy * dy;
          a.sxy += dx * dy;
        }
      }
    }
  }

  /** Closes the current cross-section: one rank IC per (feature, label) with enough pairs. */
  private flush(): void {
    const F = this.features.length;
    const L = this.labels.length;
    const m = this.cross[0]?.length ?? 0;
    if (m === 0) return;
    this.crossSections++;
    const cols = this.cross.map((c) => Float64Array.from(c));
    const xr = new Float64Array(m);
    const yr = new Float64Array(m);
    for (let f = 0; f < F; f++) {
      for (let l = 0; l < L; l++) {
        const ix: number[] = [];
        for (let i = 0; i < m; i++) if (Number.isFinite(cols[f][i]) && Number.isFinite(cols[F + l][i])) ix.push(i);
        if (ix.length < this.minCross) continue;
        ranks(cols[f], ix, xr);
        ranks(cols[F + l], ix, yr);
        const ic = pearson(xr, yr, ix.length);
        if (ic === null) continue;
        const a = this.acc[f * L + l];
        a.n++;
        a.sum += ic;
        a.sumSq += ic * ic;
        if (ic > 0) a.pos++;
      }
    }
    this.cross = this.cross.map(() => []);
  }

  summary(): IcSummary {
    this.flush();
    this.curTs = null;
    const L = this.labels.length;
    const cells: IcCell[] = [];
    this.features.forEach((feature, f) =>
      this.labels.forEach((label, l) => {
        const a = this.acc[f * L + l];
        const mean = a.n > 0 ? a.sum / a.n : null;
        const std = a.n > 1 ? Math.sqrt(Math.max(0, (a.sumSq - (a.sum * a.sum) / a.n) / (a.n - 1))) : null;
        const cov = a.pn > 1 ? a.sxy - (a.sx * a.sy) / a.pn : 0;
        const vx = a.pn > 1 ? a.sxx - (a.sx * a.sx) / a.pn : 0;
        const vy = a.pn > 1 ? a.syy - (a.sy * a.sy) / a.pn : 0;
        cells.push({
          feature,
          label,
          times: a.n,
          mean,
          std,
          ir: mean !== null && std !== null && std > 0 ? mean / std : null,
          t: mean !== null && std !== null && std > 0 ? mean / (std / Math.sqrt(a.n)) : null,
          hitRate: a.n > 0 ? a.pos / a.n : null,
          pooled: vx > 0 && vy > 0 ? cov / Math.sqrt(vx * vy) : null,
          pooledN: a.pn,
        });
      }),
    );
    return { features: [...this.features], labels: [...this.labels], cells, crossSections: this.crossSections, minCross: this.minCross };
  }
}
