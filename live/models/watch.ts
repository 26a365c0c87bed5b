/**
 * Automatic rollback (`lockstep models watch`): follows the live output streams, keeps the
 * scorecard (scorecard.ts) of each slot's candidate (shadow or canary) over the rows since it was
 * deployed, and the evaluation times its workers publish (latency.ts), and when a threshold is
 * passed appends a rollback to the live log (live-log.ts: every shard switches at the same
 * event-time point, and a replay with the exported log does the same) and raises an alert saying
 * why. The decision (`rollbackReason`) is pure.
 */
import type { Redis } from 'ioredis';
import { raiseAlert } from '../alerts/raise.ts';
import { outputStream, type KeyLayout } from '../keys.ts';
import { readOutputColumns, rowsOfEntry, type OutputRow } from '../read-output.ts';
import type { RedisClient } from '../redis-connect.ts';
import { assignmentAt, type DeploymentEntry } from '../../models/deployment.ts';
import { appendLiveDeployment, mergeLiveLog, readLiveLog } from './live-log.ts';
import { formatNs, LatencyWindows, quantileNs, readLatencySnapshots } from './latency.ts';
import { MODEL_STATUS } from '../../models/model.ts';
import { scorecard, type VersionScore } from '../../models/scorecard.ts';

export interface WatchThresholds {
  /** Largest share of the candidate's rows that may fail (status error; for a shadow, no value where the served one has one). */
  maxErrorRate: number;
  /** Largest mean |candidate − other version| (unset: not checked). */
  maxDivergence?: number;
  /** Rows of the candidate needed before deciding (and, for the latency rule, evaluations in the window). */
  minRows: number;
  /** Largest p99 of the candidate's evaluation time over the window, ns (unset: not checked). */
  maxLatencyP99Ns?: number;
  /** The latency window, ms of the workers' clocks (default 60 s). */
  latencyWindowMs?: number;
}

export const DEFAULT_WATCH: WatchThresholds = { maxErrorRate: 0.01, minRows: 100 };
export const DEFAULT_LATENCY_WINDOW_MS = 60_000;

/** What the watcher measured of a candidate. */
export interface CandidateScore {
  slot: string;
  version: number;
  rows: number;
  failures: number;
  score: VersionScore | null;
  /** Its evaluations in the latency window, over all workers, and their p99 (an upper bound: latency.ts). */
  latency?: { n: number; p99Ns: number | null };
}

/** Why the candidate must be rolled back, or null (not enough rows, or within every threshold). */
export function rollbackReason(c: CandidateScore, t: WatchThresholds): string | null {
  const enough = c.rows >= t.minRows;
  const rate = c.failures / c.rows;
  if (enough && rate > t.maxErrorRate) return `${c.slot}@${c.version}: evaluation error rate ${(rate * 100).toFixed(2)}% over ${c.rows} rows > ${(t.maxErrorRate * 100).toFixed(2)}%`;
  // the latency rule counts evaluations, not rows: a slow model may be slow to make rows, too
  const l = c.latency;
  if (t.maxLatencyP99Ns !== undefined && l !== undefined && l.n >= t.minRows && l.p99Ns !== null && l.p99Ns > t.maxLatencyP99Ns) {
    const w = (t.latencyWindowMs ?? DEFAULT_LATENCY_WINDOW_MS) / 1000;
    return `${c.slot}@${c.version}: evaluation time p99 ${formatNs(l.p99Ns)} over ${l.n} evaluations in the last ${w} s > budget ${formatNs(t.maxLatencyP99Ns)}`;
  }
  const d = c.score?.divergence;
  if (enough && t.maxDivergence !== undefined && d && d.meanAbs > t.maxDivergence) return `${c.slot}@${c.version}: mean |candidate - incumbent| ${d.meanAbs.toPrecision(4)} over ${d.rows} rows > ${t.maxDivergence}`;
  return null;
}

