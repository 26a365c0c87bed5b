/**
 * Alerts for live mode: what an on-call engineer must hear about before a trading engine does.
 *
 * `evaluateAlerts` is pure: from a plain-data snapshot of the deployment it returns the alerts that
 * fire now. `takeSnapshot` reads that snapshot from Redis in two pipelined round trips whatever the
 * shard count. `AlertWatcher` (the I/O adapter behind `lockstep alerts watch`) takes a snapshot
 * every interval and records each transition in `<ns>:alerts` (a stream) and `<ns>:alerts:state`
 * (a hash of the alerts firing now), which `readFiringAlerts` and `followAlerts` read back.
 *
 * Conditions (ids are stable, so a transition log and a dashboard can follow one alert):
 *   no-worker:<s>     critical  no worker holds shard s's lease while its input stream exists
 *   lag:<s>           warning/critical  inputs wait on shard s: more than `lagEntries` of them
 *                     (undelivered + delivered but not acknowledged) or the oldest is older than
 *                     `lagMs`; critical above `lagEntriesCritical` / `lagMsCritical`
 *   stale:<s>         warning   a worker holds shard s and inputs keep arriving, but its output is
 *                     older than `staleMs` and an input older than `staleMs` has no output
 *   dead-letters:<s>  warning   shard s dead-lettered an input within the last `deadLetterWindowMs`
 *   kill-switch       critical  the kill switch is on (whole deployment or some symbols)
 *   redis-down        critical  the snapshot could not be taken
 *
 * Ages are differences of stream entry IDs and "now", so they assume the IDs are Redis's own
 * (`XADD ... *`: the feed, the workers and the dead-letter writes all do that). By default "now"
 * is Redis's TIME, read in the snapshot's pipeline, so a watcher whose host clock drifts still
 * measures ages on the clock that stamped the entries.
 */
import type { RedisClient } from './redis-connect.ts';
import { alertsStateKey, alertsStream, deadLetterStream, inputStream, killSwitchKey, leaseKey, outputStream, type KeyLayout } from './keys.ts';
import { parseKillState, type KillEntry, type KillState } from './kill-switch.ts';
import { UserError } from '../core/errors.ts';

export type Severity = 'warning' | 'critical';

export interface Alert {
  /** Stable: `lag:3`, `kill-switch`, ... */
  id: string;
  severity: Severity;
  /** One human line, with the numbers. */
  summary: string;
  shard?: number;
  /** The measure that fired it (ms of age for lag and stale, entries for no-worker and dead letters, symbols for the kill switch). */
  value?: number;
  /**
   * What the alert covers beyond its id, when that can change while it fires (the killed
   * symbols): a change is announced again, as a change of severity is.
   */
  scope?: string;
}

/** An alert as stored in `<ns>:alerts:state`: the alert when it last changed, and since when it fires. */
export interface FiringAlert extends Alert {
  /** ms when it started firing. */
  since: number;
}

/** One entry of `<ns>:alerts`. A resolved alert keeps the severity and summary it fired with. */
export interface AlertTransition extends FiringAlert {
  state: 'firing' | 'resolved';
  /** ms of the snapshot that saw the change. */
  at: number;
}

export interface AlertThresholds {
  /** lag warning: more inputs than this waiting on a shard (undelivered + pending). */
  lagEntries: number;
  lagEntriesCritical: number;
  /** lag warning: the oldest input not yet processed is older than this (ms). */
  lagMs: number;
  lagMsCritical: number;
  /** stale: no output for this long (ms) while inputs keep arriving. */
  staleMs: number;
  /** dead-letters: fires while the newest dead letter is younger than this (ms). */
  deadLetterWindowMs: number;
}

/**
 * Defaults for a real-time deployment: a healthy worker is milliseconds behind (it blocks on its
 * input and commits every batch), so a second of age is already worth a look and five seconds is
 * stale data for trading. Entry counts are a coarse guard (at ~50k events/s, 10,000 entries are
 * ~0.2 s of work); age is what matters. The critical levels default to 5x the warning levels
 * when only those are given.
 */
export const DEFAULT_THRESHOLDS: Readonly<AlertThresholds> = Object.freeze({
  lagEntries: 10_000,
  lagEntriesCritical: 50_000,
  lagMs: 1_000,
  lagMsCritical: 5_000,
  staleMs: 5_000,
  deadLetterWindowMs: 60_000,
});

/** A threshold that is not a positive number, or a critical level below its warning level. */
export class AlertConfigError extends UserError {}

/**
 * The thresholds with defaults filled in (critical = 5x a given warning level), validated.
 * `name` renders a threshold's name in errors (the CLI passes its flag names).
 */
