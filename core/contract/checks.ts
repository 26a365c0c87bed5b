/**
 * The factor contract's checks that need no reference implementation, shared by the test suite
 * (core/factors/contract.test.ts, over fast-check streams) and `lockstep factors check` (over the
 * fixed streams of `contractStreams`): determinism (two runs give bit-identical rows and states),
 * snapshot/restore (a run cut anywhere, serialized through both codecs and restored, continues like
 * an uninterrupted one: the state is plain data), batch splits (folded in batches with a
 * checkpoint between each, as a live worker does), and null before the factor's first input
 * (through the fold, which calls a factor only for its input kinds, a guard on the fold more than
 * on the factor; the suite holds bar-based factors to their declared warm-up).
 *
 * Factors run through the real fold (createFactorSet([factor]) + applyEvent), so heartbeats,
 * duplicate removal and late events are handled exactly as in production. Pure: no clock, no I/O.
 */
import { LockstepError, SnapshotError, UserError } from '../errors.ts';
import type { MarketEvent } from '../events.ts';
import type { AnyFactor } from '../factor.ts';
import { applyEvent, createFactorSet, initFold, type FoldState } from '../fold.ts';
import { decodeState, encodeState, hashState, stateFromJson, stateToJson } from '../state-codec.ts';
import { buildStream, longRecipe, mixedRecipe } from './streams.ts';

/** A factor broke the contract: names the factor and the check; a user error (exit 2) from the CLI. */
export class FactorContractError extends UserError {
  constructor(
    readonly factor: string,
    readonly check: string,
    readonly detail: string,
  ) {
    super(`factor ${factor} fails the contract (${check}): ${detail}`);
  }
}

/** One output row of a single-factor run. */
export interface Row {
  kind: string;
  seq: bigint;
  symbol: string;
  values: (number | null)[];
}

/** A JSON-ish rendering that shows bigints and NaN (for failure messages). */
export const show = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : Number.isNaN(x) ? 'NaN' : x));

/**
 * Runs `factor` alone through the fold over `stream[from..]`, from state `st`, appending its rows.
 * An exception from the factor's code (not the fold's own refusals) is a contract failure naming
 * the event.
 */
export function runRows(factor: AnyFactor, stream: readonly MarketEvent[], st: FoldState = initFold(), from = 0, rows: Row[] = []): { rows: Row[]; st: FoldState } {
  const set = createFactorSet([factor]);
  for (let i = from; i < stream.length; i++) {
    try {
      applyEvent(set, st, stream[i], (ev, symbol, values) => rows.push({ kind: ev.kind, seq: ev.seq, symbol, values: [...values] }));
    } catch (e) {
      if (e instanceof LockstepError) throw e;
      throw new FactorContractError(factor.name, 'runs', `threw on event #${i} ${show(stream[i])}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return { rows, st };
}

/** The first difference between two row lists, or null when they are bit-identical. */
export function sameRows(a: readonly Row[], b: readonly Row[]): string | null {
  if (a.length !== b.length) return `row count ${a.length} vs ${b.length}`;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x.kind !== y.kind || x.seq !== y.seq || x.symbol !== y.symbol) return `row ${i}: key ${show([x.kind, x.seq, x.symbol])} vs ${show([y.kind, y.seq, y.symbol])}`;
    for (let c = 0; c < x.values.length; c++) {
      if (!Object.is(x.values[c], y.values[c])) return `row ${i} column ${c}: ${show(x.values[c])} vs ${show(y.values[c])}`;
    }
  }
  return null;
}

/** Two runs over the same stream give bit-identical rows and end in the same state. */
export function checkDeterminism(factor: AnyFactor, stream: readonly MarketEvent[]): void {
  const a = runRows(factor, stream);
  const b = runRows(factor, stream);
  const diff = sameRows(a.rows, b.rows);
  if (diff !== null) throw new FactorContractError(factor.name, 'determinism', `two runs differ at ${diff}`);
  if (hashState(a.st) !== hashState(b.st)) throw new FactorContractError(factor.name, 'determinism', 'two runs end in different states');
}

/**
 * Snapshot at `cut` through both codecs (binary and JSON), restore into fresh runs, continue;
 * compare with the uninterrupted run `full`. A state that is not plain data fails here.
 */
export function checkRestore(factor: AnyFactor, stream: readonly MarketEvent[], cut: number, full = runRows(factor, stream)): void {
  const head = runRows(factor, stream.slice(0, cut));
  let bytes: Uint8Array;
  let json: string;
  try {
    bytes = encodeState(head.st);
    json = stateToJson(head.st);
  } catch (e) {
    throw new FactorContractError(factor.name, 'snapshot/restore', `its state cannot be checkpointed after event ${cut}: ${e instanceof Error ? e.message : String(e)}`);
  }
  for (const [how, restored] of [
    ['encodeState/decodeState', decodeState<FoldState>(bytes)],
    ['stateToJson/stateFromJson', stateFromJson<FoldState>(json)],
  ] as const) {
    const tail = runRows(factor, stream, restored, cut, head.rows.map((r) => ({ ...r, values: [...r.values] })));
    const diff = sameRows(full.rows, tail.rows);
    if (diff !== null) throw new FactorContractError(factor.name, 'snapshot/restore', `restored at event ${cut} via ${how}, differs at ${diff}`);
    if (hashState(tail.st) !== hashState(full.st)) throw new FactorContractError(factor.name, 'snapshot/restore', `restored at event ${cut} via ${how}, final state differs`);
  }
}

/**
 * The stream folded in batches, the state checkpointed (binary codec) and restored between each
 * two, as a worker that commits every few events does: rows and final state equal one run's.
 */
export function checkBatches(factor: AnyFactor, stream: readonly MarketEvent[], batches: number, full = runRows(factor, stream)): void {
  let st = initFold();
  const rows: Row[] = [];
  for (let b = 0; b < batches; b++) {
    const from = Math.floor((stream.length * b) / batches);
    const to = Math.floor((stream.length * (b + 1)) / batches);
    runRows(factor, stream.slice(0, to), st, from, rows);
    st = decodeState<FoldState>(encodeState(st));
  }
  const diff = sameRows(full.rows, rows);
  if (diff !== null) throw new FactorContractError(factor.name, 'batch splits', `folded in ${batches} batches with a checkpoint between each, differs at ${diff}`);
  if (hashState(st) !== hashState(full.st)) throw new FactorContractError(factor.name, 'batch splits', `folded in ${batches} batches, the final state differs`);
}

/**
 * A symbol's values stay null until an event of one of the factor's input kinds has reached that
 * symbol (a heartbeat reaches every symbol already seen). The least any warm-up must do; the test
 * suite also holds bar-based factors to their declared number of bars.
 */
export function checkNullBeforeInput(factor: AnyFactor, stream: readonly MarketEvent[]): void {
  const set = createFactorSet([factor]);
  const st = initFold();
  const warm = new Set<string>();
  stream.forEach((e, i) =>
    applyEvent(set, st, e, (ev, symbol, values) => {
      if (factor.inputs.includes(ev.kind)) warm.add(symbol);
      if (!warm.has(symbol) && values.some((v) => v !== null)) {
        throw new FactorContractError(factor.name, 'warm-up', `not null for ${symbol} after event #${i} ${show(e)}, before any ${factor.inputs.join('/')} event of that symbol: ${show(values)}`);
      }
    }),
  );
}

