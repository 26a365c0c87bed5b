/**
 * The one contract suite every registered factor passes (docs/design.md, "The factor contract"):
 * warm-up, determinism, snapshot/restore equals an uninterrupted run, and streaming equals a naive
 * batch recomputation. It iterates DEFAULT_FACTORS, so a new factor is covered on registration,
 * and fails for a factor without a naive reference (testing/naive-reference.ts).
 *
 * The checks that need no reference (determinism, snapshot/restore) live in core/contract/checks.ts,
 * which `lockstep factors check` runs on a user's factors too. Factors run through the real fold (createFactorSet([factor]) + applyEvent), so heartbeats,
 * duplicate removal and late events are handled exactly as in production. Streams come from
 * fast-check (testing/contract-streams.ts) and from one fixed long stream that fills 60-bar windows.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { MarketEvent } from '../events.ts';
import { withParams, type AnyFactor, type Params } from '../factor.ts';
import { applyEvent, createFactorSet, initFold } from '../fold.ts';
import { advanceClock, initMinuteBars, onTrade, type MinuteBars } from '../kernels/minute-bars.ts';
import { DEFAULT_FACTORS, factorCodeHash, featureSetVersion } from '../registry.ts';
import { hashString } from '../state-codec.ts';
import { checkDeterminism, checkRestore, runRows, show } from '../contract/checks.ts';
import { validateEvent } from '../validate-event.ts';
import { anyRecipeArbitrary, buildStream, longRecipe, streamArbitrary } from '../../testing/contract-streams.ts';
import { minuteBars } from './bar-factor.ts';
import { naiveBars, naiveReferenceFor, type ColumnCheck, type NaiveBar, type NaiveReference } from '../../testing/naive-reference.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Fixed seeds: a failure reproduces; fast-check prints the shrunk stream. */
const SEED = 20240315;
const RUNS = { cheap: 100, snapshot: 100, naive: 30 };

// ---------------------------------------------------------------------------------------------
// Running factors and emulating the fold's bookkeeping naively

/**
 * One point at which a symbol's factor values are checked: after stream event `index`, the
 * symbol's history is `events[0, n)`. Built by a naive emulation of the fold: duplicates dropped
 * by (kind, symbol, seq); heartbeats (deduplicated by seq) offered to every symbol already seen.
 */
interface Probe {
  index: number;
  symbol: string;
  events: MarketEvent[];
  n: number;
  /** Closed bars counted by the minute-bars kernel over the history's trades and heartbeats. */
  barsClosed: number;
  /** Kinds present in the history. */
  kinds: Set<string>;
  naiveBars?: NaiveBar[];
}

function probesOf(stream: readonly MarketEvent[]): Probe[] {
  const hist = new Map<string, { events: MarketEvent[]; bars: MinuteBars; kinds: Set<string> }>();
  const seen = new Set<string>();
  const probes: Probe[] = [];
  const note = (index: number, symbol: string) => {
    const h = hist.get(symbol)!;
    probes.push({ index, symbol, events: h.events, n: h.events.length, barsClosed: h.bars.barsClosed, kinds: new Set(h.kinds) });
  };
  stream.forEach((e, index) => {
    if (e.kind !== 'heartbeat' && !hist.has(e.symbol)) hist.set(e.symbol, { events: [], bars: initMinuteBars(), kinds: new Set() });
    const key = `${e.kind}/${e.symbol}/${e.seq}`;
    if (seen.has(key)) return;
    seen.add(key);
    if (e.kind === 'heartbeat') {
      for (const [symbol, h] of hist) {
        h.events.push(e);
        h.kinds.add(e.kind);
        advanceClock(h.bars, e.tsEvent);
        note(index, symbol);
      }
      return;
    }
    const h = hist.get(e.symbol)!;
    h.events.push(e);
    h.kinds.add(e.kind);
    if (e.kind === 'trade') onTrade(h.bars, e.tsEvent, e.price, e.size, e.side);
    note(index, e.symbol);
  });
  return probes;
}

