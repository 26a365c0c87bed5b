/**
 * Vega-Lite charts for notebooks: one display bundle per chart, holding the Vega-Lite spec
 * (`application/vnd.vegalite.v5+json`, which JupyterLab and VS Code draw themselves, interactive)
 * and the same chart rendered here as SVG by Vega (`image/svg+xml`), which is what `jupyter
 * nbconvert` HTML, GitHub's notebook viewer and any frontend without a Vega renderer show. Both
 * come from one spec, so the two pictures are the same chart.
 *
 * The data must be inlined (`data.values`, or `datasets`), small enough to ship inside a
 * notebook: `downsample` thins a long series first, keeping each bucket's extremes so spikes
 * survive. Nothing is loaded from a URL (a notebook's plot must not depend on the network).
 *
 * Vega and Vega-Lite 6 are ESM only; they are imported on the first chart, so loading
 * `lockstep/research` for a replay or a training set does not pay for them.
 */
import { UsageError } from '../core/errors.ts';

/** The MIME type JupyterLab's built-in Vega extension renders (Vega-Lite 5 specs and up to it). */
export const VEGA_LITE_MIME = 'application/vnd.vegalite.v5+json';
/** The Vega-Lite schema URL the bundled specs declare, matching {@link VEGA_LITE_MIME}. */
export const VEGA_LITE_SCHEMA = 'https://vega.github.io/schema/vega-lite/v5.json';

/**
 * A Vega-Lite spec as plain JSON (a `TopLevelSpec`). Typed loosely on purpose: notebooks write
 * specs as object literals, and Vega-Lite's own compile step is the check.
 */
export type VegaLiteSpec = Record<string, unknown>;

/** What a Jupyter kernel sends as `display_data`: MIME type to content, plus per-type metadata. */
export interface DisplayBundle {
  data: {
    'application/vnd.vegalite.v5+json': VegaLiteSpec;
    'image/svg+xml': string;
    'text/plain': string;
  };
  metadata: Record<string, unknown>;
}

export interface VegaLiteBundleOptions {
  /** Most inlined rows accepted over all datasets (default 20 000): past it, downsample first. */
  maxRows?: number;
}

const DEFAULT_MAX_ROWS = 20_000;

/**
 * The display bundle of one Vega-Lite chart: the spec (with `$schema` set when missing) and its
 * SVG rendered by Vega in this process (no canvas, no browser). Throws a `UsageError` for a spec
 * that loads data from a URL, carries more than `maxRows` rows, holds a value JSON cannot carry
 * (a BigInt), or that Vega-Lite warns about (a misspelt field type, an encoding it drops): a
 * chart that silently differs from what was asked is worse than none.
 */
export async function vegaLiteBundle(spec: VegaLiteSpec, options: VegaLiteBundleOptions = {}): Promise<DisplayBundle> {
  const json = asJson(spec);
  if (json.$schema === undefined) json.$schema = VEGA_LITE_SCHEMA;
  checkData(json, options.maxRows ?? DEFAULT_MAX_ROWS);
  // Vega marks (and its formula transform rewrites) the data objects it is given: it draws a copy
  const svg = await renderSvg(structuredClone(json));
  const title = titleOf(json);
  return {
    data: { [VEGA_LITE_MIME]: json, 'image/svg+xml': svg, 'text/plain': title ? `<Vega-Lite chart: ${title}>` : '<Vega-Lite chart>' } as DisplayBundle['data'],
    metadata: {},
  };
}

/**
 * The spec as it will travel in the notebook's JSON: NaN and ±Infinity become null, undefined
 * fields go. The SVG is drawn from this copy, so both outputs see the same data.
 */
function asJson(spec: VegaLiteSpec): VegaLiteSpec {
  let text: string;
  try {
    text = JSON.stringify(spec);
  } catch (e) {
    throw new UsageError(`Vega-Lite spec: not JSON (${(e as Error).message}); convert BigInt times to numbers (e.g. epoch milliseconds) first`);
  }
  const parsed = JSON.parse(text) as unknown;
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new UsageError('Vega-Lite spec: expected an object');
  return parsed as VegaLiteSpec;
}

