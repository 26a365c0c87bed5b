/**
 * The worker's own reporting (`lockstep live --metrics-port`, `--status-every-ms`): a tiny
 * node:http server answering GET /metrics in Prometheus text format, and a periodic one-line
 * status on stderr. Both only read the worker's health counters (`LiveWorker.health()`,
 * `inputAge()`) and its models' evaluation times (`LiveWorker.latency`, the same cumulative counts
 * it publishes to `<ns>:models:latency` for `models watch`): nothing on the per-entry path.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { UserError } from '../../core/errors.ts';
import { bucketUpperNs, LATENCY_BUCKETS, type LatencySnapshot } from '../models/latency.ts';
import type { WorkerHealth } from './health.ts';

/** What the reporting reads from a worker (LiveWorker has both). */
export interface WorkerStatsSource {
  health(): WorkerHealth;
  inputAge(): [shard: number, seconds: number][];
  /** The models' evaluation times (with a registry; LiveWorker's LatencyPublisher), null or absent without models. */
  latency?: { times: { snapshot(): LatencySnapshot } } | null;
}

const label = (s: string) => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const num = (x: number) => (Number.isFinite(x) ? String(Math.round(x * 1e6) / 1e6) : 'NaN');

/**
 * The `le` bounds of the evaluation-time histogram, in ns: every other bucket bound of latency.ts
 * (two per octave, 64 ns to ~1.07 s), so each one is exact (a sum of whole buckets) and a quantile
 * read from them is at most 41% high. Fixed, so every scrape has the same series.
 */
const EVAL_BOUNDS = Array.from({ length: LATENCY_BUCKETS / 2 }, (_, k) => 2 * k).map((i) => ({ i, ns: bucketUpperNs(i) }));

/** Seconds as Prometheus reads them: every digit (a bound of 64 ns must not round to 0). */
const secs = (ns: number) => String(ns / 1e9);

/**
 * `slot@version` histograms as one Prometheus histogram, labelled by slot and version: cumulative
 * bucket counts (an evaluation counts below a bound when it took less than it), the count and the
 * sum in seconds, since the worker started.
 */
export function modelEvalLines(snap: LatencySnapshot, consumer: string): string[] {
  const name = 'lockstep_worker_model_eval_seconds';
  const keys = Object.keys(snap.versions).sort();
  if (keys.length === 0) return [];
  const lines = [`# HELP ${name} Evaluation time of each model version in this worker (measured around each call), since it started; per slot and version.`, `# TYPE ${name} histogram`];
  for (const key of keys) {
    const h = snap.versions[key];
    const at = key.lastIndexOf('@');
    const l = `consumer="${label(consumer)}",slot="${label(key.slice(0, at))}",version="${label(key.slice(at + 1))}"`;
    const counts = new Float64Array(LATENCY_BUCKETS);
    for (const [i, n] of Object.entries(h.buckets)) counts[Number(i)] = n;
    let below = 0;
    let j = 0;
    for (const b of EVAL_BOUNDS) {
      for (; j <= b.i; j++) below += counts[j];
      lines.push(`${name}_bucket{${l},le="${secs(b.ns)}"} ${below}`);
    }
    lines.push(`${name}_bucket{${l},le="+Inf"} ${h.n}`, `${name}_sum{${l}} ${secs(h.sumNs)}`, `${name}_count{${l}} ${h.n}`);
  }
  return lines;
}