/** Runs `factor` through the fold and calls `check` with the symbol's values at every probe. */
function walk(factor: AnyFactor, stream: readonly MarketEvent[], probes: readonly Probe[], check: (p: Probe, values: readonly (number | null)[]) => void): void {
  const set = createFactorSet([factor]);
  const st = initFold();
  let k = 0;
  for (let i = 0; i < stream.length; i++) {
    applyEvent(set, st, stream[i], () => {});
    for (; k < probes.length && probes[k].index === i; k++) check(probes[k], st.bySymbol.get(probes[k].symbol)!.values);
  }
}

// ---------------------------------------------------------------------------------------------
// Comparison

function close(a: number, b: number): boolean {
  if (Object.is(a, b)) return true;
  const d = Math.abs(a - b);
  return d <= 1e-12 || d <= 1e-9 * Math.max(Math.abs(a), Math.abs(b));
}

function agrees(check: ColumnCheck, got: number | null, want: number | null, want0: number | null, params: Params): boolean {
  if (got === null || want === null) return got === want;
  if (check === 'exact') return Object.is(got, want);
  if (check === 'approx') return close(got, want);
  if (Object.is(got, want)) return true;
  // a flag whose naive value sits on the threshold may round either way
  return want0 !== null && close(Math.abs(want0), params[check.param] as number);
}

function naiveAt(ref: NaiveReference, factor: AnyFactor, p: Probe): (number | null)[] {
  const events = p.events.slice(0, p.n);
  return ref.compute({ events, bars: () => (p.naiveBars ??= naiveBars(events)) }, factor.params);
}

function checkNaive(factor: AnyFactor, stream: readonly MarketEvent[], probes: readonly Probe[]): number {
  const ref = naiveReferenceFor(factor)!;
  let compared = 0;
  walk(factor, stream, probes, (p, values) => {
    const want = naiveAt(ref, factor, p);
    for (let c = 0; c < factor.columns.length; c++) {
      if (!agrees(ref.checks[c], values[c], want[c], want[0], factor.params)) {
        throw new Error(
          `${factor.columns[c]} after event #${p.index} ${show(stream[p.index])} for ${p.symbol}: ` +
            `streaming ${show(values[c])}, naive ${show(want[c])} (history of ${p.n} events)`,
        );
      }
      if (values[c] !== null) compared++;
    }
  });
  return compared;
}

// ---------------------------------------------------------------------------------------------
// Warm-up

function isBarBased(f: AnyFactor): boolean {
  return f.derive?.from === minuteBars;
}

/** Evaluates a warm-up text such as 'slow + signal - 1 closed 1-minute bars' with the params. */
function declaredBars(f: AnyFactor): number | null {
  const m = /^(.+?) closed 1-minute bars$/.exec(f.warmup);
  if (m === null) return null;
  const intParams = Object.entries(f.params).filter(([, v]) => typeof v === 'number');
  const words: Record<string, number> = { one: 1, two: 2, three: 3 };
  let total = 0;
  let sign = 1;
  for (const tok of m[1].split(/\s+/)) {
    if (tok === '+' || tok === '-') {
      sign = tok === '+' ? 1 : -1;
      continue;
    }
    let v: number | undefined;
    if (/^\d+$/.test(tok)) v = Number(tok);
    else if (tok in words) v = words[tok];
    else if (typeof f.params[tok] === 'number') v = f.params[tok] as number;
    else if (tok === 'N' && intParams.length === 1) v = intParams[0][1] as number;
    if (v === undefined) return null;
    total += sign * v;
  }
  return total;
}

function checkWarmup(factor: AnyFactor, stream: readonly MarketEvent[], probes: readonly Probe[]): void {
  const ref = naiveReferenceFor(factor)!;
  const warm = ref.warmupBars?.(factor.params);
  walk(factor, stream, probes, (p, values) => {
    const seenInput = factor.inputs.some((k) => p.kinds.has(k));
    const cold = !seenInput || (warm !== undefined && p.barsClosed < warm);
    if (cold && values.some((v) => v !== null)) {
      throw new Error(
        `${factor.name} is not null after event #${p.index} ${show(stream[p.index])} for ${p.symbol} ` +
          `(${seenInput ? `${p.barsClosed} closed bars, warm-up ${warm}` : 'no input of its kinds yet'}): ${show(values)}`,
      );
    }
  });
}

