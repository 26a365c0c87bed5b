/**
 * `vegaLiteBundle` and `downsample`: the bundle carries a spec that Vega-Lite's own JSON schema
 * accepts and an SVG Vega drew from that very spec; what would make a notebook chart wrong or
 * dependent on the network is refused with a UsageError naming it.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv } from 'ajv';
import { beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../core/errors.ts';
import { vegaLite5 } from '../testing/vega-lite-5.ts';
import { downsample, VEGA_LITE_MIME, VEGA_LITE_SCHEMA, vegaLiteBundle } from './vega.ts';

const require = createRequire(import.meta.url);
let validate: ((spec: unknown) => boolean) & { errors?: unknown };

beforeAll(() => {
  // the schema shipped with the vega-lite package in node_modules (the one that compiles the spec)
  const schemaFile = require.resolve('vega-lite/vega-lite-schema.json');
  const ajv = new Ajv({ strict: false, allowUnionTypes: true, validateFormats: false });
  validate = ajv.compile(JSON.parse(readFileSync(schemaFile, 'utf8')));
}, 120_000);

const line = (values: unknown[]) => ({
  title: 'three points',
  width: 300,
  height: 100,
  data: { values },
  mark: 'line',
  encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } },
});

describe('vegaLiteBundle', () => {
  it('holds the spec (schema-valid, $schema set) and an SVG of it drawn by Vega, one vertex per point', async () => {
    const b = await vegaLiteBundle(line([{ x: 1, y: 2 }, { x: 2, y: 5 }, { x: 3, y: 3 }]));
    expect(Object.keys(b.data).sort()).toEqual([VEGA_LITE_MIME, 'image/svg+xml', 'text/plain'].sort());
    const spec = b.data[VEGA_LITE_MIME];
    expect(spec.$schema).toBe(VEGA_LITE_SCHEMA);
    expect(validate(spec), JSON.stringify(validate.errors)).toBe(true);
    // sent as v5: JupyterLab 4's Vega-Lite 5 accepts it and compiles it without a warning
    expect(vegaLite5().schemaErrors(spec)).toEqual([]);
    expect(vegaLite5().compileProblems(spec)).toEqual([]);
    const svg = b.data['image/svg+xml'];
    expect(svg).toMatch(/^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"[\s\S]*<\/svg>$/);
    expect(svg).toContain('>three points</text>');
    const path = /class="mark-line[^"]*"[\s\S]*?<path[^>]* d="([^"]+)"/.exec(svg)?.[1] ?? '';
    expect(path.match(/[ML]/g)).toEqual(['M', 'L', 'L']);
    expect(b.data['text/plain']).toBe('<Vega-Lite chart: three points>');
  });

  it('ships values as JSON carries them: NaN becomes null (a gap in the line), undefined fields go', async () => {
    const b = await vegaLiteBundle(line([{ x: 1, y: 2 }, { x: 2, y: Number.NaN }, { x: 3, y: 3, z: undefined }]));
    expect((b.data[VEGA_LITE_MIME].data as { values: unknown[] }).values).toEqual([{ x: 1, y: 2 }, { x: 2, y: null }, { x: 3, y: 3 }]);
    const path = /class="mark-line[^"]*"[\s\S]*?<path[^>]* d="([^"]+)"/.exec(b.data['image/svg+xml'])?.[1] ?? '';
    // two pieces of one point each: the null point breaks the line instead of joining its neighbours
    expect(path.match(/[ML]/g)).toEqual(['M', 'M']);
  });

  it("the Vega-Lite 5 check (testing/vega-lite-5.ts) is v5's own and refuses what v5 refuses", () => {
    const v5 = vegaLite5();
    expect(v5.version).toMatch(/^5\./);
    expect(v5.schemaErrors({ ...line([{ x: 1, y: 1 }]), mark: 'lines' })).not.toEqual([]);
    const typo = line([{ x: 1, y: 1 }]);
    (typo.encoding.y as { type: string }).type = 'quantitativ';
    expect(v5.compileProblems(typo)).toEqual([expect.stringMatching(/^threw: Invalid field type/)]);
    // a warning is a problem too (the bundle refuses v6's): the channel v5 drops is named
    expect(v5.compileProblems({ ...line([{ x: 1, y: 1 }]), encoding: { ...line([]).encoding, theta: { field: 'y', type: 'quantitative' } } })).toEqual(['theta dropped as it is incompatible with "line".']);
  });

  it('keeps a $schema the caller set, and does not change the caller’s object', async () => {
    const spec = { ...line([{ x: 1, y: 1 }]), $schema: 'https://vega.github.io/schema/vega-lite/v6.json' };
    const b = await vegaLiteBundle(spec);
    expect(b.data[VEGA_LITE_MIME].$schema).toBe('https://vega.github.io/schema/vega-lite/v6.json');
    const bare = line([{ x: 1, y: 1 }]);
    await vegaLiteBundle(bare);
    expect('$schema' in bare).toBe(false);
  });

  it('refuses data from a URL, at the top or inside a layer, naming where', async () => {
    await expect(vegaLiteBundle({ data: { url: 'https://example.com/d.json' }, mark: 'point' })).rejects.toThrow(new UsageError('Vega-Lite spec: spec.data.url "https://example.com/d.json": inline the data (data.values); a notebook chart loads nothing'));
    await expect(vegaLiteBundle({ layer: [line([{ x: 1, y: 1 }]), { data: { url: 'x.csv' }, mark: 'rule' }] })).rejects.toThrow(/^Vega-Lite spec: spec\.layer\[1\]\.data\.url "x\.csv": inline the data/);
  });

  it('refuses more inlined rows than maxRows, over every dataset', async () => {
    const values = Array.from({ length: 30 }, (_, i) => ({ x: i, y: i }));
    await expect(vegaLiteBundle(line(values), { maxRows: 29 })).rejects.toThrow('Vega-Lite spec: 30 inlined rows, more than maxRows 29: downsample the series first (downsample())');
    await expect(vegaLiteBundle({ layer: [line(values.slice(0, 20)), { ...line(values.slice(0, 20)), mark: 'point' }] }, { maxRows: 39 })).rejects.toThrow(/40 inlined rows/);
    await expect(vegaLiteBundle(line(values), { maxRows: 30 })).resolves.toBeDefined();
  });

  it('refuses a value JSON cannot carry (a BigInt nanosecond time)', async () => {
    await expect(vegaLiteBundle(line([{ x: 1710509400000000000n, y: 1 }]))).rejects.toThrow(/^Vega-Lite spec: not JSON \(.*BigInt.*\); convert BigInt times to numbers/);
  });

  it('turns a Vega-Lite warning into an error: a chart that drops what was asked is refused', async () => {
    const spec = { ...line([{ x: 1, y: 1 }]), encoding: { ...line([]).encoding, theta: { field: 'y', type: 'quantitative' } } };
    await expect(vegaLiteBundle(spec)).rejects.toThrow(new UsageError('Vega-Lite spec: theta dropped as it is incompatible with "line".'));
    await expect(vegaLiteBundle({ mark: 'no-such-mark', data: { values: [] } })).rejects.toThrow(UsageError);
  });
});

describe('downsample', () => {
  const series = Array.from({ length: 10_000 }, (_, i) => ({ t: i, p: Math.sin(i / 500), q: i === 4321 ? 99 : 0 }));

  it('returns at most about max rows, in order, first and last kept, each bucket’s extremes kept', () => {
    const out = downsample(series, ['p', 'q'], 400);
    expect(out.length).toBeLessThanOrEqual(402);
    expect(out.length).toBeGreaterThan(100);
    expect(out[0]).toBe(series[0]);
    expect(out.at(-1)).toBe(series.at(-1));
    for (let i = 1; i < out.length; i++) expect(out[i].t).toBeGreaterThan(out[i - 1].t);
    // a one-row spike survives the thinning, and so do the sine's peaks
    expect(out.some((r) => r.q === 99)).toBe(true);
    expect(Math.max(...out.map((r) => r.p))).toBe(Math.max(...series.map((r) => r.p)));
    expect(Math.min(...out.map((r) => r.p))).toBe(Math.min(...series.map((r) => r.p)));
  });

  it('keeps a short series whole (a copy), keeps a bucket with no value as a gap, refuses max < 2', () => {
    const short = series.slice(0, 50);
    const kept = downsample(short, ['p'], 50);
    expect(kept).toEqual(short);
    expect(kept).not.toBe(short);
    const gappy = series.map((r) => ({ ...r, p: r.t >= 2000 && r.t < 4000 ? null : r.p }));
    const out = downsample(gappy, ['p'], 100);
    expect(out.some((r) => r.p === null)).toBe(true);
    expect(() => downsample(series, ['p'], 1)).toThrow(new UsageError('downsample: max 1: expected at least 2'));
  });
});
