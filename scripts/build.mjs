// Builds dist/, what the published package runs (Node does not strip types under node_modules).
//
// Declarations come from tsc (tsconfig.build.json); the JavaScript comes from esbuild with the
// options tsx uses when it runs the sources (keepNames, minifyWhitespace). That is on purpose: a
// factor's code hash is taken from its functions' source text, and tsc prints that text
// differently (quote style, for one), so a tsc build would change the feature-set version. With
// the same printer the installed package and a git checkout report the same version
// (package.test.ts checks it). tsc decides which modules are built: every one it reached from the
// entry points gets a .d.ts, and each of those gets its .js.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
// LOCKSTEP_DIST builds elsewhere (notebooks.test.ts builds a private copy while package.test.ts may rebuild dist/)
const DIST = process.env.LOCKSTEP_DIST ? resolve(process.env.LOCKSTEP_DIST) : join(ROOT, 'dist');
const require = createRequire(import.meta.url);
// tsx's own esbuild, so the printer is the one the sources run through
const esbuild = createRequire(require.resolve('tsx'))('esbuild');

/** Files loaded at run time that are not TypeScript modules: copied as they are. */
const ASSETS = ['parity/row-group-worker.mjs', 'research/gather-worker.mjs', 'research/parquet-pages.mjs', 'bench/budgets.json', 'bench/baseline.json'];

rmSync(DIST, { recursive: true, force: true });
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', DIST], { stdio: 'inherit' });

const walk = (dir) => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
const tsconfig = JSON.parse(readFileSync(join(ROOT, 'tsconfig.json'), 'utf8'));
let n = 0;
for (const dts of walk(DIST).filter((f) => f.endsWith('.d.ts'))) {
  const rel = relative(DIST, dts).replace(/\.d\.ts$/, '.ts');
  const source = readFileSync(join(ROOT, rel), 'utf8');
  const { code } = esbuild.transformSync(source, {
    loader: 'ts',
    format: 'esm',
    platform: 'node',
    target: 'node20.19',
    keepNames: true,
    minifyWhitespace: true,
    sourcefile: rel,
    tsconfigRaw: { compilerOptions: tsconfig.compilerOptions },
  });
  writeFileSync(join(DIST, rel.replace(/\.ts$/, '.js')), rewriteImports(code, rel));
  n++;
}
// declarations keep the sources' `.ts` specifiers; `.js` ones resolve to the .d.ts everywhere
for (const dts of walk(DIST).filter((f) => f.endsWith('.d.ts'))) {
  const text = readFileSync(dts, 'utf8');
  writeFileSync(dts, text.replace(/(\bfrom\s*|\bimport\s*\(\s*)(['"])(\.\.?\/[^'"]*?)(?<!\.d)\.ts\2/g, '$1$2$3.js$2'));
}
for (const a of ASSETS) {
  mkdirSync(dirname(join(DIST, a)), { recursive: true });
  cpSync(join(ROOT, a), join(DIST, a));
}
console.log(`dist: ${n} modules, ${ASSETS.length} assets`);

/**
 * Relative `.ts` specifiers become `.js` (what tsc's rewriteRelativeImportExtensions does for the
 * declarations). esbuild prints every import as `from"..."` or `import("...")`, double-quoted.
 */
function rewriteImports(code, file) {
  const out = code.replace(/(\bfrom\s*|\bimport\s*\(\s*|\bimport\s*)"(\.\.?\/[^"]*)\.ts"/g, '$1"$2.js"');
  const left = /"\.\.?\/[^"]*\.ts"/.exec(out);
  // a relative .ts path left over is a worker entry (worker-thread.ts maps it) or a missed import
  if (left && !/new URL\("\.\/[^"]+\.ts",import\.meta\.url\)/.test(out.slice(Math.max(0, left.index - 8), left.index + left[0].length + 20))) {
    throw new Error(`${file}: unrewritten import ${left[0]}`);
  }
  return out;
}