export function resolveThresholds(t: Partial<AlertThresholds> = {}, name: (k: keyof AlertThresholds) => string = (k) => k): AlertThresholds {
  const d = DEFAULT_THRESHOLDS;
  const r: AlertThresholds = {
    lagEntries: t.lagEntries ?? d.lagEntries,
    lagEntriesCritical: t.lagEntriesCritical ?? (t.lagEntries !== undefined ? 5 * t.lagEntries : d.lagEntriesCritical),
    lagMs: t.lagMs ?? d.lagMs,
    lagMsCritical: t.lagMsCritical ?? (t.lagMs !== undefined ? 5 * t.lagMs : d.lagMsCritical),
    staleMs: t.staleMs ?? d.staleMs,
    deadLetterWindowMs: t.deadLetterWindowMs ?? d.deadLetterWindowMs,
  };
  for (const [k, v] of Object.entries(r) as [keyof AlertThresholds, number][]) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new AlertConfigError(`alert threshold ${name(k)}=${v}: must be a number > 0`);
  }
  for (const [crit, warn] of [['lagEntriesCritical', 'lagEntries'], ['lagMsCritical', 'lagMs']] as const) {
    if (r[crit] < r[warn]) throw new AlertConfigError(`alert threshold ${name(crit)}=${r[crit]} is below ${name(warn)}=${r[warn]}`);
  }
  return r;
}

// ---------------------------------------------------------------------------------------------
// Snapshot (plain data) and the pure evaluator

/** What the evaluator needs to know about one shard; times are ms on the snapshot's clock. */
export interface ShardSnapshot {
  shard: number;
  /** The input stream, or null when it does not exist (nothing was ever published to the shard). */
  input: {
    length: number;
    /** When the newest entry arrived (its ID); null when none ever did. */
    lastMs: number | null;
  } | null;
  /** ms left on the lease; null when no worker holds it. */
  leaseTtlMs: number | null;
  /** The workers' consumer group on the input, or null when none was created (no worker ever ran). */
  group: {
    /** Entries not yet delivered (Redis 7 `lag`); null when Redis cannot tell (after deletions). */
    lag: number | null;
    /** Delivered, not yet acknowledged (committed). */
    pending: number;
  } | null;
  /** Arrival of the oldest entry delivered but not acknowledged; null when none. */
  oldestPendingMs: number | null;
  /** Arrival of the oldest entry not yet delivered (the first after `last-delivered-id`); null when none. */
  oldestUndeliveredMs: number | null;
  /** When the newest output entry was written; null when there is none. */
  lastOutputMs: number | null;
  /**
   * Arrival of the first input (heartbeats skipped) that came after the newest output entry, so
   * certainly has no output yet; null when none (or only heartbeats among the first few).
   */
  firstUnansweredMs: number | null;
  deadLetters: { length: number; lastMs: number | null; lastReason: string | null };
}

export type DeploymentSnapshot =
  | { ok: true; at: number; shards: ShardSnapshot[]; kill: KillState }
  | { ok: false; at: number; error: string };

export const REDIS_DOWN = 'redis-down';
export const KILL_SWITCH = 'kill-switch';

const count = (n: number) => n.toLocaleString('en-US');
const plural = (n: number, what: string) => `${count(n)} ${what}${n === 1 ? '' : 's'}`;
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const ageOf = (at: number, ms: number) => Math.max(0, at - ms);

/**
 * The alerts firing for `snap` (pure). Order: redis-down / kill-switch, then by shard. A value at
 * a threshold does not fire; one above does.
 */
export function evaluateAlerts(snap: DeploymentSnapshot, thresholds: Partial<AlertThresholds> = {}): Alert[] {
  if (!snap.ok) return [{ id: REDIS_DOWN, severity: 'critical', summary: `cannot read the deployment from Redis: ${snap.error}` }];
  const t = resolveThresholds(thresholds);
  const out: Alert[] = [];
  const kill = killSwitchAlert(snap.kill);
  if (kill) out.push(kill);
  for (const s of snap.shards) {
    if (s.input === null) continue; // nothing was ever published to it: nothing to watch
    const noWorker = noWorkerAlert(s, snap.at);
    if (noWorker) out.push(noWorker);
    const lag = lagAlert(s, snap.at, t);
    if (lag) out.push(lag);
    const stale = staleAlert(s, snap.at, t);
    if (stale) out.push(stale);
    const dlq = deadLetterAlert(s, snap.at, t);
    if (dlq) out.push(dlq);
  }
  return out;
}

/** Inputs waiting on the shard: undelivered + pending (the whole stream when no group exists yet). */
function backlog(s: ShardSnapshot): { entries: number; undelivered: number | null; pending: number; ageMs: number | null } {
  const pending = s.group?.pending ?? 0;
  const undelivered = s.group === null ? (s.input?.length ?? 0) : s.group.lag;
  const oldest = [s.oldestPendingMs, s.oldestUndeliveredMs].filter((x): x is number => x !== null);
  return { entries: (undelivered ?? 0) + pending, undelivered, pending, ageMs: oldest.length ? Math.min(...oldest) : null };
}

