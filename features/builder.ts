/**
 * The point-in-time training-set builder: a pure fold over the merged event stream that runs the
 * replay's own fold (core/fold.ts applyEvent) and samples each symbol's `values` at sample instants,
 * with forward labels from labels.ts. No I/O, clock or promises: the caller feeds events
 * (`stepBuilder`), ends the stream (`finishBuilder`) and takes row batches (`takeReady`).
 *
 * "As known at t" is by receive time: a sample at t is taken before applying the first event with
 * ts_recv > t, so it holds every event with ts_recv <= t and nothing after, whatever the events'
 * ts_event (a late correction with ts_event <= t but ts_recv > t is not in it). Sample instants:
 * - every:D — each t = k·D (epoch-aligned) in the sampling window from the first event in it,
 *   for every symbol the fold has seen, while an event after t exists;
 * - bars:D — each t = k·D for the symbols with an applied trade with ts_recv in (t-D, t];
 * - trades — t = a trade's ts_recv, after every event with ts_recv <= t (one row per symbol and
 *   distinct trade ts_recv); only applied trades (a duplicate delivery is not a trade);
 * - entities — the user's (symbol, t) rows, in ascending t (ties in the user's order).
 */
import { KINDS, type MarketEvent } from '../core/events.ts';
import { UsageError } from '../core/errors.ts';
import { applyEvent, initFold, type FactorSet, type FoldState, type RowSink, type SymbolState } from '../core/fold.ts';
import { addSample, afterEvent, beforeEvent, finishLabels, initLabelMachine, initLabelSymbol, type LabelMachine, type LabelOutcome, type LabelSymbol } from './labels.ts';
import { nextDateStart, startDate } from './day-boundary.ts';
import { appendRow, initRowStore, setLabel, takeReady as takeStoreReady, type AsOf, type RowBatch, type RowStore } from './row-store.ts';
import type { LabelColumn } from './spec.ts';

/** One entity row: the user's symbol and instant, and its 0-based row in the user's file. */
export interface EntityRow {
  symbol: string;
  ts: bigint;
  row: number;
}

export type BuilderSample = { kind: 'every'; stepNs: bigint } | { kind: 'bars'; stepNs: bigint } | { kind: 'trades' } | { kind: 'entities'; rows: readonly EntityRow[] };

export interface BuilderConfig {
  set: FactorSet;
  /** Feature columns to write (a subset of set.columns, in its order). */
  features: readonly string[];
  labels: readonly LabelColumn[];
  haltGapNs: bigint;
  sample: BuilderSample;
  /** Samples are taken only at instants in [fromNs, toNs). */
  fromNs: bigint;
  toNs: bigint;
  /** Split value of a sample instant, when the build writes a split column. */
  split?: (ts: bigint) => string | null;
  /** Sees every sample as it is taken (the leakage check records some); `values` is the fold's live array. */
  tap?: (symbol: string, t: bigint, values: readonly (number | null)[] | null, featureIdx: readonly number[]) => void;
}

/** Per symbol: the as-of identity (its last applied event; kind -1 before any), label state, fold state. */
interface SymInfo extends AsOf {
  label: LabelSymbol;
  lastTradeTs: bigint;
  /** The fold's state of the symbol (stable once made), cached to skip a map lookup per event. */
  state: SymbolState | undefined;
}

/** The builder's state: the fold, per-symbol as-of identity and label state, and pending rows. */
export interface Builder {
  cfg: BuilderConfig;
  fold: FoldState;
  store: RowStore;
  labels: LabelMachine;
  syms: Map<string, SymInfo>;
  featureIdx: number[];
  midIdx: number;
  lastIdx: number;
  /** Next sample instant; samples with t < an event's ts_recv are taken before it is applied. */
  nextT: bigint;
  started: boolean;
  /** Start of the date after the last event's: the first event at or past it starts a new date. */
  dateEnd: bigint;
  /** trades: symbols traded at nextT, in arrival order. */
  traded: string[];
  /** entities: next row to sample. */
  entityAt: number;
  finished: boolean;
  /** Label columns (index into labels) per horizon: [column, field]. */
  byHorizon: [number, keyof LabelOutcome, boolean][][];
}

const NEVER = (1n << 63n) - 1n;
const NO_ROWS: RowSink = () => {};

/** Distinct horizons of the label columns, in first-use order. */
export function horizonsOf(labels: readonly LabelColumn[]): bigint[] {
  return [...new Set(labels.map((l) => l.horizonNs))];
}

/** A builder over `fold` (a fresh one by default: pass a warm fold to continue one). */
export function initBuilder(cfg: BuilderConfig, fold: FoldState = initFold()): Builder {
  const col = (name: string) => cfg.set.columns.indexOf(name);
  const midIdx = col('mid');
  const lastIdx = col('last_price');
  if (cfg.labels.length > 0 && (midIdx < 0 || lastIdx < 0)) throw new UsageError('--labels reads the fold\'s own mid and last_price: the factor set must include the mid and last_price factors');
  const horizons = horizonsOf(cfg.labels);
  const byHorizon = horizons.map((h) =>
    cfg.labels.flatMap((l, j): [number, keyof LabelOutcome, boolean][] => (l.horizonNs !== h ? [] : [[j, l.family === 'fwd_vol' ? 'volMid' : l.price === 'mid' ? 'retMid' : 'retLast', l.family === 'fwd_sign']])),
  );
  const store = initRowStore({ features: cfg.features, labels: cfg.labels.map((l) => l.name), entityRow: cfg.sample.kind === 'entities', split: cfg.split !== undefined });
  const b: Builder = {
    cfg,
    fold,
    store,
    labels: undefined as unknown as LabelMachine,
    syms: new Map(),
    featureIdx: cfg.features.map(col),
    midIdx,
    lastIdx,
    nextT: NEVER,
    started: false,
    dateEnd: -1n,
    traded: [],
    entityAt: 0,
    finished: false,
    byHorizon,
  };
  b.labels = initLabelMachine(horizons, cfg.haltGapNs, (row, k, out) => {
    const cols = b.byHorizon[k];
    for (let c = 0; c < cols.length; c++) {
      const [j, field, sign] = cols[c];
      const v = out[field];
      setLabel(b.store, row, j, sign ? (v === v ? Math.sign(v) + 0 : NaN) : v, c === cols.length - 1);
    }
  });
  if (cfg.sample.kind === 'entities') b.nextT = cfg.sample.rows.length > 0 ? cfg.sample.rows[0].ts : NEVER;
  return b;
}

