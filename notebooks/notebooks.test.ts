/**
 * The notebooks run, in a real Jupyter (Debian's `jupyter nbconvert --execute`) under the real
 * tslab kernel, from a clean kernel each, and say what they should. A notebook that does not
 * type-check or that throws fails the run: two broken notebooks prove it.
 *
 * Everything happens in a scratch folder laid out like a checkout, so nothing here depends on the
 * user's home or races another test: `package.json` and a `node_modules` link, `dist/` built there
 * (`LOCKSTEP_DIST`: package.test.ts may be rebuilding the checkout's own dist/ meanwhile), the
 * notebooks copied into `notebooks/`, the sample day `lockstep demo` makes at `out/demo/catalog`
 * (where the notebooks look by default), and the tslab kernel spec registered in a Jupyter path
 * of its own. The executed copies are written there too; the committed notebooks stay without
 * outputs.
 *
 * Every chart is one output holding a Vega-Lite spec (`application/vnd.vegalite.v5+json`) and the
 * SVG Vega drew from it. The spec is checked against what draws it: JupyterLab 4's Vega-Lite 5
 * (its JSON schema, and its compiler without a warning: testing/vega-lite-5.ts), and against the
 * Vega-Lite 6 schema of the package that compiled it for the SVG.
 *
 * Where Jupyter or tslab is missing the suite is skipped and says why; where the recorded market
 * data is missing (testing/real-data.ts) the real-data notebook is.
 */
import { execFile, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { realData } from '../testing/real-data.ts';
import { vegaLite5 } from '../testing/vega-lite-5.ts';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const HERE = join(ROOT, 'notebooks');

/** Debian's Jupyter (`/usr/bin/jupyter`) unless LOCKSTEP_JUPYTER names another. */
const JUPYTER = process.env.LOCKSTEP_JUPYTER ?? ['/usr/bin/jupyter', '/usr/local/bin/jupyter'].find((p) => existsSync(p)) ?? null;
const TSLAB = ((): string | null => {
  try {
    return join(dirname(createRequire(import.meta.url).resolve('tslab/package.json')), 'bin', 'tslab');
  } catch {
    return null;
  }
})();

function skipReason(): string | null {
  if (JUPYTER === null) return 'no Jupyter found (Debian: apt-get install jupyter-nbconvert python3-ipykernel; or set LOCKSTEP_JUPYTER): the notebook tests are skipped';
  const v = spawnSync(JUPYTER, ['nbconvert', '--version'], { encoding: 'utf8' });
  if (v.status !== 0) return `${JUPYTER} nbconvert does not run (Debian: apt-get install jupyter-nbconvert python3-ipykernel): the notebook tests are skipped`;
  if (TSLAB === null) return 'the tslab kernel is not installed (npm ci installs it: it is a devDependency): the notebook tests are skipped';
  return null;
}
const SKIP = skipReason();
if (SKIP) console.warn(`[notebooks] ${SKIP}`);
const REAL = realData('notebook real-btcusdt.ipynb', 'crypto_binance_btcusdt/btcusdt_20240808.gz');

interface Output {
  output_type: string;
  name?: string;
  text?: string | string[];
  data?: Record<string, unknown>;
  ename?: string;
}
interface Notebook {
  cells: { cell_type: string; source: string | string[]; outputs?: Output[] }[];
  metadata: { kernelspec?: { name: string }; language_info?: { pygments_lexer?: string } };
}

const join$ = (s: unknown) => (Array.isArray(s) ? s.join('') : typeof s === 'string' ? s : '');
const VEGA_LITE = 'application/vnd.vegalite.v5+json';

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, cwd = ROOT): Promise<{ code: number; out: string }> {
  return new Promise((done) => {
    execFile(cmd, args, { cwd, env, maxBuffer: 64 << 20 }, (err, stdout, stderr) => done({ code: err ? Number(err.code ?? 1) : 0, out: stdout + stderr }));
  });
}

describe('the committed notebooks', () => {
  it('every committed notebook is a TypeScript notebook for the tslab kernel, committed without outputs', () => {
    const names = readdirSync(HERE).filter((f) => f.endsWith('.ipynb'));
    expect(names.sort()).toEqual(['factor-ic.ipynb', 'parity-diverge.ipynb', 'real-btcusdt.ipynb', 'replay-day.ipynb', 'train-model.ipynb']);
    for (const n of names) {
      const nb = JSON.parse(readFileSync(join(HERE, n), 'utf8')) as Notebook;
      expect(nb.metadata.kernelspec?.name, n).toBe('tslab');
      expect(nb.metadata.language_info?.pygments_lexer, n).toBe('typescript');
      for (const c of nb.cells) expect(c.outputs ?? [], n).toEqual([]);
    }
  });
});

