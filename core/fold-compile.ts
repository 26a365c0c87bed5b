/**
 * Per-kind runners for a factor set: the body of the fold's inner loop (derivations, then the
 * factors that read them, then the plain factors of the kind), specialized to one set.
 *
 * Why generate code: the interpreted loop (`interpretKind`) calls every factor's `update` through
 * one call site, which sees all ~30 update functions, goes megamorphic and can neither inline nor
 * cache a target; on the default set that dispatch cost as much as the factors' own arithmetic
 * (measured ~25-45 ns per factor call). A generated runner has one call site per factor, each
 * seeing one target, so the JIT inlines the small updates. Measured on the bench day, the two
 * loops alternating in one process: quote events 308 → 195 ns, book rows 279 → 204 ns.
 *
 * Safety: the generated source is built only from fixed text and integer indices; compileKind
 * refuses a source with any quote, backtick or other character a data value could bring in. No
 * factor name, parameter or other data reaches it. Functions and params are passed in as
 * arguments, so what runs is exactly the factors' own code.
 *
 * The interpreted loop is the specification and the fallback where code generation is disabled
 * (`node --disallow-code-generation-from-strings`, see canGenerateCode); fold-compile.test.ts checks
 * that both give the same rows on random streams.
 */
import { KINDS, type MarketEvent } from './events.ts';

/** The parts of a FactorSet a runner needs (fold.ts builds the set; no import cycle). */
export interface RunnerPlan {
  readonly offsets: readonly number[];
  readonly updateFns: readonly ((...args: never[]) => number | null)[];
  readonly paramsOf: readonly unknown[];
  readonly extraReaders: readonly (readonly ((state: unknown, params: never) => number | null)[])[];
  readonly deriveFns: readonly ((state: unknown, ev: MarketEvent) => boolean)[];
  readonly derivationsByKindIx: readonly (readonly number[])[];
  readonly firedReaders: readonly (readonly number[])[];
  readonly alwaysReaders: readonly (readonly number[])[];
  readonly marketReaders: readonly (readonly number[])[];
  readonly byKindIx: readonly (readonly number[])[];
}

/** The per-symbol state a runner touches (fold.ts's SymbolState). */
export interface RunnerState {
  states: unknown[];
  values: (number | null)[];
  derived: unknown[];
}

/**
 * Applies one event of one kind to a symbol's state; with `track`, returns whether any output value
 * changed (heartbeat rows need that; other events skip the comparisons and get false).
 */
export type KindRunner = (s: RunnerState, ev: MarketEvent, track: boolean) => boolean;

const HEARTBEAT = KINDS.indexOf('heartbeat');

/** True when two outputs differ (NaN equals NaN; -0 differs from +0, as in Object.is). */
export function differs(a: number | null, b: number | null): boolean {
  return a !== b ? a === a || b === b : a === 0 && 1 / (a as number) !== 1 / (b as number);
}

/** The reference runner: a loop over the plan's index lists. */
export function interpretKind(plan: RunnerPlan, ki: number): KindRunner {
  const runFactor = (s: RunnerState, ev: MarketEvent, i: number, derived: unknown, fired: boolean, track: boolean): boolean => {
    let changed = false;
    const values = s.values;
    const state = s.states[i];
    const params = plan.paramsOf[i];
    let col = plan.offsets[i];
    const v = (plan.updateFns[i] as (...a: unknown[]) => number | null)(state, ev, params, derived, fired);
    if (track && differs(values[col], v)) changed = true;
    values[col] = v;
    const extras = plan.extraReaders[i];
    for (let e = 0; e < extras.length; e++) {
      col++;
      const x = extras[e](state, params as never);
      if (track && !changed && differs(values[col], x)) changed = true;
      values[col] = x;
    }
    return changed;
  };
  return (s, ev, track) => {
    let changed = false;
    const ds = plan.derivationsByKindIx[ki];
    for (let k = 0; k < ds.length; k++) {
      const d = ds[k];
      const dstate = s.derived[d];
      const fired = plan.deriveFns[d](dstate, ev);
      if (fired) {
        const fr = plan.firedReaders[d];
        for (let j = 0; j < fr.length; j++) if (runFactor(s, ev, fr[j], dstate, true, track)) changed = true;
      }
      const ar = plan.alwaysReaders[d];
      for (let j = 0; j < ar.length; j++) if (runFactor(s, ev, ar[j], dstate, fired, track)) changed = true;
      if (fired || ki !== HEARTBEAT) {
        const mr = plan.marketReaders[d];
        for (let j = 0; j < mr.length; j++) if (runFactor(s, ev, mr[j], dstate, fired, track)) changed = true;
      }
    }
    const idx = plan.byKindIx[ki];
    for (let k = 0; k < idx.length; k++) if (runFactor(s, ev, idx[k], undefined, false, track)) changed = true;
    return changed;
  };
}

