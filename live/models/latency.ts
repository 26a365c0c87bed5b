/**
 * Evaluation time of each model version in live mode, measured by the worker around each call of
 * the model and published to Redis for `lockstep models watch` (its latency rule, watch.ts).
 *
 * Where the clock is read: in a wrapper of the RunnableModel that the worker hands to the slot
 * stage (`EvalTimes.wrap`). The fold's code is unchanged and never sees a time: the wrapper returns
 * the model's own status and outputs, and the duration goes to a histogram the adapter owns. Replay
 * runs the unwrapped models, so a replay and a live run still compute the same values.
 *
 * What is published: `<ns>:models:latency`, a hash with one field per worker (its consumer name),
 * JSON `{ since, at, versions: { "slot@version": { n, sumNs, buckets: { index: count } } } }`:
 * cumulative counts since the worker started (`since`, epoch ms), as of `at`, like a Prometheus
 * histogram. A reader takes the difference of two snapshots for a window (`LatencyWindows`), and
 * merges workers by adding their buckets. Buckets are log-scaled, four per octave from 64 ns
 * (`bucketOf`, `bucketUpperNs`): a quantile read from them is an upper bound at most 19% high.
 */
import { performance } from 'node:perf_hooks';
import type { RunnableModel } from '../../models/model.ts';
import type { RedisClient } from '../redis-connect.ts';
import { modelsLatencyKey } from '../keys.ts';

/** Bucket 0 is < 64 ns; bucket i ≥ 1 is [64·2^((i-1)/4), 64·2^(i/4)) ns; the last one is open (≥ ~1.1 s). */
export const LATENCY_BUCKETS = 98;

export function bucketOf(ns: number): number {
  if (!(ns >= 64)) return 0;
  const i = Math.floor(4 * Math.log2(ns / 64)) + 1;
  return i < LATENCY_BUCKETS ? i : LATENCY_BUCKETS - 1;
}

/** The upper bound (ns) of bucket i: a quantile in that bucket is at most this. */
export function bucketUpperNs(i: number): number {
  return i >= LATENCY_BUCKETS - 1 ? Infinity : 64 * 2 ** (i / 4);
}

/** One version's evaluation times: a count per bucket, the count and the sum. */
export interface LatencyHistogram {
  n: number;
  sumNs: number;
  buckets: Record<number, number>;
}

/** The smallest bucket bound with at least q of the evaluations at or below it (null when none). */
export function quantileNs(h: LatencyHistogram, q: number): number | null {
  if (h.n <= 0) return null;
  const need = Math.ceil(q * h.n);
  let seen = 0;
  for (const i of Object.keys(h.buckets).map(Number).sort((a, b) => a - b)) {
    seen += h.buckets[i];
    if (seen >= need) return bucketUpperNs(i);
  }
  return bucketUpperNs(LATENCY_BUCKETS - 1);
}

/** Durations as text: 850 ns, 12.5 µs, 3.20 ms, 1.50 s. */
export function formatNs(ns: number): string {
  if (!Number.isFinite(ns)) return '> 1.1 s';
  if (ns < 1e3) return `${ns.toFixed(0)} ns`;
  if (ns < 1e6) return `${(ns / 1e3).toPrecision(3)} µs`;
  if (ns < 1e9) return `${(ns / 1e6).toPrecision(3)} ms`;
  return `${(ns / 1e9).toPrecision(3)} s`;
}

/** A worker's published snapshot (one field of `<ns>:models:latency`). */
export interface LatencySnapshot {
  /** When the worker started counting (epoch ms): a new value means the counts restarted from 0. */
  since: number;
  /** When the snapshot was taken (epoch ms, the worker's clock). */
  at: number;
  versions: Record<string, LatencyHistogram>;
}

/** The evaluation times of one worker's model versions, and the wrapper that measures them. */
export class EvalTimes {
  readonly since = Date.now();
  private readonly counts = new Map<string, { n: number; sumNs: number; buckets: Float64Array }>();

  /** The model, measured: same status and outputs, its duration added to `slot@version`'s histogram. */
  readonly wrap = (model: RunnableModel): RunnableModel => {
    const key = `${model.spec.name}@${model.spec.version}`;
    let c = this.counts.get(key);
    if (c === undefined) this.counts.set(key, (c = { n: 0, sumNs: 0, buckets: new Float64Array(LATENCY_BUCKETS) }));
    const h = c;
    const record = (t0: number) => {
      const ns = (performance.now() - t0) * 1e6;
      h.n++;
      h.sumNs += ns;
      h.buckets[bucketOf(ns)]++;
    };
    return {
      spec: model.spec,
      run(raw, out) {
        const t0 = performance.now();
        const s = model.run(raw, out);
        record(t0);
        return s;
      },
      runAt(src, map, out) {
        const t0 = performance.now();
        const s = model.runAt(src, map, out);
        record(t0);
        return s;
      },
    };
  };

  snapshot(at = Date.now()): LatencySnapshot {
    const versions: Record<string, LatencyHistogram> = {};
    for (const [key, c] of this.counts) {
      if (c.n === 0) continue;
      const buckets: Record<number, number> = {};
      c.buckets.forEach((v, i) => {
        if (v > 0) buckets[i] = v;
      });
      versions[key] = { n: c.n, sumNs: c.sumNs, buckets };
    }
    return { since: this.since, at, versions };
  }
}

