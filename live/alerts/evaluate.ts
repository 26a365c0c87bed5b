/**
 * The pure evaluator: from a plain-data snapshot of the deployment (snapshot.ts reads one) it
 * returns the alerts that fire now.
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
 *   data-lost         critical  Redis lost the deployment's data: `<ns>:meta` is gone although
 *                     the watcher saw it earlier or a worker recorded that it stopped for it
 *                     (`<ns>:data-lost`). Per-shard checks cannot see it: the input streams are
 *                     gone too, and a shard without input is one nothing was published to.
 *   redis-down        critical  the snapshot could not be taken
 *
 * Ages are differences of stream entry IDs and "now", so they assume the IDs are Redis's own
 * (`XADD ... *`: the feed, the workers and the dead-letter writes all do that). By default "now"
 * is Redis's TIME, read in the snapshot's pipeline, so a watcher whose host clock drifts still
 * measures ages on the clock that stamped the entries.
 */
import type { KillEntry, KillState } from '../kill-switch.ts';
import { DATA_LOST, KILL_SWITCH, REDIS_DOWN, type Alert, type DeploymentPresence, type DeploymentSnapshot, type ShardSnapshot } from './model.ts';
import { resolveThresholds, type AlertThresholds } from './thresholds.ts';

const count = (n: number) => n.toLocaleString('en-US');
const plural = (n: number, what: string) => `${count(n)} ${what}${n === 1 ? '' : 's'}`;
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const ageOf = (at: number, ms: number) => Math.max(0, at - ms);

/**
 * The alerts firing for `snap` (pure). Order: redis-down / kill-switch, data-lost, then by shard. A value at
 * a threshold does not fire; one above does.
 */
export function evaluateAlerts(snap: DeploymentSnapshot, thresholds: Partial<AlertThresholds> = {}): Alert[] {
  if (!snap.ok) return [{ id: REDIS_DOWN, severity: 'critical', summary: `cannot read the deployment from Redis: ${snap.error}` }];
  const t = resolveThresholds(thresholds);
  const out: Alert[] = [];
  const kill = killSwitchAlert(snap.kill);
  if (kill) out.push(kill);
  const lost = snap.presence ? dataLostAlert(snap.presence) : null;
  if (lost) out.push(lost);
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

/**
 * `<ns>:meta` gone, and known to have existed: the watcher saw it, or a worker says it stopped
 * for the loss. Without either, a missing meta key is a deployment that has not started yet.
 */
function dataLostAlert(p: DeploymentPresence): Alert | null {
  if (p.metaPresent || (!p.metaSeenBefore && p.workerReport === null)) return null;
  const seen = p.metaSeenBefore ? ' (it was there at an earlier check)' : '';
  const worker = p.workerReport ? `; worker ${p.workerReport.consumer} stopped for it${p.workerReport.at > 0 ? ` at ${new Date(p.workerReport.at).toISOString()}` : ''}` : '';
  return {
    id: DATA_LOST,
    severity: 'critical',
    summary:
      `Redis lost the deployment's data: ${p.metaKey} is gone${seen}, and the input streams and checkpoints with it (FLUSHALL, a restart without persistence, or the namespace deleted?)${worker}. ` +
      'Workers stop rather than start the day over: restore Redis from its persistence, or feed the day again and restart the workers (docs/live-operations.md, "Redis lost its data")',
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