function waitingText(s: ShardSnapshot, at: number): string {
  const b = backlog(s);
  const parts = [`${plural(b.entries, 'input')} waiting`];
  if (b.undelivered === null) parts[0] += ' (+ an unknown number undelivered: Redis cannot compute the group lag after deletions)';
  if (b.ageMs !== null) parts.push(`the oldest ${secs(ageOf(at, b.ageMs))} old`);
  return parts.join(', ');
}

function noWorkerAlert(s: ShardSnapshot, at: number): Alert | null {
  if (s.leaseTtlMs !== null) return null;
  const b = backlog(s);
  const why = s.group === null ? 'no worker ever consumed it' : 'nobody holds its lease';
  return { id: `no-worker:${s.shard}`, severity: 'critical', shard: s.shard, value: b.entries, summary: `shard ${s.shard} has no worker: ${why} (${waitingText(s, at)})` };
}

function lagAlert(s: ShardSnapshot, at: number, t: AlertThresholds): Alert | null {
  const b = backlog(s);
  const age = b.ageMs === null ? 0 : ageOf(at, b.ageMs);
  const critical = b.entries > t.lagEntriesCritical || age > t.lagMsCritical;
  if (!critical && b.entries <= t.lagEntries && age <= t.lagMs) return null;
  const split = b.undelivered === null ? `${count(b.pending)} pending, undelivered unknown` : `${count(b.undelivered)} undelivered + ${count(b.pending)} pending`;
  const summary = `shard ${s.shard} is behind: the oldest unprocessed input is ${secs(age)} old (limit ${secs(critical ? t.lagMsCritical : t.lagMs)}), ${plural(b.entries, 'input')} waiting (${split}; limit ${count(critical ? t.lagEntriesCritical : t.lagEntries)})`;
  return { id: `lag:${s.shard}`, severity: critical ? 'critical' : 'warning', shard: s.shard, value: age, summary };
}

/**
 * "Alive but not producing". Beyond the obvious (inputs recent, output old) it needs an input
 * that arrived after the newest output and is itself older than `staleMs`: without it, the
 * first input after a quiet spell would fire at once (the last output is old, the worker has
 * had no time yet), and a shard that only gets heartbeats (no symbol hashes to it) would fire
 * forever. A shard without a worker is no-worker's, not this one's.
 */
function staleAlert(s: ShardSnapshot, at: number, t: AlertThresholds): Alert | null {
  if (s.leaseTtlMs === null || s.input?.lastMs == null || s.firstUnansweredMs === null) return null;
  const inputAge = ageOf(at, s.input.lastMs);
  const outputAge = s.lastOutputMs === null ? null : ageOf(at, s.lastOutputMs);
  const waitAge = ageOf(at, s.firstUnansweredMs);
  if (inputAge > t.staleMs || (outputAge !== null && outputAge <= t.staleMs) || waitAge <= t.staleMs) return null;
  const out = outputAge === null ? 'it has written no output yet' : `its last output is ${secs(outputAge)} old`;
  return {
    id: `stale:${s.shard}`,
    severity: 'warning',
    shard: s.shard,
    value: outputAge ?? waitAge,
    summary: `shard ${s.shard} produces no output: inputs keep arriving (the latest ${secs(inputAge)} ago) but ${out} and an input of ${secs(waitAge)} ago has none (limit ${secs(t.staleMs)})`,
  };
}

/**
 * Fires while the newest dead letter is recent rather than "grew since the last snapshot": it
 * survives a watcher restart, needs no memory of earlier snapshots, and a burst of bad ticks is
 * one alert, not a firing/resolved pair per check.
 */
function deadLetterAlert(s: ShardSnapshot, at: number, t: AlertThresholds): Alert | null {
  const d = s.deadLetters;
  if (d.lastMs === null || ageOf(at, d.lastMs) > t.deadLetterWindowMs) return null;
  return {
    id: `dead-letters:${s.shard}`,
    severity: 'warning',
    shard: s.shard,
    value: d.length,
    summary: `shard ${s.shard} dead-lettered inputs: the latest ${secs(ageOf(at, d.lastMs))} ago (${count(d.length)} in its dead-letter stream): ${d.lastReason ?? '(no reason given)'}`,
  };
}

const LISTED_SYMBOLS = 10;

