/**
 * The one fold: applies events, in the order given, to per-symbol factor state and emits an
 * output row for every applied event. Replay and live both call `applyEvent`; nothing here knows
 * which one is running.
 *
 * Output rows carry the latest value of every factor for the event's symbol (null while a factor
 * warms up), keyed by the input event's identity (symbol, kind, seq). A heartbeat has no symbol:
 * it is offered to every symbol's clock-driven factors, in symbol order, and a row is emitted for
 * each symbol whose values it changed.
 *
 * Shared derivations (derivation.ts: the 1-minute bars, the book) are applied once per event per
 * symbol, before the factors that read them; 'fired' readers run only when the derivation fired,
 * 'fired-or-market' readers also on every market event (skipping heartbeats that changed nothing).
 *
 * That per-kind work runs in a runner made once per factor set (fold-compile.ts): generated code
 * with one call site per factor, or the interpreted reference loop where code generation is off.
 */
import type { Derivation } from './derivation.ts';
import { KINDS, REFERENCE_KINDS, type Kind, type MarketEvent } from './events.ts';
import { FactorDefinitionError } from './errors.ts';
import type { AnyFactor } from './factor.ts';
import { canGenerateCode, compileKind, interpretKind, type KindRunner } from './fold-compile.ts';
import { admitSeq, initSeqGuard, type SeqGuard, type SeqVerdict } from './sequence-guard.ts';
import { seqJumpProblem } from './plausibility.ts';
import type { EventProblem } from './validate-event.ts';
import { DEFAULT_SESSION, type SessionKind } from './kernels/market-sessions.ts';
import type { SymbolStage } from './stage.ts';

/**
 * Which session each symbol trades in (market-sessions.ts): the factor set's session table. A
 * factor whose `session` parameter is `auto` takes its symbol's session from it when the fold
 * first sees the symbol, and so do the derivations (session bars); a symbol it does not list
 * takes `DEFAULT_SESSION` (the UTC day). Replay fills it from the catalog's sessions.json, live
 * mode from the deployment's `<ns>:meta` (which the feed writes from the same file), so both run
 * the same configuration; it is part of the feature-set version (registry.ts).
 */
export type SessionTable = ReadonlyMap<string, SessionKind>;

type ExtraReader = (state: unknown, params: never) => number | null;

/**
 * Factors prepared for folding (`createFactorSet`): their columns, and lookup tables the fold
 * reads per event. Treat it as opaque; `columns` is the part callers read.
 */
export interface FactorSet {
  readonly factors: readonly AnyFactor[];
  /** All output columns, in factor order. */
  readonly columns: readonly string[];
  /** First output column of each factor. */
  readonly offsets: readonly number[];
  /** Indexes of the factors without a derivation that read each kind. */
  readonly byKind: Readonly<Record<Kind, readonly number[]>>;
  /** Extra-output readers of each factor, resolved once (no per-event Object.values). */
  readonly extraReaders: readonly (readonly ExtraReader[])[];
  /** Distinct derivations the factors read, in first-use order. */
  readonly derivations: readonly Derivation[];
  /** Indexes of the derivations that read each kind. */
  readonly derivationsByKind: Readonly<Record<Kind, readonly number[]>>;
  /** Per derivation: factors that update only when it fires, and factors that update always. */
  readonly firedReaders: readonly (readonly number[])[];
  readonly alwaysReaders: readonly (readonly number[])[];
  /** Per derivation: factors that update when it fires or the event is not a heartbeat. */
  readonly marketReaders: readonly (readonly number[])[];
  /** Per factor: index of the derivation it reads, -1 for none. */
  readonly derivationOf: readonly number[];
  /**
   * Each factor's update function and params, and each derivation's update, pulled out of the
   * definitions once: factor objects have differing shapes (optional derive, extras, source), so
   * reading `.update` off them per event is a megamorphic property load; an array slot is not.
   */
  readonly updateFns: readonly AnyFactor['update'][];
  readonly paramsOf: readonly AnyFactor['params'][];
  readonly deriveFns: readonly Derivation['update'][];
  /**
   * byKind and derivationsByKind indexed by the kind's position in KINDS: the fold looks them up
   * on every event, and a record keyed by a variable string is a keyed (stub-cache) load.
   */
  readonly byKindIx: readonly (readonly number[])[];
  readonly derivationsByKindIx: readonly (readonly number[])[];
  /** Per kind (indexed as KINDS): applies an event to a symbol's state (fold-compile.ts). */
  readonly runners: readonly KindRunner[];
  /** True when the runners are generated code, false when they are the interpreted loop. */
  readonly compiled: boolean;
  /** The session table (`FactorSetOptions.sessions`; empty when none was given). */
  readonly sessions: SessionTable;
  /** Per factor: true when its `session` parameter is `auto` (resolved per symbol at init). */
  readonly autoSession: readonly boolean[];
  /** Stages run after the factors (stage.ts: the model layer's signals), in order. */
  readonly stages: readonly SymbolStage[];
  /** Per stage: the first column it writes, and the row positions of the columns it reads. */
  readonly stageOffsets: readonly number[];
  readonly stageInputIx: readonly (readonly number[])[];
}

