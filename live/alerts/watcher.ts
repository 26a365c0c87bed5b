/**
 * The watcher behind `lockstep alerts watch` (an I/O adapter): a snapshot every interval,
 * evaluated, and each transition recorded in Redis (store.ts).
 */
import { alertsStateKey, alertsStream, type KeyLayout } from '../keys.ts';
import type { RedisClient } from '../redis-connect.ts';
import { evaluateAlerts } from './evaluate.ts';
import { DATA_LOST, REDIS_DOWN, type AlertTransition, type FiringAlert } from './model.ts';
import { takeSnapshot } from './snapshot.ts';
import { parseFiring, transitionWrites } from './store.ts';
import { resolveThresholds, type AlertThresholds } from './thresholds.ts';
import { alertTransitions } from './transitions.ts';

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
  /**
   * `<ns>:meta` existed at an earlier check (or a previous watcher left `data-lost` firing): if it
   * goes, Redis lost the deployment's data rather than never had it.
   */
  private metaSeen = false;
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
    if (snap.ok && snap.presence) {
      snap.presence.metaSeenBefore = this.metaSeen;
      if (snap.presence.metaPresent) this.metaSeen = true;
    }
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
      if (DATA_LOST in h) this.metaSeen = true;
      this.loaded = true;
      // the unwritten transitions (a redis-down) apply on top of what was read
      if (this.dropped === 0) this.resync = false;
    } catch {
      // Redis is down: the snapshot says so
    }
  }

  private async write(): Promise<void> {
    const batch = this.unwritten.slice();
    const stream = alertsStream(this.opts.keys);
    const state = alertsStateKey(this.opts.keys);
    try {
      const multis = transitionWrites(this.redis, this.opts.keys, batch, this.resync ? this.firing.values() : null, this.opts.maxLen ?? 10_000);
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
