/**
 * The PnL fold: the ledger (ledger.ts) and the limits (limits.ts) driven by one ordered stream of
 * inputs — the factor fold's output rows (a mark: `mid` or `last_price`, and an rv column) and
 * fills — with the PnL time series sampled on a fixed grid of event time.
 *
 * Order: inputs are applied by receive time (ts_recv); at the same instant, market rows come before
 * fills. Why: a fill at T is the gateway's report of an execution against the market as it stood at
 * T, and the platform learned of both at T; valuing the new position at the mark of T (not the
 * stale one of T − ε) is what live sees once both have arrived, whatever their arrival order within
 * the instant. The caller merges the two streams in that order (`compareInputs`).
 *
 * Sampling: the sample at grid time T (a multiple of `every`, epoch-aligned) is the ledger after
 * every input with ts < T. It is emitted when the first input with ts ≥ T arrives, so no sample is
 * emitted past the last input (live could not know the input ended), and a gap between inputs
 * emits every grid time in it (the state does not change in a gap). The first sample is the
 * first grid time after the first input at or after `from` (inputs before it, such as a replay's
 * warm-up from earlier days, are applied but not sampled). Limits are evaluated after each
 * input on what it changed.
 *
 * No I/O, clock, randomness or promises; event time (bigint ns) is the only clock.
 */
import { applyFill, applyMarkPrice, clearDirty, initLedger, type FillOutcome, type Ledger, type LedgerConfig } from './ledger.ts';
import { snapshot, type BookRecord } from './ledger-snapshot.ts';
import { evaluateLimits, initLimits, type LimitRecord, type Limits } from './limits.ts';
import type { Fill } from './types.ts';

/** One factor output row as the fold reads it: the configured mark column and rv column (null: none). */
export interface MarkRow {
  symbol: string;
  /** ts_recv of the event that produced the row. */
  ts: bigint;
  price: number | null;
  rv: number | null;
}

/** The fold's configuration. */
export interface PnlFoldConfig {
  ledger: LedgerConfig;
  limits: Limits;
  /** Sampling step in ns (1 s = 1_000_000_000n). */
  every: bigint;
  /** No sample before this time (the replayed date's start: warm-up inputs of earlier days are applied, not sampled). */
  from?: bigint;
}

/** The fold's state: plain data. */
export interface PnlFoldState {
  cfg: PnlFoldConfig;
  ledger: Ledger;
  limits: ReturnType<typeof initLimits>;
  /** The next grid time to sample (null before the first input). */
  next: bigint | null;
  /** Event time of the last input applied. */
  last: bigint | null;
}

/** What one input produced: samples due before it (books at each grid time) and limit transitions after it. */
export interface PnlOutput {
  samples: BookRecord[];
  breaches: LimitRecord[];
}

/** A new fold. */
export function initPnlFold(cfg: PnlFoldConfig): PnlFoldState {
  if (cfg.every <= 0n) throw new RangeError('every must be > 0');
  return { cfg, ledger: initLedger(cfg.ledger), limits: initLimits(cfg.limits), next: null, last: null };
}

/** The order of the merged inputs: ts_recv, then market rows before fills at the same instant. */
export function compareInputs(a: { ts: bigint; fill: boolean }, b: { ts: bigint; fill: boolean }): number {
  if (a.ts !== b.ts) return a.ts < b.ts ? -1 : 1;
  return a.fill === b.fill ? 0 : a.fill ? 1 : -1;
}

function advance(st: PnlFoldState, ts: bigint, out: PnlOutput): void {
  if (st.last !== null && ts < st.last) ts = st.last; // a clock never goes back: a late input counts now
  if (st.next === null && ts >= (st.cfg.from ?? 0n)) st.next = (ts / st.cfg.every + 1n) * st.cfg.every;
  while (st.next !== null && st.next <= ts) {
    for (const r of snapshot(st.ledger, st.next, { positions: false }).books) out.samples.push(r);
    st.next += st.cfg.every;
  }
  st.last = ts;
}

function limitsAfter(st: PnlFoldState, out: PnlOutput): void {
  const l = st.ledger;
  if (l.dirtyBooks.length === 0 && l.dirtySymbols.length === 0) return;
  for (const r of evaluateLimits(st.limits, l, st.last!)) out.breaches.push(r);
  clearDirty(l);
}

/**
 * Applies one factor row: samples due before it, then the new mark and rv, then the limits. A row
 * without a usable mark (null, ≤ 0: no quote yet, a one-sided book) is not an input at all, as in
 * the live desk's fold (desk-fold.ts): it neither moves the clock nor opens the series, so both
 * sample the same seconds and apply the same marks, and their VaR sums are equal bit for bit.
 */
export function stepRow(st: PnlFoldState, row: MarkRow, out: PnlOutput): void {
  if (row.price === null || !(row.price > 0)) return;
  advance(st, row.ts, out);
  applyMarkPrice(st.ledger, row.symbol, st.last!, row.price, row.rv);
  limitsAfter(st, out);
}

/** Applies one fill: samples due before it, the fill (or its rejection: a duplicate is never applied twice), then the limits. */
export function stepFill(st: PnlFoldState, fill: Fill, out: PnlOutput): FillOutcome {
  advance(st, fill.tsRecv, out);
  const r = applyFill(st.ledger, fill);
  limitsAfter(st, out);
  return r;
}

/** An empty output to pass to the step functions. */
export function pnlOutput(): PnlOutput {
  return { samples: [], breaches: [] };
}