export interface FactorSetOptions {
  /**
   * Generate a specialized runner per kind (default true; falls back to the interpreted loop where
   * the runtime forbids code generation). False runs the interpreted reference loop: same rows,
   * slower; tests compare the two.
   */
  compile?: boolean;
  /** Each symbol's session, for `session: 'auto'` factors and session bars (see SessionTable). */
  sessions?: SessionTable;
  /**
   * Stages to run after the factors of each event (stage.ts), their columns appended after the
   * factors'. Each reads columns written before it; one that reads a column nobody writes, or writes
   * one already taken, is refused (FactorDefinitionError).
   */
  stages?: readonly SymbolStage[];
}

/**
 * Prepares factors to be folded together: one row per event with every factor's columns, shared
 * derivations computed once. Throws FactorDefinitionError on duplicate columns.
 */
export function createFactorSet(factors: readonly AnyFactor[], options: FactorSetOptions = {}): FactorSet {
  const columns: string[] = [];
  const offsets: number[] = [];
  for (const f of factors) {
    offsets.push(columns.length);
    for (const c of f.columns) {
      if (columns.includes(c)) throw new FactorDefinitionError(f.name, `output column ${c} is defined twice in the set`);
      columns.push(c);
    }
  }
  const stages = options.stages ?? [];
  const stageOffsets: number[] = [];
  const stageInputIx = stages.map((st) => {
    const ix = st.inputs.map((c) => {
      const i = columns.indexOf(c);
      if (i < 0) throw new FactorDefinitionError(st.name, `reads column ${c}, which no factor (or earlier stage) of the set writes`);
      return i;
    });
    stageOffsets.push(columns.length);
    for (const c of st.columns) {
      if (columns.includes(c)) throw new FactorDefinitionError(st.name, `output column ${c} is defined twice in the set`);
      columns.push(c);
    }
    return Object.freeze(ix);
  });
  const derivations: Derivation[] = [];
  const derivationOf = factors.map((f) => {
    const d = f.derive?.from as Derivation | undefined;
    if (d === undefined) return -1;
    let i = derivations.indexOf(d);
    if (i < 0) {
      if (derivations.some((x) => x.name === d.name)) throw new FactorDefinitionError(f.name, `two different derivations are named ${d.name}`);
      i = derivations.push(d) - 1;
    }
    return i;
  });
  const readers = (mode: 'fired' | 'always' | 'fired-or-market') =>
    derivations.map((_, d) => factors.flatMap((f, i) => (derivationOf[i] === d && f.derive!.when === mode ? [i] : [])));
  const byKind = {} as Record<Kind, number[]>;
  const derivationsByKind = {} as Record<Kind, number[]>;
  for (const k of KINDS) {
    byKind[k] = factors.flatMap((f, i) => (derivationOf[i] < 0 && f.inputs.includes(k) ? [i] : []));
    derivationsByKind[k] = derivations.flatMap((d, i) => (d.inputs.includes(k) ? [i] : []));
  }
  const extraReaders = factors.map((f) => Object.values(f.extras ?? {}) as ExtraReader[]);
  const plan = {
    offsets,
    extraReaders,
    firedReaders: readers('fired'),
    alwaysReaders: readers('always'),
    marketReaders: readers('fired-or-market'),
    updateFns: factors.map((f) => f.update),
    paramsOf: factors.map((f) => f.params),
    deriveFns: derivations.map((d) => d.update),
    byKindIx: KINDS.map((k) => byKind[k]),
    derivationsByKindIx: KINDS.map((k) => derivationsByKind[k]),
  };
  const compiled = options.compile !== false && canGenerateCode();
  const makeRunner = compiled ? compileKind : interpretKind;
  return Object.freeze({
    ...plan,
    factors: Object.freeze([...factors]),
    columns: Object.freeze(columns),
    byKind,
    derivations: Object.freeze(derivations),
    derivationsByKind,
    derivationOf,
    runners: Object.freeze(KINDS.map((_, ki) => makeRunner(plan, ki))),
    compiled,
    sessions: new Map(options.sessions ?? []),
    autoSession: Object.freeze(factors.map((f) => f.params.session === 'auto')),
    stages: Object.freeze([...stages]),
    stageOffsets: Object.freeze(stageOffsets),
    stageInputIx: Object.freeze(stageInputIx),
  });
}