// ---------------------------------------------------------------------------------------------

// 90 minutes of two symbols across a UTC midnight: fills the 60-bar windows and the hour-long
// anomaly windows, and resets the session VWAP.
const LONG = buildStream(longRecipe(7, 90));
let longProbes: Probe[] = [];

beforeAll(() => {
  longProbes = probesOf(LONG);
});

describe('contract streams', () => {
  it('every generated event passes the bad-event policy', () => {
    fc.assert(
      fc.property(streamArbitrary(), (stream) => stream.every((e) => validateEvent(e) === null)),
      { seed: SEED, numRuns: RUNS.cheap },
    );
    expect(LONG.every((e) => validateEvent(e) === null)).toBe(true);
  });

  it('the long stream is long enough to warm every factor', () => {
    const perSymbol = new Map<string, number>();
    for (const p of longProbes) perSymbol.set(p.symbol, p.barsClosed);
    expect([...perSymbol.values()].every((n) => n >= 70)).toBe(true);
    expect(LONG.some((e) => e.kind === 'trade' && e.tsEvent / 86_400_000_000_000n !== LONG[0].tsEvent / 86_400_000_000_000n)).toBe(true);
  });

  it('naive minute bars agree with the minute-bars kernel on the number of closed bars', () => {
    const agree = (stream: MarketEvent[]) =>
      probesOf(stream).every((p) => naiveBars(p.events.slice(0, p.n)).length === p.barsClosed);
    fc.assert(fc.property(streamArbitrary(150), agree), { seed: SEED, numRuns: 50 });
  });

  it('every registered factor has a naive reference', () => {
    const missing = DEFAULT_FACTORS.filter((f) => naiveReferenceFor(f) === undefined).map((f) => f.name);
    expect(missing, 'add a naive reference in testing/naive-reference.ts').toEqual([]);
  });
});

describe.each(DEFAULT_FACTORS.map((f) => [f.name, f] as const))('factor %s', (_name, factor) => {
  const ref = naiveReferenceFor(factor);
  const barBased = isBarBased(factor);

  it('has a naive reference with one check per column and a bar warm-up iff it is bar-based', () => {
    expect(ref, `no naive reference for ${factor.name}`).toBeDefined();
    expect(ref!.checks).toHaveLength(factor.columns.length);
    expect(ref!.warmupBars !== undefined).toBe(barBased);
    if (barBased) {
      expect(factor.inputs).toEqual(expect.arrayContaining(['trade', 'heartbeat']));
      // the warm-up the factor declares (its TSDoc / `warmup` text) is the one the suite enforces
      expect(declaredBars(factor), `warm-up text ${JSON.stringify(factor.warmup)}`).toBe(ref!.warmupBars!(factor.params));
    }
  });

  it('warm-up: null before its first input, and bar-based factors before the declared closed bars', () => {
    fc.assert(
      fc.property(streamArbitrary(), (stream) => checkWarmup(factor, stream, probesOf(stream))),
      { seed: SEED, numRuns: RUNS.cheap },
    );
    checkWarmup(factor, LONG, longProbes);
  });

  it('warm-up is tight: on the long stream every symbol gets values, bar-based ones at exactly the declared bar', () => {
    const first = new Map<string, Probe>();
    walk(factor, LONG, longProbes, (p, values) => {
      if (!first.has(p.symbol) && values.some((v) => v !== null)) first.set(p.symbol, p);
    });
    expect([...first.keys()].sort()).toEqual(['AAA', 'BBB']);
    if (barBased) for (const p of first.values()) expect(p.barsClosed).toBe(ref!.warmupBars!(factor.params));
  });

  it('determinism: two runs give bit-identical rows', () => {
    fc.assert(
      fc.property(streamArbitrary(), (stream) => checkDeterminism(factor, stream)),
      { seed: SEED, numRuns: RUNS.cheap },
    );
    checkDeterminism(factor, LONG);
  });

  it('snapshot/restore: a run cut anywhere, serialized and restored, continues like an uninterrupted one', () => {
    fc.assert(
      fc.property(anyRecipeArbitrary(), fc.double({ min: 0, max: 1, noNaN: true }), (recipe, u) => {
        const stream = buildStream(recipe);
        checkRestore(factor, stream, Math.floor(u * (stream.length + 1)) % (stream.length + 1));
      }),
      { seed: SEED, numRuns: RUNS.snapshot },
    );
    const full = runRows(factor, LONG);
    for (const cut of [1, 997, Math.floor(LONG.length / 2), LONG.length - 3]) checkRestore(factor, LONG, cut, full);
  });

  it('streaming equals a naive batch recomputation from all events seen', () => {
    let compared = 0;
    fc.assert(
      fc.property(streamArbitrary(250), (stream) => {
        compared += checkNaive(factor, stream, probesOf(stream));
      }),
      { seed: SEED, numRuns: RUNS.naive },
    );
    const fcCount = compared;
    compared += checkNaive(factor, LONG, longProbes);
    
    // not vacuous: non-null values were compared
    expect(compared).toBeGreaterThan(100);
  });
});