function killSwitchAlert(k: KillState): Alert | null {
  const syms = Object.keys(k.symbols).sort();
  if (!k.all && syms.length === 0) return null;
  const who = (e: KillEntry) => (e.at > 0 ? `since ${new Date(e.at).toISOString()} by ${e.by}: ${e.reason}` : e.reason);
  const listed = syms.slice(0, LISTED_SYMBOLS).map((s) => `${s} (${who(k.symbols[s])})`).join(', ') + (syms.length > LISTED_SYMBOLS ? ` and ${syms.length - LISTED_SYMBOLS} more` : '');
  const summary = k.all
    ? `kill switch ON for every symbol, ${who(k.all)}${syms.length ? `; also on for ${plural(syms.length, 'symbol')} one by one` : ''}`
    : `kill switch ON for ${plural(syms.length, 'symbol')}: ${listed}`;
  return { id: KILL_SWITCH, severity: 'critical', value: syms.length, scope: (k.all ? '*' : '') + syms.join(','), summary };
}

/**
 * The transitions from the alerts firing before (`prev`, by id) to those firing now: new ones
 * fire, missing ones resolve, and one whose severity or scope changed fires again (escalation is
 * news; a number that moves is not). Returns the map of alerts firing now (pure).
 */
export function alertTransitions(prev: ReadonlyMap<string, FiringAlert>, now: readonly Alert[], at: number): { transitions: AlertTransition[]; firing: Map<string, FiringAlert> } {
  const transitions: AlertTransition[] = [];
  const firing = new Map<string, FiringAlert>();
  for (const a of now) {
    const p = prev.get(a.id);
    const f: FiringAlert = { ...a, since: p?.since ?? at };
    firing.set(a.id, f);
    if (!p || p.severity !== a.severity || p.scope !== a.scope) transitions.push(transition(f, 'firing', at));
  }
  for (const [id, p] of prev) if (!firing.has(id)) transitions.push(transition(p, 'resolved', at));
  return { transitions, firing };
}

/** Fields in reading order (the CLI prints transitions as JSON lines). */
function transition(f: FiringAlert, state: AlertTransition['state'], at: number): AlertTransition {
  const t: AlertTransition = { id: f.id, state, severity: f.severity, summary: f.summary, at, since: f.since };
  if (f.shard !== undefined) t.shard = f.shard;
  if (f.value !== undefined) t.value = f.value;
  if (f.scope !== undefined) t.scope = f.scope;
  return t;
}

// ---------------------------------------------------------------------------------------------
// Reading the snapshot from Redis

type Cmd = [string, ...(string | number)[]];
interface Reply {
  err: Error | null;
  v: unknown;
}

const isCluster = (r: RedisClient) => (r as { isCluster?: boolean }).isCluster === true;

/**
 * Runs groups of commands in one round trip: one pipeline on a single node; on Cluster one
 * pipeline per group, concurrently (each group's keys share a hash tag, so one slot).
 */
async function runGroups(redis: RedisClient, groups: Cmd[][]): Promise<Reply[][]> {
  const run = async (cmds: Cmd[]): Promise<Reply[]> => {
    if (cmds.length === 0) return [];
    const p = redis.pipeline();
    for (const [c, ...args] of cmds) p.call(c, ...args);
    const res = await p.exec();
    if (!res) throw new Error('pipeline was discarded');
    return res.map(([err, v]) => ({ err, v }));
  };
  if (isCluster(redis)) return Promise.all(groups.map(run));
  const flat = await run(groups.flat());
  let i = 0;
  return groups.map((g) => flat.slice(i, (i += g.length)));
}

/** The reply, or null when the key (or group) does not exist; any other error is thrown. */
function orAbsent(r: Reply): unknown {
  if (!r.err) return r.v;
  if (/no such key|NOGROUP/i.test(r.err.message)) return null;
  throw r.err;
}

function value(r: Reply): unknown {
  if (r.err) throw r.err;
  return r.v;
}

const pairs = (a: unknown): Record<string, unknown> => {
  const o: Record<string, unknown> = {};
  if (Array.isArray(a)) for (let i = 0; i + 1 < a.length; i += 2) o[String(a[i])] = a[i + 1];
  return o;
};

/** The ms part of a stream ID; null for none and for `0-0` (an empty stream's last ID). */
export function idMs(id: unknown): number | null {
  if (typeof id !== 'string') return null;
  const dash = id.indexOf('-');
  const ms = Number(dash < 0 ? id : id.slice(0, dash));
  return Number.isFinite(ms) && ms > 0 ? ms : null;
}

type Entry = [string, string[]];
const firstEntry = (v: unknown): Entry | null => (Array.isArray(v) && v.length > 0 ? (v[0] as Entry) : null);
const field = (e: Entry | null, name: string): string | null => {
  const f = e?.[1] ?? [];
  for (let i = 0; i + 1 < f.length; i += 2) if (f[i] === name) return f[i + 1];
  return null;
};

/** How many inputs after the newest output are read to find one that is not a heartbeat. */
const UNANSWERED_PEEK = 8;

export interface SnapshotOptions {
  /** The workers' consumer group (default `lockstep`, as `lockstep live`). */
  group?: string;
}