export interface SymbolState {
  symbol: string;
  /** One state per factor, in factor-set order. */
  states: unknown[];
  /** Latest output values, in column order. */
  values: (number | null)[];
  /** One state per derivation of the set, in set order. */
  derived: unknown[];
  /** Sequence guard per source kind, indexed by the kind's position in KINDS (an array: no per-event string-keyed lookup). */
  guards: (SeqGuard | null)[];
  /** One state per stage of the set (absent in a state saved by a set without stages). */
  stages?: unknown[];
}

export interface FoldStats {
  applied: number;
  late: number;
  duplicates: number;
  /** Events rejected by the plausibility rule (plausibility.ts): not applied. */
  rejected: number;
  rows: number;
}

/** Per-symbol factor states and counters of one fold (`initFold`); plain data, checkpointable. */
export interface FoldState {
  bySymbol: Map<string, SymbolState>;
  /** Symbols in sorted order, so heartbeats visit them identically however they were first seen. */
  order: string[];
  /** Guard for the symbol-less heartbeat source. */
  clockGuard: SeqGuard;
  stats: FoldStats;
  /** Why the last 'implausible' event was rejected (field, value, reason); null before any. */
  rejection: EventProblem | null;
}

/** Receives each output row. `values` is reused: copy what you keep. */
export type RowSink = (event: MarketEvent, symbol: string, values: readonly (number | null)[]) => void;

/** An empty fold: no symbols seen yet. Feed it events in order with `applyEvent`. */
export function initFold(): FoldState {
  return {
    bySymbol: new Map(),
    order: [],
    clockGuard: initSeqGuard(),
    stats: { applied: 0, late: 0, duplicates: 0, rejected: 0, rows: 0 },
    rejection: null,
  };
}

/**
 * Starts a new sequence session: every market source's duplicate/late guard (and the clock's)
 * forgets the numbers it has seen; factor state and counters stay. Most feeds number each day from
 * 1 again, so a fold that runs across days (a multi-date replay, a training set's parts) calls this
 * at each date boundary: the events applied are then exactly those of the per-day runs, and only
 * factor state carries over. Reference data (REFERENCE_KINDS: fundamentals, corporate actions)
 * keeps its guards: its numbers run across dates, and earlier-dated reference files are read again
 * by each date's selection, so a forgotten guard would apply an announcement twice.
 */
export function resetSequenceGuards(st: FoldState): void {
  for (const s of st.bySymbol.values()) {
    for (let k = 0; k < s.guards.length; k++) if (!REFERENCE_KIND_IX.includes(k)) s.guards[k] = null;
  }
  st.clockGuard = initSeqGuard();
}

/** Positions in KINDS of the reference kinds, whose guards survive a sequence session's start. */
const REFERENCE_KIND_IX: readonly number[] = REFERENCE_KINDS.map((k) => KINDS.indexOf(k));

function symbolState(set: FactorSet, st: FoldState, symbol: string): SymbolState {
  let s = st.bySymbol.get(symbol);
  if (s !== undefined) return s;
  const session = set.sessions.get(symbol) ?? DEFAULT_SESSION;
  s = {
    symbol,
    // an `auto` factor is initialised with its symbol's session in place of `auto`
    states: set.factors.map((f, i) => f.init(set.autoSession[i] ? { ...f.params, session } : f.params)),
    values: set.columns.map(() => null),
    derived: set.derivations.map((d) => d.init(session)),
    guards: KINDS.map(() => null),
    stages: set.stages.map((g) => g.init(symbol)),
  };
  st.bySymbol.set(symbol, s);
  let i = st.order.length;
  while (i > 0 && st.order[i - 1] > symbol) i--;
  st.order.splice(i, 0, symbol);
  return s;
}

// Kind positions in KINDS, as used to index the set's per-kind tables.
const HEARTBEAT = KINDS.indexOf('heartbeat');
const FUNDAMENTAL = KINDS.indexOf('fundamental');
const NEWS = KINDS.indexOf('news');
const CORPORATE_ACTION = KINDS.indexOf('corporate_action');
const BOOK = KINDS.indexOf('book');
const QUOTE = KINDS.indexOf('quote');
const TRADE = KINDS.indexOf('trade');

/**
 * Applies one event. Duplicates are dropped and late events applied per the sequence policy
 * (see sequence-guard.ts). The caller must have validated the event (validate-event.ts). An event
 * the plausibility rule rejects (a sequence number far ahead of its source's: plausibility.ts) is
 * not applied: the verdict is 'implausible', it is counted in `stats.rejected` and `st.rejection`
 * says why.
 */
