/**
 * One replay: catalog files → k-way merge in core's order → the fold → the factor table.
 *
 * What is read is the selection (replay/selection.ts): one date or several folded as one stream,
 * with the fundamentals of every earlier date as point-in-time state. A window (`from`/`to`) warms
 * up by default from 00:00 of its first date: the events before the window are folded, not
 * written, so each written row holds the values the full-day replay has on that row.
 */
import { writeFileSync, readFileSync, renameSync } from 'node:fs';
import type { MarketEvent } from '../core/events.ts';
import type { AnyFactor } from '../core/factor.ts';
import type { SymbolStage } from '../core/stage.ts';
import { applyEvent, createFactorSet, initFold, resetSequenceGuards, type FoldState, type RowSink } from '../core/fold.ts';
import { DEFAULT_FACTORS, factorManifest, featureSetVersion } from '../core/registry.ts';
import { stateFromJson, stateToJson } from '../core/state-codec.ts';
import { dateStartNs, readCatalogSessions } from './catalog.ts';
import { UsageError } from '../core/errors.ts';
import { FactorTableSink, type SinkResult } from './factor-table-sink.ts';
import type { ArrowCompression } from './arrow-ipc-writer.ts';
import { createEmitter, emitDue, emitLabel, emitNext, skipEmpty, type EmitMode } from './emit.ts';
import { lineageOf, type StagesFor } from './lineage.ts';
import { EventMerge } from './merge.ts';
import { Pacer, type Speed } from './pacer.ts';
import { Progress } from './progress.ts';
import { isoNs } from './time-format.ts';
import { openSelection, planSelection, sequenceSessionStarts, type RangeSelection, type SelectionPlan } from './selection.ts';

export { openSelection, planSelection, selectReplayFiles, sequenceSessionStarts } from './selection.ts';
export type { OpenedSelection, RangeSelection, ReplaySelection, SelectionPlan } from './selection.ts';

/**
 * A replay: the selection, where to write the factor table (`out`) and which factors (default:
 * `DEFAULT_FACTORS`). `warmup` defaults to `'date-start'` here: a window enters with the state of a
 * run from 00:00 of its first date (`0n` for a cold start, a duration in ns to reach further back).
 */
export interface ReplayOptions extends RangeSelection {
  out: string;
  speed?: Speed;
  factors?: readonly AnyFactor[];
  /** Model stages after the factors (`--registry`: models/stages-for.ts): signal columns in the table. */
  models?: StagesFor;
  /** Per-symbol stages after the factors (the model layer's slots: models/load.ts). */
  stages?: readonly SymbolStage[];
  /** Body compression when `out` is an `.arrow` file (Arrow IPC); default none. */
  arrowCompression?: ArrowCompression;
  /** Which rows the table keeps (replay/emit.ts; default a row per fold output row). */
  emit?: EmitMode;
  /** Rows per output batch handed to the Parquet encoder (does not change the bytes). */
  batchRows?: number;
  rowGroupSize?: number;
  /** Stop after this many merged events and write a checkpoint to `checkpoint`. */
  stopAfter?: number;
  checkpoint?: string;
  /** Resume from a checkpoint written by a stopped run (same selection and factors). */
  resume?: string;
  progress?: boolean;
}

/** What a replay did: event and row counts, timings and the output file's hash. */
export interface ReplaySummary {
  events: number;
  applied: number;
  duplicates: number;
  late: number;
  rows: number;
  symbols: number;
  files: number;
  wallMs: number;
  eventsPerSec: number;
  output: SinkResult;
  stoppedAt?: number;
  firstTsRecv?: bigint;
  lastTsRecv?: bigint;
  /** The dates replayed (one stream, in order). */
  dates: string[];
  /** Earlier catalog dates the warm-up reached into (folded, not written). */
  warmupDates: string[];
  /** Events folded before the window without being written (counted in `events`). */
  warmupEvents: number;
  /** Where the warm-up started and where the written window starts; absent on a cold start. */
  warmupFromNs?: bigint;
  windowStartNs?: bigint;
}