/**
 * Reads what `evaluateAlerts` needs, for every shard, in two pipelined round trips: first the
 * lease TTLs, XINFO STREAM / XINFO GROUPS / XPENDING of the inputs, the newest output and dead
 * letter (XREVRANGE COUNT 1), XLEN of the dead letters, the kill switch and TIME; then, only where
 * needed, the first undelivered input and the first inputs after the newest output (XRANGE from
 * an exclusive start, COUNT 1 / 8). `now` defaults to Redis's TIME. Never throws for Redis: a
 * failure is a snapshot with `ok: false`, which evaluates to `redis-down`.
 *
 * Works on Redis Cluster: each shard's commands go in a pipeline of their own (one hash tag, one
 * slot), all sent at once. XREVRANGE returns the newest output entry whole (one commit's rows,
 * up to a batch of them): Redis has no command that returns only a stream's last ID.
 */
export async function takeSnapshot(redis: RedisClient, keys: KeyLayout, now?: number, opts: SnapshotOptions = {}): Promise<DeploymentSnapshot> {
  const group = opts.group ?? 'lockstep';
  try {
    const shards = Array.from({ length: keys.shards }, (_, s) => s);
    const first = await runGroups(redis, [
      [['GET', killSwitchKey(keys)], ...(now === undefined ? [['TIME'] as Cmd] : [])],
      ...shards.map((s): Cmd[] => {
        const inKey = inputStream(keys, s);
        const dlq = deadLetterStream(keys, s);
        return [['PTTL', leaseKey(keys, s)], ['XINFO', 'STREAM', inKey], ['XINFO', 'GROUPS', inKey], ['XPENDING', inKey, group], ['XREVRANGE', outputStream(keys, s), '+', '-', 'COUNT', 1], ['XLEN', dlq], ['XREVRANGE', dlq, '+', '-', 'COUNT', 1]];
      }),
    ]);
    const [killReply, timeReply] = first[0];
    const time = now === undefined ? (value(timeReply) as [string, string]) : null;
    const at = time ? Number(time[0]) * 1000 + Math.floor(Number(time[1]) / 1000) : now!;
    const kill = parseKillState(value(killReply) as string | null);

    const partial = shards.map((s) => {
      const [pttl, xinfo, groups, xpending, lastOut, dlqLen, lastDlq] = first[s + 1];
      const ttl = Number(value(pttl)); // -2: no key; -1: no expiry (held, though not by a worker's SET PX)
      const info = orAbsent(xinfo);
      const st = info === null ? null : pairs(info);
      const lastId = st ? String(st['last-generated-id']) : null;
      const g = ((orAbsent(groups) as unknown[] | null) ?? []).map(pairs).find((x) => String(x.name) === group) ?? null;
      const pend = orAbsent(xpending) as [number, string | null, string | null, unknown] | null;
      const out = firstEntry(value(lastOut));
      const dlqEntry = firstEntry(value(lastDlq));
      const snap: ShardSnapshot = {
        shard: s,
        input: st ? { length: Number(st.length), lastMs: idMs(lastId) } : null,
        leaseTtlMs: ttl === -2 ? null : ttl === -1 ? Infinity : ttl,
        group: g ? { lag: g.lag === null || g.lag === undefined ? null : Number(g.lag), pending: Number(pend?.[0] ?? g['pel-count'] ?? 0) } : null,
        oldestPendingMs: idMs(pend?.[1]),
        oldestUndeliveredMs: null,
        lastOutputMs: idMs(out?.[0]),
        firstUnansweredMs: null,
        deadLetters: { length: Number(value(dlqLen)), lastMs: idMs(dlqEntry?.[0]), lastReason: field(dlqEntry, 'reason') },
      };
      return { snap, lastId, lastDelivered: g ? String(g['last-delivered-id']) : null, lastOutId: out?.[0] ?? null };
    });

    // second round trip: only what depends on the first (and only where it can matter)
    const plans = partial.map(({ snap, lastId, lastDelivered, lastOutId }) => {
      const plan: { kind: 'undelivered' | 'unanswered'; cmd: Cmd }[] = [];
      if (!snap.input || snap.input.lastMs === null) return plan;
      const inKey = inputStream(keys, snap.shard);
      if (snap.group === null) plan.push({ kind: 'undelivered', cmd: ['XRANGE', inKey, '-', '+', 'COUNT', 1] });
      else if (snap.group.lag !== 0) plan.push({ kind: 'undelivered', cmd: ['XRANGE', inKey, `(${lastDelivered}`, '+', 'COUNT', 1] });
      if (lastOutId === null || compareStreamIds(lastId!, lastOutId) > 0) {
        plan.push({ kind: 'unanswered', cmd: ['XRANGE', inKey, lastOutId === null ? '-' : `(${lastOutId}`, '+', 'COUNT', UNANSWERED_PEEK] });
      }
      return plan;
    });
    const replies = await runGroups(redis, plans.map((p) => p.map((x) => x.cmd)));
    plans.forEach((plan, s) => {
      const snap = partial[s].snap;
      plan.forEach(({ kind }, i) => {
        const entries = value(replies[s][i]) as Entry[];
        if (kind === 'undelivered') snap.oldestUndeliveredMs = idMs(entries[0]?.[0]);
        else snap.firstUnansweredMs = idMs(entries.find((e) => field(e, 'k') !== 'heartbeat')?.[0]);
      });
    });
    return { ok: true, at, shards: partial.map((p) => p.snap), kill };
  } catch (e) {
    return { ok: false, at: now ?? Date.now(), error: (e as Error).message };
  }
}

