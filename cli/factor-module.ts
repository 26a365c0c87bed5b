/**
 * Your own factors, loaded from a file: a factor module (`.ts`, `.mts`, `.js`, `.mjs`) or a factor
 * set file (`.json`, factor-set-file.ts). Everything `--factors FILE` does goes through here, so
 * replay, live, parity run and `factors list/check` read a file the same way.
 *
 * A module's factors are, in this order of preference:
 *   1. its default export: an array of factors (or one factor), in that order;
 *   2. without a default export, every named export that is a factor (or an array of factors), in
 *      alphabetical order of the export names (the order an ES module namespace lists them).
 * A factor is what `defineFactor` (or `withParams`, `defineBarFactor`) from 'lockstep' returns.
 *
 * 'lockstep' and 'lockstep/<entry>' imported by the module resolve to the very modules this CLI
 * runs (a resolve hook): the factor contract, the shared derivations (`minuteBars`) and the error
 * classes are then the CLI's own objects, and a module works from any directory, installed package
 * or not. Factors are refused when they read a clock, randomness or I/O: a static scan of their
 * functions' text (core/purity-scan.ts) and of the module's imports; `factors check` also runs
 * them with the clock and Math.random moved (factor-check.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { UserError } from '../core/errors.ts';
import type { AnyFactor } from '../core/factor.ts';
import { bannedImports, FACTOR_RULES, firstImpureLine, impurities } from '../core/purity-scan.ts';

/** A factor file that cannot be used: one line naming the file (and the factor or field). */
export class FactorFileError extends UserError {
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`${file}: ${reason}`);
  }
}

/** What a factor file gives: the set to run and the factors that came from the file (to check). */
export interface LoadedFactors {
  /** The whole set in column order: the default set then the module's factors, or the set file's list. */
  factors: AnyFactor[];
  /** The factors the file defines or lists (what `factors check` checks). */
  own: AnyFactor[];
}

const MODULE_EXT = new Set(['.ts', '.mts', '.js', '.mjs']);

/** True for a factor made by defineFactor (the shape the fold needs; frozen). */
export function isFactor(v: unknown): v is AnyFactor {
  if (typeof v !== 'object' || v === null || !Object.isFrozen(v)) return false;
  const f = v as Partial<AnyFactor>;
  return typeof f.name === 'string' && typeof f.version === 'number' && Array.isArray(f.columns) && typeof f.init === 'function' && typeof f.update === 'function' && Array.isArray(f.inputs);
}

/** Loads `file` (module or set file) into a factor set; refuses impure factors and shared columns. */
export async function loadFactorFile(file: string): Promise<LoadedFactors> {
  const ext = extname(file).toLowerCase();
  if (!existsSync(file)) throw new FactorFileError(file, 'no such file');
  if (ext === '.json') {
    const { loadFactorSetFile } = await import('./factor-set-file.ts');
    return loadFactorSetFile(file);
  }
  if (!MODULE_EXT.has(ext)) throw new FactorFileError(file, `a factor file is a module (${[...MODULE_EXT].join(', ')}) or a factor set file (.json), not ${ext || 'a file without extension'}`);
  const { DEFAULT_FACTORS } = await import('../core/registry.ts');
  const own = await loadFactorModule(file);
  const factors = [...DEFAULT_FACTORS, ...own];
  refuseSharedColumns(file, factors.map((f, i) => ({ factor: f, who: i < DEFAULT_FACTORS.length ? `the default factor ${f.name}` : `its factor ${f.name}` })));
  return { factors, own };
}

/** The factors a module exports (see the file comment for which, and in what order), checked for purity. */
export async function loadFactorModule(file: string): Promise<AnyFactor[]> {
  const source = readFileSync(file, 'utf8');
  const io = bannedImports(source);
  if (io.length > 0) throw new FactorFileError(file, `imports ${io.join(', ')}: a factor module may not do I/O or read the runtime (factors see events and their own state only)`);
  await hookLockstep(file);
  let ns: Record<string, unknown>;
  try {
    ns = (await import(`${pathToFileURL(resolve(file)).href}?lockstep-factors`)) as Record<string, unknown>;
  } catch (e) {
    if (e instanceof UserError) throw new FactorFileError(file, e.message);
    const msg = e instanceof Error ? e.message : String(e);
    // esbuild's message is a header line and then the error itself: keep both, on one line
    throw new FactorFileError(file, `does not load: ${msg.split('\n').map((l) => l.trim()).filter(Boolean).slice(0, 2).join(' ').replace(/\?lockstep-factors/g, '')}`);
  }
  const factors = exportedFactors(file, ns);
  for (const f of factors) refuseImpure(file, f);
  // what the functions' text does not show: a clock captured at module level (`const now = Date.now`)
  const hit = firstImpureLine(source, FACTOR_RULES);
  if (hit) throw new FactorFileError(file, `line ${hit.line} uses ${hit.what}: a factor module may not read a clock, randomness or I/O, even outside its factors`);
  return factors;
}

function exportedFactors(file: string, ns: Record<string, unknown>): AnyFactor[] {
  const hint = "export default [f1, f2, ...] with factors made by defineFactor from 'lockstep'";
  if ('default' in ns && ns.default !== undefined) {
    const d = ns.default;
    const items = Array.isArray(d) ? d : [d];
    items.forEach((x, i) => {
      if (!isFactor(x)) throw new FactorFileError(file, `default export${Array.isArray(d) ? ` item ${i}` : ''} is not a factor (${describe(x)}): ${hint}`);
    });
    if (items.length === 0) throw new FactorFileError(file, `its default export is an empty array: ${hint}`);
    return items as AnyFactor[];
  }
  const out: AnyFactor[] = [];
  for (const key of Object.keys(ns)) {
    const v = ns[key];
    if (isFactor(v)) out.push(v);
    else if (Array.isArray(v) && v.length > 0 && v.every(isFactor)) out.push(...v);
  }
  if (out.length === 0) throw new FactorFileError(file, `exports no factors (${Object.keys(ns).join(', ') || 'no exports'}): ${hint}`);
  return out;
}