/** The fold's row callback for warm-up events: their rows are state, not output. */
const discard: RowSink = () => {};

interface Checkpoint {
  consumed: number;
  featureSetVersion: string;
  selection: string;
  fold: FoldState;
}

/** What a checkpoint must have been made for: the resolved dates, filters, window and warm-up. */
function selectionKey(sel: RangeSelection, plan: SelectionPlan): string {
  const ns = (t: bigint | undefined) => (t === undefined ? null : String(t));
  return JSON.stringify([plan.dates, sel.symbols ?? null, sel.kinds ?? null, sel.from ?? null, sel.to ?? null, ns(plan.readFromNs), ns(plan.windowStartNs)]);
}

/** The checkpoint at `path` (written by --stop-after), or a UsageError saying why it cannot be used. */
function readCheckpoint(path: string): Checkpoint {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(`--resume ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : `cannot read it (${code ?? (e as Error).message})`}`);
  }
  let cp: Checkpoint;
  try {
    cp = stateFromJson<Checkpoint>(text);
  } catch (e) {
    throw new UsageError(`--resume ${path}: not a checkpoint written by --stop-after (${(e as Error).message})`);
  }
  if (typeof cp !== 'object' || cp === null || typeof cp.consumed !== 'number' || typeof cp.featureSetVersion !== 'string') {
    throw new UsageError(`--resume ${path}: not a checkpoint written by --stop-after`);
  }
  return cp;
}