export function applyEvent(set: FactorSet, st: FoldState, ev: MarketEvent, sink: RowSink): SeqVerdict {
  // Switch on the kind first: each case reads symbol and seq off one event shape, and calls its
  // kind's runner from its own site (a shared site would see five shapes and five runners).
  switch (ev.kind) {
    case 'book': {
      const s = symbolState(set, st, ev.symbol);
      const verdict = admit(st, s, BOOK, ev.seq);
      if (verdict === 'next' || verdict === 'late') {
        set.runners[BOOK](s, ev, false);
        if (set.stages.length !== 0) runStages(set, s, ev);
        st.stats.rows++;
        sink(ev, s.symbol, s.values);
      }
      return verdict;
    }
    case 'quote': {
      const s = symbolState(set, st, ev.symbol);
      const verdict = admit(st, s, QUOTE, ev.seq);
      if (verdict === 'next' || verdict === 'late') {
        set.runners[QUOTE](s, ev, false);
        if (set.stages.length !== 0) runStages(set, s, ev);
        st.stats.rows++;
        sink(ev, s.symbol, s.values);
      }
      return verdict;
    }
    case 'trade': {
      const s = symbolState(set, st, ev.symbol);
      const verdict = admit(st, s, TRADE, ev.seq);
      if (verdict === 'next' || verdict === 'late') {
        set.runners[TRADE](s, ev, false);
        if (set.stages.length !== 0) runStages(set, s, ev);
        st.stats.rows++;
        sink(ev, s.symbol, s.values);
      }
      return verdict;
    }
    case 'news':
    case 'fundamental':
    case 'corporate_action': {
      const ki = ev.kind === 'news' ? NEWS : ev.kind === 'fundamental' ? FUNDAMENTAL : CORPORATE_ACTION;
      const s = symbolState(set, st, ev.symbol);
      const verdict = admit(st, s, ki, ev.seq);
      if (verdict === 'next' || verdict === 'late') {
        set.runners[ki](s, ev, false);
        if (set.stages.length !== 0) runStages(set, s, ev);
        st.stats.rows++;
        sink(ev, s.symbol, s.values);
      }
      return verdict;
    }
    case 'heartbeat':
      return applyHeartbeat(set, st, ev, sink);
  }
}

function rejectSeq(st: FoldState, g: SeqGuard, seq: bigint): void {
  st.stats.rejected = (st.stats.rejected ?? 0) + 1; // a state saved before the count existed lacks it
  st.rejection = seqJumpProblem(g.last, seq);
}

function admit(st: FoldState, s: SymbolState, ki: number, seq: bigint): SeqVerdict {
  const g = (s.guards[ki] ??= initSeqGuard());
  const verdict = admitSeq(g, seq);
  if (verdict === 'next') st.stats.applied++;
  else if (verdict === 'late') {
    st.stats.late++;
    st.stats.applied++;
  } else if (verdict === 'duplicate') st.stats.duplicates++;
  else rejectSeq(st, g, seq);
  return verdict;
}

function applyHeartbeat(set: FactorSet, st: FoldState, ev: MarketEvent, sink: RowSink): SeqVerdict {
  const verdict = admitSeq(st.clockGuard, ev.seq);
  if (verdict === 'implausible') {
    rejectSeq(st, st.clockGuard, ev.seq);
    return verdict;
  }
  if (verdict === 'duplicate') {
    st.stats.duplicates++;
    return verdict;
  }
  if (verdict === 'late') st.stats.late++;
  st.stats.applied++;
  if (set.byKind.heartbeat.length === 0 && set.derivationsByKind.heartbeat.length === 0 && set.stages.length === 0) return verdict;
  for (const symbol of st.order) {
    const s = st.bySymbol.get(symbol)!;
    const changed = set.runners[HEARTBEAT](s, ev, true);
    if ((set.stages.length !== 0 && runStages(set, s, ev)) || changed) {
      st.stats.rows++;
      sink(ev, symbol, s.values);
    }
  }
  return verdict;
}

/**
 * Runs the set's stages on a symbol's row, after its factors; true when a stage changed a value.
 * A state restored from a checkpoint written without stages gets fresh stage states here.
 */
function runStages(set: FactorSet, s: SymbolState, ev: MarketEvent): boolean {
  const states = (s.stages ??= set.stages.map((g) => g.init(s.symbol)));
  let changed = false;
  for (let i = 0; i < set.stages.length; i++) {
    if (set.stages[i].update(states[i], s.values, set.stageInputIx[i], set.stageOffsets[i], ev)) changed = true;
  }
  return changed;
}
