/**
 * Applying input entries to a shard's fold: the worker's per-entry hot path. It decodes an entry,
 * checks it belongs to the shard, runs the factors and queues the output rows and latest values
 * on the run (unless they are already committed); a bad entry is queued as a dead letter instead.
 *
 * A class, though it does no I/O: its caches (symbol homes, the text of the last values) and its
 * one row sink live across calls, so that applying an entry allocates no closure.
 */
import type { MarketEvent } from '../../core/events.ts';
import { applyEvent, type FactorSet } from '../../core/fold.ts';
import { SYMBOL_RE } from '../keys.ts';
import { shardOf } from '../shard.ts';
import type { Entry } from '../stream-reader.ts';
import { decodeEvent } from '../wire.ts';
import { fieldReason } from '../dead-letter.ts';
import { compareIds } from '../stream-id.ts';
import type { WorkerHealth } from './health.ts';
import { newRowCache, writeRow, type RowCache } from './row-format.ts';
import type { ShardRun } from './shard-run.ts';

const ignoreRow = (): void => {};
/** `<slot>_status` of a model that threw or returned NaN (models/model.ts MODEL_STATUS.error). */
const MODEL_ERROR = 2;

export class EntryApplier {
  /** Symbol → shard of the symbols seen (valid names only): shardOf hashes the UTF-8 bytes. */
  private readonly homes = new Map<string, number>();
  /** Per symbol values array (fold state): the text of its last packed values. */
  private readonly packCaches = new WeakMap<readonly (number | null)[], RowCache>();
  /** The run and input entry `sink` files rows under (one sink for all events: no closure per event). */
  private sinkRun: ShardRun | null = null;
  private sinkId = '';
  /** Files a row of the fold under `sinkRun` and `sinkId`. */
  private readonly sink = (ev: MarketEvent, symbol: string, values: readonly (number | null)[]): void => {
    const run = this.sinkRun!;
    const id = this.sinkId;
    // values are formatted once per row; the latest-value hash is built at commit from the
    // symbol's newest row only (a batch often holds many rows of one symbol)
    // `values` is the symbol's own array in the fold state: its identity keys the text cache (weakly,
    // so states dropped by a recovery take their caches with them)
    let cache = this.packCaches.get(values);
    if (cache === undefined) this.packCaches.set(values, (cache = newRowCache()));
    if (run.rowCount++ > 0) run.rows.byte(0x0a); // rows go out one per line
    writeRow(run.rows, symbol, ev, id, values, cache);
    // the symbol's entry is updated in place (same order in the map, no object per row)
    const l = run.latest.get(symbol);
    if (l === undefined) run.latest.set(symbol, { id, kind: ev.kind, seq: ev.seq, tsEvent: ev.tsEvent, tsRecv: ev.tsRecv, text: cache.text });
    else {
      l.id = id;
      l.kind = ev.kind;
      l.seq = ev.seq;
      l.tsEvent = ev.tsEvent;
      l.tsRecv = ev.tsRecv;
      l.text = cache.text;
    }
    for (let k = 0; k < this.slotStatus.length; k++) {
      if (values[this.slotStatus[k]] === MODEL_ERROR) this.status.modelErrorRows[this.slotNames[k]]++;
      if (values[this.slotUnservedStatus[k]] === MODEL_ERROR) this.status.modelUnservedErrorRows[this.slotNames[k]]++;
    }
  };
  /** Column of each model slot's status (`<slot>_status`), and the slot names, for the error counters. */
  private readonly slotStatus: number[];
  /** Column of each slot's `<slot>_unserved_status` (a shadow's or canary side's failures count apart). */
  private readonly slotUnservedStatus: number[];
  private readonly slotNames: string[];

  constructor(
    private readonly set: FactorSet,
    private readonly shards: number,
    /** Counts applied entries (`applied`). */
    private readonly status: WorkerHealth,
  ) {
    // model slots (models/stage.ts) name their stage `model <slot>` and write `<slot>_status`
    this.slotNames = set.stages.filter((g) => g.name.startsWith('model ')).map((g) => g.name.slice(6));
    this.slotStatus = this.slotNames.map((s) => set.columns.indexOf(`${s}_status`));
    this.slotUnservedStatus = this.slotNames.map((s) => set.columns.indexOf(`${s}_unserved_status`));
    for (const s of this.slotNames) {
      status.modelErrorRows[s] ??= 0;
      status.modelUnservedErrorRows[s] ??= 0;
    }
  }

  /** Applies one input entry to the shard's fold; queues its outputs unless already committed. */
  apply(run: ShardRun, entry: Entry): void {
    const id = entry[0];
    if (compareIds(id, run.applied) <= 0) {
      run.acks.push(id); // re-delivered after we applied it: just acknowledge
      return;
    }
    run.applied = id;
    run.sinceState++;
    const silent = compareIds(id, run.committed) <= 0;
    if (run.skip.size > 0 && run.skip.has(id)) return;
    const fields = entry[1];
    if (fields === null) return this.reject(run, entry, silent, 'entry was deleted from the stream before it was applied');
    const d = decodeEvent(fields, true);
    if (!d.ok) {
      const p = d.problem;
      return this.reject(run, entry, silent, fieldReason(p.field, p.value, p.reason));
    }
    const ev = d.event;
    if (ev.tsRecv > run.appliedRecv) run.appliedRecv = ev.tsRecv;
    if (ev.kind !== 'heartbeat') {
      let home = this.homes.get(ev.symbol);
      if (home === undefined) {
        if (!SYMBOL_RE.test(ev.symbol)) return this.reject(run, entry, silent, fieldReason('s', ev.symbol, `symbol must match ${SYMBOL_RE}`));
        home = shardOf(ev.symbol, this.shards);
        if (this.homes.size >= 100_000) this.homes.clear(); // bounded, whatever producers send
        this.homes.set(ev.symbol, home);
      }
      if (home !== run.shard) return this.reject(run, entry, silent, `s=${ev.symbol}: belongs to shard ${home}, not ${run.shard} (producer and workers disagree on the shard count?)`);
    }
    this.status.applied++;
    if (silent) {
      applyEvent(this.set, run.fold, ev, ignoreRow);
      return;
    }
    this.sinkRun = run;
    this.sinkId = id;
    const verdict = applyEvent(this.set, run.fold, ev, this.sink);
    if (verdict === 'implausible') {
      const p = run.fold.rejection!; // the plausibility rule (core/plausibility.ts) refused it
      return this.reject(run, entry, silent, fieldReason(p.field, String(p.value), p.reason));
    }
    // a repeated sequence number is dropped by the fold's policy (the same in replay): counted, never silent
    if (verdict === 'duplicate') this.status.duplicates++;
    run.acks.push(id);
  }


  /** Dead-letters an entry (unless it is a silent re-application: its dead letter exists). */
  private reject(run: ShardRun, [id, fields]: Entry, silent: boolean, reason: string): void {
    if (silent) return;
    run.dlq.push(['id', id, 'reason', reason, ...(fields ?? [])]);
    run.acks.push(id);
  }
}