function sample(b: Builder, symbol: string, t: bigint, entityRow: number): void {
  const info = b.syms.get(symbol);
  const values = b.fold.bySymbol.get(symbol)?.values ?? null;
  b.cfg.tap?.(symbol, t, values, b.featureIdx);
  const k = b.labels.horizons.length;
  // one pending count per horizon (the label callback counts a horizon done on its last column);
  // a symbol the data has not shown has no price to label: its labels are null at once
  const row = appendRow(b.store, symbol, t, BigInt(entityRow), info !== undefined && info.kind >= 0 ? info : null, values, b.featureIdx, info === undefined ? 0 : k);
  if (info === undefined || k === 0) return;
  addSample(b.labels, info.label, row, t);
}

/** Takes every sample with an instant before `now` (the fold holds everything received before it). */
function sampleBefore(b: Builder, now: bigint): void {
  const s = b.cfg.sample;
  while (b.nextT < now) {
    const t = b.nextT;
    if (s.kind === 'every') {
      for (const symbol of b.fold.order) sample(b, symbol, t, 0);
      b.nextT = t + s.stepNs < b.cfg.toNs ? t + s.stepNs : NEVER;
    } else if (s.kind === 'bars') {
      const open = t - s.stepNs;
      for (const symbol of b.fold.order) {
        const info = b.syms.get(symbol);
        if (info !== undefined && info.lastTradeTs > open) sample(b, symbol, t, 0);
      }
      b.nextT = t + s.stepNs < b.cfg.toNs ? t + s.stepNs : NEVER;
    } else if (s.kind === 'trades') {
      for (const symbol of b.traded) sample(b, symbol, t, 0);
      b.traded.length = 0;
      b.nextT = NEVER;
    } else {
      const rows = s.rows;
      while (b.entityAt < rows.length && rows[b.entityAt].ts === t) {
        const r = rows[b.entityAt++];
        sample(b, r.symbol, t, r.row);
      }
      b.nextT = b.entityAt < rows.length ? rows[b.entityAt].ts : NEVER;
    }
  }
}

function ceilTo(t: bigint, step: bigint): bigint {
  const r = ((t % step) + step) % step;
  return r === 0n ? t : t + step - r;
}

/** Applies one event (in the merged order): samples before it, resolves labels, folds it. */
export function stepBuilder(b: Builder, ev: MarketEvent): void {
  const now = ev.tsRecv;
  if (now >= b.dateEnd) {
    if (b.dateEnd >= 0n) startDate(b.fold);
    b.dateEnd = nextDateStart(now);
  }
  if (!b.started && now >= b.cfg.fromNs) {
    b.started = true;
    const s = b.cfg.sample;
    if (s.kind === 'every' || s.kind === 'bars') {
      const t = ceilTo(now, s.stepNs);
      b.nextT = t < b.cfg.toNs ? t : NEVER;
    }
  }
  if (b.nextT < now) sampleBefore(b, now);
  let info: SymInfo | undefined;
  if (ev.kind !== 'heartbeat') {
    info = b.syms.get(ev.symbol);
    if (info === undefined) {
      info = { tsRecv: 0n, kind: -1, seq: 0n, label: initLabelSymbol(b.labels), lastTradeTs: -1n, state: undefined };
      b.syms.set(ev.symbol, info);
    }
  }
  beforeEvent(b.labels, info?.label ?? null, now);
  const verdict = applyEvent(b.cfg.set, b.fold, ev, NO_ROWS);
  if (info === undefined || (verdict !== 'next' && verdict !== 'late')) return;
  // rows copy the identity when they are taken (appendRow), so it is updated in place
  info.tsRecv = now;
  info.kind = KINDS.indexOf(ev.kind);
  info.seq = ev.seq;
  const values = (info.state ??= b.fold.bySymbol.get(ev.symbol)!).values;
  afterEvent(b.labels, info.label, now, ev.kind, b.midIdx >= 0 ? values[b.midIdx] : null, b.lastIdx >= 0 ? values[b.lastIdx] : null);
  if (ev.kind === 'trade') {
    info.lastTradeTs = now;
    if (b.cfg.sample.kind === 'trades' && now >= b.cfg.fromNs && now < b.cfg.toNs) {
      if (b.nextT !== now) b.nextT = now;
      if (!b.traded.includes(ev.symbol)) b.traded.push(ev.symbol);
    }
  }
}

/**
 * The end of the data: samples still owed at instants covered by it (trades, entities) are taken,
 * every label still pending is null (its horizon runs past the data).
 */
export function finishBuilder(b: Builder): void {
  if (b.finished) return;
  if (b.cfg.sample.kind === 'trades' || b.cfg.sample.kind === 'entities') sampleBefore(b, NEVER);
  finishLabels(b.labels);
  b.finished = true;
}

/** The next batch of finished rows, in row order, or null when none is ready. */
export function takeReady(b: Builder): RowBatch | null {
  return takeStoreReady(b.store, b.finished, b.cfg.split);
}