/** Stream ID order (`ms-seq`, decimal). */
export function compareStreamIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(Number);
  const [bm, bs] = b.split('-').map(Number);
  return am !== bm ? Math.sign(am - bm) : Math.sign((as ?? 0) - (bs ?? 0));
}

// ---------------------------------------------------------------------------------------------
// The watcher (I/O adapter)

export interface AlertWatcherOptions {
  keys: KeyLayout;
  thresholds?: Partial<AlertThresholds>;
  /** ms between snapshots (default 1000). */
  intervalMs?: number;
  /** The workers' consumer group (default `lockstep`). */
  group?: string;
  /** Each transition, as it happens: also while Redis is down, before it can be written. */
  onTransition?: (t: AlertTransition) => void;
  /** What goes wrong without stopping it: transitions it cannot write (kept, and written on a later check), a throwing `onTransition`. */
  onError?: (e: Error) => void;
  /** Clock (tests). Default: Redis's TIME, and this host's clock while Redis cannot be read. */
  now?: () => number;
  /** `<ns>:alerts` is trimmed to about this many entries (XADD MAXLEN ~). Default 10,000. */
  maxLen?: number;
}

/** Transitions kept while they cannot be written; beyond this the oldest are dropped. */
const MAX_UNWRITTEN = 1000;

/**
 * Takes a snapshot every `intervalMs`, evaluates it, and records each transition: an XADD to
 * `<ns>:alerts` and an HSET / HDEL in `<ns>:alerts:state`, in one MULTI per check (two on
 * Cluster, where the two keys live in different slots: the stream entries then follow the state).
 *
 * It never dies from a Redis error. A snapshot that fails is the `redis-down` alert: reported
 * through `onTransition` at once, kept in memory, and written (firing, then resolved) when Redis
 * answers again; meanwhile the other alerts stay as last seen, since nobody can tell. On start it
 * reads the state hash, so a restarted watcher resolves what its predecessor left firing instead
 * of announcing it twice. Run one watcher per deployment: two would each write every transition.
 * Memory is bounded: the alerts firing (a few per shard) and at most 1,000 unwritten transitions.
 */
export class AlertWatcher {
  private firing = new Map<string, FiringAlert>();
  private unwritten: AlertTransition[] = [];
  /** The state hash was read (it holds what a previous watcher saw firing). */
  private loaded = false;
  /** Rewrite the state hash from memory: it could not be read, or transitions were dropped. */
  private resync = true;
  private dropped = 0;
  private chain: Promise<unknown> = Promise.resolve();
  private loop: Promise<void> | null = null;
  private stopping = false;
  private wake: (() => void) | null = null;
  private readonly thresholds: AlertThresholds;

  constructor(
    private readonly redis: RedisClient,
    private readonly opts: AlertWatcherOptions,
  ) {
    this.thresholds = resolveThresholds(opts.thresholds);
  }

  /** The alerts firing now, as of the last check (with its numbers). */
  firingNow(): FiringAlert[] {
    return [...this.firing.values()];
  }

  /** Transitions not yet written to Redis. */
  get unwrittenCount(): number {
    return this.unwritten.length;
  }