/** Scores a slot's candidate over output rows (only rows at or after `since`). */
export function scoreCandidate(slot: string, version: number, columns: readonly string[], rows: readonly OutputRow[], output: string, since: bigint): CandidateScore {
  const ix = (c: string) => columns.indexOf(c);
  const [sv, ver, st, uv, uver, ust] = [`${slot}_${output}`, `${slot}_version`, `${slot}_status`, `${slot}_${output}_unserved`, `${slot}_unserved_version`, `${slot}_unserved_status`].map(ix);
  const take = rows.filter((r) => r.tsRecv >= since && (r.values[ver] === version || r.values[uver] === version));
  let failures = 0;
  for (const r of take) {
    // each side says how its evaluation went (models/stage.ts): a shadow or the canary's other
    // side fails in its own status column
    if (r.values[ver] === version && r.values[st] === MODEL_STATUS.error) failures++;
    else if (r.values[uver] === version && r.values[ust] === MODEL_STATUS.error) failures++;
  }
  const pick = (i: number) => take.map((r) => r.values[i] ?? null);
  const scores = scorecard(
    { symbol: take.map((r) => r.symbol), tsRecv: take.map((r) => r.tsRecv), price: take.map(() => null), served: pick(sv), version: pick(ver), status: pick(st), unserved: pick(uv), unservedVersion: pick(uver), unservedStatus: pick(ust) },
    { horizonNs: 0n },
  );
  return { slot, version, rows: take.length, failures, score: scores.find((s) => s.version === version) ?? null };
}

/** Follows a deployment's output streams and models log; `step()` reads what is new and decides. */
export class ModelWatcher {
  private readonly from: string[];
  private readonly rows: OutputRow[] = [];
  private columns: string[] = [];
  private readonly latency: LatencyWindows;
  /** What the last step measured of each candidate (for status lines and tests). */
  lastScores: CandidateScore[] = [];

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: KeyLayout,
    private readonly slots: ReadonlyMap<string, string>,
    private readonly thresholds: WatchThresholds,
    private readonly leadNs: bigint,
    private readonly log: (m: string) => void = () => {},
  ) {
    this.from = Array.from({ length: keys.shards }, () => '-');
    this.latency = new LatencyWindows(thresholds.latencyWindowMs ?? DEFAULT_LATENCY_WINDOW_MS);
  }

  /** Reads new output rows, scores each slot's candidate, rolls back those past a threshold. Returns the rollbacks made. */
  async step(): Promise<DeploymentEntry[]> {
    if (this.columns.length === 0) this.columns = await readOutputColumns(this.redis, this.keys);
    for (let s = 0; s < this.keys.shards; s++) {
      for (;;) {
        const got = (await this.redis.xrange(outputStream(this.keys, s), this.from[s], '+', 'COUNT', 500)) as [string, string[]][];
        for (const [id, f] of got) {
          rowsOfEntry(f, this.rows);
          this.from[s] = `(${id}`;
        }
        if (got.length < 500) break;
      }
    }
    const log = mergeLiveLog((await readLiveLog(this.redis as Redis, this.keys.ns)).records);
    this.latency.add(await readLatencySnapshots(this.redis, this.keys.ns));
    const times = this.latency.window();
    const done: DeploymentEntry[] = [];
    this.lastScores = [];
    for (const [slot, output] of this.slots) {
      const a = assignmentAt(log, slot, 1n << 62n);
      if (a.candidate === null) continue;
      const deploy = [...log].reverse().find((e) => e.slot === slot && e.action === 'deploy' && e.version === a.candidate)!;
      const c = scoreCandidate(slot, a.candidate, this.columns, this.rows, output, deploy.at);
      const h = times.get(`${slot}@${a.candidate}`);
      if (h !== undefined) c.latency = { n: h.n, p99Ns: quantileNs(h, 0.99) };
      this.lastScores.push(c);
      const why = rollbackReason(c, this.thresholds);
      if (why === null) continue;
      const { entry } = await appendLiveDeployment(this.redis as Redis, this.keys.ns, { slot, action: 'rollback', reason: `automatic: ${why}` }, this.leadNs);
      this.log(`rolled back ${slot}@${a.candidate} from ${entry.at}: ${why}`);
      await raiseAlert(this.redis, this.keys, { id: `model-rollback:${slot}`, severity: 'critical', summary: `automatic rollback of ${slot}@${a.candidate} from receive time ${entry.at}: ${why}` });
      done.push(entry);
    }
    // rows before every candidate's deployment are not needed again
    if (this.rows.length > 1_000_000) this.rows.splice(0, this.rows.length - 500_000);
    return done;
  }
}