/** Runs a replay to its end (or to `stopAfter`) and returns the summary. */
export async function runReplay(opts: ReplayOptions): Promise<ReplaySummary> {
  const factors = opts.factors ?? DEFAULT_FACTORS;
  // each symbol's session (`session: 'auto'` factors) comes from the catalog, as in live mode (feed.ts)
  const sessions = readCatalogSessions(opts.catalog);
  const models = opts.stages === undefined ? opts.models?.(createFactorSet(factors, { sessions }).columns) : undefined;
  const stages = opts.stages ?? models?.stages ?? [];
  const set = createFactorSet(factors, { sessions, stages });
  const fsVersion = featureSetVersion(factors, sessions, stages);
  const sel: RangeSelection = { ...opts, warmup: opts.warmup ?? 'date-start' };
  // the checkpoint is read before the catalog files are opened: a bad --resume leaves nothing open
  const emitMode = opts.emit ?? { kind: 'rows' };
  // the emitter's state is not in a checkpoint: a resumed run would sample from a blank slate
  if (emitMode.kind !== 'rows' && (opts.stopAfter !== undefined || opts.resume !== undefined)) {
    throw new UsageError('--emit: only the default (a row per event) can be combined with --stop-after or --resume');
  }
  let fold = initFold();
  let skip = 0;
  const cp = opts.resume ? readCheckpoint(opts.resume) : undefined;
  const plan = await planSelection(sel);
  const key = selectionKey(sel, plan);
  if (cp) {
    if (cp.featureSetVersion !== fsVersion) throw new UsageError(`checkpoint ${opts.resume} was made by feature set ${cp.featureSetVersion}, this run uses ${fsVersion}`);
    if (cp.selection !== key) throw new UsageError(`checkpoint ${opts.resume} was made for another selection (${cp.selection})`);
    fold = cp.fold;
    skip = cp.consumed;
  }
  const opened = await openSelection(sel, plan);
  const merge = new EventMerge(opened.cursors);
  const windowStart = plan.windowStartNs;

  const sink = new FactorTableSink(opts.out, set.columns, {
    batchRows: opts.batchRows,
    rowGroupSize: opts.rowGroupSize,
    arrowCompression: opts.arrowCompression,
    metadata: {
      featureSetVersion: fsVersion,
      factors: factorManifest(factors),
      // one date keeps the metadata it has always had (same bytes); a range records its dates
      ...(opts.date !== undefined ? { date: opts.date } : { dates: plan.dates }),
      // a sampled table says how (absent for the default, so the default's bytes stay as they were)
      ...(emitMode.kind !== 'rows' ? { emit: emitLabel(emitMode) } : {}),
      ...(windowStart !== undefined ? { warmup: { from: isoNs(plan.readFromNs!), window: isoNs(windowStart), dates: plan.warmupDates } } : {}),
      // what made the table and from which files (lineage.ts; `lockstep lineage FILE` prints it)
      lineage: lineageOf({ factors, sessions, files: opened.files, root: opts.catalog, stages, models: models?.lineage }),
    },
  });
  // warm-up events are handed over at once: pacing starts with the window
  const pacer = new Pacer(opts.speed ?? 'max', undefined, windowStart ?? dateStartNs(plan.dates[0]));
  const progress = new Progress(opened.totalRows, process.stderr, opts.progress ?? process.stderr.isTTY === true);
  const started = performance.now();
  let consumed = 0;
  let first: bigint | undefined;
  let last: bigint | undefined;
  let stoppedAt: number | undefined;
  let warmupEvents = 0;
  // the merged stream is in ts_recv order: once an event reaches the window, all later ones do
  let warming = windowStart !== undefined;
  // Each date read after the first starts a new sequence session (feeds renumber daily): the guards
  // start afresh at its 00:00, factor state carries. A resumed run passes the boundaries its
  // checkpoint already crossed without resetting again.
  const boundaries = sequenceSessionStarts(plan);
  let nextBoundary = boundaries.shift();
  const row = sink.row;
  const emitter = emitMode.kind === 'rows' ? undefined : createEmitter(emitMode, row);
  const out = emitter?.row ?? row;
  try {
    for (let ev: MarketEvent | null = merge.next(); ev !== null; ev = merge.next()) {
      consumed++;
      while (nextBoundary !== undefined && ev.tsRecv >= nextBoundary) {
        if (consumed > skip) resetSequenceGuards(fold);
        nextBoundary = boundaries.shift();
      }
      if (consumed <= skip) continue;
      first ??= ev.tsRecv;
      last = ev.tsRecv;
      const wait = pacer.pace(ev.tsRecv);
      if (wait) await wait;
      if (warming && ev.tsRecv < windowStart!) {
        applyEvent(set, fold, ev, discard);
        warmupEvents++;
      } else {
        warming = false;
        if (emitter !== undefined && emitDue(emitter, ev.tsRecv)) {
          skipEmpty(emitter, ev.tsRecv);
          // one sample at a time: a long gap under every:D is many samples, each drained in turn
          while (emitDue(emitter, ev.tsRecv)) {
            emitNext(emitter, row);
            if (sink.full) await sink.drain();
          }
        }
        applyEvent(set, fold, ev, out);
      }
      if (sink.full) await sink.drain();
      if ((consumed & 0x3fff) === 0) progress.update(consumed, ev.tsRecv);
      if (opts.stopAfter !== undefined && consumed >= opts.stopAfter) {
        stoppedAt = consumed;
        break;
      }
    }
  } catch (e) {
    await opened.close();
    await sink.abort();
    throw e;
  }
  await opened.close();
  const output = await sink.close();
  progress.done();
  if (stoppedAt !== undefined && opts.checkpoint) {
    const cp: Checkpoint = { consumed, featureSetVersion: fsVersion, selection: key, fold };
    const tmp = `${opts.checkpoint}.tmp`;
    writeFileSync(tmp, stateToJson(cp));
    renameSync(tmp, opts.checkpoint);
  }
  const wallMs = performance.now() - started;
  const events = consumed - skip;
  return {
    events,
    applied: fold.stats.applied,
    duplicates: fold.stats.duplicates,
    late: fold.stats.late,
    rows: output.rows,
    symbols: fold.order.length,
    files: opened.files.length,
    wallMs,
    eventsPerSec: events / (wallMs / 1000),
    output,
    stoppedAt,
    firstTsRecv: first,
    lastTsRecv: last,
    dates: plan.dates,
    warmupDates: plan.warmupDates,
    warmupEvents,
    ...(windowStart !== undefined ? { warmupFromNs: plan.readFromNs, windowStartNs: windowStart } : {}),
  };
}