function describe(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'an array';
  if (typeof x === 'object') return `an object with ${Object.keys(x).slice(0, 4).join(', ') || 'no keys'}`;
  return typeof x;
}

/** The functions whose text decides a factor's output, by role (the registry hashes the same ones). */
function factorFunctions(f: AnyFactor): [string, unknown][] {
  const out: [string, unknown][] = [['init', f.init], ['update', f.update]];
  for (const [k, fn] of Object.entries(f.extras ?? {})) out.push([`extras.${k}`, fn]);
  (f.source ?? []).forEach((fn, i) => out.push([`source[${i}]`, fn]));
  if (f.deriveFor) out.push(['derive', f.deriveFor]);
  if (f.derive) {
    const d = f.derive.from;
    out.push([`derivation ${d.name} init`, d.init], [`derivation ${d.name} update`, d.update]);
    d.source.forEach((fn, i) => out.push([`derivation ${d.name} source[${i}]`, fn]));
  }
  return out;
}

/**
 * Refuses a factor whose functions use a clock, randomness, timers, promises, the process, I/O or
 * module loading (core/purity-scan.ts FACTOR_RULES), naming the factor, the function and the use.
 */
export function refuseImpure(file: string, f: AnyFactor): void {
  for (const [role, fn] of factorFunctions(f)) {
    if (typeof fn !== 'function') continue;
    const uses = impurities(fn.toString(), FACTOR_RULES);
    if (uses.length > 0) throw new FactorFileError(file, `factor ${f.name} uses ${uses.join(', ')} in ${role}: a factor may read event time and its own state only (no clock, randomness or I/O)`);
  }
}

/** Throws when two factors write the same column, naming both (`who` says where each came from). */
export function refuseSharedColumns(file: string, entries: readonly { factor: AnyFactor; who: string }[]): void {
  const owner = new Map<string, string>();
  for (const { factor, who } of entries) {
    for (const c of factor.columns) {
      const other = owner.get(c);
      if (other !== undefined) throw new FactorFileError(file, `${who} writes column ${c}, which ${other} writes too: give it another name (or leave one out with a factor set file)`);
      owner.set(c, who);
    }
  }
}

/**
 * Keeps the factors of `set` named in `only` (as `lockstep factors list` names them; a factor's
 * extra columns come with it), in the set's order.
 */
export function selectOnly(set: readonly AnyFactor[], only: readonly string[]): AnyFactor[] {
  for (const name of only) {
    if (!set.some((f) => f.name === name)) {
      const extraOf = set.find((f) => f.columns.includes(name));
      throw new UserError(`--only ${name}: ${extraOf ? `${name} is an extra column of ${extraOf.name}; name ${extraOf.name}` : `no factor ${name} in the set (it has ${set.map((f) => f.name).join(', ')})`}`);
    }
  }
  return set.filter((f) => only.includes(f.name));
}

let hooked: Promise<void> | null = null;
let tsxHooked: Promise<boolean> | null = null;

/**
 * Makes 'lockstep' and 'lockstep/<entry>' resolve to the modules this process runs (the sources in
 * a checkout, dist/ in the installed package), and registers tsx for a TypeScript module when the
 * CLI itself runs without it (the installed package).
 */
async function hookLockstep(file: string): Promise<void> {
  const here = import.meta.url;
  const fromSources = here.endsWith('.ts');
  hooked ??= (async () => {
    const { register } = await import('node:module');
    const root = new URL('..', here);
    const map: Record<string, string> = {};
    for (const entry of ['', 'replay', 'datasets', 'live', 'parity']) {
      map[entry ? `lockstep/${entry}` : 'lockstep'] = new URL(`${entry ? `${entry}/` : ''}index${fromSources ? '.ts' : '.js'}`, root).href;
    }
    // a factor module is ESM whatever its folder's package.json says (?lockstep-factors marks it)
    const hook = [
      `const M = ${JSON.stringify(map)};`,
      'export async function resolve(s, c, next) {',
      '  const r = await next(Object.hasOwn(M, s) ? M[s] : s, c);',
      // the module's own TypeScript helpers (relative imports) are ESM too
      "  const helper = c.parentURL?.endsWith('?lockstep-factors') && s.startsWith('.') && /\\.m?ts$/.test(r.url);",
      "  return helper ? { ...r, url: r.url + '?lockstep-factors', format: 'module' } : r.url.endsWith('?lockstep-factors') ? { ...r, format: 'module' } : r;",
      '}',
    ].join('\n');
    register(`data:text/javascript,${encodeURIComponent(hook)}`);
  })();
  await hooked;
  if (fromSources || !['.ts', '.mts'].includes(extname(file).toLowerCase())) return;
  // the installed CLI runs compiled JavaScript: TypeScript needs tsx, which the user installs
  tsxHooked ??= import('tsx/esm/api' as string).then(
    (m: { register: () => void }) => (m.register(), true),
    () => false,
  );
  if (!(await tsxHooked)) throw new FactorFileError(file, 'a TypeScript factor module needs tsx (npm install tsx), or compile it to .js');
}