/** Source of one factor's update and extras, the same steps as interpretKind's runFactor. */
function factorSource(plan: RunnerPlan, i: number, derived: string, fired: string): string {
  const col = plan.offsets[i];
  const lines = [`v = U${i}(S[${i}], ev, P${i}, ${derived}, ${fired});`, `if (track && differs(values[${col}], v)) changed = true;`, `values[${col}] = v;`];
  for (let e = 0; e < plan.extraReaders[i].length; e++) {
    lines.push(`v = X${i}_${e}(S[${i}], P${i});`, `if (track && !changed && differs(values[${col + 1 + e}], v)) changed = true;`, `values[${col + 1 + e}] = v;`);
  }
  return lines.join('\n');
}

/**
 * Factors per generated function. A wide set (examples/factors-1000.json: ~850 bar factors fire on
 * one bar close) inlined into one runner makes a function too large for V8's optimizing compiler
 * (its bytecode limit), which then leaves the whole runner in the interpreter, slower than the
 * interpreted loop. Past this many factors in a group the group is cut into chunk functions of this
 * many each, every chunk small enough to be optimized; the default set's groups stay inline.
 */
export const CHUNK_FACTORS = 64;

/** The factors `ix` as inline source, or as calls of chunk functions added to `chunks`. */
function groupSource(plan: RunnerPlan, ix: readonly number[], derived: string, fired: string, chunks: string[]): string[] {
  if (ix.length <= CHUNK_FACTORS) return ix.map((i) => factorSource(plan, i, derived, fired));
  const out: string[] = [];
  for (let at = 0; at < ix.length; at += CHUNK_FACTORS) {
    const name = `C${chunks.length}`;
    const body = ix.slice(at, at + CHUNK_FACTORS).map((i) => factorSource(plan, i, 'ds', 'fired'));
    // `changed` starts false in a chunk: only which comparisons run can differ, not the result
    chunks.push(`function ${name}(S, values, ev, ds, fired, track) {\nlet changed = false;\nlet v;\n${body.join('\n')}\nreturn changed;\n}`);
    out.push(`if (${name}(S, values, ev, ${derived}, ${fired}, track)) changed = true;`);
  }
  return out;
}

/** Chunk functions (`chunks`) and the runner body for kind index `ki`. */
function runnerParts(plan: RunnerPlan, ki: number): { chunks: string[]; body: string } {
  const chunks: string[] = [];
  const out: string[] = ['let changed = false;', 'const S = s.states;', 'const values = s.values;', 'let v;'];
  for (const d of plan.derivationsByKindIx[ki]) {
    out.push('{', `const ds = s.derived[${d}];`, `const fired = D${d}(ds, ev);`);
    const fired = plan.firedReaders[d];
    if (fired.length > 0) out.push('if (fired) {', ...groupSource(plan, fired, 'ds', 'true', chunks), '}');
    out.push(...groupSource(plan, plan.alwaysReaders[d], 'ds', 'fired', chunks));
    const market = groupSource(plan, plan.marketReaders[d], 'ds', 'fired', chunks);
    if (market.length > 0) out.push(...(ki === HEARTBEAT ? ['if (fired) {', ...market, '}'] : market));
    out.push('}');
  }
  out.push(...groupSource(plan, plan.byKindIx[ki], 'undefined', 'false', chunks));
  out.push('return changed;');
  return { chunks, body: out.join('\n') };
}

/** Source of the runner for kind index `ki`: its chunk functions, then its body (exported for tests). */
export function runnerSource(plan: RunnerPlan, ki: number): string {
  const { chunks, body } = runnerParts(plan, ki);
  return [...chunks, body].join('\n');
}

// Only identifiers of the fixed vocabulary above, integers, operators and punctuation.
const SAFE_SOURCE = /^[\sA-Za-z0-9_(){}[\];=,.&!|]*$/;

let codeGeneration: boolean | undefined;

/**
 * Whether this runtime allows code generation from strings (`node
 * --disallow-code-generation-from-strings` and some embedders refuse it with an EvalError).
 */
export function canGenerateCode(): boolean {
  if (codeGeneration === undefined) {
    try {
      codeGeneration = (new Function('return 1') as () => number)() === 1;
    } catch (e) {
      if (!(e instanceof EvalError)) throw e;
      codeGeneration = false;
    }
  }
  return codeGeneration;
}

/**
 * A generated runner for kind index `ki` (check canGenerateCode first). Each call compiles fresh
 * functions, so every factor set gets its own JIT feedback.
 */
export function compileKind(plan: RunnerPlan, ki: number): KindRunner {
  const { chunks, body } = runnerParts(plan, ki);
  const defs = chunks.join('\n');
  if (!SAFE_SOURCE.test(body) || !SAFE_SOURCE.test(defs)) throw new Error(`fold-compile: generated source has unexpected characters`);
  const names: string[] = ['differs'];
  const args: unknown[] = [differs];
  plan.updateFns.forEach((u, i) => {
    names.push(`U${i}`, `P${i}`);
    args.push(u, plan.paramsOf[i]);
    plan.extraReaders[i].forEach((x, e) => {
      names.push(`X${i}_${e}`);
      args.push(x);
    });
  });
  plan.deriveFns.forEach((d, i) => {
    names.push(`D${i}`);
    args.push(d);
  });
  const factory = new Function(...names, `${defs}\nreturn function run(s, ev, track) {\n${body}\n};`) as (...a: unknown[]) => KindRunner;
  return factory(...args);
}
