/**
 * What the dashboard's models page shows of each model slot's deployment, read from what `lockstep
 * models deploy | promote | rollback --redis` and `lockstep models watch` write: the live
 * deployment log `<ns>:models:log` (live/models/live-log.ts; read once from the start, then only
 * the entries added since, with XRANGE on the reader's user) and the workers' evaluation times
 * `<ns>:models:latency` (live/models/latency.ts; one HGETALL). The slot's state is the log's
 * assignment once every entry has applied (models/deployment.ts `applyEntry`), the same fold the
 * workers run, so the page cannot disagree with what they serve once the entries' `at` has passed.
 *
 * The signal values themselves are the workers' output columns (`<slot>_<output>`, `_version`,
 * `_status`, `_<output>_unserved`, `_unserved_version`, `_unserved_status`: models/stage.ts) in
 * the latest-values hashes; the hub sends them as it sends the factors grid, and the page script
 * sorts them out.
 */
import type { Redis } from 'ioredis';
import type { RedisClient } from '../live/redis-connect.ts';
import { modelsLogStream } from '../live/keys.ts';
import { mergeLiveLog, readLiveLog, type LiveLogRecord } from '../live/models/live-log.ts';
import { quantileNs, readLatencySnapshots, type LatencyHistogram } from '../live/models/latency.ts';
import { applyEntry, emptyAssignment, type Assignment, type DeploymentEntry } from '../models/deployment.ts';

/** At most this many entries of a slot's history are sent (the newest). */
const MAX_HISTORY = 50;

/** One change of a slot, as sent to the page (`at`: epoch ns as text: exact). */
export interface ModelsChange {
  id: string;
  at: string;
  action: DeploymentEntry['action'];
  version: number | null;
  mode: string | null;
  percent: number | null;
  reason: string | null;
  /** Shards that applied it late (after `at`): their count. */
  lateShards: number;
  /** What the change did: e.g. `rolled back canary 4 (incumbent 3 stays)`. */
  effect: string;
}

/** A slot's deployment as sent to the page. */
export interface SlotView {
  slot: string;
  assignment: Assignment;
  /** Newest first. */
  history: ModelsChange[];
  rollbacks: number;
  /** `version` → evaluations and p99 (ns, an upper bound) since each worker started, over every worker. */
  latency: Record<string, { n: number; p99Ns: number | null; meanNs: number | null }>;
}

export interface ModelsPayload {
  slots: SlotView[];
  /** The log could not be read (e.g. a Redis user without XRANGE on it); null: fine. */
  logError: string | null;
  latencyError: string | null;
  logKey: string;
}

/** What one entry did to the assignment `a` (before) → `b` (after), in words. */
export function effectOf(e: DeploymentEntry, a: Assignment, b: Assignment): string {
  if (e.action === 'deploy') {
    if (e.mode === 'live') return a.incumbent === null ? `version ${b.incumbent} serves every symbol` : `version ${b.incumbent} replaces ${a.incumbent} for every symbol`;
    if (e.mode === 'shadow') return `version ${e.version} computed beside ${a.incumbent ?? 'nothing'}, not served`;
    return `version ${e.version} served to ${e.percent}% of the symbols (canary), ${a.incumbent ?? 'nothing'} to the rest`;
  }
  if (e.action === 'promote') return a.candidate === null ? 'nothing to promote' : `${a.mode} ${a.candidate} promoted: it serves every symbol`;
  if (a.candidate !== null) return `${a.mode} ${a.candidate} dropped; ${a.incumbent ?? 'nothing'} serves`;
  return b.incumbent === null ? `incumbent ${a.incumbent} withdrawn: nothing serves` : `back from ${a.incumbent} to ${b.incumbent}`;
}

/** The slots of a merged log with their history (pure: the page's view of `entries`). */
export function slotViews(entries: readonly DeploymentEntry[], ids: readonly string[]): SlotView[] {
  const bySlot = new Map<string, SlotView>();
  entries.forEach((e, i) => {
    let v = bySlot.get(e.slot);
    if (v === undefined) bySlot.set(e.slot, (v = { slot: e.slot, assignment: emptyAssignment(), history: [], rollbacks: 0, latency: {} }));
    const before = v.assignment;
    v.assignment = applyEntry(before, e);
    if (e.action === 'rollback') v.rollbacks++;
    v.history.push({
      id: ids[i] ?? '',
      at: e.at.toString(),
      action: e.action,
      version: e.version ?? null,
      mode: e.mode ?? null,
      percent: e.percent ?? null,
      reason: e.reason ?? null,
      lateShards: e.late ? Object.keys(e.late.at).length : 0,
      effect: effectOf(e, before, v.assignment),
    });
  });
  const out = [...bySlot.values()].sort((a, b) => (a.slot < b.slot ? -1 : a.slot > b.slot ? 1 : 0));
  for (const v of out) v.history = v.history.slice(-MAX_HISTORY).reverse();
  return out;
}

/** Adds every worker's histograms of `slot@version` (cumulative since each worker started). */
function mergeLatency(snaps: Awaited<ReturnType<typeof readLatencySnapshots>>): Map<string, LatencyHistogram> {
  const out = new Map<string, LatencyHistogram>();
  for (const s of snaps.values()) {
    for (const [key, h] of Object.entries(s.versions)) {
      let into = out.get(key);
      if (into === undefined) out.set(key, (into = { n: 0, sumNs: 0, buckets: {} }));
      into.n += h.n;
      into.sumNs += h.sumNs;
      for (const [i, c] of Object.entries(h.buckets)) into.buckets[Number(i)] = (into.buckets[Number(i)] ?? 0) + c;
    }
  }
  return out;
}

/** The models page's reader (see the module comment). */
export class ModelsFeed {
  private readonly records: LiveLogRecord[] = [];
  private lastId = '0-0';

  constructor(
    /** The reader's user on a full client (the lean reader has no XRANGE); null: nothing to show. */
    private readonly inspector: RedisClient | null,
    private readonly keys: { ns: string },
  ) {}

  /** The known slot names (for a slot's page: an unknown one is a 404). */
  slots(): string[] {
    return [...new Set(this.records.flatMap((r) => ('entry' in r ? [r.entry.slot] : [])))];
  }

  /** Reads what is new; returns the page's payload as JSON text. */
  async poll(): Promise<string> {
    const out: ModelsPayload = { slots: [], logError: null, latencyError: null, logKey: modelsLogStream(this.keys) };
    if (this.inspector === null) {
      out.logError = 'no inspector connection: the deployment log cannot be read';
      return JSON.stringify(out);
    }
    try {
      const got = await readLiveLog(this.inspector as Redis, this.keys.ns, this.lastId);
      this.records.push(...got.records);
      this.lastId = got.lastId;
    } catch (e) {
      out.logError = `cannot read ${out.logKey}: ${(e as Error).message}`;
    }
    const entries = mergeLiveLog(this.records);
    const ids = this.records.flatMap((r) => ('entry' in r ? [r.id] : []));
    out.slots = slotViews(entries, ids);
    try {
      const lat = mergeLatency(await readLatencySnapshots(this.inspector, this.keys.ns));
      for (const v of out.slots) {
        for (const [key, h] of lat) {
          const at = key.lastIndexOf('@');
          if (key.slice(0, at) !== v.slot) continue;
          v.latency[key.slice(at + 1)] = { n: h.n, p99Ns: quantileNs(h, 0.99), meanNs: h.n > 0 ? h.sumNs / h.n : null };
        }
      }
    } catch (e) {
      out.latencyError = `evaluation times unavailable: ${(e as Error).message}`;
    }
    return JSON.stringify(out);
  }
}