/** The worker's counters as Prometheus text (`consumer` labels every sample); with `models`, their evaluation times too. */
export function workerMetricsText(h: WorkerHealth, age: readonly [number, number][], consumer: string, models: LatencySnapshot | null = null): string {
  const c = `consumer="${label(consumer)}"`;
  const lines: string[] = [];
  const metric = (name: string, type: string, help: string, samples: [string, number][]) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, v] of samples) lines.push(`${name}{${c}${labels}} ${num(v)}`);
  };
  metric('lockstep_worker_applied_total', 'counter', 'Input entries applied to a fold (re-applications during recovery included); rate() gives events/s.', [['', h.applied]]);
  metric('lockstep_worker_commits_total', 'counter', 'Commits written (output rows, latest values, checkpoint and acks, atomically).', [['', h.commits]]);
  metric('lockstep_worker_commit_seconds_sum', 'counter', 'Seconds spent in commit round trips that succeeded; divided by lockstep_worker_commits_total: the mean commit latency.', [['', h.commitSeconds]]);
  metric('lockstep_worker_dead_letters_total', 'counter', 'Input entries dead-lettered by this worker.', [['', h.deadLettered]]);
  metric('lockstep_worker_duplicates_total', 'counter', 'Input entries dropped as repeated sequence numbers (the duplicate policy).', [['', h.duplicates]]);
  const slots = Object.entries(h.modelErrorRows ?? {});
  if (slots.length > 0) metric('lockstep_worker_model_error_rows_total', 'counter', 'Output rows whose model signal is null because the model failed (threw or returned NaN), per slot.', slots.map(([s, n]) => [`,slot="${label(s)}"`, n]));
  const unserved = Object.entries(h.modelUnservedErrorRows ?? {});
  if (unserved.length > 0) metric('lockstep_worker_model_unserved_error_rows_total', 'counter', 'Output rows whose unserved signal (a shadow, or the canary\'s other side) is null because that model failed, per slot.', unserved.map(([s, n]) => [`,slot="${label(s)}"`, n]));
  metric('lockstep_worker_redis_up', 'gauge', '1 when the last Redis round trip succeeded.', [['', h.healthy ? 1 : 0]]);
  metric('lockstep_worker_last_ok_timestamp_seconds', 'gauge', 'When a Redis round trip last succeeded (unix seconds).', [['', h.lastOkAt / 1000]]);
  metric('lockstep_worker_redis_data_lost', 'gauge', '1 when Redis lost the deployment\'s data (streams and checkpoints gone) and the worker stopped for it.', [['', h.dataLost ? 1 : 0]]);
  metric(
    'lockstep_worker_input_age_seconds',
    'gauge',
    'Per held shard, seconds since the newest input applied arrived (its stream ID time): the lag while input flows; grows with idle time on an idle shard.',
    age.filter(([, v]) => Number.isFinite(v)).map(([s, v]) => [`,shard="${s}"`, v]),
  );
  if (models !== null) lines.push(...modelEvalLines(models, consumer));
  return lines.join('\n') + '\n';
}

/** One status line: totals, the rate since the last line, the lag and Redis's state. */
export function statusLine(h: WorkerHealth, age: readonly [number, number][], prev: { applied: number; at: number } | null, now = Date.now()): string {
  const rate = prev !== null && now > prev.at ? ((h.applied - prev.applied) * 1000) / (now - prev.at) : null;
  const ages = age.filter(([, v]) => Number.isFinite(v)).map(([, v]) => v);
  const maxAge = ages.length > 0 ? Math.max(...ages) : null;
  const commitMs = h.commits > 0 ? (h.commitSeconds * 1000) / h.commits : null;
  return [
    `status: applied ${h.applied} events${rate === null ? '' : ` (${rate.toFixed(0)}/s)`}`,
    `${h.commits} commits${commitMs === null ? '' : ` (mean ${commitMs.toFixed(1)} ms)`}`,
    `${h.deadLettered} dead letters`,
    `${h.duplicates} duplicates dropped`,
    `input age ${maxAge === null ? '-' : `${maxAge.toFixed(1)} s`}`,
    h.dataLost ? 'Redis LOST ITS DATA' : h.healthy ? 'Redis ok' : `Redis failing (${h.lastError ?? 'not yet reached'})`,
  ].join(', ');
}

export interface ReportingOptions {
  /** Serve GET /metrics on this port (0: any free port); undefined: no server. */
  metricsPort?: number;
  /** Interface for the metrics server (default 127.0.0.1). */
  metricsHost?: string;
  /** A status line every this many ms (0 or undefined: none). */
  statusEveryMs?: number;
  consumer: string;
  /** Where status lines go. */
  log: (msg: string) => void;
}

export interface Reporting {
  /** The metrics server's port, null without one. */
  port: number | null;
  close(): Promise<void>;
}

/** Starts the metrics server and the status timer for a worker. */
export async function startReporting(w: WorkerStatsSource, o: ReportingOptions): Promise<Reporting> {
  let server: Server | null = null;
  if (o.metricsPort !== undefined) {
    const srv = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' || path !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: GET /metrics\n');
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(workerMetricsText(w.health(), w.inputAge(), o.consumer, w.latency?.times.snapshot() ?? null));
    });
    server = srv;
    await new Promise<void>((resolve, reject) => {
      srv.once('error', (e: NodeJS.ErrnoException) => reject(new UserError(`metrics server: cannot listen on ${o.metricsHost ?? '127.0.0.1'}:${o.metricsPort} (${e.code ?? e.message})`)));
      srv.listen(o.metricsPort, o.metricsHost ?? '127.0.0.1', () => {
        srv.removeAllListeners('error');
        resolve();
      });
    });
  }
  let timer: NodeJS.Timeout | null = null;
  if (o.statusEveryMs !== undefined && o.statusEveryMs > 0) {
    let prev: { applied: number; at: number } | null = null;
    timer = setInterval(() => {
      const h = w.health();
      o.log(statusLine(h, w.inputAge(), prev));
      prev = { applied: h.applied, at: Date.now() };
    }, o.statusEveryMs);
    timer.unref();
  }
  return {
    port: server === null ? null : (server.address() as AddressInfo).port,
    close: async () => {
      if (timer !== null) clearInterval(timer);
      if (server !== null) {
        server.closeAllConnections();
        await new Promise<void>((r) => server!.close(() => r()));
      }
    },
  };
}