  /** Checks every `intervalMs` until `stop()`. */
  start(): void {
    if (this.loop || this.stopping) return;
    const interval = this.opts.intervalMs ?? 1000;
    this.loop = (async () => {
      while (!this.stopping) {
        const t0 = Date.now();
        await this.tick().catch((e: Error) => this.report(e));
        if (this.stopping) break;
        await new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(timer);
            this.wake = null;
            resolve();
          };
          const timer = setTimeout(done, Math.max(0, interval - (Date.now() - t0)));
          this.wake = done;
        });
      }
    })();
  }

  /**
   * One check: snapshot, evaluate, record the transitions; returns them. Checks never overlap (a
   * call while one runs waits for it). Does not throw for Redis errors.
   */
  tick(): Promise<AlertTransition[]> {
    const run = this.chain.then(() => this.check());
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Stops checking; resolves once the check in flight (bounded by the client's command timeout) is done. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.loop;
    await this.chain;
  }

  private async check(): Promise<AlertTransition[]> {
    if (!this.loaded) await this.loadState();
    const snap = await takeSnapshot(this.redis, this.opts.keys, this.opts.now?.(), { group: this.opts.group });
    let current = evaluateAlerts(snap, this.thresholds);
    // while Redis cannot be read, what it would tell stays as last seen: only redis-down changes
    if (!snap.ok) current = [...[...this.firing.values()].filter((a) => a.id !== REDIS_DOWN), ...current];
    const { transitions, firing } = alertTransitions(this.firing, current, snap.at);
    this.firing = firing;
    for (const t of transitions) {
      this.unwritten.push(t);
      if (this.unwritten.length > MAX_UNWRITTEN) {
        this.unwritten.shift();
        this.dropped++;
        this.resync = true;
      }
      try {
        this.opts.onTransition?.(t);
      } catch (e) {
        this.report(e as Error);
      }
    }
    if (snap.ok && (this.unwritten.length > 0 || this.resync)) await this.write();
    return transitions;
  }

  /** Reads what a previous watcher left firing; on failure, tries again at the next check. */
  private async loadState(): Promise<void> {
    try {
      const h = await this.redis.hgetall(alertsStateKey(this.opts.keys));
      for (const [id, json] of Object.entries(h)) if (!this.firing.has(id)) this.firing.set(id, parseFiring(id, json));
      this.loaded = true;
      // the unwritten transitions (a redis-down) apply on top of what was read
      if (this.dropped === 0) this.resync = false;
    } catch {
      // Redis is down: the snapshot says so
    }
  }

  private async write(): Promise<void> {
    const batch = this.unwritten.slice();
    const resync = this.resync;
    const stream = alertsStream(this.opts.keys);
    const state = alertsStateKey(this.opts.keys);
    const maxLen = this.opts.maxLen ?? 10_000;
    type Multi = ReturnType<RedisClient['multi']>;
    const stateOps = (m: Multi) => {
      if (resync) {
        m.del(state);
        for (const f of this.firing.values()) m.hset(state, f.id, storedJson(f));
      } else {
        for (const t of batch) {
          if (t.state === 'firing') m.hset(state, t.id, storedJson(t));
          else m.hdel(state, t.id);
        }
      }
    };
    const streamOps = (m: Multi) => {
      for (const t of batch) m.xadd(stream, 'MAXLEN', '~', maxLen, '*', ...transitionFields(t));
    };
    try {
      const multis: Multi[] = [];
      if (isCluster(this.redis)) {
        // the two keys live in different slots: two transactions, the stream's first, so that a
        // watcher killed between them announces a transition twice (the restarted one reads the
        // old state) rather than never (state written, stream not)
        multis.push(this.redis.multi(), this.redis.multi());
        streamOps(multis[0]);
        stateOps(multis[1]);
      } else {
        multis.push(this.redis.multi());
        stateOps(multis[0]);
        streamOps(multis[0]);
      }
      for (const m of multis) {
        const res = await m.exec();
        const failed = res?.find(([err]) => err)?.[0];
        if (failed) {
          // some commands ran (Redis does not roll back): rebuild the state hash next time
          this.resync = true;
          throw failed;
        }
      }
      this.unwritten.splice(0, batch.length);
      this.resync = false;
      if (this.dropped > 0) {
        this.report(new Error(`${this.dropped} alert transition(s) were dropped while they could not be written; ${state} was rewritten`));
        this.dropped = 0;
      }
    } catch (e) {
      // EXECABORT alone does not say why (an ACL without XADD, say): the queued command's error does
      const cause = (e as { previousErrors?: Error[] }).previousErrors?.[0];
      const why = cause ? `${(e as Error).message} (${cause.message})` : (e as Error).message;
      this.report(new Error(`cannot write alerts to ${stream}: ${why} (kept; trying again at the next check)`));
    }
  }

  private report(e: Error): void {
    try {
      this.opts.onError?.(e);
    } catch {
      // a failing error handler must not stop the watcher either
    }
  }
}

const storedJson = (f: FiringAlert): string =>
  JSON.stringify({ id: f.id, severity: f.severity, summary: f.summary, shard: f.shard, value: f.value, scope: f.scope, since: f.since });

function transitionFields(t: AlertTransition): string[] {
  const f = ['id', t.id, 'state', t.state, 'severity', t.severity, 'summary', t.summary, 'at', String(t.at), 'since', String(t.since)];
  if (t.shard !== undefined) f.push('shard', String(t.shard));
  if (t.value !== undefined) f.push('value', String(t.value));
  return f;
}

