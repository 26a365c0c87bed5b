/**
 * A model slot as a fold stage (core/stage.ts): each named model (a slot, e.g. `momo`) writes its
 * signals into the same row as the factors it reads, at the same event, for replay and live alike.
 *
 * Columns of a slot with outputs [score, prob]:
 *   momo_score, momo_prob          the served signal (from the version the symbol is assigned)
 *   momo_version                   the version that made the served values (null: none deployed)
 *   momo_status                    0 ok, 1 an input missing, 2 the model failed (threw, NaN), 3 none deployed
 *   momo_score_unserved, momo_prob_unserved, momo_unserved_version, momo_unserved_status
 *                                  the other version while a candidate is deployed: the shadow, or
 *                                  for a canary the version this symbol is not served (the
 *                                  incumbent for canary symbols, the canary for the rest), so
 *                                  divergence and its error rate are measured on every symbol;
 *                                  its status has the codes of momo_status (3 when no candidate)
 *
 * Which version serves follows the deployment log (deployment.ts) in receive time. A slot is
 * evaluated when its trigger fires (spec.ts) or its assignment changes; between those its values
 * stay as they were. Pure: all I/O (loading files, the log's source) is the caller's.
 */
import type { MarketEvent } from '../core/events.ts';
import type { SymbolStage } from '../core/stage.ts';
import { applyEntry, canaryBucket, emptyAssignment, entryAt, type Assignment, type DeploymentEntry } from './deployment.ts';
import { MODEL_STATUS, type RunnableModel } from './model.ts';
import type { Trigger } from './spec.ts';
import { ModelError } from './errors.ts';

/** Per-symbol state of a slot: plain data, checkpointed with the fold. */
export interface SlotState {
  /** Entries of the slot's log applied so far. */
  applied: number;
  a: Assignment;
  /** The symbol's canary bucket (deployment.ts `canaryBucket`), fixed per symbol. */
  bucket: number;
  /** The trigger's last interval (bar or every), -1 before the first event. */
  interval: bigint;
  /**
   * The receive/event times [lo, hi) of `interval` (bar and every triggers): a cache so an event
   * inside the interval costs two comparisons, not a bigint division. 0n, 0n when empty.
   */
  lo: bigint;
  hi: bigint;
  /**
   * The inputs at the last update (NaN = missing), for the `change` trigger: it compares the row
   * against them, overwrites them, and the evaluation reads them in place (no copy per update).
   */
  last: Float64Array;
  /** The symbol (a late entry's amended point depends on its shard: deployment.ts `entryAt`). */
  symbol: string;
}

export interface SlotStage extends SymbolStage<SlotState> {
  readonly slot: string;
  readonly outputs: readonly string[];
  /** The slot's log entries, in time order. Live appends entries (all later than anything applied). */
  readonly entries: DeploymentEntry[];
  /** Adds a version (live: a version registered after the worker started, before its deploy applies). */
  addVersion(model: RunnableModel): void;
  readonly versions: ReadonlyMap<number, RunnableModel>;
}

/** The columns a slot writes, in order. */
export function slotColumns(slot: string, outputs: readonly string[]): string[] {
  return [...outputs.map((o) => `${slot}_${o}`), `${slot}_version`, `${slot}_status`, ...outputs.map((o) => `${slot}_${o}_unserved`), `${slot}_unserved_version`, `${slot}_unserved_status`];
}

export interface SlotOptions {
  /**
   * Wraps each version (those given and those added later) as the slot evaluates it. Live mode
   * measures evaluation time this way (live/models/latency.ts): the wrapper must return the
   * model's own status and outputs, so the values stay those of the pure fold.
   */
  wrap?: (model: RunnableModel) => RunnableModel;
}

/**
 * A slot over its registered versions (all share outputs and trigger) and the deployment log
 * (entries of other slots are ignored). The slot reads the union of its versions' inputs.
 */
