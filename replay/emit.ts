/**
 * Which rows of the fold's output a factor table keeps (`--emit`): a pure step between the fold's
 * row callback and the writer, so a replay and live could share it. No I/O, clock or promises;
 * event time (the row's ts_recv, the merge order of both paths) is the only clock.
 *
 * - `rows` (default): every row the fold emits, unchanged.
 * - `every:D`: at each grid time T = k·D (epoch-aligned, from the first row on), for each symbol
 *   that had any row with ts < T, that symbol's last row with ts < T. Strictly before T, as
 *   portfolio/fold.ts: rows sharing an instant arrive clock first, so a row at T proves only that
 *   everything before T is in. (The training-set builder samples at ts <= t instead.)
 * - `bars:D`: at each T = k·D, for each symbol with at least one row in [T-D, T), its last row
 *   there: the values at the interval's close. A symbol without a row in the interval has no bar.
 * - `changes`: a row only when one of its output values differs from that symbol's previous
 *   emitted row (bit for bit: null, NaN and -0 compare as themselves); a symbol's first row always.
 *
 * Sampled rows (`every`, `bars`) carry the sample time T in ts_event and ts_recv; source and seq
 * name the row whose values they hold. T is taken once a row with ts >= T arrives: there is no
 * end-of-input flush (live could not know the input ended), so a replay and live agree.
 * Symbols at one T come in code-unit order of their names. Output depends only on the row stream,
 * not on how it is batched or split.
 */
import type { MarketEvent } from '../core/events.ts';
import type { RowSink } from '../core/fold.ts';
import { UsageError } from '../core/errors.ts';

export type EmitMode = { kind: 'rows' } | { kind: 'every'; stepNs: bigint } | { kind: 'bars'; stepNs: bigint } | { kind: 'changes' };

const NS = { ns: 1n, us: 1_000n, ms: 1_000_000n, s: 1_000_000_000n, m: 60_000_000_000n, h: 3_600_000_000_000n, d: 86_400_000_000_000n } as const;

/** Raised for an `--emit` value that is not one of the modes. */
export class EmitModeError extends UsageError {
  constructor(readonly value: string) {
    super(`--emit ${JSON.stringify(value)}: use rows (default), every:DURATION (e.g. every:1s), bars:DURATION (e.g. bars:1m) or changes`);
  }
}

/** `rows`, `every:1s`, `bars:1m`, `changes` → the mode. */
export function parseEmit(text: string): EmitMode {
  const t = text.trim();
  if (t === 'rows') return { kind: 'rows' };
  if (t === 'changes') return { kind: 'changes' };
  const m = /^(every|bars):(\d+)(ns|us|ms|s|m|h|d)$/.exec(t);
  if (!m || BigInt(m[2]) === 0n) throw new EmitModeError(text);
  return { kind: m[1] as 'every' | 'bars', stepNs: BigInt(m[2]) * NS[m[3] as keyof typeof NS] };
}

/** The row identity the writer reads off an event. */
type RowKey = Pick<MarketEvent, 'kind' | 'seq' | 'tsEvent' | 'tsRecv'>;

interface Latest {
  kind: MarketEvent['kind'];
  seq: bigint;
  ts: bigint;
  values: (number | null)[];
}

/** An emitter's state: each symbol's last row, and the next grid time. */
export interface Emitter {
  readonly mode: EmitMode;
  /** Symbol → its last row (sampled modes) or its last emitted row (`changes`). */
  latest: Map<string, Latest>;
  /** Symbols in code-unit order (the order of a sample's rows). */
  symbols: string[];
  /** The next sample time; -1n before the first row. */
  nextT: bigint;
  /** The row callback to hand the fold. */
  readonly row: RowSink;
}

function insertSorted(list: string[], s: string): void {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid] < s) lo = mid + 1;
    else hi = mid;
  }
  list.splice(lo, 0, s);
}

function sameValues(a: readonly (number | null)[], b: readonly (number | null)[]): boolean {
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

function ceilTo(t: bigint, step: bigint): bigint {
  const r = ((t % step) + step) % step;
  return r === 0n ? t : t + step - r;
}

/**
 * An emitter that hands its rows to `out`. For `every`/`bars`, call `due(now)` / `emitNext(...)`
 * before handing the fold an event at `now` (runReplay does), so each sample sees exactly the rows before it.
 */
export function createEmitter(mode: EmitMode, out: RowSink): Emitter {
  const e: Emitter = {
    mode,
    latest: new Map(),
    symbols: [],
    nextT: -1n,
    row: out,
  };
  if (mode.kind === 'rows') return e;
  (e as { row: RowSink }).row = (ev, symbol, values) => {
    let l = e.latest.get(symbol);
    if (mode.kind === 'changes') {
      if (l !== undefined && sameValues(l.values, values)) return;
      out(ev, symbol, values);
    }
    if (l === undefined) {
      l = { kind: ev.kind, seq: ev.seq, ts: ev.tsRecv, values: values.slice() };
      e.latest.set(symbol, l);
      insertSorted(e.symbols, symbol);
    } else {
      l.kind = ev.kind;
      l.seq = ev.seq;
      l.ts = ev.tsRecv;
      for (let i = 0; i < values.length; i++) l.values[i] = values[i];
    }
    // the first row fixes the first grid time: the first multiple of D after it
    if (e.nextT < 0n && mode.kind !== 'changes') e.nextT = ceilTo(ev.tsRecv + 1n, mode.stepNs);
  };
  return e;
}

/** True when a sample is due before rows at `now` may be handed over (all rows before it are in). */
export function emitDue(e: Emitter, now: bigint): boolean {
  return e.nextT >= 0n && e.nextT <= now;
}

/** Emits the due sample at `e.nextT` (at most one row per symbol) and moves to the next grid time. */
export function emitNext(e: Emitter, out: RowSink): void {
  const mode = e.mode;
  if (mode.kind !== 'every' && mode.kind !== 'bars') return;
  const t = e.nextT;
  const open = t - mode.stepNs;
  for (const symbol of e.symbols) {
    const l = e.latest.get(symbol)!;
    if (mode.kind === 'bars' && l.ts < open) continue;
    const key: RowKey = { kind: l.kind, seq: l.seq, tsEvent: t, tsRecv: t };
    out(key as MarketEvent, symbol, l.values);
  }
  e.nextT = t + mode.stepNs;
}

/**
 * Skips grid times at which a sample would emit nothing (`bars` with no row since `e.nextT`):
 * a long gap then costs one step, not one per interval. `every` emits at each T, so it never skips.
 */
export function skipEmpty(e: Emitter, now: bigint): void {
  const mode = e.mode;
  if (mode.kind !== 'bars' || e.nextT < 0n) return;
  let newest = -1n;
  for (const l of e.latest.values()) if (l.ts > newest) newest = l.ts;
  // no row at or after nextT - D: every interval up to the one holding `now` is empty
  if (newest < e.nextT - mode.stepNs) {
    const t = ceilTo(now + 1n, mode.stepNs);
    if (t > e.nextT) e.nextT = t;
  }
}

/** The mode as `--emit` spells it, with the step in ns (`every:1000000000ns`): exact, for file metadata. */
export function emitLabel(m: EmitMode): string {
  return m.kind === 'every' || m.kind === 'bars' ? `${m.kind}:${m.stepNs}ns` : m.kind;
}
