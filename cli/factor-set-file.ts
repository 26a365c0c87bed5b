/**
 * A factor set file: JSON that lists the factors of a set, in column order, with parameters.
 *
 * ```json
 * {
 *   "modules": ["./my-factors.ts"],
 *   "factors": [
 *     "last_price",
 *     { "factor": "ma_5m", "params": { "bars": 10 } },
 *     { "factor": "ma_5m", "params": { "bars": 50 } },
 *     "spread_bps"
 *   ]
 * }
 * ```
 *
 * - `factors` (required, non-empty): each entry is a factor's name, or `{ "factor": name,
 *   "params": {...} }` for that factor with other parameters. A name is a built-in factor's (as
 *   `lockstep factors list` prints it) or one a module listed in `modules` exports. A changed
 *   factor takes the name its parameters give (`ma_5m` with `bars: 10` is `ma_10m`), so several
 *   instances of one factor each get their own column.
 * - `modules` (optional): factor modules (cli/factor-module.ts), relative to the set file.
 * - `defaults` (optional, default false): true starts the set with the whole default set.
 *
 * The set is exactly what the file lists: nothing else runs. Errors name the file and the field
 * (`factors[3].params`).
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { InputError, UserError } from '../core/errors.ts';
import { checkParam, withParams, type AnyFactor, type ParamValue } from '../core/factor.ts';
import { FactorFileError, loadFactorModule, refuseSharedColumns, type LoadedFactors } from './factor-module.ts';

const TOP_KEYS = ['modules', 'factors', 'defaults'];

/** Reads a factor set file (see the file comment); `own` is every factor it lists. */
export async function loadFactorSetFile(file: string): Promise<LoadedFactors> {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new FactorFileError(file, `is not JSON: ${(e as Error).message.split('\n')[0]}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new FactorFileError(file, 'a factor set file is a JSON object with "factors": [...] (and optionally "modules": [...])');
  const d = doc as Record<string, unknown>;
  for (const k of Object.keys(d)) if (!TOP_KEYS.includes(k)) throw new InputError({ file, field: k, reason: `unknown field; a factor set file has ${TOP_KEYS.join(', ')}` });
  const { DEFAULT_FACTORS } = await import('../core/registry.ts');

  // factors by name: the modules' first, then the built-in ones (a name both have is refused)
  const byName = new Map<string, { factor: AnyFactor; from: string }>();
  const modules = d.modules ?? [];
  if (!Array.isArray(modules) || !modules.every((m) => typeof m === 'string')) throw new InputError({ file, field: 'modules', reason: 'must be an array of module paths (relative to the set file)' });
  for (const [i, m] of modules.entries()) {
    const path = resolve(dirname(file), m);
    let factors: AnyFactor[];
    try {
      factors = await loadFactorModule(path);
    } catch (e) {
      if (e instanceof UserError) throw new InputError({ file, field: `modules[${i}]`, reason: e.message });
      throw e;
    }
    for (const f of factors) {
      const had = byName.get(f.name);
      if (had) throw new InputError({ file, field: `modules[${i}]`, reason: `${m} exports factor ${f.name}, which ${had.from} has too` });
      byName.set(f.name, { factor: f, from: m });
    }
  }
  for (const f of DEFAULT_FACTORS) {
    const had = byName.get(f.name);
    if (had) throw new InputError({ file, field: 'modules', reason: `${had.from} exports factor ${f.name}, which is a built-in factor's name: rename it` });
    byName.set(f.name, { factor: f, from: 'the default set' });
  }

  if (d.defaults !== undefined && typeof d.defaults !== 'boolean') throw new InputError({ file, field: 'defaults', value: d.defaults, reason: 'must be true or false' });
  const list = d.factors;
  if (!Array.isArray(list) || list.length === 0) throw new InputError({ file, field: 'factors', reason: 'must be a non-empty array of factor names or { "factor": name, "params": {...} }' });
  const own = list.map((entry, i) => resolveEntry(file, `factors[${i}]`, entry, byName));
  const entries = [
    ...(d.defaults === true ? DEFAULT_FACTORS.map((f) => ({ factor: f, who: `the default factor ${f.name}` })) : []),
    ...own.map((f, i) => ({ factor: f, who: `factors[${i}] (${f.name})` })),
  ];
  refuseSharedColumns(file, entries);
  return { factors: entries.map((e) => e.factor), own };
}

function resolveEntry(file: string, field: string, entry: unknown, byName: Map<string, { factor: AnyFactor }>): AnyFactor {
  const lookup = (name: unknown, at: string): AnyFactor => {
    if (typeof name !== 'string') throw new InputError({ file, field: at, value: name, reason: 'must be a factor name' });
    const hit = byName.get(name);
    if (!hit) throw new InputError({ file, field: at, value: name, reason: 'no such factor (built-in ones: lockstep factors list; others come from "modules")' });
    return hit.factor;
  };
  if (typeof entry === 'string') return lookup(entry, field);
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new InputError({ file, field, reason: 'must be a factor name or { "factor": name, "params": {...} }' });
  const e = entry as Record<string, unknown>;
  for (const k of Object.keys(e)) if (k !== 'factor' && k !== 'params') throw new InputError({ file, field: `${field}.${k}`, reason: 'unknown field; an entry has factor and params' });
  const base = lookup(e.factor, `${field}.factor`);
  if (e.params === undefined) return base;
  if (typeof e.params !== 'object' || e.params === null || Array.isArray(e.params)) throw new InputError({ file, field: `${field}.params`, reason: 'must be an object of parameter values' });
  const params = e.params as Record<string, ParamValue>;
  for (const [k, v] of Object.entries(params)) {
    if (!(k in base.params)) throw new InputError({ file, field: `${field}.params.${k}`, reason: `${base.name} has no parameter ${k} (it has ${Object.keys(base.params).join(', ') || 'none'})` });
    if (!['number', 'string', 'boolean'].includes(typeof v)) throw new InputError({ file, field: `${field}.params.${k}`, value: JSON.stringify(v), reason: 'must be a number, string or boolean' });
    // out of range or of the wrong kind: name the parameter's own field (`factors[12].params.bars`)
    try {
      checkParam(base.name, k, v, base.rules[k]);
    } catch (err) {
      if (err instanceof UserError) throw new InputError({ file, field: `${field}.params.${k}`, value: v, reason: `${base.name} ${err.message.replace(/^factor \S+: parameter \S+ /, '')}` });
      throw err;
    }
  }
  try {
    return withParams(base, params);
  } catch (err) {
    if (err instanceof UserError) throw new InputError({ file, field: `${field}.params`, reason: err.message });
    throw err;
  }
}