/**
 * Publishes a worker's evaluation times every `intervalMs` (and once more when stopped) to its
 * field of `<ns>:models:latency`. A failed write is retried at the next tick: the counts are
 * cumulative, so a lost snapshot loses nothing. The timer does not keep the process alive.
 */
export class LatencyPublisher {
  private timer: ReturnType<typeof setInterval> | null = null;
  private busy = false;

  constructor(
    private readonly redis: RedisClient,
    private readonly ns: string,
    private readonly consumer: string,
    readonly times: EvalTimes,
    private readonly intervalMs = 1000,
  ) {}

  start(): this {
    if (this.timer === null) {
      const timer = setInterval(() => void this.publish(), this.intervalMs);
      timer.unref();
      this.timer = timer;
      // a connection closed for good (worker closed, or a start abandoned): nothing left to write to
      this.redis.once('end', () => {
        clearInterval(timer);
        if (this.timer === timer) this.timer = null;
      });
    }
    return this;
  }

  async publish(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      await this.redis.hset(modelsLatencyKey({ ns: this.ns }), this.consumer, JSON.stringify(this.times.snapshot()));
    } catch {
      // Redis down or the connection closed: the next tick writes the (cumulative) counts again
    } finally {
      this.busy = false;
    }
  }

  /** Stops the timer and writes the final counts. */
  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.publish();
  }
}

/** A worker's measuring wrapper and its publisher, started (live/worker/live-worker.ts). */
export function startLatencyPublisher(redis: RedisClient, ns: string, consumer: string, intervalMs = 1000): LatencyPublisher {
  return new LatencyPublisher(redis, ns, consumer, new EvalTimes(), intervalMs).start();
}

/** Every worker's latest snapshot. */
export async function readLatencySnapshots(redis: RedisClient, ns: string): Promise<Map<string, LatencySnapshot>> {
  const raw = (await redis.hgetall(modelsLatencyKey({ ns }))) as Record<string, string>;
  const out = new Map<string, LatencySnapshot>();
  for (const [consumer, text] of Object.entries(raw)) {
    try {
      const s = JSON.parse(text) as LatencySnapshot;
      if (typeof s.since === 'number' && typeof s.at === 'number' && s.versions !== null && typeof s.versions === 'object') out.set(consumer, s);
    } catch {
      // a field not written by a worker: not ours to judge, skipped
    }
  }
  return out;
}

const emptyHistogram = (): LatencyHistogram => ({ n: 0, sumNs: 0, buckets: {} });

function subtract(a: LatencyHistogram, b: LatencyHistogram | undefined): LatencyHistogram {
  if (b === undefined) return a;
  const buckets: Record<number, number> = {};
  for (const [i, v] of Object.entries(a.buckets)) {
    const d = v - (b.buckets[Number(i)] ?? 0);
    if (d > 0) buckets[Number(i)] = d;
  }
  return { n: Math.max(0, a.n - b.n), sumNs: Math.max(0, a.sumNs - b.sumNs), buckets };
}

function addInto(into: LatencyHistogram, h: LatencyHistogram): void {
  into.n += h.n;
  into.sumNs += h.sumNs;
  for (const [i, v] of Object.entries(h.buckets)) into.buckets[Number(i)] = (into.buckets[Number(i)] ?? 0) + v;
}

/**
 * The evaluation times of the last `windowMs`, over all workers, from the snapshots seen so far.
 * Per worker: its newest snapshot minus the newest one at least `windowMs` older (by the worker's
 * own clock); when none is that old, minus the oldest seen; minus nothing when the worker started
 * within the window, or when only one snapshot was seen yet (then the window is the worker's whole
 * run so far: a watcher that just started judges what it can see). A worker that restarted (new
 * `since`) starts over.
 */
export class LatencyWindows {
  private readonly history = new Map<string, LatencySnapshot[]>();

  constructor(private readonly windowMs: number) {}

  add(snapshots: ReadonlyMap<string, LatencySnapshot>): void {
    for (const [consumer, s] of snapshots) {
      let h = this.history.get(consumer);
      if (h === undefined || h.length === 0 || h[h.length - 1].since !== s.since) this.history.set(consumer, (h = []));
      if (h.length > 0 && h[h.length - 1].at >= s.at) continue;
      h.push(s);
      // keep one snapshot older than the window (the baseline) and what is newer
      while (h.length > 2 && h[1].at <= s.at - this.windowMs) h.shift();
    }
  }

  /** `slot@version` → its evaluation times in the window. */
  window(): Map<string, LatencyHistogram> {
    const out = new Map<string, LatencyHistogram>();
    for (const h of this.history.values()) {
      const newest = h[h.length - 1];
      const from = newest.at - this.windowMs;
      let base: LatencySnapshot | null = null;
      for (const s of h) if (s.at <= from) base = s;
      if (base === null && newest.since < from && h.length > 1) base = h[0];
      for (const [key, hist] of Object.entries(newest.versions)) {
        const d = base === null || base === newest ? hist : subtract(hist, base.versions[key]);
        let into = out.get(key);
        if (into === undefined) out.set(key, (into = emptyHistogram()));
        addInto(into, d);
      }
    }
    return out;
  }
}