/** The fixed streams `lockstep factors check` runs: 90 minutes of two symbols, and mixed traffic. */
export function contractStreams(mixed = 24): MarketEvent[][] {
  const out = [buildStream(longRecipe(7, 90))];
  for (let s = 1; s <= mixed; s++) out.push(buildStream(mixedRecipe(20240315 + s, 40 + ((s * 37) % 260))));
  return out;
}

/** What `checkContract` ran, for the report. */
export interface ContractReport {
  factor: string;
  streams: number;
  events: number;
  /** Non-null values the factor produced over the streams (0: it never warmed up). */
  values: number;
  restoreCuts: number;
}

/**
 * Every generic check over `streams` (default `contractStreams()`); throws FactorContractError at
 * the first failure. The long stream is cut at four places and folded in 7 batches, each mixed
 * stream is cut at one place.
 */
export function checkContract(factor: AnyFactor, streams: readonly (readonly MarketEvent[])[] = contractStreams()): ContractReport {
  try {
    return runChecks(factor, streams);
  } catch (e) {
    // the codec's refusal (a function or class instance in the state) is this factor's breach
    if (e instanceof SnapshotError) throw new FactorContractError(factor.name, 'plain-data state', e.message);
    throw e;
  }
}

function runChecks(factor: AnyFactor, streams: readonly (readonly MarketEvent[])[]): ContractReport {
  let events = 0;
  let values = 0;
  let restoreCuts = 0;
  streams.forEach((stream, k) => {
    events += stream.length;
    const full = runRows(factor, stream);
    for (const r of full.rows) for (const v of r.values) if (v !== null) values++;
    checkNullBeforeInput(factor, stream);
    checkDeterminism(factor, stream);
    const cuts = k === 0 ? [1, 997, Math.floor(stream.length / 2), stream.length - 3] : [Math.floor((stream.length * ((k * 7) % 10)) / 10)];
    for (const cut of cuts.filter((c) => c >= 0 && c <= stream.length)) {
      checkRestore(factor, stream, cut, full);
      restoreCuts++;
    }
    if (k === 0) checkBatches(factor, stream, 7, full);
  });
  return { factor: factor.name, streams: streams.length, events, values, restoreCuts };
}