describe('registry manifest', () => {
  interface Listed {
    featureSetVersion: string;
    factors: { name: string; version: number; params: Record<string, unknown>; columns: string[]; codeHash: string }[];
  }
  let listed: Listed;
  beforeAll(() => {
    const out = execFileSync(process.execPath, ['bin/lockstep.js', 'factors', 'list', '--json'], { cwd: repoRoot, encoding: 'utf8' });
    listed = JSON.parse(out) as Listed;
  });

  it('`lockstep factors list --json` lists every factor with name, version, params, columns and a 16-hex code hash', () => {
    expect(listed.factors.map((f) => f.name)).toEqual(DEFAULT_FACTORS.map((f) => f.name));
    for (const [i, f] of DEFAULT_FACTORS.entries()) {
      const m = listed.factors[i];
      expect(m.version).toBe(f.version);
      expect(m.params).toEqual({ ...f.params });
      expect(m.columns).toEqual([...f.columns]);
      expect(m.codeHash).toMatch(/^[0-9a-f]{16}$/);
    }
    // the printed version is the hash of the printed manifest, and is 16 hex too
    expect(listed.featureSetVersion).toMatch(/^[0-9a-f]{16}$/);
    expect(listed.featureSetVersion).toBe(hashString(JSON.stringify(listed.factors)));
    // factors that share code (withParams variants) share a code hash, and only those
    const sameCode = (hashes: string[]) => hashes.map((h) => hashes.indexOf(h));
    expect(sameCode(listed.factors.map((m) => m.codeHash))).toEqual(sameCode(DEFAULT_FACTORS.map(factorCodeHash)));
  });

  // factorCodeHash hashes function text normalised for the transpiler (registry.ts normalizeSource):
  // the CLI under tsx and this vitest process must agree, or certificates would differ by runner.
  it('code hashes do not depend on the TypeScript runner (CLI under tsx vs this vitest process)', () => {
    expect(listed.factors.map((m) => m.codeHash)).toEqual(DEFAULT_FACTORS.map(factorCodeHash));
    expect(listed.featureSetVersion).toBe(featureSetVersion(DEFAULT_FACTORS));
  });

  it('changing any factor parameter with withParams changes the feature-set version; the code hash stays', () => {
    const base = featureSetVersion(DEFAULT_FACTORS);
    expect(featureSetVersion(DEFAULT_FACTORS.map((f) => withParams(f, {})))).toBe(base);
    let changed = 0;
    for (const [i, f] of DEFAULT_FACTORS.entries()) {
      for (const [key, value] of Object.entries(f.params)) {
        const rule = f.rules[key];
        const other = typeof value === 'number' ? (rule.max !== undefined && value + 1 > rule.max ? value - 1 : value + 1) : typeof value === 'string' ? rule.oneOf!.find((s: string) => s !== value)! : !value;
        const g = withParams(f, { [key]: other });
        const set = DEFAULT_FACTORS.map((x, j) => (j === i ? g : x));
        expect(featureSetVersion(set), `${f.name}.${key}`).not.toBe(base);
        expect(factorCodeHash(g)).toBe(factorCodeHash(f));
        changed++;
      }
    }
    expect(changed).toBeGreaterThan(10);
  });
});