export function createSlotStage(slot: string, models: readonly RunnableModel[], log: readonly DeploymentEntry[], opts: SlotOptions = {}): SlotStage {
  if (models.length === 0) throw new ModelError(slot, 'no registered version');
  const first = models[0].spec;
  const versions = new Map<number, RunnableModel>();
  const inputs: string[] = [];
  // per version, indexed by its number (a small integer: an array slot, not a Map lookup per
  // evaluation): the model and its inputs' positions in the slot's inputs, resolved once when the
  // version is added, so an evaluation reads the slot's gathered inputs in place
  const recs: ({ model: RunnableModel; map: Int32Array } | undefined)[] = [];
  const add = (m: RunnableModel) => {
    const s = m.spec;
    if (s.name !== slot) throw new ModelError(`${s.name}@${s.version}`, `is not a version of ${slot}`);
    if (s.outputs.join() !== first.outputs.join()) throw new ModelError(`${slot}@${s.version}`, `writes ${s.outputs.join(', ')} but ${slot}@${first.version} writes ${first.outputs.join(', ')}: versions of a model share their outputs (register it under a new name)`);
    if (s.triggerText !== first.triggerText) throw new ModelError(`${slot}@${s.version}`, `trigger ${s.triggerText} differs from ${slot}@${first.version}'s ${first.triggerText}: versions of a model share their trigger`);
    for (const c of s.inputs) if (!inputs.includes(c)) inputs.push(c);
    recs[s.version] = { model: opts.wrap === undefined ? m : opts.wrap(m), map: Int32Array.from(s.inputs.map((c) => inputs.indexOf(c))) };
    versions.set(s.version, m);
  };
  for (const m of [...models].sort((a, b) => a.spec.version - b.spec.version)) add(m);
  const frozenInputs = [...inputs];
  const entries = log.filter((e) => e.slot === slot);
  const outputs = first.outputs;
  const m = outputs.length;
  const columns = slotColumns(slot, outputs);
  const trigger: Trigger = first.trigger;
  const onChange = trigger.kind === 'change';
  const byEventTime = trigger.kind === 'bar';
  const stepNs = trigger.kind === 'change' ? 1n : trigger.stepNs;
  // scratch buffers: evaluation is synchronous, so one set serves every symbol (`cur`: the
  // gathered inputs of the bar and every triggers; the change trigger evaluates from `st.last`)
  const cur = new Float64Array(frozenInputs.length);
  const out = new Float64Array(m);

  /**
   * Stores a small integer or null (a version, a status) at `i`; true when it differs from the
   * cell. Compared against null first, so the number comparison is a number comparison (a
   * (number | null) pair compared directly is a generic StrictEqual call per cell).
   */
  const setCell = (row: (number | null)[], i: number, v: number | null): boolean => {
    const old = row[i];
    if (old === null ? v === null : v !== null && old === v) return false;
    row[i] = v;
    return true;
  };

  /** Applies the log entries due at `t`; true when any applied (the slot re-evaluates). */
  const applyDue = (st: SlotState, t: bigint): boolean => {
    let any = false;
    while (st.applied < entries.length && entryAt(entries[st.applied], st.symbol) <= t) {
      st.a = applyEntry(st.a, entries[st.applied++]);
      any = true;
    }
    return any;
  };

  /** Whether a bar/every trigger fires at `t`: its interval changed (not at the first event). */
  const nextInterval = (st: SlotState, t: bigint): boolean => {
    // the hot path: t within the interval already seen, two comparisons and no bigint division
    // (a division allocates); lo/hi are a cache of `interval` (absent in older checkpoints: then
    // the comparisons are false and they are computed here)
    if (t >= st.lo && t < st.hi) return false;
    const interval = t / stepNs;
    let fire = false;
    if (interval !== st.interval) {
      if (st.interval >= 0n) fire = true;
      st.interval = interval;
    }
    // only for t ≥ 0 is [interval·step, (interval+1)·step) exactly the times that divide to it
    // (division truncates toward zero); otherwise leave the cache empty and divide every time
    if (t >= 0n) {
      st.lo = interval * stepNs;
      st.hi = st.lo + stepNs;
    }
    return fire;
  };

  /**
   * Writes one side's block from `col`: `out` (or nulls unless ok), its version, its status (the
   * served side and the unserved one have the same layout); true when a value changed.
   */
  const write = (row: (number | null)[], col: number, status: number, version: number | null): boolean => {
    let changed = false;
    if (status === MODEL_STATUS.ok) {
      for (let k = 0; k < m; k++) {
        const x = out[k];
        const old = row[col + k];
        // a typed comparison: `old !== x` on a (number | null) cell is a generic StrictEqual call
        // once the cell has been seen null; past the null check it is a float comparison.
        // Equal values are stored too (-0 replaces 0 as it always did: bit-for-bit rows), except
        // a nonzero equal value, whose bits are the same: storing it would only box it again
        if (old === null || old !== x) {
          changed = true;
          row[col + k] = x;
        } else if (x === 0) row[col + k] = x;
      }
    } else {
      for (let k = 0; k < m; k++) {
        if (row[col + k] !== null) changed = true;
        row[col + k] = null;
      }
    }
    if (setCell(row, col + m, version)) changed = true;
    if (setCell(row, col + m + 1, status)) changed = true;
    return changed;
  };

  return {
    name: `model ${slot}`,
    slot,
    outputs,
    columns,
    inputs: frozenInputs,
    versionText: JSON.stringify({ slot, outputs, trigger: first.triggerText }),
    entries,
    versions,
    addVersion(model) {
      const before = frozenInputs.join();
      add(model);
      if (inputs.join() !== before) {
        inputs.length = frozenInputs.length;
        versions.delete(model.spec.version);
        recs[model.spec.version] = undefined;
        throw new ModelError(`${slot}@${model.spec.version}`, `reads inputs the running ${slot} does not (${model.spec.inputs.filter((c) => !frozenInputs.includes(c)).join(', ')}): restart the workers to load it`);
      }
    },
    init(symbol) {
      return { applied: 0, a: emptyAssignment(), bucket: canaryBucket(slot, symbol), interval: -1n, lo: 0n, hi: 0n, last: new Float64Array(frozenInputs.length).fill(NaN), symbol };
    },
    update(st, row, inputIx, offset, ev: MarketEvent) {
      let fire = st.applied < entries.length && applyDue(st, ev.tsRecv);
      const n = inputIx.length;
      if (onChange) {
        const last = st.last;
        for (let i = 0; i < n; i++) {
          const v = row[inputIx[i]];
          const a = v === null ? NaN : v;
          const b = last[i];
          // NaN equals NaN here (both missing); -0 and 0 are the same input
          if (a !== b && (a === a || b === b)) fire = true;
          last[i] = a;
        }
      } else if (nextInterval(st, byEventTime ? ev.tsEvent : ev.tsRecv)) fire = true;
      if (!fire) return false;
      let src = st.last;
      if (!onChange) {
        src = cur;
        for (let i = 0; i < n; i++) {
          const v = row[inputIx[i]];
          cur[i] = v === null ? NaN : v;
        }
      }
      const a = st.a;
      let served = a.incumbent;
      let unserved: number | null = null;
      if (a.candidate !== null) {
        unserved = a.candidate;
        if (a.mode === 'canary' && st.bucket < Math.round(a.percent * 100)) {
          served = a.candidate;
          unserved = a.incumbent;
        }
      }
      // the served version: outputs, version, status
      const rec = served === null ? undefined : recs[served];
      const status = rec === undefined ? MODEL_STATUS.undeployed : rec.model.runAt(src, rec.map, out);
      let changed = write(row, offset, status, rec === undefined ? null : served);
      // the unserved one (shadow, or the canary's other side), in the block after the served one
      const uoff = offset + m + 2;
      const urec = unserved === null ? undefined : recs[unserved];
      if (urec !== undefined) {
        if (write(row, uoff, urec.model.runAt(src, urec.map, out), unserved)) changed = true;
      } else {
        // nothing to write when its status already says none deployed: that status is only ever
        // written with null values and a null version (only an ok status writes values). Null
        // first, so the comparison with the code is a number comparison (see setCell)
        const us = row[uoff + m + 1];
        if ((us === null || us !== MODEL_STATUS.undeployed) && write(row, uoff, MODEL_STATUS.undeployed, null)) changed = true;
      }
      return changed;
    },
  };
}
