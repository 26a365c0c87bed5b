/**
 * The factor contract. A factor is defined once and run unchanged by replay and live:
 * `init(params)` makes plain-data state, `update(state, event)` mutates it and returns the factor's
 * value, or null while warming up. Extra outputs (MACD's signal, an anomaly's flag) are read from
 * the same state after the update, so a multi-output factor is still one state machine.
 *
 * Naming rule: a factor's name (its first column; extras are `${name}_${suffix}`) says what its
 * parameters are, so a column written with other parameters never carries the old name. A factor
 * with parameters gives `name` as a function of them (`(p) => \`ema_${p.period}\``) and
 * `withParams` derives the name again: EMA with period 20 is `ema_20`, never `ema_12`. A family
 * known by a bare conventional name (`macd` for 12/26/9) keeps it at those values and spells
 * every parameter out otherwise (`macd_8_21_5`). Label parts: `durationLabel` for windows in
 * seconds (`1m`, `5m`, `90s`), `numberLabel` for non-integers (`2p5`). A parameter change that
 * leaves the name as it was is refused (FactorDefinitionError), and so are two factors of a set
 * with the same column (fold.ts; registry.ts names both when a parameter change caused it).
 */
import type { Derivation } from './derivation.ts';
import type { Kind, MarketEvent } from './events.ts';
import { FactorDefinitionError } from './errors.ts';

export type ParamValue = number | string | boolean;
export type Params = Readonly<Record<string, ParamValue>>;

/** A rule for one parameter; the error quotes the value when it fails. */
export interface ParamRule {
  kind: 'int' | 'number' | 'string' | 'boolean';
  min?: number;
  max?: number;
  oneOf?: readonly string[];
}

/** How a factor reads a shared derivation (derivation.ts). */
export interface DeriveSpec<D> {
  from: Derivation<D>;
  /**
   * 'fired': update only when the derivation reports a change; 'always': on each of its inputs;
   * 'fired-or-market': when it fires and on every market event, but not on a heartbeat that did
   * not fire (for a factor that moves on trades but, between trades, only when the derivation
   * changes: it skips the heartbeat fan-out to every symbol).
   */
  when: 'fired' | 'always' | 'fired-or-market';
}

export interface FactorSpec<P extends Params, S, D = undefined> {
  /**
   * Column name, lower_snake_case: a constant for a factor without parameters, else a function of
   * the parameters that shows each of them (see the naming rule above).
   */
  name: string | ((params: P) => string);
  /** Bump when the output for the same input changes. */
  version: number;
  description: string;
  params: P;
  rules: { readonly [K in keyof P]: ParamRule };
  /** Event kinds this factor reads; the fold only calls `update` for these. */
  inputs: readonly Kind[];
  /** What the factor needs before its first non-null value, in words. */
  warmup: string;
  init(params: P): S;
  /**
   * With `derive`, `derived` is the symbol's shared derived state (already updated with this
   * event) and `fired` what the derivation's update returned.
   */
  update(state: S, event: MarketEvent, params: P, derived: D, fired: boolean): number | null;
  /**
   * Shared per-symbol state this factor reads (bars, book, trade flow); `inputs` must equal its
   * inputs. A function of the params when the derivation depends on them (a window's length):
   * equal params must return the same Derivation object, so factors that agree share one.
   */
  derive?: DeriveSpec<D> | ((params: P) => DeriveSpec<D>);
  /** Additional output columns `${name}_${suffix}`, read after each update. */
  extras?: Readonly<Record<string, (state: S, params: P) => number | null>>;
  /**
   * Other functions whose code decides the output (the kernels it calls, a shared wrapper's
   * callbacks); their source text goes into the registry's code hash with init/update/extras.
   */
  source?: readonly ((...args: never[]) => unknown)[];
}

export interface Factor<P extends Params = Params, S = unknown, D = undefined> extends Omit<FactorSpec<P, S, D>, 'derive' | 'name'> {
  /** Column name for these params (the spec's `name`, resolved). */
  name: string;
  /** The spec's `name` when it is a function of the params: withParams derives the name again. */
  nameFor?: (params: P) => string;
  /** Output column names: the primary value first, then extras in declaration order. */
  columns: readonly string[];
  /** The derivation read with these params (the spec's `derive`, resolved). */
  derive?: DeriveSpec<D>;
  /** The spec's `derive` when it is a function of the params: withParams resolves it again. */
  deriveFor?: (params: P) => DeriveSpec<D>;
}

