/**
 * The default factor set and its manifest: every output column can be traced to a factor's name,
 * version, parameters and a hash of the code that computed it.
 */
import { FactorDefinitionError } from './errors.ts';
import { withParams, type AnyFactor } from './factor.ts';
import { createFactorSet, type FactorSet, type SessionTable } from './fold.ts';
import { sessionTableJson } from './session-table.ts';
import type { SymbolStage } from './stage.ts';
import { hashString } from './state-codec.ts';
import { priceCollar, returnZscore, volumeSpike } from './factors/anomaly.ts';
import { depthImbalance } from './factors/depth-imbalance.ts';
import { ema } from './factors/ema.ts';
import { eventCount } from './factors/event-count.ts';
import { microprice, mid, quoteImbalance, spread } from './factors/l1-quote.ts';
import { lastPrice } from './factors/last-price.ts';
import { quoteCrossedFlag } from './factors/quote-crossed.ts';
import { logReturn1m } from './factors/log-return.ts';
import { macd } from './factors/macd.ts';
import { movingAverage } from './factors/moving-average.ts';
import { newsCount, newsSentiment } from './factors/news.ts';
import { realizedVol } from './factors/realized-vol.ts';
import { rsi } from './factors/rsi.ts';
import { tradeWindow } from './factors/trade-window.ts';
import { pbr, per } from './factors/valuation.ts';
import { volumePower } from './factors/volume-power.ts';
import { sessionVwap } from './factors/vwap.ts';

/** The default factor set, in output column order. */
export const DEFAULT_FACTORS: readonly AnyFactor[] = [
  lastPrice,
  logReturn1m,
  movingAverage,
  withParams(movingAverage, { bars: 20 }),
  withParams(movingAverage, { bars: 60 }),
  ema,
  withParams(ema, { period: 26 }),
  rsi,
  macd,
  realizedVol,
  withParams(realizedVol, { bars: 20 }),
  withParams(realizedVol, { bars: 60 }),
  sessionVwap,
  volumePower,
  withParams(volumePower, { seconds: 300 }),
  tradeWindow,
  withParams(tradeWindow, { stat: 'count' }),
  spread,
  mid,
  microprice,
  quoteImbalance,
  quoteCrossedFlag,
  depthImbalance,
  withParams(depthImbalance, { levels: 10 }),
  per,
  pbr,
  newsSentiment,
  newsCount,
  returnZscore,
  volumeSpike,
  priceCollar,
  eventCount,
];

export interface FactorManifestEntry {
  name: string;
  version: number;
  params: Record<string, unknown>;
  columns: readonly string[];
  inputs: readonly string[];
  warmup: string;
  description: string;
  /** FNV-1a 64 of the factor's init, update and extras source text. */
  codeHash: string;
}

/**
 * Hash of the code that defines a factor's behaviour (not its parameters, listed separately): the
 * source text of init, update, extras and the functions listed in `source` (kernels it calls).
 */
export function factorCodeHash(f: AnyFactor): string {
  const extras = Object.entries(f.extras ?? {}).map(([k, fn]) => `${k}:${normalizeSource(fn.toString())}`);
  // a derivation chosen by the params (a window of `seconds`) is named after them: hash the code
  // that chooses it instead, so the params alone stay out of the code hash
  const which = f.deriveFor ? normalizeSource(f.deriveFor.toString()) : f.derive?.from.name;
  const derived = f.derive ? [`derive:${which}:${f.derive.when}`, f.derive.from.init, f.derive.from.update, ...f.derive.from.source] : [];
  const source = [...(f.source ?? []), ...derived].map((fn) => normalizeSource(fn.toString()));
  return hashString([normalizeSource(f.init.toString()), normalizeSource(f.update.toString()), ...extras, ...source].join('\n'));
}

/**
 * Function text with what the TypeScript runner adds removed, so the same source hashes the same
 * under tsx (the CLI), vitest or a bundler: module-import prefixes (`import_x.fn`,
 * `__vite_ssr_import_1__.fn`), the `(0, f)(...)` call wrapper, comments, whitespace, optional
 * semicolons and parentheses around a single arrow parameter.
 */
export function normalizeSource(text: string): string {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|[^:])\/\/[^\n]*/g, '$1')
    .replace(/\b(?:__vite_ssr_import_\d+__|import_[A-Za-z0-9_$]+)\./g, '')
    .replace(/\(0\s*,\s*([A-Za-z_$][A-Za-z0-9_$.]*)\)/g, '$1')
    .replace(/\s+/g, '')
    // printer differences: optional semicolons, parentheses around a single arrow parameter
    .replace(/;+(?=[})]|$)/g, '')
    .replace(/\};/g, '}')
    .replace(/\(([A-Za-z_$][A-Za-z0-9_$]*)\)=>/g, '$1=>');
}