/** A stored alert; an unreadable one still counts as firing (and is resolved when it is not). */
function parseFiring(id: string, json: string): FiringAlert {
  try {
    const j = JSON.parse(json) as Partial<FiringAlert>;
    if (j.severity !== 'warning' && j.severity !== 'critical') throw new Error('no severity');
    const f: FiringAlert = { id, severity: j.severity, summary: String(j.summary ?? ''), since: Number(j.since ?? 0) };
    if (typeof j.shard === 'number') f.shard = j.shard;
    if (typeof j.value === 'number') f.value = j.value;
    if (typeof j.scope === 'string') f.scope = j.scope;
    return f;
  } catch (e) {
    return { id, severity: 'warning', summary: `unreadable alert state (${(e as Error).message}): ${json.slice(0, 200)}`, since: 0 };
  }
}

// ---------------------------------------------------------------------------------------------
// Readers

const SEVERITY_RANK: Record<Severity, number> = { critical: 0, warning: 1 };

/**
 * The alerts firing now, as the watcher recorded them (critical first, then by id): for
 * /healthz and /metrics. One HGETALL; any client with `hgetall` will do (ACL: `+hgetall
 * ~<ns>:alerts:state`).
 */
export async function readFiringAlerts(redis: { hgetall(key: string): Promise<Record<string, string>> }, keys: { ns: string }): Promise<FiringAlert[]> {
  const h = await redis.hgetall(alertsStateKey(keys));
  return Object.entries(h)
    .map(([id, json]) => parseFiring(id, json))
    .sort((a, b) => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** A transition as read back from `<ns>:alerts`, with its stream entry ID. */
export interface AlertEntry extends AlertTransition {
  entryId: string;
}

function parseEntry(entryId: string, fields: readonly string[]): AlertEntry {
  const f: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]] = fields[i + 1];
  const e: AlertEntry = {
    entryId,
    id: f.id ?? '',
    state: f.state === 'resolved' ? 'resolved' : 'firing',
    severity: f.severity === 'critical' ? 'critical' : 'warning',
    summary: f.summary ?? '',
    at: Number(f.at),
    since: Number(f.since ?? f.at),
  };
  if (f.shard !== undefined) e.shard = Number(f.shard);
  if (f.value !== undefined) e.value = Number(f.value);
  return e;
}

export interface FollowOptions {
  /** BLOCK of each XREAD (ms, default 1000); keep it below the client's command timeout. */
  blockMs?: number;
  /** Entries per read (default 100). */
  count?: number;
  /** Stops following (within `blockMs`). */
  signal?: AbortSignal;
  /** Called when a read fails; the generator waits `retryMs` (default 1000) and reads again. */
  onError?: (e: Error) => void;
  retryMs?: number;
}

/**
 * The transitions of `<ns>:alerts` after `fromId` (`$`: from now on; `0`: from the oldest kept),
 * as they are written, until `signal` aborts (or the consumer stops iterating). Survives Redis
 * restarts: a failed read is retried. `$` is pinned to the stream's last ID on the first read,
 * so nothing written between two reads is missed.
 */
export async function* followAlerts(redis: RedisClient, keys: { ns: string }, fromId = '$', opts: FollowOptions = {}): AsyncGenerator<AlertEntry> {
  const key = alertsStream(keys);
  let last: string | null = fromId === '$' ? null : fromId;
  while (!opts.signal?.aborted) {
    let entries: Entry[] = [];
    try {
      if (last === null) last = firstEntry(await redis.xrevrange(key, '+', '-', 'COUNT', 1))?.[0] ?? '0-0';
      const res = (await redis.xread('COUNT', opts.count ?? 100, 'BLOCK', opts.blockMs ?? 1000, 'STREAMS', key, last)) as [string, Entry[]][] | null;
      entries = res?.[0]?.[1] ?? [];
    } catch (e) {
      if (opts.signal?.aborted) return;
      opts.onError?.(e as Error);
      await abortableSleep(opts.retryMs ?? 1000, opts.signal);
      continue;
    }
    for (const [id, fields] of entries) {
      last = id;
      yield parseEntry(id, fields);
    }
  }
}

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

const label = (s: string) => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/** Prometheus lines for the firing alerts (for /metrics): a count per severity and one gauge per alert. */
export function alertsMetricsText(alerts: readonly Alert[]): string {
  const lines = ['# HELP lockstep_alerts_firing Alerts firing now, by severity (lockstep alerts watch).', '# TYPE lockstep_alerts_firing gauge'];
  for (const sev of ['critical', 'warning'] as const) lines.push(`lockstep_alerts_firing{severity="${sev}"} ${alerts.filter((a) => a.severity === sev).length}`);
  lines.push('# HELP lockstep_alert 1 for each alert firing now.', '# TYPE lockstep_alert gauge');
  for (const a of alerts) lines.push(`lockstep_alert{id="${label(a.id)}",severity="${a.severity}"} 1`);
  return lines.join('\n') + '\n';
}
