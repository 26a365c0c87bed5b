/**
 * The live worker: reads its shards' input streams with XREADGROUP (input.ts), runs the same fold
 * as replay (core/fold.ts, one fold state per shard; apply.ts), and commits each batch's output
 * rows, latest values, checkpoint and acks atomically (commit.ts, commit-script.ts). This class
 * coordinates them; each part is in its own file of this folder.
 *
 * Recovery (recovery.ts): a (re)started worker restores each shard from its checkpoint and
 * re-reads the input after it; it then reads new entries with XREADGROUP and skips any it has
 * already applied. The state is checkpointed every `checkpointEvery` events or `checkpointMs`;
 * input entries older than the state checkpoint are trimmed.
 *
 * Shards are owned through leases (leases.ts): a fixed list (`owned`, default all), or with
 * `balance` a fair share that follows the balancing workers present (`<ns>:workers`), handed over
 * between turns of the loop with nothing read ahead, so a shard changes hands committed and with
 * its state saved.
 *
 * A malformed entry is dead-lettered at once, a poison entry (delivered more than `maxDeliveries`
 * times without being committed) when its shard is taken; the worker never dies for one bad event.
 *
 * Faults: every Redis call has a timeout (redis-connect.ts, stream-reader.ts). A failed commit is
 * retried with backoff, the batch kept in memory; the commits behind it wait for it and are
 * re-sent in order (commit.ts), at most the committer's depth of them are in flight and one more
 * batch is read ahead (memory stays bounded); the commit is idempotent and fenced by the
 * shard lease, so a retry or a superseded worker cannot write twice. `health()` reports whether
 * the last Redis round trip succeeded. A lease that expired while Redis was frozen or down (or
 * this process stalled) is taken again if it is still free, and its shard recovered from the
 * checkpoint; the worker stops only when another worker holds the shard (FatalWorkerError).
 *
 * Speed (bench/live-bench.ts): the loop reads the next batch while applying this one and applies
 * it while the commits before it are in flight (up to three on a single node, pipelined on a lean
 * connection, commit-conn.ts); on a single node one script call commits every owned
 * shard, and a shard's rows go out as one stream entry per commit.
 */
