/**
 * The published package, as a user gets it: `npm pack` (which builds dist/), install the tarball
 * into a scratch project, then use it only through its public entry points and its bin. Also
 * builds the API reference once. Slow (a build, an install, a replay: about 1-2 minutes).
 */
import { execFileSync, type ExecFileSyncOptions } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('.', import.meta.url));
const ENTRIES: Record<string, string> = { lockstep: 'index.ts', 'lockstep/replay': 'replay/index.ts', 'lockstep/datasets': 'datasets/index.ts', 'lockstep/live': 'live/index.ts', 'lockstep/parity': 'parity/index.ts', 'lockstep/research': 'research/index.ts' };
const DATE = '2024-03-15';

let tmp: string;
let app: string;
let tarball: string;

const run = (cmd: string, args: string[], opts: ExecFileSyncOptions = {}): string =>
  execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts }) as string;

/** The value (not type) names an entry file exports, read from its `export { ... }` lists. */
function valueExports(entry: string): string[] {
  const text = readFileSync(join(ROOT, entry), 'utf8');
  return [...text.matchAll(/^export \{([^}]*)\} from/gm)].flatMap((m) => m[1].split(',').map((s) => s.trim()).filter(Boolean)).sort();
}

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'lockstep-pack-'));
  run('npm', ['run', 'build'], { cwd: ROOT });
  // built just above: skip prepack (it would build again)
  const packed = JSON.parse(run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', tmp], { cwd: ROOT })) as { filename: string }[];
  tarball = join(tmp, packed[0].filename);
  app = join(tmp, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'scratch', private: true, type: 'module' }));
  // onnxruntime-node ships the CPU binaries Lockstep uses; skip its script's GPU download (offline here)
  run('npm', ['install', tarball, '--prefer-offline', '--no-audit', '--no-fund'], { cwd: app, env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' } });
}, 600_000);

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('the packed package', () => {
  it('ships JavaScript, declarations and the runtime assets, not sources or tests', () => {
    const files = run('tar', ['-tzf', tarball]).split('\n').filter(Boolean).map((f) => f.replace(/^package\//, ''));
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
    expect(files.filter((f) => /\.test\./.test(f))).toEqual([]);
    for (const f of ['bin/lockstep.js', 'dist/cli.js', 'dist/index.js', 'dist/index.d.ts', 'dist/parity/row-group-worker.mjs', 'dist/research/gather-worker.mjs', 'dist/research/parquet-pages.mjs', 'dist/bench/budgets.json', 'dist/replay/decode-worker.js', 'dist/replay/parquet-writer-worker.js']) {
      expect(files).toContain(f);
    }
  });

  it('imports every entry point without throwing, exposing its named exports', () => {
    for (const [spec, entry] of Object.entries(ENTRIES)) {
      const out = run(process.execPath, ['--input-type=module', '-e', `const m = await import(${JSON.stringify(spec)}); console.log(JSON.stringify(Object.keys(m).sort()));`], { cwd: app });
      expect(JSON.parse(out), spec).toEqual(valueExports(entry));
    }
  });

  it('runs a custom factor with the default set through the public API, and its types check', () => {
    const source = readFileSync(join(ROOT, 'examples/custom-factor.ts'), 'utf8');
    writeFileSync(join(app, 'custom-factor.ts'), source);
    writeFileSync(join(app, 'custom-factor.mjs'), ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText);
    run('npx', ['lockstep', 'datasets', 'generate', '--preset', 'tiny', '--date', DATE, '--out', 'catalog'], { cwd: app });
    const out = run(process.execPath, ['custom-factor.mjs', 'catalog', DATE, 'factors.parquet'], { cwd: app });
    const rows = Number(/-> (\d+) rows/.exec(out)?.[1]);
    const values = Number(/spread_bps: (\d+) values/.exec(out)?.[1]);
    expect(rows, out).toBeGreaterThan(1000);
    expect(values, out).toBeGreaterThan(0);
    // the built package computes what the sources do, bit for bit (the same example run from
    // source; the diff reads Parquet on a worker that is a plain .mjs asset of dist/)
    const fromSource = join(tmp, 'from-source.parquet');
    run(process.execPath, ['--conditions=lockstep-source', '--import', 'tsx', 'examples/custom-factor.ts', join(app, 'catalog'), DATE, fromSource], { cwd: ROOT });
    expect(run('npx', ['lockstep', 'parity', 'diff', 'factors.parquet', fromSource], { cwd: app })).toMatch(/^PARITY: .* 0 mismatched cells/m);

    // the declarations are usable: the example type-checks against them as a user's code would
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, skipLibCheck: false, types: ['node'], typeRoots: [join(ROOT, 'node_modules/@types')] },
        files: ['custom-factor.ts'],
      }),
    );
    run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: app });

    // lockstep/research on the same catalog and table: a replayed day as Arrow, a point-in-time
    // join, and arquero with the nanoseconds exact (arquero resolved from the package's own deps)
    const research = [
      "import { makeData, makeVector, Table, TimestampNanosecond, Utf8, vectorFromArray } from 'apache-arrow';",
      "import { historicalFeatures, replayDay, toArquero } from 'lockstep/research';",
      `const day = await replayDay({ catalog: 'catalog', date: '${DATE}', symbols: ['SYM000'] });`,
      "const last = toArquero(day).array('ts_recv').at(-1);",
      "const ts = makeVector(makeData({ type: new TimestampNanosecond('UTC'), length: 2, data: BigInt64Array.of(last, 1710509400123456789n) }));",
      "const rows = await historicalFeatures(new Table({ symbol: vectorFromArray(['SYM000', 'NOPE'], new Utf8()), ts }), 'factors.parquet', { features: ['mid'] });",
      "const dt = toArquero(rows);",
      "console.log(day.numRows, typeof dt.get('ts', 0), dt.get('ts', 1), dt.get('mid', 0) !== null, dt.get('mid', 1));",
    ].join('\n');
    writeFileSync(join(app, 'research.mjs'), research);
    // apache-arrow is the package's dependency (npm hoists it beside lockstep in the scratch project)
    const [dayRows, type, ns, matched, missing] = run(process.execPath, ['research.mjs'], { cwd: app }).trim().split(' ');
    expect(Number(dayRows)).toBeGreaterThan(1000);
    expect([type, ns, matched, missing]).toEqual(['bigint', '1710509400123456789n', 'true', 'null']);
  });

  it('runs its bin from dist/, with the same feature-set version as the sources', () => {
    // no TypeScript loader at run time: tsx is a development dependency
    expect(existsSync(join(app, 'node_modules/tsx'))).toBe(false);
    expect(run('npx', ['lockstep', '--help'], { cwd: app })).toContain('replay');
    // factor code hashes come from function text: the build must print it as the sources run
    const installed = run('npx', ['lockstep', 'factors', 'list'], { cwd: app }).trim().split('\n').at(-1);
    const source = run(process.execPath, [join(ROOT, 'bin/lockstep.js'), 'factors', 'list']).trim().split('\n').at(-1);
    expect(installed).toMatch(/^feature set version [0-9a-f]{16}/);
    expect(installed).toBe(source);
  });

  it('loads your own factors with --factors: a JavaScript module runs; a TypeScript one asks for tsx', () => {
    const source = readFileSync(join(ROOT, 'examples/my-factors.ts'), 'utf8');
    writeFileSync(join(app, 'my-factors.mjs'), ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText);
    const listed = JSON.parse(run('npx', ['lockstep', 'factors', 'list', '--factors', 'my-factors.mjs', '--only', 'mid,spread_bps,mid_change_20q', '--json'], { cwd: app })) as { factors: { name: string }[] };
    expect(listed.factors.map((f) => f.name)).toEqual(['mid', 'spread_bps', 'mid_change_20q']);
    writeFileSync(join(app, 'my-factors.ts'), source);
    let err = '';
    try {
      run('npx', ['lockstep', 'factors', 'list', '--factors', 'my-factors.ts'], { cwd: app });
    } catch (e) {
      err = String((e as { stderr?: string }).stderr);
    }
    expect(err.trim()).toBe('lockstep: my-factors.ts: a TypeScript factor module needs tsx (npm install tsx), or compile it to .js');
  });
});

describe('the API reference', () => {
  it('is generated from the TSDoc of the entry points', () => {
    const out = join(tmp, 'api-docs');
    run(process.execPath, [join(ROOT, 'node_modules/typedoc/bin/typedoc'), '--out', out], { cwd: ROOT });
    expect(existsSync(join(out, 'index.html'))).toBe(true);
    expect(existsSync(join(out, 'functions/lockstep.defineFactor.html'))).toBe(true);
  }, 300_000);
});