/** A factor with its parameter and state types erased, as held by factor sets and registries. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyFactor = Factor<any, any, any>;

const NAME_RE = /^[a-z][a-z0-9_]*$/;

/** Checks one parameter value against its rule; throws FactorDefinitionError quoting the value. */
export function checkParam(factor: string, key: string, value: unknown, rule: ParamRule): void {
  const bad = (why: string) =>
    new FactorDefinitionError(factor, `parameter ${key}=${JSON.stringify(value)} ${why}`);
  switch (rule.kind) {
    case 'int':
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) throw bad('must be a finite number');
      if (rule.kind === 'int' && !Number.isInteger(value)) throw bad('must be an integer');
      if (rule.min !== undefined && value < rule.min) throw bad(`must be >= ${rule.min}`);
      if (rule.max !== undefined && value > rule.max) throw bad(`must be <= ${rule.max}`);
      return;
    case 'string':
      if (typeof value !== 'string') throw bad('must be a string');
      if (rule.oneOf && !rule.oneOf.includes(value)) throw bad(`must be one of ${rule.oneOf.join(', ')}`);
      return;
    case 'boolean':
      if (typeof value !== 'boolean') throw bad('must be true or false');
  }
}

/** A window length in seconds as a name part: whole minutes as `5m`, anything else as `90s`. */
export function durationLabel(seconds: number): string {
  return seconds % 60 === 0 ? `${seconds / 60}m` : `${seconds}s`;
}

/** A number as a name part: `3`, `2p5` for 2.5, `m1` for -1 (a name holds no `.` or `-`). */
export function numberLabel(x: number): string {
  return String(x).replace('-', 'm').replace('.', 'p');
}

/** Validates a factor specification and freezes it. Throws FactorDefinitionError on a bad spec. */
export function defineFactor<P extends Params, S, D = undefined>(spec: FactorSpec<P, S, D>): Factor<P, S, D> {
  return build(spec);
}

/** `label` names the factor in errors found before its name is known (withParams: the old name). */
function build<P extends Params, S, D>(spec: FactorSpec<P, S, D>, label?: string): Factor<P, S, D> {
  const nameFor = typeof spec.name === 'function' ? spec.name : undefined;
  // parameters first: a name made from a bad value would hide the message that quotes it
  checkParams(spec, label ?? (typeof spec.name === 'string' ? spec.name : tryName(spec.name, spec.params)));
  const name = nameFor ? nameFor(spec.params) : (spec.name as string);
  if (typeof name !== 'string' || !NAME_RE.test(name)) {
    throw new FactorDefinitionError(label ?? String(name), `name ${JSON.stringify(name)} must be lower_snake_case`);
  }
  if (!Number.isInteger(spec.version) || spec.version < 1) {
    throw new FactorDefinitionError(name, `version ${JSON.stringify(spec.version)} must be a positive integer`);
  }
  if (spec.inputs.length === 0) throw new FactorDefinitionError(name, 'inputs must name at least one event kind');
  const derive = typeof spec.derive === 'function' ? spec.derive(spec.params) : spec.derive;
  if (derive && derive.from.inputs.join() !== spec.inputs.join()) {
    throw new FactorDefinitionError(name, `inputs ${spec.inputs.join(',')} must equal those of derivation ${derive.from.name} (${derive.from.inputs.join(',')})`);
  }
  const columns = [name, ...Object.keys(spec.extras ?? {}).map((s) => `${name}_${s}`)];
  const deriveFor = typeof spec.derive === 'function' ? spec.derive : undefined;
  return Object.freeze({ ...spec, name, nameFor, params: Object.freeze({ ...spec.params }), columns, derive, deriveFor });
}

function checkParams<P extends Params>(spec: { params: P; rules: { readonly [K in keyof P]: ParamRule } }, label: string): void {
  for (const key of Object.keys(spec.rules)) {
    if (!(key in spec.params)) throw new FactorDefinitionError(label, `parameter ${key} has a rule but no value`);
  }
  for (const [key, value] of Object.entries(spec.params)) {
    const rule = spec.rules[key as keyof P];
    if (!rule) throw new FactorDefinitionError(label, `parameter ${key}=${JSON.stringify(value)} has no rule`);
    checkParam(label, key, value, rule);
  }
}

function tryName<P extends Params>(nameFor: (params: P) => string, params: P): string {
  try {
    return String(nameFor(params));
  } catch {
    return '(unnamed)';
  }
}

/**
 * The same factor with other parameters, validated again, under the name those parameters give
 * (`withParams(ema, { period: 20 })` is `ema_20`). Refuses a change that would keep the old name:
 * the column would then claim parameters it was not computed with.
 */
export function withParams<P extends Params, S, D>(factor: Factor<P, S, D>, params: Partial<P>): Factor<P, S, D> {
  const { columns: _columns, derive, deriveFor, nameFor, name, ...spec } = factor;
  const next = { ...factor.params, ...params };
  const f = build({ ...spec, derive: deriveFor ?? derive, name: nameFor ?? name, params: next }, name);
  const changed = Object.keys(next).filter((k) => !Object.is(next[k], factor.params[k]));
  if (changed.length > 0 && f.name === name) {
    const what = changed.map((k) => `${k}=${JSON.stringify(next[k])}`).join(', ');
    throw new FactorDefinitionError(name, `${what} would keep the name ${name}: its name must follow its parameters (give name as a function of them)`);
  }
  return f;
}
