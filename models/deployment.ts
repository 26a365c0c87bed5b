/**
 * The deployment log: which version of each model serves, as of each instant of receive time.
 * Every change (deploy, promote, rollback) is an entry with the event-time point `at` from which it
 * holds, so a replay of a day with the same log computes exactly what live computed, mid-day deploys
 * and rollbacks included. Pure.
 *
 * A slot (a model name) has an incumbent (the version served) and at most one candidate:
 * - `deploy live` makes a version the incumbent (the first deploy of a slot must be `live`, or a
 *   shadow or canary beside no incumbent serves nothing for the symbols the incumbent would have);
 * - `deploy shadow` adds a candidate computed beside the incumbent and never served;
 * - `deploy canary:P` adds a candidate served to the symbols whose stable hash falls in the first
 *   P% (`inCanary`), the incumbent to the rest;
 * - `promote` makes the candidate the incumbent; `rollback` drops the candidate, or with no candidate
 *   returns to the previous incumbent.
 */
import { shardOf } from '../core/shard.ts';

export type DeployMode = 'live' | 'shadow' | 'canary';

export interface DeploymentEntry {
  /** Receive time (epoch ns) from which the change holds: it applies before the first event at or after it. */
  at: bigint;
  slot: string;
  action: 'deploy' | 'promote' | 'rollback';
  /** The version deployed (deploy only). */
  version?: number;
  mode?: DeployMode;
  /** Canary share in percent, 0 < p ≤ 100 (canary only). */
  percent?: number;
  /** Why (an operator's note, or an automatic rollback's reason). */
  reason?: string;
  /**
   * Live mode only: shards that received the entry after they had already passed `at` (a late
   * entry, live/models/live-log.ts). For the symbols of shard k (live/shard.ts `shardOf(symbol,
   * late.shards)`), the entry holds from `late.at[k]` (the first receive time after what that shard
   * had applied) instead of `at`: live applied it there, so replay does too.
   */
  late?: { shards: number; at: Record<number, bigint> };
}

/** When an entry takes effect for a symbol: `at`, or its shard's amended point for a late entry. */
export function entryAt(e: DeploymentEntry, symbol: string): bigint {
  if (e.late === undefined) return e.at;
  return e.late.at[shardOf(symbol, e.late.shards)] ?? e.at;
}

/** A slot's deployment at an instant: plain data (it lives in checkpointed fold state). */
export interface Assignment {
  incumbent: number | null;
  candidate: number | null;
  mode: 'shadow' | 'canary' | null;
  percent: number;
  /** Earlier incumbents, most recent last (what a rollback without candidate returns to). */
  previous: number[];
}

export function emptyAssignment(): Assignment {
  return { incumbent: null, candidate: null, mode: null, percent: 0, previous: [] };
}

/** The assignment after one entry (a new object; `a` is not changed). */
export function applyEntry(a: Assignment, e: DeploymentEntry): Assignment {
  if (e.action === 'deploy') {
    if (e.mode === 'live') {
      const previous = a.incumbent !== null && a.incumbent !== e.version ? [...a.previous, a.incumbent] : a.previous;
      return { incumbent: e.version!, candidate: null, mode: null, percent: 0, previous };
    }
    return { ...a, candidate: e.version!, mode: e.mode === 'shadow' ? 'shadow' : 'canary', percent: e.mode === 'canary' ? e.percent! : 0 };
  }
  if (e.action === 'promote') {
    if (a.candidate === null) return a;
    const previous = a.incumbent !== null ? [...a.previous, a.incumbent] : a.previous;
    return { incumbent: a.candidate, candidate: null, mode: null, percent: 0, previous };
  }
  if (a.candidate !== null) return { ...a, candidate: null, mode: null, percent: 0 };
  if (a.previous.length === 0) return { ...a, incumbent: null };
  return { incumbent: a.previous[a.previous.length - 1], candidate: null, mode: null, percent: 0, previous: a.previous.slice(0, -1) };
}

/** The slot's assignment once every entry with `at` ≤ `t` has applied (entries in log order). */
export function assignmentAt(log: readonly DeploymentEntry[], slot: string, t: bigint): Assignment {
  let a = emptyAssignment();
  for (const e of log) if (e.slot === slot && e.at <= t) a = applyEntry(a, e);
  return a;
}

/**
 * Whether a symbol gets the canary: FNV-1a 32 of `slot \0 symbol`, in basis points, below the
 * share. Stable across processes, restarts and shard counts (it reads nothing but the two names),
 * and independent per slot so two canaries do not always hit the same symbols.
 */
export function inCanary(slot: string, symbol: string, percent: number): boolean {
  return canaryBucket(slot, symbol) < Math.round(percent * 100);
}

/** The symbol's bucket, 0..9999, for `inCanary`. */
export function canaryBucket(slot: string, symbol: string): number {
  let h = 0x811c9dc5;
  const key = `${slot}\u0000${symbol}`;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % 10000;
}

/**
 * Checks a log: entries ordered by `at` (a change cannot take effect before one already logged),
 * deploys name a version and a mode, canaries a share in (0, 100]. Returns the first problem, or null.
 */
export function logProblem(log: readonly DeploymentEntry[], known: (slot: string, version: number) => boolean): string | null {
  for (let i = 0; i < log.length; i++) {
    const e = log[i];
    if (i > 0 && e.at < log[i - 1].at) return `entry ${i + 1} (${e.action} ${e.slot}) takes effect at ${e.at}, before entry ${i}'s ${log[i - 1].at}: the log must be in time order`;
    if (e.action === 'deploy') {
      if (e.version === undefined || !Number.isSafeInteger(e.version)) return `entry ${i + 1}: deploy of ${e.slot} has no version`;
      if (!known(e.slot, e.version)) return `entry ${i + 1}: ${e.slot}@${e.version} is not registered`;
      if (e.mode !== 'live' && e.mode !== 'shadow' && e.mode !== 'canary') return `entry ${i + 1}: mode ${JSON.stringify(e.mode)} must be live, shadow or canary`;
      if (e.mode === 'canary' && !(typeof e.percent === 'number' && e.percent > 0 && e.percent <= 100)) return `entry ${i + 1}: canary share ${JSON.stringify(e.percent)} must be in (0, 100]`;
    } else if (e.action !== 'promote' && e.action !== 'rollback') return `entry ${i + 1}: action ${JSON.stringify(e.action)} must be deploy, promote or rollback`;
  }
  return null;
}