describe.skipIf(SKIP !== null)('notebooks (jupyter nbconvert --execute, tslab kernel)', () => {
  let scratch = '';
  let nbDir = '';
  let outDir = '';
  let env: NodeJS.ProcessEnv;
  let validSpec: ((spec: unknown) => boolean) & { errors?: unknown };

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'lockstep-notebooks-'));
    nbDir = join(scratch, 'notebooks');
    outDir = join(scratch, 'executed');
    mkdirSync(nbDir, { recursive: true });
    copyFileSync(join(ROOT, 'package.json'), join(scratch, 'package.json'));
    symlinkSync(join(ROOT, 'node_modules'), join(scratch, 'node_modules'), 'dir');
    for (const f of readdirSync(HERE)) if (f.endsWith('.ipynb') || (f.endsWith('.ts') && !f.endsWith('.test.ts'))) copyFileSync(join(HERE, f), join(nbDir, f));
    // the kernel spec, in a Jupyter path of its own: the user's registered kernels play no part
    const kernel = join(scratch, 'jupyter', 'kernels', 'tslab');
    mkdirSync(kernel, { recursive: true });
    writeFileSync(join(kernel, 'kernel.json'), JSON.stringify({ argv: [process.execPath, TSLAB, 'kernel', '--config-path', '{connection_file}'], display_name: 'TypeScript', language: 'typescript' }));
    env = { ...process.env, JUPYTER_PATH: join(scratch, 'jupyter'), JUPYTER_DATA_DIR: join(scratch, 'jupyter-data'), JUPYTER_CONFIG_DIR: join(scratch, 'jupyter-config'), JUPYTER_RUNTIME_DIR: join(scratch, 'jupyter-runtime'), LOCKSTEP_REAL_DATA: REAL.dir };
    delete env.LOCKSTEP_CATALOG;
    // Vega-Lite 6's JSON schema, as the vega-lite package that compiled the charts' SVG ships it
    const ajv = new Ajv({ strict: false, allowUnionTypes: true, validateFormats: false });
    validSpec = ajv.compile(JSON.parse(readFileSync(createRequire(import.meta.url).resolve('vega-lite/vega-lite-schema.json'), 'utf8')));
    const [build, day] = await Promise.all([
      run(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { ...process.env, LOCKSTEP_DIST: join(scratch, 'dist') }),
      // the sample day of `lockstep demo` (its generate step), where the notebooks look for it
      run(process.execPath, [join(ROOT, 'bin', 'lockstep.js'), 'datasets', 'generate', '--date', '2024-03-15', '--symbols', '5', '--seed', '7', '--preset', 'tiny', '--out', join(scratch, 'out', 'demo', 'catalog')], process.env),
    ]);
    expect(build.code, build.out).toBe(0);
    expect(day.code, day.out).toBe(0);
  }, 600_000);
  afterAll(() => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  /** Executes one notebook from a clean kernel; the executed copy's JSON, or the run's log. */
  async function execute(name: string): Promise<{ code: number; log: string; nb: Notebook | null }> {
    const r = await run(JUPYTER!, ['nbconvert', '--to', 'notebook', '--execute', '--ExecutePreprocessor.timeout=600', '--ExecutePreprocessor.startup_timeout=120', '--output-dir', outDir, join(nbDir, name)], env, nbDir);
    const file = join(outDir, name);
    return { code: r.code, log: r.out, nb: r.code === 0 && existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Notebook) : null };
  }
  const texts = (nb: Notebook) => nb.cells.flatMap((c) => c.outputs ?? []).filter((o) => o.output_type === 'stream').map((o) => join$(o.text)).join('');
  /**
   * The notebook's charts, each checked: one output with the spec (a JSON object the v5 and v6
   * schemas accept and Vega-Lite 5 compiles without a warning, data inlined) and an SVG of it
   * with the spec's title and drawn marks. An SVG or a spec alone in an output fails: a chart is
   * always both.
   */
  function charts(nb: Notebook): { spec: Record<string, unknown>; svg: string }[] {
    const out: { spec: Record<string, unknown>; svg: string }[] = [];
    for (const o of nb.cells.flatMap((c) => c.outputs ?? [])) {
      if (o.data?.[VEGA_LITE] === undefined && o.data?.['image/svg+xml'] === undefined) continue;
      expect(o.output_type).toBe('display_data');
      expect(Object.keys(o.data!).sort()).toEqual(['image/svg+xml', VEGA_LITE, 'text/plain'].sort());
      const spec = o.data![VEGA_LITE] as Record<string, unknown>;
      const svg = join$(o.data!['image/svg+xml']);
      expect(typeof spec).toBe('object');
      expect(validSpec(spec), JSON.stringify(validSpec.errors)).toBe(true);
      expect(spec.$schema).toBe('https://vega.github.io/schema/vega-lite/v5.json');
      // what JupyterLab 4 draws it with: Vega-Lite 5's schema, and its compiler without a warning
      expect(vegaLite5().schemaErrors(spec), String(spec.title)).toEqual([]);
      expect(vegaLite5().compileProblems(spec), String(spec.title)).toEqual([]);
      expect(((spec.data as { values?: unknown[] }).values ?? []).length).toBeGreaterThan(0);
      expect(svg).toMatch(/^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"[\s\S]*<\/svg>$/);
      expect(svg).toContain(`>${String(spec.title).replace(/&/g, '&amp;').replace(/</g, '&lt;')}</text>`);
      // a line drawn through several points, or bars with a height
      expect(svg).toMatch(/class="mark-line[^"]*"[^>]*><path [^>]*d="M[-\d.]+,[-\d.]+L|class="mark-rect[^"]*"[^>]*><path [^>]*d="M[-\d.]+,[-\d.]+h[\d.]+v[\d.]+/);
      out.push({ spec, svg });
    }
    return out;
  }
  const errors = (nb: Notebook) => nb.cells.flatMap((c) => c.outputs ?? []).filter((o) => o.output_type === 'error' || o.name === 'stderr');

  it('replay-day.ipynb: replays SYM000 of the sample day, minute bars with arquero, four charts', async () => {
    const r = await execute('replay-day.ipynb');
    expect(r.code, r.log).toBe(0);
    const nb = r.nb!;
    expect(errors(nb)).toEqual([]);
    const out = texts(nb);
    expect(out).toContain('SYM000: 11929 factor rows, 42 columns');
    expect(out).toMatch(/^395 minutes, 11:56 \.\. 20:00 UTC; close 17\.37$/m);
    expect(out).toMatch(/^last_price\s+99\.8%$/m);
    const shown = charts(nb);
    expect(shown.map((c) => c.spec.title)).toEqual(['SYM000 2024-03-15: last price, session VWAP, 5- and 20-minute MAs', 'RSI(14) on minute closes', 'MACD(12, 26, 9)', 'Book imbalance: L1 quote and 5-level depth']);
    // the price chart carries the minute bars: its last 'last price' point is the printed close, at 20:00 UTC
    const points = (shown[0].spec.data as { values: { x: number; series: string; value: number }[] }).values.filter((v) => v.series === 'last price');
    // 391 of the 395 minutes have a last price (none before the first trade); nulls are not shipped
    expect(points).toHaveLength(391);
    expect(points.at(-1)!.value).toBe(17.37);
    expect(new Date(points.at(-1)!.x).toISOString()).toBe('2024-03-15T20:00:00.000Z');
    // nbconvert's HTML (no Vega renderer there) shows the four charts as the SVG Vega drew
    const html = await run(JUPYTER!, ['nbconvert', '--to', 'html', '--output-dir', outDir, join(outDir, 'replay-day.ipynb')], env, nbDir);
    expect(html.code, html.out).toBe(0);
    expect(readFileSync(join(outDir, 'replay-day.html'), 'utf8').match(/<svg [^>]*class="marks"/g)).toHaveLength(4);
  });

  it('factor-ic.ipynb: a training set of the sample day, IC by horizon, decay and quintile returns', async () => {
    const r = await execute('factor-ic.ipynb');
    expect(r.code, r.log).toBe(0);
    const nb = r.nb!;
    expect(errors(nb)).toEqual([]);
    const out = texts(nb);
    expect(out).toContain('2530 rows, 5 symbols;');
    const ic = [...out.matchAll(/^(\w+)\s+(\d+m)\s+n (\d+)\s+IC\s+(-?[\d.]+)\s+rank IC\s+(-?[\d.]+)$/gm)];
    expect(ic.map((m) => `${m[1]} ${m[2]}`)).toEqual(['return_1m', 'rsi_14', 'macd_hist', 'quote_imbalance', 'depth_imbalance_5', 'volume_power_5m'].flatMap((f) => ['1m', '5m', '15m'].map((h) => `${f} ${h}`)));
    for (const m of ic) {
      expect(Number(m[3])).toBeGreaterThan(1000);
      expect(Math.abs(Number(m[4]))).toBeLessThan(1);
      expect(Math.abs(Number(m[5]))).toBeLessThan(1);
    }
    // fewer rows have a label the longer the horizon (the day's end cuts them)
    const n = (f: string, h: string) => Number(ic.find((m) => m[1] === f && m[2] === h)![3]);
    expect(n('rsi_14', '1m')).toBeGreaterThan(n('rsi_14', '15m'));
    expect(out).toMatch(/^rsi_14 +(-?\d+\.\d\d +){5}\(bp, Q1\.\.Q5\)$/m);
    expect(charts(nb).map((c) => c.spec.title)).toEqual(['Rank IC by factor and horizon (pooled, sample day)', 'IC decay: |rank IC| against the horizon', 'Mean forward 5-minute return by quintile']);
  });

  it('parity-diverge.ipynb: a window replay is parity with the full day; a run without fundamentals is skew in the factors that read them', async () => {
    const r = await execute('parity-diverge.ipynb');
    expect(r.code, r.log).toBe(0);
    const nb = r.nb!;
    expect(errors(nb)).toEqual([]);
    const out = texts(nb);
    expect(out).toMatch(/^window from 15:00: [1-9]\d* rows matched, 0 mismatched cells, 0 rows only in the window run$/m);
    expect(out).toMatch(/^SKEW: /m);
    const differing = /^differing factors: (.*)$/m.exec(out)?.[1].split(', ') ?? [];
    expect(differing).toEqual(expect.arrayContaining(['per', 'pbr']));
    expect(differing).not.toContain('last_price');
    expect(out).toMatch(/^first divergence: SYM000 \w+ at \d\d:\d\d UTC/m);
    expect(charts(nb).map((c) => c.spec.title)).toEqual(['Mismatched rows per time bucket: full day vs no fundamentals', 'Mismatched cells by factor']);
  });

  it('train-model.ipynb: a logistic regression trained in the notebook, written as a model file the library loads and scores alike', async () => {
    const r = await execute('train-model.ipynb');
    expect(r.code, r.log).toBe(0);
    const nb = r.nb!;
    expect(errors(nb)).toEqual([]);
    const out = texts(nb);
    const split = /^2530 rows, (\d+) usable; train (\d+) rows before \d\d:\d\d UTC \(up [\d.]+%\), valid (\d+) rows from \d\d:\d\d UTC/m.exec(out);
    expect(split, out).not.toBeNull();
    expect(Number(split![2]) + Number(split![3])).toBe(Number(split![1]));
    expect(Number(split![2])).toBeGreaterThan(Number(split![3]));
    for (const part of ['train', 'valid']) {
      const m = new RegExp(`^${part} accuracy (\\S+) log-loss (\\S+)$`, 'm').exec(out);
      expect(m, out).not.toBeNull();
      const [acc, loss] = [Number(m![1]), Number(m![2])];
      expect(acc).toBeGreaterThan(0);
      expect(acc).toBeLessThan(1);
      expect(loss).toBeGreaterThan(0);
    }
    // gradient descent from zero weights lowers the training loss below ln 2, the loss of p = 0.5
    expect(Number(/^train accuracy \S+ log-loss (\S+)$/m.exec(out)![1])).toBeLessThan(Math.log(2));
    expect(out).toMatch(/^\.\.\/out\/train-model\/fwd_sign_5m\.json: valid: fwd_sign_5m@1 logistic, inputs return_1m, rsi_14, macd_hist, quote_imbalance, depth_imbalance_5, outputs score, prob, trigger bar:1m$/m);
    // the file as written (in the scratch checkout's out/): the training split's standardisation, the lineage
    const file = JSON.parse(readFileSync(join(scratch, 'out', 'train-model', 'fwd_sign_5m.json'), 'utf8')) as { kind: string; coef: number[]; standardize: { mean: number[]; std: number[] }; clip: number[]; trained_on: { feature_set: string } };
    expect(file.kind).toBe('logistic');
    expect(file.coef).toHaveLength(5);
    expect(file.standardize.mean).toHaveLength(5);
    expect(file.standardize.std.every((v) => v > 0)).toBe(true);
    expect(file.clip).toEqual([-5, 5]);
    expect(file.trained_on.feature_set).toMatch(/^[0-9a-f]{8,}$/);
    const rows = [...out.matchAll(/^SYM\d{3} \d\d:\d\d  notebook score (\S+) prob (\S+)  library score (\S+) prob (\S+)$/gm)];
    expect(rows).toHaveLength(5);
    for (const m of rows) {
      expect(Math.abs(Number(m[1]) - Number(m[3]))).toBeLessThan(1e-12);
      expect(Math.abs(Number(m[2]) - Number(m[4]))).toBeLessThan(1e-12);
    }
    const agree = /^library vs notebook over (\d+) valid rows: max \|score diff\| (\S+), max \|prob diff\| (\S+)$/m.exec(out);
    expect(agree, out).not.toBeNull();
    expect(agree![1]).toBe(split![3]);
    expect(Number(agree![2])).toBeLessThan(1e-12);
    expect(Number(agree![3])).toBeLessThan(1e-12);
    expect(out).toContain('a row with a missing input: status missing');
    expect(charts(nb).map((c) => c.spec.title)).toEqual(['Mean log-loss by gradient step']);
  });

  it.skipIf(!REAL.present)('real-btcusdt.ipynb: imports and replays the recorded Binance BTCUSDT capture', async () => {
    const r = await execute('real-btcusdt.ipynb');
    expect(r.code, r.log).toBe(0);
    const nb = r.nb!;
    expect(errors(nb)).toEqual([]);
    const out = texts(nb);
    // the data's README: 28,040 bookTicker and 9,757 trade messages in the 2024-08-08 file
    expect(out).toContain('imported 28040 quote, 9757 trade, ');
    expect(out).toContain('note: depth diffs: no U/u gap');
    expect(out).toMatch(/^\d+ seconds; mean spread 0\.\d{4} USDT; last mid 616\d\d\./m);
    expect([...out.matchAll(/^corr\((\w+), fwd 10 s mid return\) -?0\.\d{4} over \d+ seconds$/gm)].map((m) => m[1])).toEqual(['quote_imbalance', 'depth_imbalance_5', 'depth_imbalance_10']);
    expect(charts(nb).map((c) => c.spec.title)).toEqual(['BTCUSDT: mid, microprice, session VWAP', 'Imbalance: L1 quote and 10-level depth']);
  });

  it('a notebook that does not type-check, or that throws, fails the run', async () => {
    const broken = (cells: string[]) => ({
      cells: cells.map((s, i) => ({ cell_type: 'code', id: `c${i}`, metadata: {}, execution_count: null, outputs: [], source: s })),
      metadata: { kernelspec: { name: 'tslab', display_name: 'TypeScript', language: 'typescript' } },
      nbformat: 4,
      nbformat_minor: 5,
    });
    writeFileSync(join(nbDir, 'broken-type.ipynb'), JSON.stringify(broken(["const n: number = 'not a number';", "console.log('after the type error');"])));
    writeFileSync(join(nbDir, 'broken-throw.ipynb'), JSON.stringify(broken(["console.log('before');", "throw new Error('deliberately broken notebook');", "console.log('after the throw');"])));
    const [typed, threw] = await Promise.all([execute('broken-type.ipynb'), execute('broken-throw.ipynb')]);
    // nbconvert exits non-zero and names the cell that failed (tslab's error reply carries no
    // message: the type error and the stack go to the cell's stderr, which a failed run discards)
    const failedCell = (log: string) => /CellExecutionError: An error occurred while executing the following cell:\n-+\n([\s\S]*?)\n-+\n/.exec(log)?.[1];
    expect(typed.code, typed.log).not.toBe(0);
    expect(failedCell(typed.log), typed.log).toBe("const n: number = 'not a number';");
    expect(threw.code, threw.log).not.toBe(0);
    expect(failedCell(threw.log), threw.log).toBe("throw new Error('deliberately broken notebook');");
    expect(existsSync(join(outDir, 'broken-type.ipynb')) || existsSync(join(outDir, 'broken-throw.ipynb'))).toBe(false);
  });
});