/** Every `data` in the spec (top level, layers, concatenations) is inline, and not too large. */
function checkData(spec: VegaLiteSpec, maxRows: number): void {
  let rows = 0;
  const visit = (node: unknown, path: string): void => {
    if (Array.isArray(node)) return node.forEach((n, i) => visit(n, `${path}[${i}]`));
    if (node === null || typeof node !== 'object') return;
    const o = node as Record<string, unknown>;
    const data = o.data as Record<string, unknown> | undefined | null;
    if (data && typeof data === 'object') {
      if ('url' in data) throw new UsageError(`Vega-Lite spec: ${path}.data.url ${JSON.stringify(data.url)}: inline the data (data.values); a notebook chart loads nothing`);
      if (Array.isArray(data.values)) rows += data.values.length;
    }
    if (o.datasets && typeof o.datasets === 'object') for (const v of Object.values(o.datasets)) if (Array.isArray(v)) rows += v.length;
    for (const key of ['layer', 'hconcat', 'vconcat', 'concat', 'spec']) if (key in o) visit(o[key], `${path}.${key}`);
  };
  visit(spec, 'spec');
  if (rows > maxRows) throw new UsageError(`Vega-Lite spec: ${rows} inlined rows, more than maxRows ${maxRows}: downsample the series first (downsample())`);
}

function titleOf(spec: VegaLiteSpec): string {
  const t = spec.title;
  if (typeof t === 'string') return t;
  if (Array.isArray(t)) return t.join(' ');
  if (t && typeof t === 'object' && 'text' in t) return String((t as { text: unknown }).text);
  return '';
}

/** Compiles with Vega-Lite (warnings are errors) and renders the Vega view to SVG, headless. */
async function renderSvg(spec: VegaLiteSpec): Promise<string> {
  const [vega, vl] = await Promise.all([import('vega'), import('vega-lite')]);
  const warnings: string[] = [];
  const collect = (...args: readonly unknown[]) => void warnings.push(args.map(String).join(' '));
  // Vega-Lite's logger interface; only warnings and errors matter here
  const logger = { level: () => logger, warn: collect, error: collect, info: () => logger, debug: () => logger };
  let compiled;
  try {
    compiled = vl.compile(spec as never, { logger: logger as never });
  } catch (e) {
    throw new UsageError(`Vega-Lite spec: ${(e as Error).message}`);
  }
  if (warnings.length > 0) throw new UsageError(`Vega-Lite spec: ${warnings.join('; ')}`);
  // a loader that refuses: checkData already keeps URLs out, this keeps any other fetch out too
  const loader = vega.loader();
  loader.load = (uri: string) => Promise.reject(new UsageError(`Vega-Lite spec: would load ${uri}; a notebook chart loads nothing`));
  const view = new vega.View(vega.parse(compiled.spec), { renderer: 'none', loader });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/**
 * At most about `max` of `rows`, in order, for a line chart: the rows split into equal buckets,
 * and from each the rows where any of the `fields` is at its minimum or maximum (first and last
 * row always kept), so a thinned price line keeps its spikes. Rows are returned as they are.
 */
export function downsample<T extends Record<string, unknown>>(rows: readonly T[], fields: readonly string[], max: number): T[] {
  if (!(max >= 2)) throw new UsageError(`downsample: max ${max}: expected at least 2`);
  if (rows.length <= max) return rows.slice();
  const perBucket = Math.max(1, 2 * fields.length);
  const buckets = Math.max(1, Math.floor((max - 2) / perBucket));
  const keep = new Set<number>([0, rows.length - 1]);
  for (let b = 0; b < buckets; b++) {
    const lo = Math.floor((b * rows.length) / buckets);
    const hi = Math.floor(((b + 1) * rows.length) / buckets);
    let found = false;
    for (const f of fields) {
      let iMin = -1;
      let iMax = -1;
      for (let i = lo; i < hi; i++) {
        const v = rows[i][f];
        if (typeof v !== 'number' || !Number.isFinite(v)) continue;
        if (iMin < 0 || v < (rows[iMin][f] as number)) iMin = i;
        if (iMax < 0 || v > (rows[iMax][f] as number)) iMax = i;
      }
      if (iMin >= 0) {
        keep.add(iMin);
        keep.add(iMax);
        found = true;
      }
    }
    // a bucket with no finite value keeps its first row, so a gap stays a gap
    if (!found) keep.add(lo);
  }
  return [...keep].sort((a, b) => a - b).map((i) => rows[i]);
}