/** What each factor is (name, version, params, columns, inputs, code hash): written into outputs and checkpoints. */
export function factorManifest(factors: readonly AnyFactor[]): FactorManifestEntry[] {
  return factors.map((f) => ({
    name: f.name,
    version: f.version,
    params: { ...f.params },
    columns: f.columns,
    inputs: f.inputs,
    warmup: f.warmup,
    description: f.description,
    codeHash: factorCodeHash(f),
  }));
}

/**
 * Version of the whole set: changes when any factor's name, version, params or code changes, and
 * with the session table (fold.ts) when a factor of the set reads it (`session: 'auto'`): the same
 * factors over another table compute other values. Without such a factor, or with an empty table,
 * it is the manifest's hash alone.
 */
export function featureSetVersion(factors: readonly AnyFactor[], sessions?: SessionTable, stages: readonly SymbolStage[] = []): string {
  const manifest = JSON.stringify(factorManifest(factors));
  const reads = sessions !== undefined && sessions.size > 0 && factors.some((f) => f.params.session === 'auto');
  // stages (the model layer's signals) count only when present, so a set without them keeps its version
  const staged = stages.length === 0 ? '' : `\n${JSON.stringify(stages.map((g) => ({ name: g.name, columns: g.columns, inputs: g.inputs, version: g.versionText })))}`;
  return hashString((reads ? `${manifest}\n${sessionTableJson(sessions)}` : manifest) + staged);
}

/** The default factors as a ready-to-fold set. */
export function defaultFactorSet(): FactorSet {
  return createFactorSet(DEFAULT_FACTORS);
}

/**
 * The default set with some parameters changed, from `name.param=value` settings (e.g.
 * `ma_5m.bars=6`, as given to `--factor-param`), each addressing a factor by its current column
 * name. Values take the type of the parameter they replace; each changed factor is validated again
 * by its rules, so errors quote the bad value. A changed factor takes the name its new parameters
 * give (`ma_5m.bars=6` makes `ma_6m`, in ma_5m's place); one that would take a column another
 * factor of the set has is refused, naming both.
 */
export function withFactorParams(factors: readonly AnyFactor[], settings: readonly string[]): AnyFactor[] {
  const byName = new Map<string, Record<string, string | number | boolean>>();
  for (const s of settings) {
    const m = /^([a-z][a-z0-9_]*)\.([A-Za-z][A-Za-z0-9_]*)=(.*)$/.exec(s);
    if (!m) throw new FactorDefinitionError(s, `factor parameter ${JSON.stringify(s)} must look like name.param=value`);
    const [, name, key, raw] = m;
    const f = factors.find((x) => x.name === name);
    if (!f) throw new FactorDefinitionError(name, `no factor ${name} in the set (see lockstep factors list)`);
    if (!(key in f.params)) throw new FactorDefinitionError(name, `${name} has no parameter ${key} (it has ${Object.keys(f.params).join(', ') || 'none'})`);
    const old = f.params[key];
    const value = typeof old === 'number' ? (raw.trim() === '' ? NaN : Number(raw)) : typeof old === 'boolean' ? (raw === 'true' ? true : raw === 'false' ? false : raw) : raw;
    byName.set(name, { ...byName.get(name), [key]: value });
  }
  const out = factors.map((f) => (byName.has(f.name) ? withParams(f, byName.get(f.name)!) : f));
  refuseSharedColumns(factors, out, byName);
  return out;
}

/** Throws when two factors of `out` share a column, naming both (as they were in `before`). */
function refuseSharedColumns(before: readonly AnyFactor[], out: readonly AnyFactor[], changes: Map<string, Record<string, unknown>>): void {
  const owner = new Map<string, number>();
  const who = (i: number) => {
    const was = before[i].name;
    const set = changes.get(was);
    return set ? `${was} with ${Object.entries(set).map(([k, v]) => `${k}=${v}`).join(', ')} (named ${out[i].name})` : was;
  };
  out.forEach((f, i) => {
    for (const c of f.columns) {
      const j = owner.get(c);
      if (j !== undefined) {
        const [changed, other] = changes.has(before[i].name) ? [i, j] : [j, i];
        throw new FactorDefinitionError(before[changed].name, `${who(changed)} would write column ${c}, which ${who(other)} writes too`);
      }
      owner.set(c, i);
    }
  });
}