import { randomUUID } from 'node:crypto';
import { UserError } from '../../core/errors.ts';
import { createFactorSet, type FactorSet } from '../../core/fold.ts';
import { DEFAULT_FACTORS, featureSetVersion } from '../../core/registry.ts';
import type { AnyFactor } from '../../core/factor.ts';
import type { SlotStage } from '../../models/stage.ts';
import { dataLostKey, inputStream, metaKey, type KeyLayout } from '../keys.ts';
import { settleSessions } from '../shard-meta.ts';
import { isClusterUrl, openRedis } from '../redis-connect.ts';
import { isFailoverError } from '../redis-errors.ts';
import { ReplyShapeError } from '../stream-reader.ts';
import { idMs } from '../stream-id.ts';
import { EntryApplier } from './apply.ts';
import { defineLockstepCommands, type WorkerRedis } from './commands.ts';
import { Committer } from './commit.ts';
import { CommitConnection } from './commit-conn.ts';
import { FatalWorkerError, LeaseExpiredError, RedisDataLostError, ShardDivergedError } from './errors.ts';
import { OutageLog, redisWhere } from './outage-log.ts';
import { markFailed, markOk, newHealth, type WorkerHealth } from './health.ts';
import { openInput, type InputReader, type ReadResult } from './input.ts';
import { fairShare, LeaseManager } from './leases.ts';
import { resolveWorkerOptions, type ResolvedWorkerOptions, type WorkerOptions } from './options.ts';
import { ensureWarm, hasPendingGap, recoverShard, type RecoveryContext } from './recovery.ts';
import type { ShardRun } from './shard-run.ts';
import { ModelFollower } from './model-follower.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class LiveWorker {
  private readonly opts: ResolvedWorkerOptions;
  private readonly keys: KeyLayout;
  private readonly factors: readonly AnyFactor[];
  // made by start(), once the deployment's session table is known (shard-meta.ts settleSessions)
  private set!: FactorSet;
  private fsv!: string;
  /** This run's lease token: a restarted or resumed process never passes for another. */
  private readonly token: string;
  private readonly status: WorkerHealth = newHealth();
  private applier!: EntryApplier;
  /** The held shards' runs. */
  private readonly runs = new Map<number, ShardRun>();
  // connected by start()
  private input: InputReader | null = null;
  private writer: WorkerRedis | null = null;
  private leases!: LeaseManager;
  private committer!: Committer;
  private recovery!: RecoveryContext;
  private stopping = false;
  private lastBalance = 0;
  /**
   * Commits in flight, oldest first, while the next batches are read and applied: at most the
   * committer's depth (one on Cluster or with durable replicas; a few pipelined on the lean
   * connection of a single node, commit.ts).
   */
  private readonly inflight: { p: Promise<void>; settled: boolean }[] = [];
  /** The lean commit connection (single node without durable replicas), else null. */
  private lean: CommitConnection | null = null;
  /** Shards whose lease expired (nobody else took it): taken again by `repair()`. */
  private readonly toRetake = new Set<number>();
  /** Shards whose in-memory state was dropped (diverged, lease expired): recovered by `repair()`. */
  private readonly toRecover = new Set<number>();
  /**
   * When `<ns>:meta` was first found missing with leases to take again (0: it is there). Losing
   * the data is concluded only once it stays missing for a lease on a node that says it is a
   * primary: during a Sentinel failover a restarted, empty old primary answers as a primary for a
   * moment before it is made a replica of the promoted one.
   */
  private metaMissingSince = 0;
  /** Follows the live models log (with `registry`). */
  models: ModelFollower | null = null;
  /** Measures and publishes the models' evaluation times (with `registry`; live/models/latency.ts). */
  latency: import('../models/latency.ts').LatencyPublisher | null = null;
  private readonly log = (msg: string): void => this.opts.log?.(msg);
  /** Failed Redis round trips, logged rate-limited. */
  private readonly outage: OutageLog;

  constructor(opts: WorkerOptions) {
    ({ opts: this.opts, keys: this.keys } = resolveWorkerOptions(opts));
    this.token = `${this.opts.consumer}:${randomUUID()}`;
    this.factors = opts.factors ?? DEFAULT_FACTORS;
    this.outage = new OutageLog(this.log, redisWhere(this.opts.redis), this.opts.commandTimeoutMs ?? 2000);
  }

  health(): WorkerHealth {
    return { ...this.status };
  }

  /**
   * Connects, takes the owned shards and recovers each from its checkpoint. A Redis failing over
   * meanwhile (a Cluster master's death before its replica's promotion: MOVED churn, CLUSTERDOWN)
   * makes it start again from the top, for up to `startRetryMs` (default 60 s): the worker rides
   * out a failover at its start as it does while running.
   */
  async start(startRetryMs = 60_000): Promise<void> {
    const deadline = Date.now() + startRetryMs;
    for (;;) {
      try {
        return await this.startOnce();
      } catch (e) {
        if (!isFailoverError(e) || Date.now() > deadline) throw e;
        this.log(`start: Redis failed (${(e as Error).message.split('\n')[0]}); starting again`);
        await this.abandonStart();
        await sleep(500);
      }
    }
  }

  /** Undoes a start that failed halfway: leases handed back (best effort), connections closed. */
  private async abandonStart(): Promise<void> {
    if (this.leases) await this.leases.releaseAll().catch(() => undefined);
    this.input?.close();
    this.writer?.disconnect();
    this.lean?.close();
    this.input = null;
    this.writer = null;
    this.lean = null;
    this.runs.clear();
    this.toRetake.clear();
    this.toRecover.clear();
  }

  private async startOnce(): Promise<void> {
    const { opts, keys } = this;
    const name = `lockstep-worker-${opts.consumer}`;
    const cluster = isClusterUrl(opts.redis);
    this.input = await openInput(opts.redis, cluster, name, opts, opts);
    const writer = defineLockstepCommands(await openRedis(opts.redis, { ...opts, name }));
    this.writer = writer;
    // the same session table as replay's: recorded by the feed from the catalog (or --sessions)
    const sessions = await settleSessions(writer, keys, opts.sessions, 'this worker');
    let stages: SlotStage[] = [];
    if (opts.registry !== undefined) {
      // the registry's versions as slot stages; their deployments come from the live log, not the folder's
      const { loadModelStages } = await import('../../models/load.ts');
      this.latency = (await import('../models/latency.ts')).startLatencyPublisher(writer, keys.ns, opts.consumer);
      stages = loadModelStages(opts.registry, createFactorSet(this.factors, { sessions }).columns, [], { wrap: this.latency.times.wrap }).stages;
    }
    this.set = createFactorSet(this.factors, { sessions, stages });
    this.fsv = featureSetVersion(this.factors, sessions, stages);
    if (opts.registry !== undefined) {
      this.models = new ModelFollower(writer, keys, stages, opts.registry, this.set.columns, this.runs, this.log);
      await this.models.init();
    }
    this.applier = new EntryApplier(this.set, keys.shards, this.status);
    const stopping = () => this.stopping;
    this.leases = new LeaseManager(writer, keys, this.token, opts.leaseMs, this.log, stopping);
    // commits go out pipelined on a lean connection, except where ioredis routes them (Cluster) or
    // each must be followed by WAIT on the connection that wrote it (durable replicas)
    this.lean = cluster || (opts.durableReplicas ?? 0) > 0 ? null : new CommitConnection(opts.redis, { ...opts, name: `${name}-commit` });
    this.committer = new Committer(writer, { opts, keys, token: this.token, set: this.set, fsv: this.fsv, status: this.status, leases: this.leases, cluster, log: this.log, outage: this.outage, stopping, lean: this.lean });
    const warm = opts.warmFrom === undefined ? undefined : { writer, set: this.set, shards: keys.shards, warm: { catalog: opts.warmFrom, symbols: opts.warmSymbols }, renew: () => this.leases.renew(), log: this.log, cache: new Map() };
    this.recovery = { writer, opts, keys, fsv: this.fsv, status: this.status, applier: this.applier, committer: this.committer, log: this.log, warm, factors: this.set.factors, models: this.models ?? undefined };
    await this.checkMeta(writer);
    if (opts.balance) {
      if (opts.owned !== undefined) throw new Error('a balancing worker takes its shards itself: give either owned shards or balance, not both');
      await this.rebalance();
    } else {
      const owned = opts.owned ?? Array.from({ length: keys.shards }, (_, i) => i);
      for (const s of owned) {
        await this.leases.take(s);
        try {
          this.runs.set(s, await recoverShard(this.recovery, s));
        } catch (e) {
          // a lease expired during a long recovery: repaired by run() (anything else is thrown)
          this.dropShards(e);
        }
      }
    }
    markOk(this.status);
  }

  /**
   * Per held shard, seconds since the newest input it applied arrived (its stream ID's time): how
   * far behind the shard is while input flows; on an idle shard it grows with the idle time.
   */
  inputAge(now = Date.now()): [shard: number, seconds: number][] {
    return this.heldShards().map((s) => {
      const ms = idMs(this.runs.get(s)!.applied);
      return [s, ms === null ? NaN : Math.max(0, now - ms) / 1000];
    });
  }

  /** The shards this worker holds now, ascending. */
  heldShards(): number[] {
    return [...this.runs.keys()].sort((a, b) => a - b);
  }

  private async checkMeta(writer: WorkerRedis): Promise<void> {
    const key = metaKey(this.keys);
    const meta = await writer.hgetall(key);
    if (meta.shards && Number(meta.shards) !== this.keys.shards) {
      throw new Error(`${key} says ${meta.shards} shards; this worker was started with --shards ${this.keys.shards}`);
    }
    if (meta.featureSetVersion && meta.featureSetVersion !== this.fsv) {
      this.log(`warning: ${key} feature set ${meta.featureSetVersion} differs from this worker's ${this.fsv}`);
    }
    await writer.hset(key, 'shards', String(this.keys.shards), 'featureSetVersion', this.fsv, 'columns', this.set.columns.join(','));
    // the deployment runs again: an earlier worker's record of a data loss no longer holds
    await writer.del(dataLostKey(this.keys));
  }

  private balanceDue(): boolean {
    return this.opts.balance === true && Date.now() - this.lastBalance >= this.opts.leaseMs / 3;
  }

  /**
   * One balancing step (the caller has applied and committed everything it read): announces this
   * worker, computes its share, hands back the shards above it and takes free ones below it.
   * Returns whether the held shards changed.
   */
  private async rebalance(): Promise<boolean> {
    this.lastBalance = Date.now();
    const present = await this.leases.announce();
    const share = fairShare(this.keys.shards, present);
    let changed = false;
    const held = this.heldShards();
    while (held.length > share) {
      await this.releaseShard(held.pop()!);
      changed = true;
    }
    for (let s = 0; s < this.keys.shards && this.runs.size < share && !this.stopping; s++) {
      if (this.runs.has(s)) continue;
      if (!(await this.leases.tryTake(s))) continue;
      this.runs.set(s, await recoverShard(this.recovery, s));
      this.log(`shard ${s}: taken (${present} worker(s) present, share ${share})`);
      changed = true;
    }
    return changed;
  }

  /** Commits a shard's last work with its state (the next owner starts there) and frees its lease. */
  private async releaseShard(s: number): Promise<void> {
    await this.committer.commitAll([this.runs.get(s)!], false);
    await this.leases.release(s);
    this.runs.delete(s);
    this.log(`shard ${s}: handed back (rebalancing)`);
  }

  /**
   * Drops the in-memory state of the shards a fault concerns (rethrowing any other error), for
   * `repair()` to recover them: a shard whose checkpoint is not where this worker left it (someone
   * else wrote, or Redis lost acknowledged writes), and one whose lease expired (and any whose
   * commit was cut short with it). Its entries read meanwhile are skipped: they stay pending for
   * this consumer and the recovery re-reads them.
   */
  private dropShards(e: unknown): void {
    if (e instanceof ShardDivergedError) {
      this.log(`shard ${e.shard}: ${e.message}; recovering from the checkpoint`);
      this.runs.delete(e.shard);
      this.toRecover.add(e.shard);
      return;
    }
    if (!(e instanceof LeaseExpiredError)) throw e;
    for (const s of e.lost) this.toRetake.add(s);
    for (const s of e.stale) {
      this.runs.delete(s);
      this.toRecover.add(s);
    }
  }

  private get needsRepair(): boolean {
    return this.toRetake.size > 0 || this.toRecover.size > 0;
  }

  /**
   * Takes expired leases again (a FatalWorkerError when another worker holds one, naming it) and
   * recovers the dropped shards from their checkpoints. Stops at the first Redis failure, leaving
   * the rest for the next call.
   */
  private async repair(): Promise<void> {
    // no commit of a dropped shard may land after its recovery read the checkpoint
    await this.settle();
    // a lease gone with the rest of the data is not to be taken again over an empty Redis
    if (this.toRetake.size > 0 && (await this.writer!.exists(metaKey(this.keys))) === 0) {
      if (await this.metaLossConfirmed()) throw await this.dataLost(null);
      return; // not yet sure: the next step looks again
    }
    this.metaMissingSince = 0;
    for (const s of [...this.toRetake]) {
      if (!(await this.leases.retake(s))) continue;
      this.toRetake.delete(s);
      this.log(`shard ${s}: lease expired (Redis did not answer, or this process stalled, for longer than the ${this.opts.leaseMs} ms lease); taken again, recovering from the checkpoint`);
    }
    for (const s of [...this.toRecover]) {
      if (this.toRetake.has(s)) continue;
      this.runs.set(s, await recoverShard(this.recovery, s));
      this.toRecover.delete(s);
    }
  }

  /** True once `<ns>:meta` has been missing for a lease on a node that answers as a primary. */
  private async metaLossConfirmed(): Promise<boolean> {
    const now = Date.now();
    if (this.metaMissingSince === 0) {
      this.metaMissingSince = now;
      this.log(`${metaKey(this.keys)} is missing; looking again for ${this.opts.leaseMs} ms before concluding that Redis lost its data (a failover may be under way)`);
    }
    if (now - this.metaMissingSince < this.opts.leaseMs) {
      await new Promise((r) => setTimeout(r, Math.min(200, this.opts.leaseMs)));
      return false;
    }
    // a replica answers reads too: only a primary without the key has lost it (ROLE is not
    // routed on Cluster, where the key's own node answered EXISTS)
    if (!isClusterUrl(this.opts.redis)) {
      const role = await this.writer!.call('ROLE').then((r) => String((r as unknown[])[0]), () => 'unknown');
      if (role !== 'master') return false;
    }
    return true;
  }

  /**
   * The error to stop with when Redis lost the deployment's data (`cause`: the NOGROUP reply that
   * showed it, if any); health shows it (`dataLost`, `lastError`).
   */
  private async dataLost(cause: unknown): Promise<RedisDataLostError> {
    const meta = metaKey(this.keys);
    let metaGone = cause === null;
    if (!metaGone) metaGone = await this.writer!.exists(meta).then((n) => n === 0, () => false);
    const what = metaGone
      ? `${meta} is gone (FLUSHALL, or a restart without persistence?): the input streams and checkpoints are gone with it`
      : `an input stream or its consumer group ${this.opts.group} is gone (${(cause as Error).message})`;
    const e = new RedisDataLostError(`Redis lost its data: ${what}; stopping rather than start the day over (see "Redis lost its data" in docs/live-operations.md)`);
    markFailed(this.status, e);
    this.status.dataLost = true;
    // for `alerts watch` (also one started after this worker stopped); best effort: Redis may
    // refuse it too, and the exit status says the same
    const record = JSON.stringify({ consumer: this.opts.consumer, at: Date.now(), reason: e.message });
    await this.writer!.set(dataLostKey(this.keys), record).catch(() => undefined);
    return e;
  }

  /**
   * A failed step of the loop: a shard fault drops the shard for `repair()`; a lost consumer
   * group (Redis lost its data) and the worker's fatal errors stop it; anything else is a failed
   * Redis round trip, logged (rate-limited) and retried. Returns true for a retried failure.
   */
  private async onFailure(e: unknown, what: string): Promise<boolean> {
    if (e instanceof FatalWorkerError || e instanceof ReplyShapeError) throw e;
    if (e instanceof ShardDivergedError || e instanceof LeaseExpiredError) {
      this.dropShards(e);
      return false;
    }
    if (/^NOGROUP/.test(String((e as Error)?.message))) throw await this.dataLost(e);
    markFailed(this.status, e);
    this.outage.failed(what, e);
    return true;
  }

  /** Waits for the commits in flight; the shards of a fault (diverged, lease expired) are dropped for `repair()`. */
  private async settle(): Promise<void> {
    while (this.inflight.length > 0) await this.settleOldest();
  }

  /** Waits for the oldest commit in flight (see settle). */
  private async settleOldest(): Promise<void> {
    const { p } = this.inflight.shift()!;
    try {
      await p;
    } catch (e) {
      this.dropShards(e);
    }
  }

  /**
   * Starts a commit of every held shard with room for it in the pipeline: settles the commits
   * already answered (their faults drop shards before more is planned for them) and, when the
   * pipeline is full, the oldest.
   */
  private async commitNext(): Promise<void> {
    while (this.inflight.length > 0 && (this.inflight[0].settled || this.inflight.length >= this.committer.depth)) await this.settleOldest();
    // shards commit independently (own keys, own fencing), in one round trip on a single node
    const f = { p: this.committer.commitAll([...this.runs.values()]), settled: false };
    const mark = () => {
      f.settled = true;
    };
    f.p.then(mark, mark); // its error is handled by settleOldest
    this.inflight.push(f);
  }

  /** Warms the shards of a read that were waiting for their first input entry (warm-start.ts). */
  private async warmWaiting(res: ReadResult, index: ReadonlyMap<string, number>): Promise<void> {
    for (const [key, entries] of res) {
      const run = this.runs.get(index.get(key)!);
      if (run?.warmPending && entries.length > 0) await ensureWarm(this.recovery, run);
    }
  }

  /** Applies a read's entries to their shards' folds. */
  private applyRead(res: ReadResult, index: ReadonlyMap<string, number>): void {
    const applier = this.applier;
    for (const [key, entries] of res) {
      const run = this.runs.get(index.get(key)!);
      // a shard dropped for recovery: the recovery re-reads these entries (pending for us)
      if (run === undefined) continue;
      for (const e of entries) applier.apply(run, e);
    }
  }

  /**
   * Reads and processes until `stop()` (or until `idleStopMs` passes with no input, for tests).
   *
   * While entries are flowing the loop is pipelined: the next batch is read while this one is
   * applied (on a single node by a blocking read, already waiting when the next entries come), and
   * applied while this one's commit is in flight. A shard's commits still go one at a time and in
   * order, each fenced and chained to the last one (`expectedPrev`); entries read ahead are pending
   * for this consumer like any other delivered entry, so a crash or a recovery re-reads them.
   */
  async run(opts: { idleStopMs?: number } = {}): Promise<void> {
    const input = this.input!;
    const committer = this.committer;
    let shards: number[] = [];
    let streams: string[] = [];
    let index = new Map<string, number>();
    const refresh = () => {
      // shards waiting for their recovery are still read (their entries skipped until then)
      shards = [...new Set([...this.runs.keys(), ...this.toRecover])].sort((a, b) => a - b);
      streams = shards.map((s) => inputStream(this.keys, s));
      index = new Map(streams.map((st, i) => [st, shards[i]]));
    };
    refresh();
    let idleSince = Date.now();
    let recheck = false;
    let ahead: Promise<ReadResult | null> | null = null;
    const readAhead = () => {
      const p = input.readAhead(streams);
      p.catch(() => {}); // awaited (and its error handled) by the next iteration
      return p;
    };
    while (!this.stopping) {
      let res: ReadResult | null;
      try {
        await this.leases.renew();
        if (this.needsRepair) {
          await this.repair();
          refresh();
        }
        // balancing happens with nothing read ahead: every entry read so far is applied and
        // committed, so a shard handed back has nothing pending for this consumer
        if (ahead === null && this.balanceDue()) {
          await this.settle();
          await committer.commitAll([...this.runs.values()]);
          try {
            await this.rebalance();
          } finally {
            // also after a step that failed halfway (a shard handed back, the next take refused)
            refresh();
          }
        }
        if (recheck) {
          await this.settle();
          await this.drainOwnPending(shards, streams);
          recheck = false;
        }
        if (ahead !== null) {
          const p = ahead;
          ahead = null;
          res = await p;
          // a read ahead that does not block came back empty: caught up, so wait for the next entries
          if (!input.aheadBlocks && (res === null || res.length === 0)) res = await input.readBlocking(streams);
        } else if (streams.length === 0) {
          // a balancing worker with no shard (yet): wait for its next balancing step
          await sleep(this.opts.blockMs);
          res = null;
        } else {
          res = await input.readNew(streams);
        }
        markOk(this.status);
        this.outage.ok();
      } catch (e) {
        // a shard fault: the shard starts over from its checkpoint (repaired at the top of the next turn)
        if (!(await this.onFailure(e, 'read'))) continue;
        // A read that timed out may still have been executed by Redis (e.g. it was frozen and
        // resumed): its entries are then pending for us but were never seen. Re-read our own
        // pending entries before reading new ones.
        recheck = true;
        await sleep(200);
        continue;
      }
      if (!res || res.length === 0) {
        await this.settle();
        try {
          await committer.commitAll([...this.runs.values()]);
          for (const r of this.runs.values()) {
            if (await hasPendingGap(this.writer!, this.keys, this.opts.group, r)) throw new ShardDivergedError(r.shard, 'entries were delivered but never processed');
          }
        } catch (e) {
          if (await this.onFailure(e, 'check of pending entries')) recheck = true;
        }
        if (opts.idleStopMs !== undefined && Date.now() - idleSince >= opts.idleStopMs) break;
        continue;
      }
      idleSince = Date.now();
      // a balancing step is due: read nothing ahead, so the next turn starts quiescent
      if (!this.stopping && !this.balanceDue()) ahead = readAhead();
      try {
        await this.warmWaiting(res, index);
      } catch (e) {
        // a catalog that cannot warm the shard (no data for the day, a bad file) is the operator's to fix
        if (e instanceof UserError) throw e;
        // the read's entries stay pending for this consumer: re-read before anything new
        if (await this.onFailure(e, 'warm start')) await sleep(200);
        recheck = true;
        continue;
      }
      try {
        // new deployments are known (and judged against every held shard) before more input applies
        await this.models?.poll();
      } catch (e) {
        if (e instanceof UserError) throw e;
        if (await this.onFailure(e, 'models log')) await sleep(200);
        recheck = true;
        continue;
      }
      this.applyRead(res, index);
      await this.commitNext();
    }
    // entries already read ahead are applied and committed too
    if (ahead !== null) {
      const res = await (ahead as Promise<ReadResult | null>).catch(() => null);
      await this.warmWaiting(res ?? [], index);
      await this.models?.poll();
      this.applyRead(res ?? [], index);
    }
    await this.settle();
    if (this.needsRepair) await this.repair();
    await committer.commitAll([...this.runs.values()], false);
  }

  /** Processes this consumer's pending entries (delivered to us, possibly never seen). */
  private async drainOwnPending(shards: number[], streams: string[]): Promise<void> {
    for (let i = 0; i < shards.length; i++) {
      const run = this.runs.get(shards[i]);
      if (run === undefined) continue; // dropped: its recovery re-reads them
      let from = '0';
      for (;;) {
        const entries = (await this.input!.readNow([streams[i]], from))[0]?.[1] ?? [];
        if (entries.length === 0) break;
        await ensureWarm(this.recovery, run);
        await this.models?.poll();
        for (const e of entries) this.applier.apply(run, e);
        await this.committer.commit(run);
        from = entries[entries.length - 1][0];
      }
    }
  }

  stop(): void {
    this.stopping = true;
  }

  async close(): Promise<void> {
    this.stopping = true;
    if (this.writer !== null) {
      await this.latency?.stop();
      // hand the shards back at once (a crashed worker's leases expire after leaseMs instead)
      await this.leases.releaseAll();
      // leaving: the other balancing workers take a larger share at their next step
      if (this.opts.balance) await this.leases.leave();
    }
    this.input?.close();
    this.lean?.close();
    this.writer?.disconnect();
  }
}
